import { Socket } from 'node:net';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { AsteriskLink } from './link.js';

// Our own thin AMI client instead of asterisk-manager (README: "Why not asterisk-manager"):
// keys keep Asterisk's spelling, an action sent while disconnected fails at once instead of being
// dropped, every action has a timeout, and reconnecting never stops.

export type AmiMessage = Record<string, string>;

export interface AmiOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  actionTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  log: Logger;
}

interface Pending {
  resolve: (m: AmiMessage[]) => void;
  reject: (e: Error) => void;
  list: boolean;
  events: AmiMessage[];
  response?: AmiMessage;
  timer: NodeJS.Timeout;
}

/** Splits a buffer of AMI text into complete messages; returns them and the unfinished rest. */
export function parseAmiMessages(buffer: string): { messages: AmiMessage[]; rest: string } {
  const messages: AmiMessage[] = [];
  let rest = buffer;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const block = rest.slice(0, end);
    rest = rest.slice(end + 4);
    const msg: AmiMessage = {};
    for (const line of block.split('\r\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      // Repeated keys (e.g. ChanVariable) are joined so nothing is lost.
      msg[key] = key in msg ? `${msg[key]}\n${value}` : value;
    }
    if (Object.keys(msg).length) messages.push(msg);
  }
  return { messages, rest };
}

