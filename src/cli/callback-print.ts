import type { CallbackViewT } from '../app/callback-view.js';
import type { CallAttemptRow } from '../store/schema.js';
import { at, printTable } from './shared.js';

// How the CLI prints the one view of a callback (app/callback-view.ts) as text.

export interface Shown {
  callback: CallbackViewT;
  callAttempts: CallAttemptRow[];
  audit: { at: number; actor: string; action: string; reason: string | null }[];
}

/** One short reason for the state: why a callback waits, failed, or was cancelled. */
export function why(c: CallbackViewT): string {
  const d = c.earliestDialableWhy ?? '';
  if (c.state === 'FAILED' || c.state === 'BUSY' || c.state === 'NO_ANSWER') return c.failReason ?? c.lastOutcome ?? '';
  if (c.state === 'CANCELLED') return c.failReason ?? 'cancelled';
  if (c.state === 'COMPLETED') return 'answered and bridged';
  if (c.state === 'LIVE') return c.waitReason ?? (d || 'due; about to dial');
  return d || (c.lastOutcome ? `last: ${c.lastOutcome}` : '');
}

export function printCallbacks(rows: CallbackViewT[]): void {
  if (rows.length === 0) return console.log('no callbacks');
  printTable([
    ['ID', 'STATE', 'TYPE', 'OWNER', 'LEAD', 'DUE (lead time)', 'EARLIEST DIALABLE', 'TRIES', 'WHY'],
    ...rows.map((r) => [String(r.id), r.state, r.type, r.owner ?? '-', r.lead, at(r.dueAt, r.dueZone), at(r.earliestDialableAt, r.dueZone), `${r.attempts}/${r.maxAttempts}`, why(r)]),
  ]);
}

export function printShown({ callback: row, callAttempts, audit }: Shown): void {
  const earliest = row.earliestDialableAt && row.earliestDialableAt !== row.dueAt ? `; earliest dialable ${at(row.earliestDialableAt, row.dueZone)}` : '';
  console.log(`callback ${row.id}: ${row.state} ${row.type} lead ${row.lead} due ${at(row.dueAt, row.dueZone)}${earliest}; tries ${row.attempts}/${row.maxAttempts}; ${why(row)}`);
  for (const n of row.numbers ?? []) {
    const next = row.nextNumber?.position === n.position ? '  <- dialed next' : '';
    console.log(`  number ${n.position}: ${n.number} ${n.label}${n.dnc ? ' DNC' : ''} (${n.zone})${next}`);
  }
  if (row.nextNumber?.why) console.log(`  skipped: ${row.nextNumber.why}`);
  if (row.nextNumber === null) console.log('  no number may be dialed: every number is on the do-not-call list');
  for (const a of audit) console.log(`  ${new Date(a.at).toISOString()} ${a.actor} ${a.action}${a.reason ? `: ${a.reason}` : ''}`);
  for (const a of callAttempts) {
    const t = (ms: number | null) => (ms === null ? '-' : `+${((ms - a.startedAt) / 1000).toFixed(2)}s`);
    console.log(
      `  #${a.seq} ${a.outcome ?? 'IN PROGRESS'}  agent ${a.agentId}@${a.phoneEndpoint}  ${a.callerId} -> ${a.customerNumber}${a.phonePosition !== null ? ` (number ${a.phonePosition})` : ''} via ${a.trunkId}` +
        `  agent rang ${t(a.agentRingingAt)} answered ${t(a.agentAnsweredAt)}; customer rang ${t(a.customerRingingAt)} answered ${t(a.customerAnsweredAt)} ended ${t(a.endedAt)}` +
        (a.cause !== null || a.sipCode !== null ? `  cause ${a.cause ?? '-'} sip ${a.sipCode ?? '-'}` : '') +
        (a.durationMs !== null ? `  talk ${(a.durationMs / 1000).toFixed(1)}s` : ''),
    );
  }
}
