import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './store/db.js';
import { callbacks } from './store/schema.js';

// Prometheus metrics (GET /metrics). Counters and the histogram are fed where things happen;
// gauges are read when Prometheus scrapes, so they are never stale.

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

export interface MetricSources {
  db: Db;
  trunksInUse: () => Map<string, number>;
  links: () => { ari: { connected: boolean; reconnects: number }; ami: { connected: boolean; reconnects: number } };
}

/** Gauges that read their value at scrape time. Call once per daemon. */
export function registerGauges(s: MetricSources): void {
  for (const name of ['callbackd_callbacks', 'callbackd_calls_in_progress', 'callbackd_asterisk_connected', 'callbackd_asterisk_reconnects']) registry.removeSingleMetric(name);
  new Gauge({
    name: 'callbackd_callbacks',
    help: 'Callbacks by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const rows = s.db.select({ state: callbacks.state, n: sql<number>`count(*)` }).from(callbacks).groupBy(callbacks.state).all();
      for (const r of rows) this.set({ state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'callbackd_calls_in_progress',
    help: 'Customer legs in progress, per trunk',
    labelNames: ['trunk'] as const,
    registers: [registry],
    collect() {
      this.reset();
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
  new Gauge({
    name: 'callbackd_asterisk_reconnects',
    help: 'Times the ARI / AMI connection was lost and made again since start',
    labelNames: ['link'] as const,
    registers: [registry],
    collect() {
      const l = s.links();
      this.set({ link: 'ari' }, l.ari.reconnects);
      this.set({ link: 'ami' }, l.ami.reconnects);
    },
  });
}
