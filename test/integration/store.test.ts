import { getTableColumns, getTableName } from 'drizzle-orm';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../../src/config.js';
import { applyImport, parseImport } from '../../src/import.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import * as schema from '../../src/store/schema.js';

const FILE = {
  trunks: [{ id: 'carrier', max_channels: 2 }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'America/New_York', outbound_number: '+15550100001' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [{ id: 'a1', name: 'A', campaigns: ['C'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads: [{ id: 'lead1', list: 'L', phone: '+15551230001' }],
};

let db: Db;
const T0 = Date.parse('2026-11-22T12:00:00Z');
beforeEach(async () => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-int-')), 'db.sqlite'));
  await applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), T0);
});

const newCb = async (dueAt = T0) =>
  await store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt, dueZone: 'America/New_York', maxAttempts: 3, notes: null }, T0);
describe('schema', () => {
  it('drizzle schema columns all exist in the migrated database', () => {
    const tables = Object.values(schema).filter((t) => typeof t === 'object' && t !== null && Symbol.for('drizzle:Name') in (t as object));
    expect(tables.length).toBeGreaterThan(8);
    for (const t of tables) {
      const name = getTableName(t as never);
      const cols = (db.$client.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
      for (const c of Object.values(getTableColumns(t as never)) as { name: string }[]) expect(cols, `${name}.${c.name}`).toContain(c.name);
    }
    expect(db.$client.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});

describe('what status reports', () => {
  it('counts callbacks whose moment has come, and those over a minute late', async () => {
    const { countDue } = await import('../../src/store/callback-list.js');
    await newCb(T0 - 120_000); // ACTIVE, two minutes past due: late
    await newCb(T0 - 1000); // ACTIVE, just due
    await newCb(T0 + 1000); // not yet
    const waiting = await newCb(T0 - 600_000);
    await store.promoteDue(db, T0 - 600_000);
    await store.deferLive(db, waiting, T0 + 60_000, 'outside calling hours', T0); // LIVE, its next attempt is later
    expect(await countDue(db, T0, 60_000)).toEqual({ dueNow: 2, late: 1 });
  });
});

// The scheduler's store operations (promote, claim, lease, recovery, failLive) are tested on both engines
// in test/integration/store/callbacks.test.ts.

describe('import', () => {
  it('names the entry and field of every problem, and writes nothing', async () => {
    const bad = structuredClone(FILE) as typeof FILE & { leads: Record<string, unknown>[] };
    bad.leads.push({ id: 'L7', list: 'L', phone: '555-1234' }, { id: 'L8', list: 'NOPE', phone: '+15551230008' });
    await expect(applyImport(db, parseImport(YAML.stringify(bad), 'f.yaml'), T0)).rejects.toThrow(
      /leads\[1\] \(L7\)\.phone: "555-1234" is not a phone number \(give E\.164 like \+15551230001, or a national number of region US\)/,
    );
    const refs = structuredClone(FILE) as typeof FILE;
    refs.leads.push({ id: 'L8', list: 'NOPE', phone: '+15551230008' });
    refs.phones.push({ endpoint: 'x', agent: 'ghost' });
    const before = db.$client.prepare('SELECT count(*) n FROM leads').get();
    let msg = '';
    try {
      await applyImport(db, parseImport(YAML.stringify(refs), 'f'), T0);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/2 problem\(s\), nothing imported/);
    expect(msg).toMatch(/leads\[1\] \(L8\)\.list: no list "NOPE"/);
    expect(msg).toMatch(/phones\[1\] \(x\)\.agent: no agent "ghost"/);
    expect(db.$client.prepare('SELECT count(*) n FROM leads').get()).toEqual(before);
  });
  it('numbers in national format are stored in E.164, so DNC matches whatever format was typed', async () => {
    const f = structuredClone(FILE) as typeof FILE & { dnc: { number: string; campaign?: string }[] };
    f.leads.push({ id: 'L9', list: 'L', phone: '(555) 123-0009' });
    f.dnc = [{ number: '555.123.0009' }, { number: '+44 20 7946 0018', campaign: 'C' }];
    await applyImport(db, parseImport(YAML.stringify(f), 'f'), T0);
    expect(db.$client.prepare("SELECT phone_e164 FROM leads WHERE id = 'L9'").get()).toEqual({ phone_e164: '+15551230009' });
    expect(db.$client.prepare('SELECT phone_e164, campaign_id FROM dnc ORDER BY 1').all()).toEqual([
      { phone_e164: '+15551230009', campaign_id: '' },
      { phone_e164: '+442079460018', campaign_id: 'C' },
    ]);
  });

  it('unknown fields and zones are refused; re-import is idempotent', async () => {
    expect(() => parseImport('campaigns: [{id: X, name: X, time_zone: Mars/Base}]', 'f')).toThrow(/campaigns\[0\] \(X\)\.time_zone: must be an IANA time zone/);
    expect(() => parseImport('trunks: [{id: t, max_chanels: 3}]', 'f')).toThrow(/Unrecognized key/);
    const count = () => db.$client.prepare('SELECT (SELECT count(*) FROM leads) + (SELECT count(*) FROM agent_campaigns) n').get();
    const c1 = count();
    await applyImport(db, parseImport(YAML.stringify(FILE), 'again'), T0);
    expect(count()).toEqual(c1);
  });
});

describe('config', () => {
  it('names the setting that is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-cfg-'));
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'ari: { url: not-a-url }\nami: { port: 99999 }\nbogus: 1\n');
    let msg = '';
    try {
      loadConfig(f, {});
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/ari\.url: must be an http:\/\/ or https:\/\/ URL like http:\/\/127\.0\.0\.1:8088/);
    expect(msg).toMatch(/ari\.password: /);
    expect(msg).toMatch(/ami\.port: /);
    expect(msg).toMatch(/Unrecognized key.*bogus/);
  });
  it('takes secrets from the environment and fills defaults', () => {
    const c = loadConfig(undefined, { CALLBACKD_ARI_PASSWORD: 'x', CALLBACKD_AMI_SECRET: 'y' });
    expect(c.ari).toMatchObject({ password: 'x', url: 'http://127.0.0.1:8088', app: 'callbackd' });
    expect(c.ami.secret).toBe('y');
    expect(c.scheduler.leaseMs).toBe(120000);
  });
});

