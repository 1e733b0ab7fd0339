import type { Logger } from '../log.js';
import { coalesced } from './coalesced.js';

// One loop shape for everything that leaves callbackd (webhook deliveries, emails): take what is
// due, send it with bounded concurrency, record the result, sleep until the next due time or a
// wake-up. It runs on its own timers, never inside the scheduler's tick, and awaits nothing the
// dialer waits on: a slow or dead receiver only ever delays its own queue.

export interface LoopJob {
  id: number;
}

export interface DeliveryLoopOptions<J extends LoopJob> {
  name: string;
  log: Logger;
  now: () => number;
  concurrency: number;
  /** Longest sleep when nothing is due (a backstop; wake() is the usual trigger). */
  idleMs: number;
  /** Turn new outbox events into queued jobs (one transaction each). */
  prepare: (now: number) => Promise<void>;
  /** Jobs due now, at most `limit`, none of `inFlight`. */
  due: (now: number, limit: number, inFlight: Set<number>) => Promise<J[]>;
  /** When the next queued job becomes due, or null. */
  nextAt: () => Promise<number | null>;
  /** Sends one job and records its result (success, retry, dead). Must not throw. */
  send: (job: J) => Promise<void>;
}

export class DeliveryLoop<J extends LoopJob> {
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly soon = coalesced(() => void this.tick(), () => this.running);
  private ticking = false;
  private again = false;
  private idle: (() => void)[] = [];

  constructor(private readonly o: DeliveryLoopOptions<J>) {}

  start(): void {
    this.running = true;
    this.wake();
  }

  /** New events, or a job finished: look again soon (coalesced). */
  wake(): void {
    this.soon();
  }

  /** Stops taking jobs and waits up to `graceMs` for those in flight. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.inFlight.size === 0) return;
    await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  // One tick at a time: two at once could both read the same due job before either marks it in
  // flight. A wake during a tick runs one more tick right after it.
  private async tick(): Promise<void> {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      await this.tickOnce();
    } finally {
      this.ticking = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  private async tickOnce(): Promise<void> {
    const now = this.o.now();
    try {
      await this.o.prepare(now);
      const free = this.o.concurrency - this.inFlight.size;
      const jobs = free > 0 ? await this.o.due(now, free, this.inFlight) : [];
      for (const job of jobs) this.run(job);
      await this.sleep();
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, loop: this.o.name }, 'delivery loop could not read its queue; trying again');
      this.arm(this.o.idleMs);
    }
  }

  private run(job: J): void {
    this.inFlight.add(job.id);
    void this.o
      .send(job)
      .catch((err: Error) => this.o.log.error({ err: err.message, loop: this.o.name, job: job.id }, 'delivery failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(job.id);
        if (this.inFlight.size === 0) for (const r of this.idle.splice(0)) r();
        this.wake();
      });
  }

  private async sleep(): Promise<void> {
    // Something due but not taken is in flight or queued behind an earlier job of its callback;
    // a finishing job wakes the loop, so only sleep until a future due time, or idle.
    const next = await this.o.nextAt();
    const now = this.o.now();
    const wait = next === null || next <= now ? this.o.idleMs : Math.min(this.o.idleMs, next - now);
    this.arm(wait);
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(ms, 5));
    this.timer.unref();
  }
}
