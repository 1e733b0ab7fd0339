// What a carrier SIPp saw, with SIPp's own timestamps: each answered call, when it was answered
// (200 OK to the INVITE sent) and who hung up when (BYE received = Asterisk, BYE sent = the
// customer). The judge of "no customer answered to nobody": it does not trust callbackd's log.
import { readFileSync } from 'node:fs';

export interface CarrierCall {
  callId: string;
  number: string;
  answeredAt: number;
  hungUpAt: number | null;
  hungUpBy: 'asterisk' | 'customer' | null;
}

interface LoggedMessage {
  at: number;
  direction: 'received' | 'sent';
  first: string;
  header(name: string): string;
}

/** The messages of a SIPp message log, in order, with SIPp's timestamps. */
function loggedMessages(messageFile: string): LoggedMessage[] {
  let text = '';
  try {
    text = readFileSync(messageFile, 'utf8');
  } catch {
    return [];
  }
  const out: LoggedMessage[] = [];
  for (const block of text.split(/^-{20,} (?=\d{4}-\d\d-\d\d )/m)) {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})\d*\s*\n(?:UDP|TCP) message (received|sent)[^\n]*\n\n?([\s\S]*)$/.exec(block);
    if (!m) continue;
    const at = Date.parse(`${m[1]}T${m[2]}Z`); // SIPp writes the machine's local time; the lab runs in UTC
    const lines = m[4]!.replace(/\r/g, '').split('\n');
    const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))?.slice(name.length + 1).trim() ?? '';
    out.push({ at, direction: m[3] as 'received' | 'sent', first: lines[0]!.trim(), header });
  }
  return out;
}

export function answersAndHangups(messageFile: string): CarrierCall[] {
  const calls = new Map<string, CarrierCall>();
  const numbers = new Map<string, string>();
  for (const { at, direction, first, header } of loggedMessages(messageFile)) {
    const callId = header('Call-ID');
    if (first.startsWith('INVITE ')) numbers.set(callId, /sip:([^@]+)@/.exec(first)?.[1] ?? '');
    if (direction === 'sent' && first.startsWith('SIP/2.0 200') && header('CSeq').endsWith('INVITE') && !calls.has(callId)) {
      calls.set(callId, { callId, number: numbers.get(callId) ?? '', answeredAt: at, hungUpAt: null, hungUpBy: null });
    }
    const call = calls.get(callId);
    if (call && call.hungUpAt === null && first.startsWith('BYE ')) {
      call.hungUpAt = at;
      call.hungUpBy = direction === 'received' ? 'asterisk' : 'customer';
    }
  }
  return [...calls.values()];
}

/**
 * The most calls the carrier had up at one instant, from its own log: a call is up from its first
 * INVITE until a BYE (either way), a CANCEL, or a final error answer to the INVITE. `calls` = how many
 * calls it saw; `open` = how many never ended in the log.
 */
export function concurrentCalls(messageFile: string): { max: number; calls: number; open: number } {
  const up = new Set<string>();
  const seen = new Set<string>();
  let max = 0;
  for (const { direction, first, header } of loggedMessages(messageFile)) {
    const callId = header('Call-ID');
    if (direction === 'received' && first.startsWith('INVITE ') && !seen.has(callId)) {
      seen.add(callId);
      up.add(callId);
      max = Math.max(max, up.size);
    }
    const failed = /^SIP\/2\.0 [3-6]\d\d/.test(first) && header('CSeq').endsWith('INVITE');
    if (first.startsWith('BYE ') || first.startsWith('CANCEL ') || failed) up.delete(callId);
  }
  return { max, calls: seen.size, open: up.size };
}

/** The hold dialplan's CALLBACKD_HOLD_SEC, as a global on the lab's Asterisk (reset by a restart). */
export async function setHoldSeconds(sec: number): Promise<void> {
  const u = new URL('http://127.0.0.1:8088/ari/asterisk/variable');
  u.searchParams.set('variable', 'CALLBACKD_HOLD_SEC');
  u.searchParams.set('value', String(sec));
  const res = await fetch(u, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from('callbackd:lab-ari-secret').toString('base64') } });
  if (!res.ok) throw new Error(`setting CALLBACKD_HOLD_SEC failed: HTTP ${res.status}`);
}
