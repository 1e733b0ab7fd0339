import { and, eq, isNull } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { affected, first, op } from './engine.js';
import type { apiTokens } from './schema.js';

// API bearer tokens, stored only as a hash (app/auth.ts makes and checks them).

export type TokenRow = typeof apiTokens.$inferSelect;
export type TokenListing = Pick<TokenRow, 'id' | 'name' | 'createdAt' | 'revokedAt' | 'lastUsedAt'> & { user: string };

export const insertToken = op('insertToken', async (c: Conn, userId: string, name: string | null, hash: string, now: number): Promise<number> => {
  const t = c.t.apiTokens;
  return first(await c.q.insert(t).values({ userId, name, hash, createdAt: now }).returning({ id: t.id }))!.id;
});

/** Revokes an active token; false if there is none with this id. */
export const revokeToken = op('revokeToken', async (c: Conn, id: number, now: number): Promise<boolean> => {
  const t = c.t.apiTokens;
  return affected(await c.q.update(t).set({ revokedAt: now }).where(and(eq(t.id, id), isNull(t.revokedAt)))) === 1;
});

export const listTokens = op('listTokens', async (c: Conn): Promise<TokenListing[]> => {
  const t = c.t.apiTokens;
  return await c.q.select({ id: t.id, user: t.userId, name: t.name, createdAt: t.createdAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt }).from(t).orderBy(t.id);
});

export const tokenByHash = op('tokenByHash', async (c: Conn, hash: string): Promise<TokenRow | undefined> =>
  first(await c.q.select().from(c.t.apiTokens).where(eq(c.t.apiTokens.hash, hash)).limit(1)));

export const touchToken = op('touchToken', async (c: Conn, id: number, now: number): Promise<void> => {
  await c.q.update(c.t.apiTokens).set({ lastUsedAt: now }).where(eq(c.t.apiTokens.id, id));
});
