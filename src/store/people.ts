import { and, eq, isNull, lt, or, isNotNull } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { Conn } from './conn.js';
import { affected, first, op } from './engine.js';

// People's passwords and console sessions (sql/0009_people.sql). Only hashes are stored.
// The SQLite tables are defined here (db.ts hands them out as `c.t.userPasswords`/`c.t.consoleSessions`;
// their pg twins are in pg/schema.ts); the queries below use `c.t`, one body for both engines.

export const userPasswords = sqliteTable('user_passwords', {
  userId: text('user_id').primaryKey(),
  hash: text('hash').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const consoleSessions = sqliteTable('console_sessions', {
  id: integer('id').primaryKey(),
  userId: text('user_id').notNull(),
  tokenHash: text('token_hash').notNull(),
  csrf: text('csrf').notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  endedAt: integer('ended_at'),
});
export type SessionRow = typeof consoleSessions.$inferSelect;

export const setPasswordHash = op('setPasswordHash', async (c: Conn, userId: string, hash: string, now: number): Promise<void> => {
  const up = c.t.userPasswords;
  await c.q.insert(up).values({ userId, hash, updatedAt: now }).onConflictDoUpdate({ target: up.userId, set: { hash, updatedAt: now } });
});

export const passwordHashOf = op('passwordHashOf', async (c: Conn, userId: string): Promise<string | undefined> => {
  const up = c.t.userPasswords;
  return first(await c.q.select({ hash: up.hash }).from(up).where(eq(up.userId, userId)).limit(1))?.hash;
});

export const insertSession = op('insertSession', async (c: Conn, s: Omit<SessionRow, 'id' | 'endedAt'>): Promise<void> => {
  await c.q.insert(c.t.consoleSessions).values(s);
});

/** A session that is neither ended nor expired. */
export const liveSession = op('liveSession', async (c: Conn, tokenHash: string, now: number): Promise<SessionRow | undefined> => {
  const cs = c.t.consoleSessions;
  const s = first(await c.q.select().from(cs).where(and(eq(cs.tokenHash, tokenHash), isNull(cs.endedAt))).limit(1));
  return s && s.expiresAt > now ? s : undefined;
});

export const endSession = op('endSession', async (c: Conn, tokenHash: string, now: number): Promise<void> => {
  const cs = c.t.consoleSessions;
  await c.q.update(cs).set({ endedAt: now }).where(and(eq(cs.tokenHash, tokenHash), isNull(cs.endedAt)));
});

/** A new password ends every session of the user (someone may have known the old one). */
export const endSessionsOf = op('endSessionsOf', async (c: Conn, userId: string, now: number): Promise<void> => {
  const cs = c.t.consoleSessions;
  await c.q.update(cs).set({ endedAt: now }).where(and(eq(cs.userId, userId), isNull(cs.endedAt)));
});

/** Rows of sessions ended or expired before `before` are of no use: dropped. */
export const pruneSessions = op('pruneSessions', async (c: Conn, before: number): Promise<number> => {
  const cs = c.t.consoleSessions;
  return affected(await c.q.delete(cs).where(or(lt(cs.expiresAt, before), and(isNotNull(cs.endedAt), lt(cs.endedAt, before)))));
});
