import { and, eq, isNull } from 'drizzle-orm';
import type { LegacyConn } from './conn.js';
import { apiTokens } from './schema.js';

// API bearer tokens, stored only as a hash (app/auth.ts makes and checks them).

export type TokenRow = typeof apiTokens.$inferSelect;

export function insertToken(db: LegacyConn, userId: string, name: string | null, hash: string, now: number): number {
  return db.insert(apiTokens).values({ userId, name, hash, createdAt: now }).returning({ id: apiTokens.id }).get().id;
}

/** Revokes an active token; false if there is none with this id. */
export function revokeToken(db: LegacyConn, id: number, now: number): boolean {
  return db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))).run().changes === 1;
}

export function listTokens(db: LegacyConn) {
  return db
    .select({ id: apiTokens.id, user: apiTokens.userId, name: apiTokens.name, createdAt: apiTokens.createdAt, revokedAt: apiTokens.revokedAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .all();
}

export function tokenByHash(db: LegacyConn, hash: string): TokenRow | undefined {
  return db.select().from(apiTokens).where(eq(apiTokens.hash, hash)).get();
}

export function touchToken(db: LegacyConn, id: number, now: number): void {
  db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, id)).run();
}
