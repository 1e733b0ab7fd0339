// The CLI on PostgreSQL (issue 16): --db postgres://…, -c with database.url and $CALLBACKD_DATABASE_URL name
// a real cluster (test/lab/postgres.ts); migrate, import, callback add/list/show/edit, agents, tokens and
// report and import-leads (CSV) run on it as on SQLite; backup refuses it in one line; `migrate --from
// sqlite:FILE --to postgres://…` moves a SQLite center. The password is never printed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTarget } from '../../src/cli/shared.js';
import { getCallback } from '../../src/store/callbacks.js';
import { numbersOfLead } from '../../src/store/lead-phones.js';
import { openEngine } from '../../src/store/open-engine.js';
import { inCi, pgForSuite, type PgLab } from '../lab/postgres.js';
import { runCli } from './cli-run.js';

const start = pgForSuite();
let lab: PgLab;
const dir = mkdtempSync(join(tmpdir(), 'cbd-cli-pg-'));
const EXAMPLE = join(process.cwd(), 'examples/callcenter.yaml');

beforeAll(() => {
  if (!start.ok) return;
  lab = start.lab;
});
afterAll(() => {
  if (start.ok) start.lab.stop();
});

describe('which database a command means (dbTarget)', () => {
  it('--db, then $CALLBACKD_DB, then -c (database.url, $CALLBACKD_DATABASE_URL over a path), then $CALLBACKD_DATABASE_URL, else ./callbackd.db', () => {
    const cfg = (o: object) => {
      const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, JSON.stringify(o));
      return f;
    };
    const url = 'postgres://cb:s3cret@db1:5433/center';
    expect(dbTarget({ db: url }, {})).toEqual({ engine: 'pg', url, where: 'postgres db1:5433/center', from: '--db' });
    expect(dbTarget({ db: 'x.db' }, { CALLBACKD_DATABASE_URL: url })).toMatchObject({ engine: 'sqlite', path: 'x.db' });
    expect(dbTarget({}, { CALLBACKD_DB: url })).toMatchObject({ engine: 'pg', from: '$CALLBACKD_DB' });
    expect(dbTarget({ config: cfg({ database: { url } }) }, {})).toMatchObject({ engine: 'pg', where: 'postgres db1:5433/center' });
    expect(dbTarget({ config: cfg({ database: { path: 'y.db' } }) }, { CALLBACKD_DATABASE_URL: url })).toMatchObject({ engine: 'pg', from: '$CALLBACKD_DATABASE_URL' });
    expect(dbTarget({ config: cfg({ database: { path: 'y.db' } }) }, {})).toMatchObject({ engine: 'sqlite', path: 'y.db' });
    expect(dbTarget({}, { CALLBACKD_DATABASE_URL: url })).toMatchObject({ engine: 'pg' });
    expect(dbTarget({}, {})).toMatchObject({ engine: 'sqlite', path: './callbackd.db' });
    expect(JSON.stringify(dbTarget({ db: url }, {}).from)).not.toContain('s3cret');
    expect(() => dbTarget({ db: 'postgres://[bad' }, {})).toThrow(/--db: not a valid PostgreSQL URL/);
  });
});

