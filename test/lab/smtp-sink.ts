// A real SMTP server for the email tests: Postfix's smtp-sink (Debian package postfix, installed by
// test/lab/provision.sh), dumping each message to a file that the test reads back.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const smtpSinkMissing = (): string | null => (existsSync(SMTP_SINK) ? null : `${SMTP_SINK} not found (apt-get install postfix; see test/lab/provision.sh)`);

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface SmtpSink {
  port: number;
  /**
   * Every message received so far: the dumped file (envelope lines, then the message). A file is
   * written while the message arrives: read it once the client has seen the transaction succeed.
   */
  messages(): string[];
  stop(): Promise<void>;
}

/** Starts smtp-sink on 127.0.0.1:port (a free one by default); `extra` are smtp-sink options. */
export async function startSmtpSink(port?: number, extra: string[] = []): Promise<SmtpSink> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'cbd-smtp-'));
  chmodSync(dir, 0o777);
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  const child: ChildProcess = spawn(SMTP_SINK, [...user, ...extra, '-d', `${dir}/%M.`, `127.0.0.1:${p}`, '10'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const end = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(p, '127.0.0.1', () => {
        s.destroy();
        r(true);
      }).on('error', () => r(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > end) throw new Error(`smtp-sink did not start on ${p}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: p,
    messages: () =>
      readdirSync(dir)
        .map((f) => join(dir, f))
        .filter((f) => statSync(f).isFile())
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
        .map((f) => readFileSync(f, 'utf8')),
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** A dumped message's header value and its body, quoted-printable undone. */
export function parseMessage(raw: string): { header: (name: string) => string | undefined; body: string } {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = text.slice(0, cut).replace(/\n[ \t]+/g, ' ');
  const header = (name: string) => head.split('\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
  let body = text.slice(cut + 2);
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding') ?? '')) {
    body = Buffer.from(body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return { header, body };
}
