import { and, eq, isNull, lt, or, isNotNull } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { Db } from './db.js';

// People's passwords and console sessions (sql/0009_people.sql). Only hashes are stored.

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

export function setPasswordHash(db: Db, userId: string, hash: string, now: number): void {
  db.insert(userPasswords).values({ userId, hash, updatedAt: now }).onConflictDoUpdate({ target: userPasswords.userId, set: { hash, updatedAt: now } }).run();
}

export function passwordHashOf(db: Db, userId: string): string | undefined {
  return db.select({ hash: userPasswords.hash }).from(userPasswords).where(eq(userPasswords.userId, userId)).get()?.hash;
}

export function insertSession(db: Db, s: Omit<SessionRow, 'id' | 'endedAt'>): void {
  db.insert(consoleSessions).values(s).run();
}

/** A session that is neither ended nor expired. */
export function liveSession(db: Db, tokenHash: string, now: number): SessionRow | undefined {
  const s = db.select().from(consoleSessions).where(and(eq(consoleSessions.tokenHash, tokenHash), isNull(consoleSessions.endedAt))).get();
  return s && s.expiresAt > now ? s : undefined;
}

export function endSession(db: Db, tokenHash: string, now: number): void {
  db.update(consoleSessions).set({ endedAt: now }).where(and(eq(consoleSessions.tokenHash, tokenHash), isNull(consoleSessions.endedAt))).run();
}

/** A new password ends every session of the user (someone may have known the old one). */
export function endSessionsOf(db: Db, userId: string, now: number): void {
  db.update(consoleSessions).set({ endedAt: now }).where(and(eq(consoleSessions.userId, userId), isNull(consoleSessions.endedAt))).run();
}

/** Rows of sessions ended or expired before `before` are of no use: dropped. */
export function pruneSessions(db: Db, before: number): number {
  return db.delete(consoleSessions).where(or(lt(consoleSessions.expiresAt, before), and(isNotNull(consoleSessions.endedAt), lt(consoleSessions.endedAt, before)))).run().changes;
}
