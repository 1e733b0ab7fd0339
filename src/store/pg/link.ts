// How every connection of a PostgreSQL engine reaches the server (pool, LISTEN client, migration):
// a connect timeout and TCP keepalive, so a host that drops packets (no RST: a network black hole)
// fails a connection in seconds, as "unreachable" (store/unreachable.ts), not after the OS's TCP
// timeout (minutes).
import type pg from 'pg';

export const PG_DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const PG_DEFAULT_KEEPALIVE_MS = 10_000;
/** How long after the server should have cancelled a statement the client stops waiting for it. */
export const QUERY_GRACE_MS = 2000;

/** The connection settings every client of an engine shares (pool, LISTEN, migration). */
export interface PgLinkOptions {
  connectTimeoutMs: number;
  keepAliveMs: number;
}

export function linkConfig(url: string, l: PgLinkOptions): pg.ClientConfig {
  return { connectionString: url, connectionTimeoutMillis: l.connectTimeoutMs, keepAlive: true, keepAliveInitialDelayMillis: l.keepAliveMs };
}

/**
 * Closes a connection's socket at once. client.end() (what the pool does with a broken client) sends
 * Terminate and waits for the server's goodbye: on a server that does not answer, forever.
 */
export function dropSocket(client: pg.ClientBase): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
