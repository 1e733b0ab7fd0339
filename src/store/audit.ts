import { asc, eq } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { op } from './engine.js';

// The audit trail. Written by this one function, always on the transaction of the change it
// records, so a change and its audit row are committed or rolled back together.

export interface AuditEntry {
  at: number;
  /** A user id, 'cli', 'agi', 'scheduler'. */
  actor: string;
  action: string;
  callbackId?: number | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export const writeAudit = op('writeAudit', async (db: Conn, e: AuditEntry): Promise<void> => {
  await db.q
    .insert(db.t.audit)
    .values({ at: e.at, actor: e.actor, action: e.action, callbackId: e.callbackId ?? null, before: e.before ?? null, after: e.after ?? null, reason: e.reason ?? null });
});

export const auditOf = op('auditOf', async (db: Conn, callbackId: number) => {
  const a = db.t.audit;
  return await db.q.select().from(a).where(eq(a.callbackId, callbackId)).orderBy(asc(a.id));
});
