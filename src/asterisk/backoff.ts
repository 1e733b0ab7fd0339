/** Reconnect delay: doubles from `initial` to `max` and stays there (forever, never gives up). */
export function reconnectDelay(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}
