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

export function answersAndHangups(messageFile: string): CarrierCall[] {
  let text = '';
  try {
    text = readFileSync(messageFile, 'utf8');
  } catch {
    return [];
  }
  const calls = new Map<string, CarrierCall>();
  const numbers = new Map<string, string>();
  for (const block of text.split(/^-{20,} (?=\d{4}-\d\d-\d\d )/m)) {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})\d*\s*\n(?:UDP|TCP) message (received|sent)[^\n]*\n\n?([\s\S]*)$/.exec(block);
    if (!m) continue;
    const at = Date.parse(`${m[1]}T${m[2]}Z`); // SIPp writes the machine's local time; the lab runs in UTC
    const lines = m[4]!.replace(/\r/g, '').split('\n');
    const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))?.slice(name.length + 1).trim() ?? '';
    const callId = header('Call-ID');
    const first = lines[0]!.trim();
    if (first.startsWith('INVITE ')) numbers.set(callId, /sip:([^@]+)@/.exec(first)?.[1] ?? '');
    if (m[3] === 'sent' && first.startsWith('SIP/2.0 200') && header('CSeq').endsWith('INVITE') && !calls.has(callId)) {
      calls.set(callId, { callId, number: numbers.get(callId) ?? '', answeredAt: at, hungUpAt: null, hungUpBy: null });
    }
    const call = calls.get(callId);
    if (call && call.hungUpAt === null && first.startsWith('BYE ')) {
      call.hungUpAt = at;
      call.hungUpBy = m[3] === 'received' ? 'asterisk' : 'customer';
    }
  }
  return [...calls.values()];
}

/** The hold dialplan's CALLBACKD_HOLD_SEC, as a global on the lab's Asterisk (reset by a restart). */
export async function setHoldSeconds(sec: number): Promise<void> {
  const u = new URL('http://127.0.0.1:8088/ari/asterisk/variable');
  u.searchParams.set('variable', 'CALLBACKD_HOLD_SEC');
  u.searchParams.set('value', String(sec));
  const res = await fetch(u, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from('callbackd:lab-ari-secret').toString('base64') } });
  if (!res.ok) throw new Error(`setting CALLBACKD_HOLD_SEC failed: HTTP ${res.status}`);
}
