import { describe, expect, it } from 'vitest';
import { decideDial, type CandidateAgent, type DialContext } from '../../src/domain/eligibility.js';
import { canPlaceOn, phoneOffServer, trunkOnServer } from '../../src/domain/server-placement.js';

// "Can this server place this callback with this agent": the agent's phone and a trunk of the number
// on the daemon's server (README "Running several servers").

const trunks = [
  { trunkId: 'carrier-b', serverId: 'b' },
  { trunkId: 'carrier-a', serverId: 'a' },
];

describe('server placement (domain/server-placement)', () => {
  it('a phone is usable only from its own server', () => {
    expect(phoneOffServer({ endpoint: 'p1', serverId: 'a' }, 'a')).toBeNull();
    expect(phoneOffServer({ endpoint: 'p1', serverId: 'a' }, 'b')).toBe('phone p1 is on server a, not b');
  });

  it("picks the number's trunk on the server; none there says where it goes out", () => {
    expect(trunkOnServer('+15550100001', trunks, 'a')).toEqual({ trunkId: 'carrier-a' });
    expect(trunkOnServer('+15550100001', trunks, 'b')).toEqual({ trunkId: 'carrier-b' });
    expect(trunkOnServer('+15550100001', trunks, 'c')).toEqual({ reason: 'number +15550100001 has no trunk on server c (it goes out on a, b)' });
    // Two trunks on one server: always the same one (the lower id).
    expect(trunkOnServer('+1', [{ trunkId: 'z', serverId: 'a' }, { trunkId: 'k', serverId: 'a' }], 'a')).toEqual({ trunkId: 'k' });
  });

  it('needs both: a phone of the agent and a trunk on the server', () => {
    const num = { e164: '+15550100001', trunks };
    const phones = [
      { endpoint: 'pa', serverId: 'a' },
      { endpoint: 'pb', serverId: 'b' },
    ];
    expect(canPlaceOn('a', phones, num)).toEqual({ ok: true, trunkId: 'carrier-a', phones: ['pa'] });
    expect(canPlaceOn('b', phones, num)).toEqual({ ok: true, trunkId: 'carrier-b', phones: ['pb'] });
    expect(canPlaceOn('a', [{ endpoint: 'pb', serverId: 'b' }], num)).toEqual({ ok: false, reason: 'no phone on server a (phones on b)' });
    expect(canPlaceOn('a', phones, { e164: '+1', trunks: [{ trunkId: 'carrier-b', serverId: 'b' }] })).toEqual({
      ok: false,
      reason: 'number +1 has no trunk on server a (it goes out on b)',
    });
  });
});

describe('decideDial on a server', () => {
  const agent = (agentId: string, endpoint: string, serverId: string): CandidateAgent => ({
    agentId, onCampaign: true, phones: [{ endpoint, activeAccount: true, status: 'ACTIVE', serverId }],
  });
  const ctx = (over: Partial<DialContext>): DialContext => ({
    type: 'ANYONE',
    ownerAgentId: null,
    customerNumber: '+15551230001',
    dncHit: false,
    outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 'carrier-a', trunks },
    agents: [agent('a1', 'pa1', 'a'), agent('b1', 'pb1', 'b')],
    presence: () => ({ registered: true, inUse: false, idleSince: 0 }),
    busyAgents: new Set(),
    ...over,
  });

  it("USERONLY: the owner's phone and the trunk of the daemon's server; elsewhere it waits with why", () => {
    const owner = { type: 'USERONLY' as const, ownerAgentId: 'b1' };
    expect(decideDial(ctx({ ...owner, serverId: 'b' }))).toEqual({ kind: 'dial', agentId: 'b1', endpoint: 'pb1', callerId: '+15550100001', trunkId: 'carrier-b' });
    expect(decideDial(ctx({ ...owner, serverId: 'a' }))).toEqual({ kind: 'wait', reason: 'waiting for owner b1: no phone on server a (phones on b)' });
  });

  it("ANYONE: each server picks only its own agents, through its own trunk", () => {
    expect(decideDial(ctx({ serverId: 'a' }))).toMatchObject({ kind: 'dial', agentId: 'a1', trunkId: 'carrier-a' });
    expect(decideDial(ctx({ serverId: 'b' }))).toMatchObject({ kind: 'dial', agentId: 'b1', trunkId: 'carrier-b' });
    // b's only agent busy: b waits, it never reaches for a's agent.
    expect(decideDial(ctx({ serverId: 'b', busyAgents: new Set(['b1']) }))).toMatchObject({ kind: 'wait' });
    // A number with no trunk on the server: the reason names the number, not the phones.
    const onlyA = { e164: '+15550100001', outboundEnabled: true, trunkId: 'carrier-a', trunks: [trunks[1]!] };
    expect(decideDial(ctx({ serverId: 'b', outboundNumber: onlyA }))).toEqual({
      kind: 'wait',
      reason: 'number +15550100001 has no trunk on server b (it goes out on a)',
    });
  });

  it('without a server (one Asterisk) nothing changes: the number\'s own trunk, every phone', () => {
    expect(decideDial(ctx({ type: 'USERONLY', ownerAgentId: 'b1' }))).toMatchObject({ kind: 'dial', endpoint: 'pb1', trunkId: 'carrier-a' });
  });
});
