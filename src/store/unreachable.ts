// The database is not there (issue 16 item 4): PostgreSQL stopped, restarting, or the network to it
// cut. Unlike "busy" (store/busy.ts: someone else holds a lock a moment), nothing of the statement
// ran, or its transaction was rolled back with the connection; the same write can be tried again
// once the server answers. The dialer's write queue and lease keeper wait for it instead of dropping
// a call's writes; /readyz says so. (SQLite is a file in this process: it is never "unreachable".)

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATE class 08 (connection exception), 57P01/57P02 (the server is shutting down: fast or
 * immediate stop), 57P03 (cannot connect now: starting up or shutting down).
 */
const pgCodeUnreachable = (code: string) => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';

/**
 * node-postgres's own errors for a connection gone under a query (they carry no code), one that
 * could not be made in time (the connect timeout: a host that drops packets), and a statement with no
 * answer past the query timeout (pg/engine.ts: the server would have cancelled it by then, so it is
 * not there).
 */
const PG_MESSAGES = /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|timeout expired|Query read timeout|no answer to a ping)/;

export function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET.has(code) || pgCodeUnreachable(code))) return true;
    if (e instanceof Error && PG_MESSAGES.test(e.message)) return true;
    // Several addresses tried (localhost: ::1 then 127.0.0.1): every one refused.
    if (e instanceof AggregateError && e.errors.length > 0 && e.errors.every((x) => isUnreachable(x))) return true;
  }
  return false;
}

/** The innermost message of a wrapped error: drizzle's "Failed query: …" hides the server's own words. */
export function rootMessage(err: unknown): string {
  let e = err;
  for (let depth = 0; depth < 5 && (e as { cause?: unknown })?.cause; depth++) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
