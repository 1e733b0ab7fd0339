import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import { coalesced } from './coalesced.js';
import { eventsAfter, lastEventId, type OutboxEvent } from '../store/events.js';

// Tails the outbox and fans new events out to in-process subscribers (the SSE streams, the
// webhook and email loops). One reader for all of them: subscribers never query the outbox for
// live events. Woken at once by local writes (wake()); other processes' commits (the CLI, a
// second daemon) are picked up by a short poll on the primary key, which costs one index probe.

export type Subscriber = (batch: OutboxEvent[]) => void;

export interface HubOptions {
  db: Conn;
  log: Logger;
  pollMs: number;
  batch?: number;
}

export class EventHub {
  private subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly soon = coalesced(() => void this.pump(), () => this.running);
  private pumping: Promise<void> | null = null;
  private again = false;

  /** A hub that starts at the newest event: what came before is history, replayed on request. */
  static async open(o: HubOptions): Promise<EventHub> {
    return new EventHub(o, await lastEventId(o.db));
  }

  private constructor(
    private readonly o: HubOptions,
    /** The newest event fanned out; subscribers replay from the outbox up to here. */
    public position: number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Something was just written here: read the outbox now instead of at the next poll. */
  wake(): void {
    this.soon();
  }

  subscribe(fn: Subscriber): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  get subscribers(): number {
    return this.subs.size;
  }

  /**
   * Reads everything new and hands it out, in id order. One pump at a time: a call while one runs
   * asks it to read once more when done, so no batch is read twice or handed out of order.
   */
  async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = this.pumpAll();
    try {
      await this.pumping;
    } finally {
      this.pumping = null;
    }
  }

  private async pumpAll(): Promise<void> {
    do {
      this.again = false;
      await this.pumpOnce();
    } while (this.again);
  }

  private async pumpOnce(): Promise<void> {
    const size = this.o.batch ?? 500;
    try {
      for (;;) {
        const batch = await eventsAfter(this.o.db, this.position, size);
        if (batch.length === 0) break;
        this.position = batch[batch.length - 1]!.id;
        for (const fn of this.subs) {
          try {
            fn(batch);
          } catch (err) {
            this.o.log.error({ err: (err as Error).message }, 'event subscriber failed');
          }
        }
        if (batch.length < size) break;
      }
    } catch (err) {
      // The database is busy or gone for a moment: the next poll tries again from the same place.
      this.o.log.warn({ err: (err as Error).message }, 'could not read the event outbox');
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.pump();
      this.schedule(this.o.pollMs);
    }, ms);
    this.timer.unref();
  }
}
