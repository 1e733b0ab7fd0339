import { createHash, randomBytes } from 'node:crypto';
import { grantsAdmin, phoneBlockedReason } from '../domain/phone.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';
import type { Scope } from '../store/callback-list.js';
import * as dir from '../store/directory.js';
import type { CallbackRow, UserRow } from '../store/schema.js';
import * as tokens from '../store/tokens.js';
import { touchLater } from './token-touch.js';

// Who is asking, and what they may do. Tokens are random, shown once, stored as sha256: a copy of
// the database does not hand out API access.

export interface Principal {
  userId: string;
  role: 'agent' | 'manager' | 'admin';
  agentId: string | null;
  /** Manager: the campaigns managed. Agent: the agent's campaigns. Admin: unused (all). */
  campaigns: string[];
  leadModify: boolean;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createToken(db: Conn, userId: string, name: string | null, now: number): Promise<{ id: number; token: string }> {
  if (!await dir.getUser(db, userId)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no user "${userId}" (add it under users: in an import file)`);
  const token = `cbd_${randomBytes(32).toString('base64url')}`;
  return { id: await tokens.insertToken(db, userId, name, hash(token), now), token };
}

export const revokeToken = tokens.revokeToken;
export const listTokens = tokens.listTokens;

/**
 * The principal behind a bearer token, or an error saying why not. An agent is refused while none
 * of their phones has Status ACTIVE or ADMIN (VICIdial's rule); a phone with ADMIN grants admin.
 */
export async function authenticate(db: Conn, token: string | undefined, now: number): Promise<Principal> {
  if (!token) throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, 'send "Authorization: Bearer <token>" (create one with `callbackd token create --user U`)');
  const row = await tokens.tokenByHash(db, hash(token));
  if (!row || row.revokedAt !== null) throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, 'unknown or revoked token');
  const user = await dir.getUser(db, row.userId);
  if (!user) throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, 'the token\'s user no longer exists');
  touchLater(db, row.id, now); // never a write on the request's path (app/token-touch.ts)
  return await principalOf(db, user);
}

export async function principalOf(db: Conn, user: UserRow): Promise<Principal> {
  if (user.role !== 'agent') {
    return { userId: user.id, role: user.role, agentId: user.agentId, campaigns: user.campaigns, leadModify: user.role === 'admin' || user.leadModify };
  }
  const agentId = user.agentId ?? user.id;
  const own = await dir.phonesOfAgents(db, [agentId]);
  const usable = own.filter((p) => phoneBlockedReason(p) === null);
  if (usable.length === 0) {
    const why = own.length ? own.map((p) => phoneBlockedReason(p)).join('; ') : `agent ${agentId} has no phone`;
    throw new CallbackdError(ErrorCodes.FORBIDDEN, `agent access refused: ${why}`);
  }
  if (usable.some(grantsAdmin)) return { userId: user.id, role: 'admin', agentId, campaigns: [], leadModify: true };
  return { userId: user.id, role: 'agent', agentId, campaigns: await dir.campaignsOfAgent(db, agentId), leadModify: false };
}

/** What `p` may see, as the listing's scope; the same rule as canSee below, in SQL. */
export function scopeOf(p: Principal): Scope {
  if (p.role === 'admin') return { kind: 'all' };
  if (p.role === 'manager') return { kind: 'campaigns', campaigns: p.campaigns };
  return { kind: 'agent', agentId: p.agentId ?? '', campaigns: p.campaigns };
}

/** May `p` see this callback? */
export function canSee(p: Principal, cb: Pick<CallbackRow, 'campaignId' | 'type' | 'ownerAgentId'>): boolean {
  if (p.role === 'admin') return true;
  if (p.role === 'manager') return p.campaigns.includes(cb.campaignId);
  return cb.ownerAgentId === p.agentId || (cb.type === 'ANYONE' && p.campaigns.includes(cb.campaignId));
}

/** May `p` change this callback (edit, cancel, reassign)? Agents only book. */
export function canEdit(p: Principal, cb: Pick<CallbackRow, 'campaignId'>): boolean {
  if (p.role === 'admin') return true;
  return p.role === 'manager' && p.leadModify && p.campaigns.includes(cb.campaignId);
}

/**
 * May a booking by `p` replace (cancel) this open callback of the lead? Whoever may edit it, and
 * an agent re-booking their own USERONLY promise; never another agent's callback (issue 12).
 */
export function canReplace(p: Principal, cb: Pick<CallbackRow, 'campaignId' | 'type' | 'ownerAgentId'>): boolean {
  return canEdit(p, cb) || (p.role === 'agent' && cb.type === 'USERONLY' && cb.ownerAgentId === p.agentId);
}

export function forbid(message: string): never {
  throw new CallbackdError(ErrorCodes.FORBIDDEN, message);
}
