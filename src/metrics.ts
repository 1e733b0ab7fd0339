import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Conn } from './store/conn.js';
import { countCallbacksByState, trunkIds } from './store/stats.js';

// Prometheus metrics (GET /metrics). Counters and the histogram are fed where things happen;
// gauges are read when Prometheus scrapes, so they are never stale. Every label value an operator
// alerts on (each state, each trunk, each link) has a series from the start, at 0 when nothing.

export const registry = new Registry();

export const dialOutcomes = new Counter({
  name: 'callbackd_dial_outcomes_total',
  help: 'Attempts ended, by outcome (ANSWERED, BUSY, NO_ANSWER, CONGESTION, AGENT_NO_ANSWER, ...) and Q.850 cause',
  labelNames: ['outcome', 'cause'] as const,
  registers: [registry],
});

export const triggerLateness = new Histogram({
  name: 'callbackd_trigger_lateness_seconds',
  help: 'Due instant (or next attempt) to claim',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
  registers: [registry],
});

export const dbBusy = new Counter({
  name: 'callbackd_db_busy_total',
  help: 'Writes of the scheduler and dialer refused because another process held the database write lock (retried later)',
  labelNames: ['where'] as const,
  registers: [registry],
});
for (const where of ['scheduler', 'dialer']) dbBusy.inc({ where }, 0);

export const claimsRefused = new Counter({
  name: 'callbackd_claims_refused_total',
  help: 'Claims of a ready callback refused: taken = another daemon was claiming it (PostgreSQL, SKIP LOCKED), moved = no longer LIVE when claimed (edited, cancelled or claimed meanwhile), trunk-channels / trunk-rate = the trunk at its channel limit / calls per second across all daemons, agent-busy = the agent on a call placed by another daemon',
  labelNames: ['reason'] as const,
  registers: [registry],
});
for (const reason of ['taken', 'moved', 'trunk-channels', 'trunk-rate', 'agent-busy']) claimsRefused.inc({ reason }, 0);

export interface MetricSources {
  db: Conn;
  /** The daemon's Asterisk server (default `default`), and its instanceId: labels of callbackd_info. */
  server?: string;
  instanceId?: string;
  trunksInUse: () => Map<string, number>;
  /** `reconnects`: times the link was lost and made again since start (a running count). */
  links: () => { ari: { connected: boolean; reconnects: number }; ami: { connected: boolean; reconnects: number } };
}

const SCRAPED = ['callbackd_info', 'callbackd_callbacks', 'callbackd_calls_in_progress', 'callbackd_asterisk_connected', 'callbackd_asterisk_reconnects_total'];
let defaultsOn = false;

/** The daemon's scrape-time metrics and Node.js/process defaults. Call once per daemon. */
export function registerGauges(s: MetricSources): void {
  for (const name of SCRAPED) registry.removeSingleMetric(name);
  // Which server (and database engine) a daemon serves is constant per scrape target: one info series
  // joined where a query wants it (`* on (job, instance) group_left (server) callbackd_info`), as
  // Prometheus' exporter guidelines ask, not a label on every series (that one would clash with a
  // scrape config's own `server` target label, and could not tell two daemons of one server apart).
  new Gauge({
    name: 'callbackd_info',
    help: 'Always 1: the Asterisk server this daemon places calls on, its instanceId and its database engine',
    labelNames: ['server', 'instance_id', 'database'] as const,
    registers: [registry],
  }).set({ server: s.server ?? 'default', instance_id: s.instanceId ?? '', database: s.db.kind }, 1);
  if (!defaultsOn) {
    collectDefaultMetrics({ register: registry });
    // Gauges named _total break Prometheus' naming rule (promtool check metrics fails on them);
    // the per-type nodejs_active_handles / _requests / _resources gauges carry the same figures.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
    defaultsOn = true;
  }
  new Gauge({
    name: 'callbackd_callbacks',
    help: 'Callbacks by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      for (const [state, n] of Object.entries(await countCallbacksByState(s.db))) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'callbackd_calls_in_progress',
    help: 'Customer legs in progress, per trunk',
    labelNames: ['trunk'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const trunk of await trunkIds(s.db)) this.set({ trunk }, 0);
      for (const [trunk, n] of s.trunksInUse()) this.set({ trunk }, n);
    },
  });
  new Gauge({
    name: 'callbackd_asterisk_connected',
    help: '1 while the ARI / AMI connection is up',
    labelNames: ['link'] as const,
    registers: [registry],
    collect() {
      const l = s.links();
      this.set({ link: 'ari' }, l.ari.connected ? 1 : 0);
      this.set({ link: 'ami' }, l.ami.connected ? 1 : 0);
    },
  });
  // The clients keep a running count; the counter takes what was added since the last scrape,
  // so it only ever goes up (rate() and increase() work on it).
  const seen = { ari: 0, ami: 0 };
  const reconnects = new Counter({
    name: 'callbackd_asterisk_reconnects_total',
    help: 'Times the ARI / AMI connection was lost and made again since start',
    labelNames: ['link'] as const,
    registers: [registry],
    collect() {
      const l = s.links();
      for (const link of ['ari', 'ami'] as const) {
        const now = l[link].reconnects;
        if (now > seen[link]) this.inc({ link }, now - seen[link]);
        seen[link] = Math.max(seen[link], now);
      }
    },
  });
  reconnects.inc({ link: 'ari' }, 0);
  reconnects.inc({ link: 'ami' }, 0);
}
