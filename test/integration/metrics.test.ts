import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyImport, parseImport } from '../../src/import.js';
import { registerGauges, registry } from '../../src/metrics.js';
import { insertCallback } from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { countCallbacksByState } from '../../src/store/stats.js';

// /metrics as Prometheus reads it: every state and trunk has a series from the start, the
// reconnect figure is a counter, Node.js defaults are there, and promtool accepts the text.

const FILE = {
  trunks: [{ id: 'carrier' }, { id: 'backup' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' }],
  lists: [{ id: 'L1', campaign: 'C1' }],
  leads: [{ id: 'n1', list: 'L1', phone: '+12125550101' }],
};
const NOW = Date.parse('2026-11-23T15:00:00Z');

let db: Db;
const links = { ari: { connected: true, reconnects: 0 }, ami: { connected: false, reconnects: 0 } };
const inUse = new Map<string, number>();
const scrape = () => registry.metrics();
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

beforeAll(async () => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-metrics-')), 'm.db'));
  await applyImport(db, parseImport(JSON.stringify(FILE), 'metrics.json'), NOW);
  registerGauges({ db, trunksInUse: () => inUse, links: () => links });
});

describe('/metrics', () => {
  it('has a series for every callback state and every trunk, at 0 when there is nothing', async () => {
    const empty = await scrape();
    for (const state of Object.keys(await countCallbacksByState(db))) expect(value(empty, `callbackd_callbacks{state="${state}"}`), state).toBe(0);
    expect(value(empty, 'callbackd_calls_in_progress{trunk="carrier"}')).toBe(0);
    expect(value(empty, 'callbackd_calls_in_progress{trunk="backup"}')).toBe(0);

    await insertCallback(db, { leadId: 'n1', campaignId: 'C1', type: 'ANYONE', ownerAgentId: null, dueAt: NOW, dueZone: 'UTC', maxAttempts: 3, notes: null }, NOW);
    inUse.set('carrier', 2);
    const one = await scrape();
    expect(value(one, 'callbackd_callbacks{state="ACTIVE"}')).toBe(1);
    expect(value(one, 'callbackd_callbacks{state="DIALING"}')).toBe(0);
    expect(value(one, 'callbackd_calls_in_progress{trunk="carrier"}')).toBe(2);
    expect(value(one, 'callbackd_calls_in_progress{trunk="backup"}')).toBe(0);
    inUse.clear();
  });

  it('counts reconnects as a _total counter that starts at 0 and only goes up', async () => {
    const first = await scrape();
    expect(first).toContain('# TYPE callbackd_asterisk_reconnects_total counter');
    expect(first).not.toMatch(/^callbackd_asterisk_reconnects\{/m);
    expect(value(first, 'callbackd_asterisk_reconnects_total{link="ari"}')).toBe(0);
    expect(value(first, 'callbackd_asterisk_reconnects_total{link="ami"}')).toBe(0);
    links.ari.reconnects = 3;
    links.ami.reconnects = 1;
    const later = await scrape();
    expect(value(later, 'callbackd_asterisk_reconnects_total{link="ari"}')).toBe(3);
    expect(value(later, 'callbackd_asterisk_reconnects_total{link="ami"}')).toBe(1);
    links.ari.reconnects = 4;
    expect(value(await scrape(), 'callbackd_asterisk_reconnects_total{link="ari"}')).toBe(4);
    expect(value(await scrape(), 'callbackd_asterisk_connected{link="ami"}')).toBe(0);
  });

  it("carries prom-client's process and Node.js default metrics", async () => {
    const text = await scrape();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('passes `promtool check metrics`', async (ctx) => {
    const found = spawnSync('promtool', ['--version']).status === 0;
    if (!found) {
      if (process.env.CI === 'true') throw new Error('promtool not installed (Debian package prometheus; .ci/run installs it)');
      console.warn('SKIPPED: promtool not installed (apt-get install prometheus)');
      ctx.skip();
    }
    const file = join(mkdtempSync(join(tmpdir(), 'cbd-prom-')), 'metrics.txt');
    writeFileSync(file, await scrape());
    // promtool reads the exposition on stdin and prints lint problems; exit 0 with no output is clean.
    const out = execFileSync('sh', ['-c', `promtool check metrics < ${file} 2>&1; echo "exit=$?"`]).toString();
    expect(out.trim()).toBe('exit=0');
  });
});
