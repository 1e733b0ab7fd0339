import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { trimEvents } from '../store/events.js';
import { EventHub } from './hub.js';

// Everything that reads the outbox, started and stopped together by the daemon: the hub (SSE),
// and retention. None of it runs inside the scheduler's loop, so nothing here can delay dialing.

export interface EventsConfig {
  pollMs: number;
  heartbeatMs: number;
  retentionDays: number;
}

export interface EventsService {
  hub: EventHub;
  heartbeatMs: number;
  /** A local write happened: read the outbox now. */
  wake(): void;
  stop(): Promise<void>;
}

const DAY = 86_400_000;
const TRIM_EVERY_MS = 3_600_000;

export function startEvents(o: { db: Db; log: Logger; config: EventsConfig; now?: () => number }): EventsService {
  const now = o.now ?? Date.now;
  const hub = new EventHub({ db: o.db, log: o.log, pollMs: o.config.pollMs });
  hub.start();
  const trim = () => {
    try {
      const n = trimEvents(o.db, now() - o.config.retentionDays * DAY);
      if (n) o.log.info({ deleted: n, retentionDays: o.config.retentionDays }, 'old events deleted from the outbox');
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'could not trim the event outbox');
    }
  };
  const trimTimer = setInterval(trim, TRIM_EVERY_MS);
  trimTimer.unref();
  setImmediate(trim);
  return {
    hub,
    heartbeatMs: o.config.heartbeatMs,
    wake: () => hub.wake(),
    stop: async () => {
      clearInterval(trimTimer);
      hub.stop();
    },
  };
}
