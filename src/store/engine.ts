import type Database from 'better-sqlite3';

// Stage S1 stand-in (replaced by the foundation's engine.ts): an async transaction on the SQLite
// connection, serialised per connection, BEGIN IMMEDIATE so a read-then-write body cannot lose its
// snapshot upgrade to another process.
const locks = new WeakMap<object, Promise<void>>();

export async function transaction<C extends object, T>(c: C, fn: (tx: C) => Promise<T>): Promise<T> {
  const any = c as { $client?: Database.Database; session?: { client: Database.Database } };
  const client = any.$client ?? any.session!.client;
  if (client.inTransaction) return fn(c);
  const prev = locks.get(client) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  locks.set(client, prev.then(() => mine));
  await prev;
  try {
    client.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn(c);
      client.exec('COMMIT');
      return out;
    } catch (err) {
      if (client.inTransaction) client.exec('ROLLBACK');
      throw err;
    }
  } finally {
    release();
  }
}
