import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { AriClient } from '../../src/asterisk/ari.js';
import type { Presence } from '../../src/asterisk/presence.js';
import { TrunkLimiter } from '../../src/dialer/trunk-limits.js';
import { applyImport, parseImport } from '../../src/import.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { FakeAri, FakePresence, until } from './fakes.js';

// The database misbehaving under the scheduler: another writer holding the lock past the busy
// timeout, and the disk filling up. The daemon says why, does not crash, places no call it cannot
// record, and carries on when the fault goes away; integrity_check is ok afterwards.

const FILE = {
  trunks: [{ id: 'carrier' }], numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' }], lists: [{ id: 'L', campaign: 'C' }],
  agents: [{ id: 'a1', name: 'A', campaigns: ['C'] }], phones: [{ endpoint: 'p1', agent: 'a1' }], leads: [{ id: 'l1', list: 'L', phone: '+15551230001' }],
};
const cleanup: (() => void)[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s(); // schedulers first, then the files under them
  cleanup.splice(0).reverse().forEach((f) => f());
});

function scheduler(db: Db, ari: FakeAri, lines: string[]): Scheduler {
  const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
  const s = new Scheduler({
    db, ari: ari as unknown as AriClient, presence: new FakePresence() as unknown as Presence, limiter: new TrunkLimiter(), log,
    owner: 't', leaseMs: 60_000, backstopPollMs: 60_000, externalWriteCheckMs: 50, agentRetryDelayMs: 60_000,
  });
  s.start();
  ari.emit('connected');
  stops.push(() => s.stop(0));
  return s;
}
const due = async (db: Db) => await store.insertCallback(db, { leadId: 'l1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());

describe('storage faults', () => {
  it('another writer holding the database past the busy timeout: the tick fails with the reason, then the call is placed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cbd-busy-')), 'db.sqlite');
    const db = openDb(file);
    db.$client.pragma('busy_timeout = 300'); // the daemon's is 5 s; shortened so the test is quick
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), Date.now());
    const other = openDb(file);
    other.$client.exec('BEGIN EXCLUSIVE');
    const lines: string[] = [];
    const ari = new FakeAri();
    const s = scheduler(db, ari, lines);
    const id = await due(other); // written inside the other writer's transaction: not committed yet
    await new Promise((r) => setTimeout(r, 100));
    s.nudge();
    await until('the tick to fail and say why', () => lines.some((l) => /scheduler tick failed; retrying/.test(l) && /database is locked/.test(l)), 3000);
    expect(ari.originates).toHaveLength(0);
    other.$client.exec('COMMIT');
    await until('the call to be placed once the lock is gone', () => ari.originates.length === 1, 5000);
    expect((await store.getCallback(db, id))!.state).toBe('DIALING');
    expect(db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('the disk filling up: nothing is claimed or dialed, the log says the disk is full, and it carries on after', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'cbd-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    } catch (err) {
      if (process.env.CI === 'true') throw err;
      console.warn(`disk-full test skipped: cannot mount a tmpfs (${(err as Error).message})`);
      return;
    }
    cleanup.push(() => execFileSync('umount', ['-l', mnt]));
    mkdirSync(join(mnt, 'db'));
    const db = openDb(join(mnt, 'db', 'db.sqlite'));
    cleanup.push(() => db.$client.close());
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), Date.now());
    const id = await due(db);
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    // Fill every free byte of the disk.
    const filler = join(mnt, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
    } catch {
      /* ENOSPC: the disk is now full, which is the point */
    }
    const lines: string[] = [];
    const ari = new FakeAri();
    scheduler(db, ari, lines);
    await until('the tick to fail and say why', () => lines.some((l) => /scheduler tick failed; retrying/.test(l) && /full/i.test(l)), 3000);
    expect(ari.originates).toHaveLength(0);
    expect((await store.getCallback(db, id))!.state).not.toBe('DIALING');
    rmSync(filler);
    await until('the call to be placed once there is room', () => ari.originates.length === 1, 5000);
    expect(db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
