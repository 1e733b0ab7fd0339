import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { upsertAgent, upsertPhone } from '../../src/store/directory.js';
import { lastPresenceWrite, readPresence, writePresence, type PresenceRow } from '../../src/store/presence.js';

const row = (endpoint: string, o: Partial<PresenceRow> = {}): PresenceRow => ({
  endpoint, registered: true, reachable: true, contactUri: `sip:${endpoint}@127.0.0.1:5061`, deviceState: 'NOT_INUSE', inUse: false, changedAt: 1000, writtenAt: 2000, serverId: 'default', ...o,
});
const written = ({ serverId: _s, ...r }: PresenceRow) => r;

describe('phone presence snapshot (store/presence)', () => {
  it('replaces the whole picture: booleans and nulls round-trip, phones gone from AMI disappear', async () => {
    const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-presence-')), 'db.sqlite'));
    await writePresence(db, [row('a'), row('b'), row('c', { registered: false, reachable: false, contactUri: null, deviceState: 'UNAVAILABLE' })].map(written));
    expect((await readPresence(db)).map((r) => r.endpoint)).toEqual(['a', 'b', 'c']);
    expect((await readPresence(db))[2]).toEqual(row('c', { registered: false, reachable: false, contactUri: null, deviceState: 'UNAVAILABLE' }));

    await writePresence(db, [row('b', { deviceState: 'INUSE', inUse: true, writtenAt: 3000 }), row('d', { writtenAt: 3000 })].map(written));
    expect(await readPresence(db)).toEqual([row('b', { deviceState: 'INUSE', inUse: true, writtenAt: 3000 }), row('d', { writtenAt: 3000 })]);
    expect(await lastPresenceWrite(db)).toBe(3000);

    await writePresence(db, []);
    expect(await readPresence(db)).toEqual([]);
    db.$client.close();
  });

  it('writes nothing when a row is refused (one transaction)', async () => {
    const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-presence-')), 'db.sqlite'));
    await writePresence(db, [row('a')].map(written));
    await expect((async () => writePresence(db, [row('x'), row('x')].map(written)))()).rejects.toThrow(/UNIQUE/);
    expect((await readPresence(db)).map((r) => r.endpoint)).toEqual(['a']);
    db.$client.close();
  });

  it('per server: each daemon replaces only its own rows and never writes another server\'s phone', async () => {
    const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-presence-')), 'db.sqlite'));
    await upsertAgent(db, { id: 'ag', name: 'Ag', updatedAt: 1 });
    await upsertPhone(db, { endpoint: 'pa', agentId: 'ag', serverId: 'default', updatedAt: 1 });
    await upsertPhone(db, { endpoint: 'pb', agentId: 'ag', serverId: 'b', updatedAt: 1 });
    // Both Asterisks know both endpoints (same sample config); each daemon tells only its own phone.
    await writePresence(db, [row('pa'), row('pb', { registered: false })].map(written), 'default');
    await writePresence(db, [row('pa', { registered: false }), row('pb'), row('carrier')].map(written), 'b');
    expect(await readPresence(db)).toEqual([row('carrier', { serverId: 'b' }), row('pa'), row('pb', { serverId: 'b' })]);
    // The default server's next picture leaves b's rows alone; a shared non-phone endpoint moves to its last writer.
    await writePresence(db, [row('carrier', { writtenAt: 5000 })].map(written), 'default');
    expect(await readPresence(db)).toEqual([row('carrier', { writtenAt: 5000 }), row('pb', { serverId: 'b' })]);
    db.$client.close();
  });
});
