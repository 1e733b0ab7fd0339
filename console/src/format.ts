// How instants are written for the person looking: in their own zone (the browser's), with the
// zone named. The API gives instants; the console only formats them.

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function when(iso: string | null | undefined, zone = viewerZone): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}

export function clock(iso: string | null | undefined, zone = viewerZone): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}
