// Where a PostgreSQL URL points, for logs and /readyz. Its own file, free of the pg driver: a SQLite
// daemon names its database through open-engine.ts without loading pg and drizzle's pg-core (2 MiB of heap).

/** `host:port/db` of a PostgreSQL URL: where it points, never who connects or with what password. */
export function pgWhere(url: string): string {
  const u = new URL(url);
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  return `${host}:${u.port || '5432'}/${db}`;
}
