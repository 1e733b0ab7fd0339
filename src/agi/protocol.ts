// The FastAGI wire protocol as Asterisk's res_agi speaks it, without I/O: a line splitter with a
// length limit, the agi_* header block, reply parsing (200/510/511/520 and the inline HANGUP) and
// the command writer. The server (agi/server.ts) feeds bytes in and writes what this returns.

export const LIMITS = {
  /** res_agi header lines are short; a line this long is garbage or an attack. */
  maxLineBytes: 8192,
  /** agi_* variables plus up to 128 agi_arg_N: more is not Asterisk. */
  maxHeaderLines: 200,
};

export class LineTooLong extends Error {}

/** Splits a byte stream into lines (\n, optional \r), refusing lines over the limit. */
export class LineReader {
  private buf = '';
  constructor(private readonly maxLine = LIMITS.maxLineBytes) {}

  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines: string[] = [];
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (line.length > this.maxLine) throw new LineTooLong(`line of ${line.length} bytes`);
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.buf.length > this.maxLine) throw new LineTooLong(`unterminated line over ${this.maxLine} bytes`);
    return lines;
  }
}

export interface AgiRequest {
  env: Record<string, string>;
  /** The route: "request-callback" from agi://127.0.0.1/request-callback?campaign=C */
  script: string;
  query: URLSearchParams;
  /** agi_arg_1 … agi_arg_N in order. */
  args: string[];
}

export type HeaderStep = { done: false } | { done: true; request: AgiRequest } | { error: string };

/** Collects the agi_* block, one line at a time, until the blank line that ends it. */
export class HeaderParser {
  private env: Record<string, string> = {};
  private lines = 0;

  feed(line: string): HeaderStep {
    if (line === '') {
      if (this.lines === 0) return { error: 'empty AGI header' };
      return this.finish();
    }
    if (++this.lines > LIMITS.maxHeaderLines) return { error: `AGI header longer than ${LIMITS.maxHeaderLines} lines` };
    const m = /^(agi_[a-z0-9_]+):\s?(.*)$/.exec(line);
    if (!m) return { error: `not an AGI header line: ${JSON.stringify(line.slice(0, 80))}` };
    this.env[m[1]!] = m[2]!;
    return { done: false };
  }

  private finish(): HeaderStep {
    const env = this.env;
    // agi_network_script is "path?query"; agi_request is the full agi:// URL.
    const raw = env.agi_network_script ?? (env.agi_request ? safeUrlPath(env.agi_request) : undefined);
    if (raw === undefined) return { error: 'AGI header has no agi_network_script or agi_request' };
    const q = raw.indexOf('?');
    const script = (q >= 0 ? raw.slice(0, q) : raw).replace(/^\/+/, '');
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    const args: string[] = [];
    for (let n = 1; env[`agi_arg_${n}`] !== undefined; n++) args.push(env[`agi_arg_${n}`]!);
    return { done: true, request: { env, script, query, args } };
  }
}

function safeUrlPath(u: string): string | undefined {
  try {
    const url = new URL(u);
    return url.pathname + url.search;
  } catch {
    return undefined;
  }
}

export type AgiReply =
  | { kind: 'ok'; result: string; data: string | null; rest: string }
  | { kind: 'error'; code: 510 | 511 | 520; message: string }
  | { kind: 'hangup' };

export type ReplyStep = { done: false } | { done: true; reply: AgiReply } | { error: string };

/** One command's reply: usually one line, "520-" usage text runs until "520 End of proper usage." */
export class ReplyParser {
  private usage: string[] | null = null;

  feed(line: string): ReplyStep {
    if (this.usage) {
      if (line.startsWith('520 ')) {
        const message = this.usage.join('\n');
        this.usage = null;
        return { done: true, reply: { kind: 'error', code: 520, message } };
      }
      this.usage.push(line);
      return { done: false };
    }
    if (line === 'HANGUP') return { done: true, reply: { kind: 'hangup' } };
    if (line.startsWith('520-')) {
      this.usage = [line.slice(4)];
      return { done: false };
    }
    const ok = /^200 result=(\S*)(?: \((.*?)\))?(.*)$/.exec(line);
    if (ok) return { done: true, reply: { kind: 'ok', result: ok[1]!, data: ok[2] ?? null, rest: ok[3]!.trim() } };
    const err = /^(510|511|520) (.*)$/.exec(line);
    if (err) return { done: true, reply: { kind: 'error', code: Number(err[1]) as 510 | 511 | 520, message: err[2]! } };
    return { error: `unexpected AGI reply: ${JSON.stringify(line.slice(0, 80))}` };
  }
}

/**
 * res_agi reads each command into a 2048-byte buffer (AGI_BUF_LEN in res_agi.c); a longer line is
 * cut there and the rest is read as the NEXT command, so a long value could smuggle in a command
 * of its own. Every line we write, newline included, stays within this many UTF-8 bytes.
 */
export const MAX_COMMAND_BYTES = 2000;

/**
 * Text made safe for one AGI argument: control characters become spaces (a newline would end the
 * command, a NUL the C string Asterisk reads) and lone surrogates become U+FFFD (they cannot be
 * written as UTF-8).
 */
export function agiText(s: string): string {
  return s
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * One command line. Every argument passes through agiText, then is quoted the way res_agi's parser
 * reads it when it holds spaces, quotes or backslashes, so no input can end the command or start
 * another. A line over MAX_COMMAND_BYTES has its last argument shortened (ending in "…").
 */
export function formatCommand(command: string, ...args: (string | number)[]): string {
  const parts = [command, ...args.map((a) => {
    const s = agiText(String(a));
    return s === '' || /[\s"\\]/.test(s) ? quote(s) : s;
  })];
  const line = parts.join(' ') + '\n';
  if (bytes(line) <= MAX_COMMAND_BYTES) return line;
  const head = parts.slice(0, -1).join(' ') + ' ';
  // Room for the last argument: quotes, the ellipsis and the newline taken off.
  let room = MAX_COMMAND_BYTES - bytes(head) - bytes('""…\n');
  if (args.length === 0 || room < 0) throw new Error(`AGI command ${command} is longer than ${MAX_COMMAND_BYTES} bytes`);
  let kept = '';
  for (const ch of agiText(String(args[args.length - 1]))) {
    const n = bytes(quote(ch)) - 2;
    if (n > room) break;
    room -= n;
    kept += ch;
  }
  return `${head}${quote(kept + '…')}\n`;
}
