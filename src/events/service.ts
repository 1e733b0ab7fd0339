import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import { trimEmails } from '../store/emails.js';
import { dropCursor, trimEvents } from '../store/events.js';
import { leader } from '../store/leader.js';
import { trimDeliveries } from '../store/webhooks.js';
import type { SmtpConfig } from './email.js';
import { EventHub } from './hub.js';
import { webhookLoop, type WebhookConfig } from './webhooks.js';

// Everything that reads the outbox, started and stopped together by the daemon: the hub (SSE),
// webhook deliveries, email, and retention. None of it runs inside the scheduler's loop, so nothing here can delay dialing.

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

export async function startEvents(o: { db: Conn; log: Logger; config: EventsConfig; webhooks: WebhookConfig; smtp?: (SmtpConfig & { enabled: boolean }) | undefined; now?: () => number; random?: () => number }): Promise<EventsService> {
  const now = o.now ?? Date.now;
  const hub = await EventHub.open({ db: o.db, log: o.log, pollMs: o.config.pollMs });
  const webhooks = webhookLoop({ db: o.db, log: o.log.child({ consumer: 'webhooks' }), now, config: o.webhooks, random: o.random });
  hub.subscribe(() => webhooks.wake());
  // Loaded only where email is on: nodemailer is 0.65 MiB of source kept in the heap for nothing otherwise
  // (README "Memory after 200 calls, session 6"; test/integration/daemon-modules.test.ts).
  const email = o.smtp?.enabled ? (await import('./email.js')).emailLoop({ db: o.db, log: o.log.child({ consumer: 'email' }), now, config: o.smtp, random: o.random }) : null;
  if (email) hub.subscribe(() => email.wake());
  else await dropCursor(o.db, 'email');
  hub.start();
  // Webhooks, email and retention: on one daemon of a cluster only (store/leader.ts); the hub runs everywhere.
  const lead = leader(o.db, 'events', { log: o.log, onChange: (held) => (held ? (webhooks.start(), email?.start()) : void Promise.all([webhooks.stop(0), email?.stop(0)])) });
  const trim = async () => {
    if (!lead.held) return;
    try {
      const cutoff = now() - o.config.retentionDays * DAY;
      const n = await trimEvents(o.db, cutoff);
      const d = await trimDeliveries(o.db, cutoff);
      const m = await trimEmails(o.db, cutoff);
      if (n || d || m) o.log.info({ events: n, deliveries: d, emails: m, retentionDays: o.config.retentionDays }, 'old events, delivered webhooks and sent emails deleted');
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
      email?.wake();
    },
    stop: async () => {
      clearInterval(trimTimer);
      hub.stop();
      await lead.close();
      // In-flight deliveries get a moment; one cut off is PENDING and is sent again at the next start.
      await Promise.all([webhooks.stop(1000), email?.stop(1000)]);
      email?.close();
    },
  };
}
