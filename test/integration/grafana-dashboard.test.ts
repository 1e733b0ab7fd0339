import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerGauges, registry } from '../../src/metrics.js';
import { openDb } from '../../src/store/db.js';

// docs/grafana/callbackd.json: every query is PromQL that Prometheus' own checker accepts, and asks
// only for series the daemon's /metrics (or Prometheus itself: `up`) really has.

type Panel = { title: string; datasource: { uid: string }; targets: { expr: string }[]; gridPos: { x: number; y: number; w: number; h: number } };
const dash = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../docs/grafana/callbackd.json'), 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };
const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
// Grafana's variables, as Grafana would fill them in.
const concrete = (e: string) => e.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*').replaceAll('$instance', '.*');

describe('Grafana dashboard', () => {
  it('has panels on the chosen Prometheus, none overlapping', () => {
    expect(dash.panels.length).toBeGreaterThan(8);
    expect(dash.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'instance']);
    for (const p of dash.panels) expect(p.datasource.uid, p.title).toBe('${datasource}');
    const cells = new Set<string>();
    for (const p of dash.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only series that /metrics exposes', async () => {
    registerGauges({ db: openDb(join(mkdtempSync(join(tmpdir(), 'cbd-graf-')), 'db.sqlite')), trunksInUse: () => new Map(), links: () => ({ ari: { connected: true, reconnects: 0 }, ami: { connected: true, reconnects: 0 } }) });
    // Declared families (a labelled counter has no sample before its first event); a histogram's
    // series are its _bucket, _sum and _count.
    const exposed = new Set(
      [...(await registry.metrics()).matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name!])),
    );
    const used = new Set(exprs.flatMap((e) => e.match(/\b(callbackd|process|nodejs)_\w+/g) ?? []));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
  });

  it('passes `promtool check rules` (every expression is valid PromQL)', (ctx) => {
    if (spawnSync('promtool', ['--version']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('promtool not installed (Debian package prometheus; .ci/run installs it)');
      console.warn('SKIPPED: promtool not installed (apt-get install prometheus)');
      ctx.skip();
    }
    const rules = ['groups:', '  - name: dashboard', '    rules:', ...exprs.flatMap((e, i) => [`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(concrete(e))}`])];
    const file = join(mkdtempSync(join(tmpdir(), 'cbd-graf-')), 'rules.yml');
    writeFileSync(file, rules.join('\n') + '\n');
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
    expect(r.status).toBe(0);
  });
});
