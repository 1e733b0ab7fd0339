/** Reconnect delay: doubles from `initial` to `max` and stays there (forever, never gives up). */
export function reconnectDelay(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** Schedules reconnects (ARI and AMI alike) and counts the failures since the last success. */
export class Reconnector {
  failures = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly connect: () => void) {}

  /** One pending reconnect at a time: a second loss reported before it runs changes nothing. */
  schedule(o: { initialDelayMs: number; maxDelayMs: number }): void {
    if (this.timer) return;
    this.failures++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, reconnectDelay(this.failures, o.initialDelayMs, o.maxDelayMs));
    this.timer.unref?.();
  }

  succeeded(): void {
    this.failures = 0;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
