import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { allCallbacks, allLeads, call, db, dbPath, everythingStillAnswers, fresh, json } from './hostile-fixture.js';

// Issue 12, one test per reproduction: the status a hostile client gets AND that nothing changed
// for anyone else (the other callbacks and leads as they were, every listing still 200).

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli.js');
const book = async (who: string, body: Record<string, unknown>) => {
  const r = await call(who, 'POST', '/callbacks', body);
  expect(r.status, r.body).toBe(201);
  return json(r).callback as { id: number; version: number };
};

beforeEach(fresh);

describe('item 1: due dates are bounded (max_days_ahead)', () => {
  it('+100000000d with forceDial is a 400 for a manager with or without lead-modify; nothing is written; every listing still answers', async () => {
    await book('mgr', { lead: 'n2', due: '+1h', type: 'ANYONE' });
    const before = allCallbacks();
    for (const who of ['mgr', 'viewer']) {
      const r = await call(who, 'POST', '/callbacks', { lead: 'n1', due: '+100000000d', forceDial: true });
      expect(r.status, r.body).toBe(400);
      expect(json(r)).toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/more than 10 years ahead/) });
    }
    expect(allCallbacks()).toEqual(before);
    await everythingStillAnswers();
  });

  it("beyond the campaign's max_days_ahead (default 365) is a 422 at book and edit; within it is booked; the campaign may lower it", async () => {
    const r = await call('mgr', 'POST', '/callbacks', { lead: 'n1', due: '+366d', forceDial: true });
    expect(r.status).toBe(422);
    expect(json(r)).toMatchObject({ code: 'RULE_DAYS_LIMIT', message: expect.stringMatching(/more than 365 day\(s\) ahead; campaign C1 takes callbacks up to .* \(max_days_ahead\)/) });
    const cb = await book('mgr', { lead: 'n1', due: '+364d', forceDial: true });
    const before = allCallbacks();
    const edit = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, due: '+400d' });
    expect(edit.status).toBe(422);
    expect(allCallbacks()).toEqual(before);
    // An admin sets 30 days for C1 through the directory (an import entry): 31 days ahead is refused.
    const put = await call('root', 'PUT', '/admin/campaigns/C1', { name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001', max_days_ahead: 30 });
    expect(put.status, put.body).toBe(200);
    expect((await call('mgr', 'POST', '/callbacks', { lead: 'n2', due: '+31d', forceDial: true })).status).toBe(422);
    expect((await call('mgr', 'POST', '/callbacks', { lead: 'n2', due: '+29d', forceDial: true })).status).toBe(201);
  });

  it('import refuses a max_days_ahead outside 1-3650 and other unbounded numbers', async () => {
    for (const bad of [{ max_days_ahead: 0 }, { max_days_ahead: 5000 }, { max_days_ahead: 1e308 }, { days_limit: 1e308 }, { retry_delays: { busy: 1e12 } }]) {
      const r = await call('root', 'PUT', '/admin/campaigns/C1', { name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001', ...bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    expect(db.$client.prepare("SELECT max_days_ahead m FROM campaigns WHERE id = 'C1'").get()).toEqual({ m: 365 });
  });

  it("a row already out of range in an old database is shown and flagged, can be cancelled, and breaks no listing (API or CLI)", async () => {
    const far = await book('mgr', { lead: 'n1', due: '+1h' });
    const beyondDate = await book('mgr', { lead: 'n2', due: '+1h' });
    const fine = await book('mgr', { lead: 'n3', due: '+1h' });
    // As the bug left them: beyond what a Date holds, and in year 192159.
    db.$client.prepare('UPDATE callbacks SET due_at = ? WHERE id = ?').run(8.64e15 + 86_400_000 * 1e5, beyondDate.id);
    db.$client.prepare('UPDATE callbacks SET due_at = ? WHERE id = ?').run(6e15, far.id);
    await everythingStillAnswers();
    const shown = json(await call('mgr', 'GET', `/callbacks/${beyondDate.id}`)).callback;
    expect(shown).toMatchObject({ dueOutOfRange: true, dueAt: expect.stringMatching(/^out of range \(/), earliestDialableAt: null, earliestDialableWhy: expect.stringMatching(/out of range/) });
    expect(json(await call('mgr', 'GET', `/callbacks/${far.id}`)).callback).toMatchObject({ dueOutOfRange: true, dueAt: '+192102-06-07T10:40:00.000Z' });
    expect(json(await call('mgr', 'GET', `/callbacks/${fine.id}`)).callback.dueOutOfRange).toBe(false);
    const search = await call('a1', 'GET', '/callbacks/search?phone=%2B12125550102');
    expect(search.status).toBe(200);
    if (!existsSync(CLI)) throw new Error('run npm run build first (the test runs dist/src/cli.js)');
    const listed = spawnSync(process.execPath, [CLI, 'callback', 'list', '--db', dbPath, '--json'], { encoding: 'utf8', env: { ...process.env, CALLBACKD_TOKEN: '' } });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('out of range');
    expect((await call('mgr', 'POST', `/callbacks/${beyondDate.id}/cancel`, {})).status).toBe(200);
    expect((await call('mgr', 'POST', '/callbacks/bulk', { action: 'cancel', ids: [far.id] })).status).toBe(200);
    expect(json(await call('mgr', 'GET', `/callbacks/${fine.id}`)).callback.state).toBe('ACTIVE');
    expect(allLeads()).toHaveLength(4);
  });
});
