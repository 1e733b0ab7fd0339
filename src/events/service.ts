import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { trimEvents } from '../store/events.js';
import { trimDeliveries } from '../store/webhooks.js';
import { EventHub } from './hub.js';
import { webhookLoop, type WebhookConfig } from './webhooks.js';

// Everything that reads the outbox, started and stopped together by the daemon: the hub (SSE),
// webhook deliveries, and retention. None of it runs inside the scheduler's loop, so nothing here can delay dialing.

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

export function startEvents(o: { db: Db; log: Logger; config: EventsConfig; webhooks: WebhookConfig; now?: () => number; random?: () => number }): EventsService {
  const now = o.now ?? Date.now;
  const hub = new EventHub({ db: o.db, log: o.log, pollMs: o.config.pollMs });
  const webhooks = webhookLoop({ db: o.db, log: o.log.child({ consumer: 'webhooks' }), now, config: o.webhooks, random: o.random });
  hub.subscribe(() => webhooks.wake());
  hub.start();
  webhooks.start();
  const trim = () => {
    try {
      const cutoff = now() - o.config.retentionDays * DAY;
      const n = trimEvents(o.db, cutoff);
      const d = trimDeliveries(o.db, cutoff);
      if (n || d) o.log.info({ events: n, deliveries: d, retentionDays: o.config.retentionDays }, 'old events and delivered webhooks deleted');
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
    wake: () => {
      hub.wake();
      webhooks.wake();
    },
    stop: async () => {
      clearInterval(trimTimer);
      hub.stop();
      // In-flight deliveries get a moment; one cut off is PENDING and is sent again at the next start.
      await webhooks.stop(1000);
    },
  };
}
