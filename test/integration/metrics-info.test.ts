import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { registerGauges, registry } from '../../src/metrics.js';
import { openDb, type Db } from '../../src/store/db.js';

// /metrics per server (issue 16 item 5): each daemon says which server it serves in one constant
// series, callbackd_info{server,instance_id,database} 1, joined in PromQL where a query wants the
// server. Checked by Prometheus' own engine (promtool test rules) on what three daemons' /metrics
// really said: two on server b (HA), one on a.

const dbs: Db[] = [];
afterAll(async () => {
  for (const db of dbs) await db.close();
});
const tmp = () => mkdtempSync(join(tmpdir(), 'cbd-metrics-info-'));

/** One daemon's scrape: its registerGauges, then /metrics as Prometheus reads it. */
async function scrape(server: string | undefined, instanceId: string | undefined, inUse: Record<string, number>): Promise<string> {
  const db = openDb(join(tmp(), 'db.sqlite'));
  dbs.push(db);
  registerGauges({ db, server, instanceId, trunksInUse: () => new Map(Object.entries(inUse)), links: () => ({ ari: { connected: true, reconnects: 0 }, ami: { connected: true, reconnects: 0 } }) });
  return registry.metrics();
}

describe('callbackd_info', () => {
  it('one series says the server, the instanceId and the database engine; no other series carries a server label', async () => {
    const text = await scrape('b', 'cb-b-1', {});
    expect(text).toMatch(/^# TYPE callbackd_info gauge$/m);
    expect(text.split('\n').filter((l) => l.startsWith('callbackd_info'))).toEqual(['callbackd_info{server="b",instance_id="cb-b-1",database="sqlite"} 1']);
    expect(text.split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('callbackd_info') && /server=/.test(l))).toEqual([]);
    // A daemon without servers in its directory serves the implicit one.
    expect(await scrape(undefined, 'solo', {})).toMatch(/^callbackd_info\{server="default",instance_id="solo",database="sqlite"\} 1$/m);
  });

  it('Prometheus joins it: calls in progress per server, over three daemons (two of them on server b)', async (ctx) => {
    if (spawnSync('promtool', ['--version']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('promtool not installed (Debian package prometheus; .ci/run installs it)');
      ctx.skip();
    }
    const daemons = [
      { instance: '10.0.0.1:8080', text: await scrape('a', 'cb-a-1', { carrier: 2 }) },
      { instance: '10.0.0.2:8080', text: await scrape('b', 'cb-b-1', { 'carrier-b': 1 }) },
      { instance: '10.0.0.3:8080', text: await scrape('b', 'cb-b-2', { 'carrier-b': 3 }) },
    ];
    // Each scraped sample as Prometheus stores it: with its target's job and instance labels.
    const series = daemons.flatMap((d) =>
      d.text.split('\n').filter((l) => /^(callbackd_info|callbackd_calls_in_progress)\{/.test(l)).map((l) => {
        const [, name, labels, value] = /^(\w+)\{(.*)\} (\S+)$/.exec(l)!;
        return { series: `${name}{job="callbackd",instance="${d.instance}",${labels}}`, values: `${value}x3` };
      }),
    );
    expect(series.filter((s) => s.series.startsWith('callbackd_info'))).toHaveLength(3);
    const file = join(tmp(), 'test.yml');
    writeFileSync(file, YAML.stringify({
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: series,
        promql_expr_test: [
          {
            expr: 'sum by (server) (callbackd_calls_in_progress * on (job, instance) group_left (server) callbackd_info)',
            eval_time: '2m',
            exp_samples: [{ labels: '{server="a"}', value: 2 }, { labels: '{server="b"}', value: 4 }],
          },
          {
            expr: 'count by (server) (callbackd_info)',
            eval_time: '2m',
            exp_samples: [{ labels: '{server="a"}', value: 1 }, { labels: '{server="b"}', value: 2 }],
          },
        ],
      }],
    }));
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
