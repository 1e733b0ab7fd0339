import { listCallbacks, type ListQuery } from '../store/callback-list.js';
import type { Conn } from '../store/conn.js';
import { CallbackView, viewMany, type CallbackViewT } from './callback-view.js';

// CSV of any callbacks listing (the filters of GET /callbacks), produced page by page through the
// listing's keyset cursor: memory stays at one page however many rows there are. The columns are
// the fields of the one callback view, in its order.

// numbers/nextNumber are read for one callback only (app/callback-view.ts numbersView), never in a listing.
export const CSV_COLUMNS = (Object.keys(CallbackView.shape) as (keyof CallbackViewT)[]).filter((k) => k !== 'numbers' && k !== 'nextNumber');
const PAGE = 1000;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // Quote when needed; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export async function* callbacksCsv(db: Conn, q: Omit<ListQuery, 'limit' | 'cursor'>, now: () => number): AsyncGenerator<string> {
  yield CSV_COLUMNS.join(',') + '\r\n';
  let cursor: string | undefined;
  do {
    const page = await listCallbacks(db, { ...q, limit: PAGE, cursor });
    let chunk = '';
    for (const v of await viewMany(db, page.items, now())) chunk += CSV_COLUMNS.map((k) => csvCell(v[k])).join(',') + '\r\n';
    yield chunk;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
