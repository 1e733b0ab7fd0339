import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { lastPresenceWrite, readPresence, writePresence, type PresenceRow } from '../../src/store/presence.js';

const row = (endpoint: string, o: Partial<PresenceRow> = {}): PresenceRow => ({
  endpoint, registered: true, reachable: true, contactUri: `sip:${endpoint}@127.0.0.1:5061`, deviceState: 'NOT_INUSE', inUse: false, changedAt: 1000, writtenAt: 2000, ...o,
});

describe('phone presence snapshot (store/presence)', () => {
  it('replaces the whole picture: booleans and nulls round-trip, phones gone from AMI disappear', () => {
    const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-presence-')), 'db.sqlite'));
    writePresence(db, [row('a'), row('b'), row('c', { registered: false, reachable: false, contactUri: null, deviceState: 'UNAVAILABLE' })]);
    expect(readPresence(db).map((r) => r.endpoint)).toEqual(['a', 'b', 'c']);
    expect(readPresence(db)[2]).toEqual(row('c', { registered: false, reachable: false, contactUri: null, deviceState: 'UNAVAILABLE' }));

    writePresence(db, [row('b', { deviceState: 'INUSE', inUse: true, writtenAt: 3000 }), row('d', { writtenAt: 3000 })]);
    expect(readPresence(db)).toEqual([row('b', { deviceState: 'INUSE', inUse: true, writtenAt: 3000 }), row('d', { writtenAt: 3000 })]);
    expect(lastPresenceWrite(db)).toBe(3000);

    writePresence(db, []);
    expect(readPresence(db)).toEqual([]);
    db.$client.close();
  });

  it('writes nothing when a row is refused (one transaction)', () => {
    const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-presence-')), 'db.sqlite'));
    writePresence(db, [row('a')]);
    expect(() => writePresence(db, [row('x'), row('x')])).toThrow(/UNIQUE/);
    expect(readPresence(db).map((r) => r.endpoint)).toEqual(['a']);
    db.$client.close();
  });
});
