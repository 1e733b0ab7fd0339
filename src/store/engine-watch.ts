// Another connection's commit, noticed (issue 16; /work/notes/async-store-plan.md §4). A daemon's own
// writes nudge its scheduler in process; this is for the CLI, the API's connection, and other daemons.
//   SQLite: PRAGMA data_version changes when another connection commits; polled every `everyMs`.
//   PostgreSQL: the engine's LISTEN client (pg/listener.ts), woken by sql/pg/0023's trigger; while
//   that connection is down, a commit marker polled every `everyMs` instead (as SQLite's data_version).
// Either way the scheduler keeps its backstop poll.
import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import type { Conn, Engine } from './conn.js';

/** What changed: events rows (every callback change writes one), the directory, or unknown (a (re)connect, SQLite). */
export type Change = 'events' | 'directory' | 'any';

export interface WatchLog {
  warn(o: object, msg: string): void;
  info?(o: object, msg: string): void;
  debug?(o: object, msg: string): void;
}

/** Polls SQLite's data_version; onChange('any') when another connection has committed since the last look. */
export function watchSqlite(client: Database.Database, onChange: (what: Change) => void, everyMs: number): () => void {
  const read = () => client.pragma('data_version', { simple: true }) as number;
  // Read before returning: a commit right after watch() is then a change, not the baseline.
  let seen = read();
  const timer = setInterval(() => {
    if (!client.open) return;
    const v = read();
    if (v === seen) return;
    seen = v;
    onChange('any');
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

type Watchable = Engine & { watch?: (onChange: (what: Change) => void, pollMs?: number) => () => void; $client?: Database.Database };

/**
 * The engine's own watch (PostgreSQL: LISTEN, polling every `everyMs` while it is down), or the
 * data_version poll on the SQLite client. Returns the stop function.
 */
export function watchEngine(e: Engine, onChange: (what: Change) => void, o: { everyMs: number }): () => void {
  const w = e as Watchable;
  if (typeof w.watch === 'function') return w.watch(onChange, o.everyMs);
  if (e.kind === 'sqlite' && w.$client) return watchSqlite(w.$client, onChange, o.everyMs);
  throw new Error(`engine ${e.kind} has no way to watch for other connections' commits`);
}

/**
 * For a write that adds no events row (an import, presence, an admin delete): wakes the other daemons'
 * watchers with 'directory' when `c`'s transaction commits (PostgreSQL; at once outside one). SQLite
 * needs nothing: data_version already changes with any commit.
 */
export async function notifyChange(c: Conn, what: 'directory'): Promise<void> {
  if (c.kind === 'pg') await c.q.execute(sql`SELECT pg_notify('callbackd', ${what})`);
}