describe.skipIf(!start.ok && !inCi)('the CLI on a real PostgreSQL', () => {
  let url = '';
  const password = () => decodeURIComponent(new URL(url).password);
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(args, env);
    expect(r.stdout + r.stderr, 'no password printed').not.toContain(password());
    return r;
  };

  beforeAll(async () => {
    if (!start.ok) throw new Error(`PostgreSQL could not start: ${start.reason}`);
    url = await lab.createDatabase();
  });

  it('migrate, import, callback add/list/show/edit, agents, token, report: the same commands as on SQLite', async () => {
    const m = await cli(['migrate', '--db', url]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^database postgres 127\.0\.0\.1:\d+\/t_[0-9a-f]+ is up to date$/m);
    const imp = await cli(['import', EXAMPLE, '--db', url]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/imported .*callcenter\.yaml: .*1 leads/);
    const people = join(dir, 'people.yaml');
    writeFileSync(people, 'users:\n  - { id: mgr, role: manager }\n');
    expect((await cli(['import', people, '--db', url])).code).toBe(0);

    const add = await cli(['callback', 'add', '--db', url, '--json', '--lead', 'L-0001', '--due', '+2h', '--owner', '1001']);
    expect(add.code, add.stderr).toBe(0);
    const id = JSON.parse(add.stdout).id as number;
    const list = await cli(['callback', 'list', '--json'], { CALLBACKD_DATABASE_URL: url });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: number; lead: string }[]).map((c) => [c.id, c.lead])).toEqual([[id, 'L-0001']]);
    const cfg = join(dir, 'callbackd.yaml');
    writeFileSync(cfg, `database:\n  url: ${url}\n`);
    const show = await cli(['callback', 'show', String(id), '-c', cfg]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`callback ${id}: \\w+ USERONLY lead L-0001`));
    const edit = await cli(['callback', 'edit', String(id), '--notes', 'on postgres', '--db', url, '--json']);
    expect(edit.code, edit.stderr).toBe(0);
    const engine = await openEngine({ url }, { migrate: false }, {});
    try {
      expect((await getCallback(engine, id))?.notes).toBe('on postgres');
    } finally {
      await engine.close();
    }

    const agents = await cli(['agents', '--db', url, '--json']);
    expect(agents.code, agents.stderr).toBe(0);
    expect((JSON.parse(agents.stdout) as { phones: { endpoint: string }[] }).phones.map((p) => p.endpoint)).toEqual(['agent1001', 'agent1002']);
    const tok = await cli(['token', 'create', '--user', 'mgr', '--db', url]);
    expect(tok.code, tok.stderr).toBe(0);
    const tokens = await cli(['token', 'list', '--db', url, '--json']);
    expect((JSON.parse(tokens.stdout) as { user: string }[]).map((t) => t.user)).toEqual(['mgr']);
    const report = await cli(['report', '--db', url, '--json', '--to', new Date(Date.now() + 86_400_000).toISOString()]);
    expect(report.code, report.stderr).toBe(0);
    expect((JSON.parse(report.stdout) as { items: { booked: number }[] }).items.reduce((n, r) => n + r.booked, 0)).toBe(1);
  });

  it('import-leads loads a CSV (created, updated, a bad row refused) and its leads are there to book', async () => {
    const csv = join(dir, 'leads.csv');
    writeFileSync(csv, 'id,first_name,phone,phone2\nX1,Xena,+15551230099,(555) 123-0098\nL-0001,Renamed,+15551230097,\n');
    const leads = await cli(['import-leads', csv, '--list', 'SALES-NOV', '--json'], { CALLBACKD_DATABASE_URL: url });
    expect(leads.code, leads.stderr).toBe(0);
    expect(JSON.parse(leads.stdout)).toMatchObject({ rows: 2, created: 1, updated: 1, skipped: 0 });
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'id,phone\nX2,+15551230096\nX3,555\n');
    const refused = await cli(['import-leads', bad, '--list', 'SALES-NOV', '--db', url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('1 of 2 row(s) have problems, nothing imported');
    const engine = await openEngine({ url }, { migrate: false }, {});
    try {
      const l = engine.t.leads;
      expect((await engine.q.select({ id: l.id, firstName: l.firstName, phone: l.phoneE164 }).from(l).orderBy(l.id))).toEqual([
        { id: 'L-0001', firstName: 'Renamed', phone: '+15551230097' },
        { id: 'X1', firstName: 'Xena', phone: '+15551230099' },
      ]);
      expect((await numbersOfLead(engine, { id: 'X1', phoneE164: '+15551230099' })).map((p) => p.e164)).toEqual(['+15551230099', '+15551230098']);
    } finally {
      await engine.close();
    }
    const add = await cli(['callback', 'add', '--db', url, '--json', '--lead', 'X1', '--due', '+3h', '--owner', '1001']);
    expect(add.code, add.stderr).toBe(0);
    const list = await cli(['callback', 'list', '--db', url, '--json']);
    expect((JSON.parse(list.stdout) as { lead: string }[]).map((c) => c.lead)).toContain('X1');
  });

  it('backup refuses PostgreSQL in one line; a server that does not answer is one line naming host:port/db', async () => {
    const backup = await cli(['backup', join(dir, 'b.db'), '--db', url]);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toMatch(/--db names PostgreSQL \(postgres 127\.0\.0\.1:\d+\/t_\w+\): backup \(SQLite online backup\) works on a SQLite database only; back PostgreSQL up with pg_dump/);
    const down = new URL(url);
    down.port = '1';
    const gone = await cli(['callback', 'list', '--db', down.toString()]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^callbackd: --db: cannot open the PostgreSQL database postgres 127\.0\.0\.1:1\/t_\w+: /);
  });

  it('migrate --from sqlite:FILE --to postgres://… moves a SQLite center (db copy), every table the same', async () => {
    const file = join(dir, 'center.db');
    expect((await cli(['import', EXAMPLE, '--db', file])).code).toBe(0);
    expect((await cli(['callback', 'add', '--db', file, '--lead', 'L-0001', '--due', '+1h', '--owner', '1001'])).code).toBe(0);
    const target = await lab.createDatabase();
    const moved = await cli(['migrate', '--from', `sqlite:${file}`, '--to', target]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/copied: \d+ tables, \d+ rows, every count and content hash the same/);
    const list = await cli(['callback', 'list', '--db', target, '--json']);
    expect((JSON.parse(list.stdout) as { lead: string }[]).map((c) => c.lead)).toEqual(['L-0001']);
    const mixed = await cli(['migrate', '--from', `sqlite:${file}`, '--db', target]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--from moves a database into --to/);
  });
});
