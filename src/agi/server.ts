import { createServer, type Server, type Socket } from 'node:net';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { agiAuthRefusal } from './auth.js';
import { formatCommand, HeaderParser, LineReader, ReplyParser, type AgiReply, type AgiRequest } from './protocol.js';

// Our FastAGI server (no well-kept Node library exists). Each connection is one channel running
// AGI(agi://host/route?...) in dialplan. Every read has a deadline; garbage, oversized lines and
// clients that never finish are closed without touching other sessions or calls in progress.
// Nothing is said to a client until its request is authenticated (agi/auth.ts).

export interface AgiServerOptions {
  host: string;
  port: number;
  /** Client addresses allowed to connect (exact IPs); every other address is closed on sight. */
  allow: string[];
  /** The shared secret as it is now, or why there is none (then every request is refused). */
  secret: () => { secret: string } | { error: string };
  headerTimeoutMs: number;
  /** Longest wait for the reply to a command that does not wait for the caller (SET VARIABLE...). */
  idleTimeoutMs: number;
  /** Longest wait for the reply to a command that plays prompts or waits for digits. */
  commandTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  log: Logger;
}

/** Commands whose reply waits for the caller (a prompt playing, digits typed): these get commandTimeoutMs. */
const CALLER_PACED = new Set(['STREAM FILE', 'CONTROL STREAM FILE', 'GET DATA', 'GET OPTION', 'WAIT FOR DIGIT', 'SAY DIGITS', 'SAY NUMBER', 'SAY ALPHA', 'RECORD FILE', 'EXEC']);

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
    private readonly timeouts: { idleMs: number; commandMs: number },
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
      const ms = CALLER_PACED.has(name) ? this.timeouts.commandMs : this.timeouts.idleMs;
      const step = parser.feed(await this.nextLine(ms, `waiting for the reply to ${name}`));
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

  /** Ends the conversation; a client that never closes its side is cut off a second later. */
  close(): void {
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

interface Conn {
  socket: Socket;
  addr: string;
  /** Past authentication: a real channel's session, never evicted to make room. */
  authed: boolean;
}

export class AgiServer {
  private server: Server | null = null;
  /** Open connections, oldest first (a Set keeps insertion order). */
  private readonly conns = new Set<Conn>();
  private readonly routes = new Map<string, AgiRoute>();
  private readonly quiet = new Map<string, { until: number; suppressed: number }>();
  constructor(private readonly o: AgiServerOptions) {}

  route(name: string, handler: AgiRoute): this {
    this.routes.set(name, handler);
    return this;
  }

  listen(): Promise<void> {
    const server = createServer((socket) => void this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new CallbackdError(ErrorCodes.CONFIG_INVALID, `agi: cannot listen on ${this.o.host}:${this.o.port} (${err.code ?? err.message}); check agi.host and agi.port`)),
      );
      server.listen(this.o.port, this.o.host, () => {
        server.on('error', (err) => this.o.log.error({ err: err.message }, 'AGI server error'));
        this.o.log.info({ host: this.o.host, port: this.address().port, allow: this.o.allow }, 'FastAGI server listening');
        const sec = this.o.secret();
        if ('error' in sec) this.o.log.error(`${sec.error}; every AGI request will be refused until it is fixed (SECURITY.md)`);
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : { host: this.o.host, port: this.o.port };
  }

  /** Open connections (for tests and metrics). */
  connections(): { total: number; authenticated: number } {
    let authenticated = 0;
    for (const c of this.conns) if (c.authed) authenticated++;
    return { total: this.conns.size, authenticated };
  }

  /**
   * Room for one more connection from `addr`. At a limit, the oldest connection still sending its
   * header (never an authenticated session) is closed to make room: a flood of slow or silent
   * clients cannot keep a real channel out, since Asterisk sends its header at once.
   */
  private admit(addr: string): boolean {
    let fromAddr = 0;
    for (const c of this.conns) if (c.addr === addr) fromAddr++;
    let victim: Conn | undefined;
    if (fromAddr >= this.o.maxConnectionsPerAddress) {
      victim = [...this.conns].find((c) => c.addr === addr && !c.authed);
      if (!victim) return false;
    } else if (this.conns.size >= this.o.maxConnections) {
      victim = [...this.conns].find((c) => !c.authed);
      if (!victim) return false;
    }
    if (victim) {
      this.conns.delete(victim);
      victim.socket.destroy();
    }
    return true;
  }

  /** A warning at most once per 10 s per kind, with how many were held back: a flood cannot flood the log. */
  private warnOnce(kind: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const q = this.quiet.get(kind);
    if (q && now < q.until) {
      q.suppressed++;
      return;
    }
    this.quiet.set(kind, { until: now + 10_000, suppressed: 0 });
    this.o.log.warn({ ...fields, ...(q?.suppressed ? { alsoSinceLastWarning: q.suppressed } : {}) }, msg);
  }

  private async accept(socket: Socket): Promise<void> {
    const peer = socket.remoteAddress ?? '?';
    const addr = normalize(peer);
    socket.on('error', () => undefined); // a reset before the session exists is not an error of ours
    if (!this.o.allow.includes(addr)) {
      this.warnOnce('allow', { client: addr, allow: this.o.allow }, 'AGI connection from an address not in agi.allow; closed');
      socket.destroy();
      return;
    }
    if (!this.admit(addr)) {
      this.warnOnce('full', { client: addr, max: this.o.maxConnections, perAddress: this.o.maxConnectionsPerAddress }, 'AGI connection refused: every slot holds an authenticated session (agi.maxConnections / agi.maxConnectionsPerAddress)');
      socket.destroy();
      return;
    }
    const conn: Conn = { socket, addr, authed: false };
    this.conns.add(conn);
    socket.once('close', () => this.conns.delete(conn));
    const log = this.o.log.child({ agiClient: `${peer}:${socket.remotePort}` });
    const s = new AgiSession(socket, log, { idleMs: this.o.idleTimeoutMs, commandMs: this.o.commandTimeoutMs });
    try {
      const req = await s.readHeader(this.o.headerTimeoutMs);
      const sec = this.o.secret();
      const refusal = 'error' in sec ? sec.error : agiAuthRefusal(sec.secret, req.env, req.query.get('auth'));
      if (refusal) {
        // Not a word to the client: it learns nothing about routes or ids.
        this.warnOnce('auth', { client: addr, script: req.script, channel: req.env.agi_channel }, `AGI request refused: ${refusal}`);
        socket.destroy();
        return;
      }
      conn.authed = true;
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
      else if (conn.authed) log.warn({ err: (err as Error).message }, 'AGI session ended with an error');
      else log.debug({ err: (err as Error).message }, 'AGI client closed before it was authenticated');
    } finally {
      s.close();
    }
  }

  /** Stops accepting; sessions in progress are closed after `graceMs`. Idempotent. */
  async close(graceMs = 2000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // Clients still sending a header have no call to finish.
    for (const c of this.conns) if (!c.authed) c.socket.destroy();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.conns) c.socket.destroy();
        resolve();
      }, graceMs);
      t.unref();
      server.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** "::ffff:127.0.0.1" → "127.0.0.1", so an allow-list of IPv4 addresses works on dual-stack sockets. */
function normalize(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
