import { createServer, type Server, type Socket } from 'node:net';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { formatCommand, HeaderParser, LineReader, ReplyParser, type AgiReply, type AgiRequest } from './protocol.js';

// Our FastAGI server (no well-kept Node library exists). Each connection is one channel running
// AGI(agi://host/route?...) in dialplan. Every read has a deadline; garbage, oversized lines and
// clients that never finish are closed without touching other sessions or calls in progress.

export interface AgiServerOptions {
  host: string;
  port: number;
  /** Client addresses allowed to connect; empty = any (the server binds to loopback by default). */
  allow: string[];
  headerTimeoutMs: number;
  commandTimeoutMs: number;
  maxConnections: number;
  log: Logger;
}

export type AgiRoute = (s: AgiSession) => Promise<void>;

export class AgiHangup extends Error {
  constructor() {
    super('the caller hung up');
  }
}

/** One FastAGI conversation: the request that started it, and commands in turn. */
export class AgiSession {
  private readonly lines = new LineReader();
  private waiting: ((line: string) => void) | null = null;
  private queued: string[] = [];
  private closed = false;
  private failed: Error | null = null;
  hungUp = false;
  request!: AgiRequest;

  constructor(
    readonly socket: Socket,
    public log: Logger,
    private readonly commandTimeoutMs: number,
  ) {
    socket.on('data', (chunk) => {
      let got: string[];
      try {
        got = this.lines.push(chunk);
      } catch (err) {
        this.fail(new CallbackdError(ErrorCodes.INPUT_INVALID, `AGI client sent ${(err as Error).message}; closing`));
        return;
      }
      for (const l of got) {
        // res_agi may send "HANGUP" between commands; remember it, then keep reading replies.
        if (l === 'HANGUP' && !this.waiting) {
          this.hungUp = true;
          continue;
        }
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(l);
        } else this.queued.push(l);
      }
    });
    // The client closed its side (Asterisk hung up, or a probe went away): nothing more will come.
    socket.on('end', () => this.fail(new AgiHangup()));
    socket.on('close', () => this.fail(new AgiHangup()));
    socket.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.closed = true;
    const w = this.waiting;
    this.waiting = null;
    w?.('');
    this.socket.destroy();
  }

  /** The next line, or an error after `ms`. */
  nextLine(ms: number, what: string): Promise<string> {
    if (this.queued.length) return Promise.resolve(this.queued.shift()!);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting = null;
        const err = new CallbackdError(ErrorCodes.AGI_TIMEOUT, `AGI client sent nothing for ${ms} ms while ${what}; closing`);
        this.fail(err);
        reject(err);
      }, ms);
      this.waiting = (line) => {
        clearTimeout(t);
        if (this.failed) reject(this.failed);
        else resolve(line);
      };
    });
  }

  async readHeader(ms: number): Promise<AgiRequest> {
    const p = new HeaderParser();
    const deadline = Date.now() + ms;
    for (;;) {
      const step = p.feed(await this.nextLine(Math.max(1, deadline - Date.now()), 'reading the AGI header'));
      if ('error' in step) {
        this.fail(new CallbackdError(ErrorCodes.INPUT_INVALID, step.error));
        throw this.failed!;
      }
      if (step.done) return (this.request = step.request);
    }
  }

  /** Sends one command and waits for its reply. A hangup rejects with AgiHangup. */
  async command(name: string, ...args: (string | number)[]): Promise<Extract<AgiReply, { kind: 'ok' }>> {
    if (this.hungUp) throw new AgiHangup();
    if (this.closed) throw this.failed ?? new AgiHangup();
    this.socket.write(formatCommand(name, ...args));
    const parser = new ReplyParser();
    for (;;) {
      const step = parser.feed(await this.nextLine(this.commandTimeoutMs, `waiting for the reply to ${name}`));
      if ('error' in step) {
        this.fail(new CallbackdError(ErrorCodes.INPUT_INVALID, step.error));
        throw this.failed!;
      }
      if (!step.done) continue;
      const r = step.reply;
      if (r.kind === 'hangup') {
        this.hungUp = true;
        continue; // the reply to our command still follows
      }
      if (r.kind === 'error') throw new CallbackdError(ErrorCodes.AGI_COMMAND, `Asterisk refused "${name}": ${r.code} ${r.message}`);
      if (r.result === '-1' && this.hungUp) throw new AgiHangup();
      return r;
    }
  }

  /** Sets a channel variable. */
  async setVariable(name: string, value: string): Promise<void> {
    await this.command('SET VARIABLE', name, value);
  }

  close(): void {
    this.closed = true;
    this.socket.end();
  }
}

export class AgiServer {
  private server: Server | null = null;
  private readonly sessions = new Set<AgiSession>();
  private readonly routes = new Map<string, AgiRoute>();
  constructor(private readonly o: AgiServerOptions) {}

  route(name: string, handler: AgiRoute): this {
    this.routes.set(name, handler);
    return this;
  }

  listen(): Promise<void> {
    const server = createServer((socket) => void this.accept(socket));
    server.maxConnections = this.o.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new CallbackdError(ErrorCodes.CONFIG_INVALID, `agi: cannot listen on ${this.o.host}:${this.o.port} (${err.code ?? err.message}); check agi.host and agi.port`)),
      );
      server.listen(this.o.port, this.o.host, () => {
        server.on('error', (err) => this.o.log.error({ err: err.message }, 'AGI server error'));
        this.o.log.info({ host: this.o.host, port: this.address().port }, 'FastAGI server listening');
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : { host: this.o.host, port: this.o.port };
  }

  private async accept(socket: Socket): Promise<void> {
    const peer = socket.remoteAddress ?? '?';
    const log = this.o.log.child({ agiClient: `${peer}:${socket.remotePort}` });
    if (this.o.allow.length > 0 && !this.o.allow.includes(normalize(peer))) {
      log.warn({ allow: this.o.allow }, 'AGI connection from an address not in agi.allow; closed');
      socket.destroy();
      return;
    }
    const s = new AgiSession(socket, log, this.o.commandTimeoutMs);
    this.sessions.add(s);
    try {
      const req = await s.readHeader(this.o.headerTimeoutMs);
      const route = this.routes.get(req.script);
      if (!route) {
        log.warn({ script: req.script, known: [...this.routes.keys()] }, `no AGI route "${req.script}"; check the AGI() URL in dialplan`);
        await s.command('VERBOSE', `callbackd: no route ${req.script}`, 1).catch(() => undefined);
        return;
      }
      const child = log.child({ route: req.script, channel: req.env.agi_channel, uniqueid: req.env.agi_uniqueid });
      s.log = child;
      await route(s);
    } catch (err) {
      if (err instanceof AgiHangup) log.debug('AGI caller hung up');
      else log.warn({ err: (err as Error).message }, 'AGI session ended with an error');
    } finally {
      this.sessions.delete(s);
      s.close();
    }
  }

  /** Stops accepting; sessions in progress are closed after `graceMs`. Idempotent. */
  async close(graceMs = 2000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const s of this.sessions) s.socket.destroy();
        resolve();
      }, graceMs);
      t.unref();
      server.close(() => {
        clearTimeout(t);
        resolve();
      });
      if (this.sessions.size === 0) {
        clearTimeout(t);
        resolve();
      }
    });
  }
}

/** "::ffff:127.0.0.1" → "127.0.0.1", so an allow-list of IPv4 addresses works on dual-stack sockets. */
function normalize(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