describe('storage and config safety', () => {
  it('backup makes a consistent copy while another connection writes', async () => {
    const { runCli } = await import('./cli-run.js');
    for (let i = 0; i < 200; i++) await newCb(T0 + i);
    const file = (db.$client as unknown as { name: string }).name;
    const out = join(mkdtempSync(join(tmpdir(), 'cbd-bak-')), 'copy.db');
    const writer = setInterval(() => void newCb(T0), 1);
    const r = await runCli(['backup', out, '--db', file]);
    clearInterval(writer);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/integrity_check ok/);
    const copy = openDb(out, { migrate: false, readonly: true });
    expect((copy.$client.prepare('SELECT count(*) n FROM callbacks').get() as { n: number }).n).toBeGreaterThanOrEqual(200);
    copy.$client.close();
    expect((await runCli(['backup', out, '--db', file])).stderr).toMatch(/exists; give a new file name/);
  });

  it('warns when a config file with secrets is readable by everyone', async () => {
    const { chmodSync } = await import('node:fs');
    const { looseSecretsWarning } = await import('../../src/config.js');
    const f = join(mkdtempSync(join(tmpdir(), 'cbd-cfg-')), 'c.yaml');
    writeFileSync(f, 'ari: { password: x }\n');
    chmodSync(f, 0o644);
    expect(looseSecretsWarning(f)).toMatch(/readable by every user \(mode 644\); chmod 600 it/);
    chmodSync(f, 0o600);
    expect(looseSecretsWarning(f)).toBeNull();
  });
});
