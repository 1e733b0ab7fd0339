import type { Conn } from '../store/conn.js';
import { isBusy } from '../store/busy.js';
import { transaction } from '../store/engine.js';
import * as tokens from '../store/tokens.js';

// When a token was last used, written in the background: authenticating never writes, so it never
// waits for a write lock another process holds (issue 12). Uses within the same second are
// coalesced into one write per token; a write refused by a busy database is retried later, and
// losing one at a crash only makes "last used" a second older.

const FLUSH_MS = 1000;
const pending = new WeakMap<Conn, { at: Map<number, number>; timer: NodeJS.Timeout | null }>();

export function touchLater(db: Conn, tokenId: number, now: number): void {
  let p = pending.get(db);
  if (!p) pending.set(db, (p = { at: new Map(), timer: null }));
  p.at.set(tokenId, Math.max(now, p.at.get(tokenId) ?? 0));
  if (!p.timer) {
    const q = p;
    q.timer = setTimeout(() => void flushTouches(db, q), FLUSH_MS);
    q.timer.unref();
  }
}

async function flushTouches(db: Conn, p: { at: Map<number, number>; timer: NodeJS.Timeout | null }): Promise<void> {
  p.timer = null;
  const batch = [...p.at];
  p.at.clear();
  try {
    await transaction(db, async (tx) => {
      for (const [id, at] of batch) await tokens.touchToken(tx, id, at);
    });
  } catch (err) {
    // Busy: put them back (newer uses win) and try again later. Anything else (the connection closed at
    // stop) drops them: "last used" is only a second or so older.
    if (!isBusy(err)) return;
    for (const [id, at] of batch) if (!p.at.has(id)) p.at.set(id, at);
    if (p.at.size) {
      p.timer = setTimeout(() => void flushTouches(db, p), FLUSH_MS * 5);
      p.timer.unref();
    }
  }
}
