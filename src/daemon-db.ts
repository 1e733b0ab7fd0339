import type { Logger } from './log.js';
import type { Engine } from './store/conn.js';
import { DIAL_BUSY_TIMEOUT_MS } from './store/busy.js';
import { databaseUrl, openEngine, type DatabaseSetting } from './store/open-engine.js';

// The daemon's database connections, on either engine (issue 16). Three roles:
//  - db: events, AGI, presence, recordings, metrics; it applies the migrations at open;
//  - apiDb: the HTTP API's. A write that cannot get its lock within 250 ms fails "busy" and the API
//    answers 503 (SQLITE_BUSY; PostgreSQL lock_timeout 55P03 / statement_timeout 57014, storeErrorKind);
//  - dialDb: the scheduler's and dialer's.
// SQLite: three connections to one file. better-sqlite3 waits for another process's write lock
// synchronously, on the event loop: the API's and the dialer's waits are short (the dialer retries a
// busy write on a timer, store/busy.ts) so ARI events, AGI and the API are never frozen for 5 s.
// PostgreSQL: two pools (waiting for a lock does not block the event loop): one for the scheduler,
// dialer and the rest, one for the API with short timeouts. Each engine opens its LISTEN client only
// when watched (the scheduler, the event hub).

export interface DaemonDbs {
  db: Engine;
  apiDb: Engine;
  dialDb: Engine;
  /** Which engine and where, for the log and /readyz (never a password). */
  describe(): { engine: 'sqlite' | 'pg'; where: string };
  close(): Promise<void>;
}

/** Scheduler/dialer pool and API pool sizes on PostgreSQL (two daemons: 2 x (8 + 8 + 1 listener) connections). */
export const PG_POOL = { main: 8, api: 8 } as const;
/** PostgreSQL: how long the scheduler's, dialer's and the rest's writes wait for a peer's lock (as SQLite's default busy timeout). */
export const MAIN_LOCK_TIMEOUT_MS = 5000;
/** The API's limits: a lock wait (as SQLite's busy timeout) and one statement (a runaway report). */
export const API_LOCK_TIMEOUT_MS = 250;
export const API_STATEMENT_TIMEOUT_MS = 15_000;

export async function openDaemonDbs(database: DatabaseSetting, log: Logger): Promise<DaemonDbs> {
  const opened: Engine[] = [];
  const close = async () => {
    for (const e of opened.splice(0).reverse()) await e.close().catch((err: Error) => log.warn({ err: err.message }, 'closing a database connection failed'));
  };
  const open = async (o: Parameters<typeof openEngine>[1]) => {
    const e = await openEngine(database, { ...o, log: log.child({ adapter: 'database' }) });
    opened.push(e);
    return e;
  };
  try {
    if (databaseUrl(database)) {
      // boundQueries: a statement with no answer (a network black hole) fails "unreachable" in bounded time.
      const db = await open({ poolSize: PG_POOL.main, busyTimeoutMs: MAIN_LOCK_TIMEOUT_MS, boundQueries: true });
      const apiDb = await open({ migrate: false, poolSize: PG_POOL.api, busyTimeoutMs: API_LOCK_TIMEOUT_MS, statementTimeoutMs: API_STATEMENT_TIMEOUT_MS, boundQueries: true });
      return { db, apiDb, dialDb: db, describe: () => db.describe(), close };
    }
    const db = await open({});
    const apiDb = await open({ migrate: false, busyTimeoutMs: API_LOCK_TIMEOUT_MS });
    const dialDb = await open({ migrate: false, busyTimeoutMs: DIAL_BUSY_TIMEOUT_MS });
    return { db, apiDb, dialDb, describe: () => db.describe(), close };
  } catch (err) {
    await close();
    throw err;
  }
}
