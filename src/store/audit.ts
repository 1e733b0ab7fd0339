import { asc, eq } from 'drizzle-orm';
import type { LegacyConn } from './conn.js';
import { audit } from './schema.js';

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

export function writeAudit(db: LegacyConn, e: AuditEntry): void {
  db.insert(audit)
    .values({ at: e.at, actor: e.actor, action: e.action, callbackId: e.callbackId ?? null, before: e.before ?? null, after: e.after ?? null, reason: e.reason ?? null })
    .run();
}

export function auditOf(db: LegacyConn, callbackId: number) {
  return db.select().from(audit).where(eq(audit.callbackId, callbackId)).orderBy(asc(audit.id)).all();
}
