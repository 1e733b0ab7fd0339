import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmiAction, parseAmiMessages } from '../../src/asterisk/ami.js';

describe('AMI framing', () => {
  it('keeps key case, splits messages, returns the unfinished rest', () => {
    const r = parseAmiMessages('Event: ContactStatus\r\nAOR: agent1001\r\nContactStatus: Created\r\n\r\nResponse: Succ');
    expect(r.messages).toEqual([{ Event: 'ContactStatus', AOR: 'agent1001', ContactStatus: 'Created' }]);
    expect(r.rest).toBe('Response: Succ');
  });
  it('an action cannot inject a second line', () => {
    expect(formatAmiAction({ Action: 'Ping', X: 'a\r\nAction: Logoff' })).toBe('Action: Ping\r\nX: a  Action: Logoff\r\n\r\n');
  });
  it('property: any split of a stream yields the same messages', () => {
    const msgArb = fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), fc.stringMatching(/^[ -~]{0,12}$/).map((s) => s.trim()), { minKeys: 1, maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 5 }), fc.nat(), (msgs, cut) => {
        const wire = msgs.map((m) => formatAmiAction(m)).join('');
        const at = cut % (wire.length + 1);
        const a = parseAmiMessages(wire.slice(0, at));
        const b = parseAmiMessages(a.rest + wire.slice(at));
        expect([...a.messages, ...b.messages]).toEqual(parseAmiMessages(wire).messages);
        expect(b.rest).toBe('');
      }),
    );
  });
});
