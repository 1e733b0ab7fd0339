import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agiText, formatCommand, HeaderParser, LIMITS, LineReader, LineTooLong, MAX_COMMAND_BYTES, ReplyParser } from '../../src/agi/protocol.js';

// As Asterisk 22's res_agi sends a FastAGI request (trimmed).
const HEADER = [
  'agi_network: yes',
  'agi_network_script: request-callback?campaign=SALES&minutes=5',
  'agi_request: agi://127.0.0.1:4573/request-callback?campaign=SALES&minutes=5',
  'agi_channel: PJSIP/caller-00000004',
  'agi_language: en',
  'agi_uniqueid: 1795340000.12',
  'agi_callerid: +15551230099',
  'agi_calleridname: Carl',
  'agi_context: callbackd-request-callback',
  'agi_extension: s',
  'agi_arg_1: 1',
  'agi_arg_2: hello world',
  '',
];

describe('FastAGI protocol', () => {
  it('reads the header block: route, query and args', () => {
    const p = new HeaderParser();
    let step;
    for (const l of HEADER) step = p.feed(l);
    expect(step).toMatchObject({ done: true, request: { script: 'request-callback', args: ['1', 'hello world'] } });
    if (step && 'request' in step) {
      expect(step.request.query.get('campaign')).toBe('SALES');
      expect(step.request.env.agi_callerid).toBe('+15551230099');
    }
  });

  it('refuses what is not an AGI header', () => {
    expect(new HeaderParser().feed('GET / HTTP/1.1')).toMatchObject({ error: expect.stringMatching(/not an AGI header line/) });
    expect(new HeaderParser().feed('')).toEqual({ error: 'empty AGI header' });
    const p = new HeaderParser();
    p.feed('agi_channel: x');
    expect(p.feed('')).toEqual({ error: 'AGI header has no agi_network_script or agi_request' });
    const long = new HeaderParser();
    let last;
    for (let i = 0; i <= LIMITS.maxHeaderLines; i++) last = long.feed(`agi_arg_${i + 1}: x`);
    expect(last).toMatchObject({ error: expect.stringMatching(/longer than 200 lines/) });
  });

  it('parses replies: 200 with data, 510, 511, multi-line 520, inline HANGUP', () => {
    expect(new ReplyParser().feed('200 result=1')).toEqual({ done: true, reply: { kind: 'ok', result: '1', data: null, rest: '' } });
    expect(new ReplyParser().feed('200 result=0 endpos=8192')).toEqual({ done: true, reply: { kind: 'ok', result: '0', data: null, rest: 'endpos=8192' } });
    expect(new ReplyParser().feed('200 result= (timeout)')).toEqual({ done: true, reply: { kind: 'ok', result: '', data: 'timeout', rest: '' } });
    expect(new ReplyParser().feed('200 result=1 (SIP/2.0)')).toEqual({ done: true, reply: { kind: 'ok', result: '1', data: 'SIP/2.0', rest: '' } });
    expect(new ReplyParser().feed('510 Invalid or unknown command')).toEqual({ done: true, reply: { kind: 'error', code: 510, message: 'Invalid or unknown command' } });
    expect(new ReplyParser().feed('511 Command Not Permitted on a dead channel or intercept routine')).toMatchObject({ done: true, reply: { code: 511 } });
    const p = new ReplyParser();
    expect(p.feed('520-Invalid command syntax.  Proper usage follows:')).toEqual({ done: false });
    expect(p.feed(' Usage: GET DATA <file to be streamed> [timeout] [maxdigits]')).toEqual({ done: false });
    expect(p.feed('520 End of proper usage.')).toEqual({
      done: true, reply: { kind: 'error', code: 520, message: 'Invalid command syntax.  Proper usage follows:\n Usage: GET DATA <file to be streamed> [timeout] [maxdigits]' },
    });
    expect(new ReplyParser().feed('HANGUP')).toEqual({ done: true, reply: { kind: 'hangup' } });
    expect(new ReplyParser().feed('garbage')).toMatchObject({ error: expect.stringMatching(/unexpected AGI reply/) });
  });

  it('writes commands, quoting what res_agi would split; a line break, NUL or lone surrogate cannot end or split the command', () => {
    expect(formatCommand('GET DATA', 'beep', 5000, 1)).toBe('GET DATA beep 5000 1\n');
    expect(formatCommand('SET VARIABLE', 'CB_NOTES', 'asked "twice" about C:\\x')).toBe('SET VARIABLE CB_NOTES "asked \\"twice\\" about C:\\\\x"\n');
    expect(formatCommand('STREAM FILE', 'beep', '')).toBe('STREAM FILE beep ""\n');
    expect(formatCommand('SET VARIABLE', 'X', 'a\nHANGUP')).toBe('SET VARIABLE X "a HANGUP"\n');
    expect(formatCommand('SET VARIABLE', 'X', 'a\u0000b\rc\uD800d')).toBe('SET VARIABLE X "a b c\uFFFDd"\n');
  });

  it("a value longer than res_agi's 2048-byte command buffer is shortened, so its tail cannot become a command of its own", () => {
    const smuggled = 'x'.repeat(2100) + 'EXEC System reboot';
    const line = formatCommand('SET VARIABLE', 'CB_NOTES', smuggled);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_COMMAND_BYTES);
    expect(line).toMatch(/^SET VARIABLE CB_NOTES "x+…"\n$/);
    expect(line).not.toContain('EXEC');
    // Multi-byte characters and escapes are never cut in half.
    const wide = formatCommand('SET VARIABLE', 'N', '"é\\😀'.repeat(500));
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(MAX_COMMAND_BYTES);
    expect(wide).toMatch(/^SET VARIABLE N "(\\"é\\\\😀)+(\\"|\\"é|\\"é\\\\)?…"\n$/);
  });

  it('splits lines across chunks, strips CR, and refuses endless lines', () => {
    const r = new LineReader(16);
    expect(r.push('agi_a: 1\r\nagi_')).toEqual(['agi_a: 1']);
    expect(r.push('b: 2\n\n')).toEqual(['agi_b: 2', '']);
    expect(() => r.push('x'.repeat(17))).toThrow(LineTooLong);
  });

  it('fuzz: random bytes never throw anything but LineTooLong, and every line is within the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), (chunks) => {
        const r = new LineReader(1024);
        const h = new HeaderParser();
        const rep = new ReplyParser();
        try {
          for (const c of chunks) {
            for (const line of r.push(Buffer.from(c))) {
              expect(line.length).toBeLessThanOrEqual(1024);
              h.feed(line); // returns an error step at worst; never throws
              rep.feed(line);
            }
          }
        } catch (err) {
          expect(err).toBeInstanceOf(LineTooLong);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('fuzz: any argument round-trips through the quoting res_agi reads', () => {
    // A model of res_agi's parse_args: whitespace splits, "..." groups, backslash escapes.
    const parse = (line: string) => {
      const out: string[] = [];
      let cur = '';
      let quoted = false;
      let esc = false;
      let any = false;
      for (const ch of line.replace(/\n$/, '')) {
        if (esc) { cur += ch; esc = false; any = true; continue; }
        if (ch === '\\') { esc = true; continue; }
        if (ch === '"') { quoted = !quoted; any = true; continue; }
        if (!quoted && /\s/.test(ch)) { if (any) out.push(cur); cur = ''; any = false; continue; }
        cur += ch; any = true;
      }
      if (any) out.push(cur);
      return out;
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.fullUnicodeString(), fc.string16bits()), { maxLength: 5 }), (args) => {
        const line = formatCommand('CMD', ...args);
        expect(line.indexOf('\n')).toBe(line.length - 1); // one command, whatever the input
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_COMMAND_BYTES);
        expect(parse(line).slice(1)).toEqual(args.map(agiText));
      }),
      { numRuns: 3000 },
    );
  });
});
