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

describe("item 2: a booking replaces another's callback only if the booker may edit it", () => {
  it("an agent, or a manager without lead-modify, gets 409 naming no id; the other agent's callback stays ACTIVE", async () => {
    const theirs = await book('mgr', { lead: 'n1', due: '+2h', owner: 'a2', type: 'USERONLY' });
    const before = allCallbacks();
    for (const who of ['a1', 'viewer']) {
      const r = await call(who, 'POST', '/callbacks', { lead: 'n1', due: '+1h', type: 'ANYONE' });
      expect(r.status, `${who}: ${r.body}`).toBe(409);
      expect(json(r)).toMatchObject({ code: 'CONFLICT', message: 'this lead already has an open callback in campaign C1 that you may not change; ask a manager to change or cancel it' });
      expect(json(r).details ?? null).toBeNull(); // the exact message above names no id, nor do the details
    }
    expect(allCallbacks()).toEqual(before);
    expect(allLeads()).toHaveLength(4);
    await everythingStillAnswers();
  });

  it('a manager with lead-modify replaces it; the audit trail names who replaced what; an agent may re-book their own', async () => {
    const theirs = await book('mgr', { lead: 'n1', due: '+2h', owner: 'a2', type: 'USERONLY' });
    const r = await call('mgr', 'POST', '/callbacks', { lead: 'n1', due: '+1h', type: 'ANYONE' });
    expect(r.status).toBe(201);
    expect(json(r).replaced).toBe(theirs.id);
    const old = json(await call('root', 'GET', `/callbacks/${theirs.id}`));
    expect(old.callback).toMatchObject({ state: 'CANCELLED', replacedBy: json(r).callback.id });
    expect(old.audit.map((a: { actor: string; action: string }) => `${a.actor}:${a.action}`)).toEqual(['mgr:create', 'mgr:replace']);
    const own = await book('a1', { lead: 'n2', due: '+1h', type: 'USERONLY' });
    const again = await call('a1', 'POST', '/callbacks', { lead: 'n2', due: '+3h', type: 'USERONLY' });
    expect(again.status, again.body).toBe(201);
    expect(json(again).replaced).toBe(own.id);
  });
});

describe('low items: attempts capped, owners from the campaign', () => {
  it("maxAttempts above the campaign's max_attempts is capped at it, with a notice", async () => {
    const r = await call('a1', 'POST', '/callbacks', { lead: 'n1', due: '+1h', maxAttempts: 100 });
    expect(r.status).toBe(201);
    expect(json(r).callback.maxAttempts).toBe(3);
    expect(json(r).notices).toContain("maxAttempts 100 capped at campaign C1's max_attempts 3");
  });

  it('an owner outside the campaign is refused at book and edit while allow_unassigned_agents is off; allowed once it is on', async () => {
    const r = await call('mgr', 'POST', '/callbacks', { lead: 'n1', due: '+1h', owner: 'a3', type: 'USERONLY' });
    expect(r.status).toBe(422);
    expect(json(r).message).toMatch(/agent a3 is not on campaign C1, which does not allow unassigned agents/);
    const cb = await book('mgr', { lead: 'n1', due: '+1h', owner: 'a2', type: 'USERONLY' });
    const before = allCallbacks();
    const moved = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, owner: 'a3' });
    expect(moved.status).toBe(422);
    expect(allCallbacks()).toEqual(before);
    expect((await call('root', 'PUT', '/admin/campaigns/C1', { name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001', allow_unassigned_agents: true })).status).toBe(200);
    expect((await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, owner: 'a3' })).status).toBe(200);
  });
});

describe('low items: existence, slow clients, text', () => {
  it('admin routes check the role before the body: a non-admin gets 403 for a valid and an invalid body alike; agents get 403 on any id', async () => {
    for (const who of ['mgr', 'a1']) {
      for (const body of [{ max_channels: 3 }, { max_channels: 'nonsense', stray: 1 }]) {
        const r = await call(who, 'PUT', '/admin/trunks/t9', body);
        expect(r.status, r.body).toBe(403);
        expect(json(r).message).toBe('admin only');
      }
    }
    const mine = await book('mgr', { lead: 'n1', due: '+1h', type: 'ANYONE' });
    for (const id of [mine.id, 99999]) {
      const r = await call('a1', 'POST', `/callbacks/${id}/cancel`, {});
      expect(r.status).toBe(403); // there or not, the same answer
      expect((await call('viewer', 'PATCH', `/callbacks/${id}`, { version: 1, notes: 'x' })).status).toBe(403);
    }
    // A manager who may edit: the other campaign's callback and a missing one are the same 404.
    const london = await book('root', { lead: 'u1', due: '+1h', type: 'ANYONE' });
    const a = await call('mgr', 'POST', `/callbacks/${london.id}/cancel`, {});
    const b = await call('mgr', 'POST', '/callbacks/99999/cancel', {});
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(json(a).message.replace(String(london.id), 'N')).toBe(json(b).message.replace('99999', 'N'));
    expect(json(await call('root', 'GET', `/callbacks/${london.id}`)).callback.state).toBe('ACTIVE');
  });

  it('notes and reasons: NUL is removed and a lone surrogate becomes U+FFFD before anything is stored', async () => {
    const cb = await book('mgr', { lead: 'n1', due: '+1h', notes: 'a\u0000b\uD800c' });
    expect(db.$client.prepare('SELECT notes FROM callbacks WHERE id = ?').get(cb.id)).toEqual({ notes: 'ab\uFFFDc' });
    const r = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, notes: '\uDC00\u0000' });
    expect(r.status).toBe(200);
    expect(json(r).notes).toBe('\uFFFD');
  });
});