export function formatAmiAction(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, ' ')}\r\n`).join('') + '\r\n';
}

export class AmiClient extends AsteriskLink<AmiMessage> {
  private sock: Socket | null = null;
  private buf = '';
  private banner = false;
  private nextId = 1;
  private pending = new Map<string, Pending>();

  constructor(private readonly o: AmiOptions) {
    super(o.reconnect);
  }

  stop(): void {
    this.stopped = true;
    this.retry.cancel();
    this.sock?.destroy();
    this.sock = null;
    this.failAll(new CallbackdError(ErrorCodes.AMI_NOT_CONNECTED, 'AMI client stopped'));
    this.connected = false;
  }

  protected connect(): void {
    if (this.stopped) return;
    const sock = new Socket();
    this.sock = sock;
    this.buf = '';
    this.banner = false;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 10_000);
    sock.setEncoding('utf8');
    const connectTimer = setTimeout(() => sock.destroy(new Error('connect timed out')), this.o.actionTimeoutMs);
    sock.on('connect', () => clearTimeout(connectTimer));
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('error', (err) => {
      if (!this.connected) this.o.log.warn({ host: this.o.host, port: this.o.port, err: err.message, attempt: this.retry.failures + 1 }, 'AMI not reachable; will retry');
      else this.o.log.warn({ err: err.message }, 'AMI socket error');
    });
    sock.on('close', () => {
      clearTimeout(connectTimer);
      if (this.sock === sock) this.sock = null;
      const was = this.connected;
      this.connected = false;
      this.failAll(new CallbackdError(ErrorCodes.AMI_NOT_CONNECTED, 'AMI connection closed before the answer came'));
      if (was) {
        this.reconnects++;
        this.o.log.warn('AMI connection lost; reconnecting');
        this.emit('disconnected');
      }
      this.scheduleReconnect();
    });
    sock.connect(this.o.port, this.o.host);
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    if (!this.banner) {
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 2);
      this.banner = true;
      if (!line.startsWith('Asterisk Call Manager')) {
        this.o.log.error({ banner: line.slice(0, 80) }, 'the AMI port did not greet like Asterisk; check ami.host/ami.port');
        this.sock?.destroy();
        return;
      }
      void this.login();
    }
    if (this.buf.length > 8 * 1024 * 1024) {
      this.o.log.error('AMI sent over 8 MiB without a message end; dropping the connection');
      this.sock?.destroy();
      return;
    }
    const { messages, rest } = parseAmiMessages(this.buf);
    this.buf = rest;
    for (const m of messages) this.dispatch(m);
  }

  private async login(): Promise<void> {
    try {
      const [res] = await this.send({ Action: 'Login', Username: this.o.username, Secret: this.o.secret, Events: 'on' }, false, true);
      if (res?.Response !== 'Success') {
        this.emit(
          'authFailed',
          new CallbackdError(
            ErrorCodes.AMI_AUTH,
            `AMI at ${this.o.host}:${this.o.port} refused user "${this.o.username}": ${res?.Message ?? 'no reason given'} (check ami.username and ami.secret / CALLBACKD_AMI_SECRET against manager.conf, including permit=)`,
          ),
        );
        this.sock?.destroy();
        return;
      }
      if (this.retry.failures > 0 || this.reconnects > 0) this.o.log.info('AMI connected again');
      else this.o.log.info({ host: this.o.host, port: this.o.port }, 'AMI connected');
      this.retry.succeeded();
      this.connected = true;
      this.emit('connected');
    } catch (err) {
      if (this.stopped) return;
      this.o.log.warn({ err: (err as Error).message }, 'AMI login got no answer');
      this.sock?.destroy();
    }
  }

  private dispatch(m: AmiMessage): void {
    const id = m.ActionID;
    const p = id ? this.pending.get(id) : undefined;
    if (p) {
      if (m.Response !== undefined && !p.response) {
        p.response = m;
        if (!p.list || m.Response !== 'Success' || m.EventList === undefined) {
          // Either a plain action, or a list action that failed / returned no list.
          if (p.list && m.Response === 'Success' && m.EventList === undefined) return; // list starts later
          this.settle(id!, p, null);
        }
        return;
      }
      if (m.Event !== undefined && p.list) {
        if (m.EventList === 'Complete') this.settle(id!, p, null);
        else p.events.push(m);
        return;
      }
    }
    if (m.Event !== undefined) this.emit('event', m);
  }

  private settle(id: string, p: Pending, err: Error | null): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (err) p.reject(err);
    else p.resolve([p.response!, ...p.events]);
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) this.settle(id, p, err);
  }

  private send(fields: Record<string, string>, list: boolean, duringLogin = false): Promise<AmiMessage[]> {
    if (!this.sock || (!this.connected && !duringLogin)) {
      return Promise.reject(new CallbackdError(ErrorCodes.AMI_NOT_CONNECTED, `AMI is not connected; ${fields.Action} not sent`));
    }
    const id = `cbd-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CallbackdError(ErrorCodes.AMI_TIMEOUT, `AMI ${fields.Action} got no answer within ${this.o.actionTimeoutMs} ms`));
      }, this.o.actionTimeoutMs);
      this.pending.set(id, { resolve, reject, list, events: [], timer });
      this.sock!.write(formatAmiAction({ ...fields, ActionID: id }));
    });
  }

  /**
   * Asks Asterisk to send this login only the events named (the Filter action: a whitelist, one
   * regex per name, kept until the connection ends). Needs write=system in manager.conf.
   */
  async onlyEvents(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const [res] = await this.send({ Action: 'Filter', Operation: 'Add', Filter: `Event: ${name}` }, false);
      if (res?.Response !== 'Success') throw new CallbackdError(ErrorCodes.AMI_ERROR, `AMI Filter: ${res?.Message ?? 'error'}`);
    }
  }

  /**
   * A CLI command's output, one line each (the Command action; its user needs write=command in
   * manager.conf). Used read-only: `dialplan show globals` (src/asterisk/stale-claims.ts).
   */
  async command(text: string): Promise<string[]> {
    const [res] = await this.send({ Action: 'Command', Command: text }, false);
    if (res?.Response !== 'Success') throw new CallbackdError(ErrorCodes.AMI_ERROR, `AMI Command "${text}": ${res?.Message ?? 'error'}`);
    return (res.Output ?? '').split('\n');
  }

  /** An action that answers with an event list (PJSIPShowContacts, DeviceStateList, ...). */
  async list(fields: Record<string, string>): Promise<AmiMessage[]> {
    const [res, ...events] = await this.send(fields, true);
    if (res?.Response === 'Error') {
      // "No contacts found" and friends are an empty list, not a failure.
      if (/found|no .* (configured|exist)/i.test(res.Message ?? '')) return [];
      throw new CallbackdError(ErrorCodes.AMI_ERROR, `AMI ${fields.Action}: ${res.Message ?? 'error'}`);
    }
    return events;
  }
}
