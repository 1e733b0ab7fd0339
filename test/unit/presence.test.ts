import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AmiClient, AmiMessage } from '../../src/asterisk/ami.js';
import { Presence } from '../../src/asterisk/presence.js';

// Presence against a fake of our own AMI adapter, fed the events Asterisk 22 sends.
class FakeAmi extends EventEmitter {
  filtered: string[] = [];
  refuseFilter = false;
  constructor(private readonly snapshot: { contacts: AmiMessage[]; devices: AmiMessage[] }) {
    super();
  }
  async onlyEvents(names: readonly string[]): Promise<void> {
    if (this.refuseFilter) throw new Error('AMI Filter: Permission denied');
    this.filtered.push(...names);
  }
  async list(a: { Action: string }): Promise<AmiMessage[]> {
    return a.Action === 'PJSIPShowContacts' ? this.snapshot.contacts : this.snapshot.devices;
  }
}

describe('presence', () => {
  it('a qualified phone that turns Unreachable is not usable until it is Reachable again', async () => {
    const ami = new FakeAmi({
      contacts: [{ Event: 'ContactList', Endpoint: 'agent1001', Uri: 'sip:agent1001@10.0.0.5:5060', Status: 'Reachable' } as AmiMessage],
      devices: [{ Event: 'DeviceStateChange', Device: 'PJSIP/agent1001', State: 'NOT_INUSE' } as AmiMessage],
    });
    const p = new Presence(ami as unknown as AmiClient, pino({ level: 'silent' }));
    ami.emit('connected');
    await new Promise((r) => setTimeout(r, 10));
    expect(p.of('agent1001')).toMatchObject({ registered: true, inUse: false });
    ami.emit('event', { Event: 'ContactStatus', EndpointName: 'agent1001', ContactStatus: 'Unreachable' });
    expect(p.of('agent1001')!.registered).toBe(false);
    ami.emit('event', { Event: 'ContactStatus', EndpointName: 'agent1001', ContactStatus: 'Reachable', URI: 'sip:agent1001@10.0.0.5:5060' });
    expect(p.of('agent1001')!.registered).toBe(true);
    ami.emit('event', { Event: 'DeviceStateChange', Device: 'PJSIP/agent1001', State: 'INUSE' });
    expect(p.of('agent1001')!.inUse).toBe(true);
    ami.emit('event', { Event: 'ContactStatus', EndpointName: 'agent1001', ContactStatus: 'Removed' });
    expect(p.of('agent1001')!.registered).toBe(false);
    ami.emit('disconnected');
    expect(p.of('agent1001')).toBeUndefined(); // nothing is trusted until the next snapshot
  });

  it('a snapshot refused while Asterisk is still loading modules is retried while connected', async () => {
    const ami = new FakeAmi({ contacts: [{ Event: 'ContactList', Endpoint: 'agent1001', Status: 'Reachable' } as AmiMessage], devices: [] });
    let fail = 2;
    const list = ami.list.bind(ami);
    ami.list = async (a) => {
      if (a.Action === 'DeviceStateList' && fail-- > 0) throw new Error('AMI DeviceStateList: Invalid/unknown command');
      return list(a);
    };
    (ami as unknown as { connected: boolean }).connected = true;
    const p = new Presence(ami as unknown as AmiClient, pino({ level: 'silent' }));
    ami.emit('connected');
    await new Promise((r) => setTimeout(r, 50));
    expect(p.ready).toBe(false);
    await new Promise((r) => setTimeout(r, 900)); // retries after 250 ms, then 500 ms
    expect(p.ready).toBe(true);
    expect(p.of('agent1001')!.registered).toBe(true);
  });

  it('asks AMI for the two events it reads, and takes the snapshot even when the filter is refused', async () => {
    const contacts = [{ Event: 'ContactList', Endpoint: 'agent1001', Status: 'Reachable' } as AmiMessage];
    const ami = new FakeAmi({ contacts, devices: [] });
    const p = new Presence(ami as unknown as AmiClient, pino({ level: 'silent' }));
    ami.emit('connected');
    await new Promise((r) => setTimeout(r, 10));
    expect(ami.filtered).toEqual(['ContactStatus', 'DeviceStateChange']);
    expect(p.ready).toBe(true);

    const refused = new FakeAmi({ contacts, devices: [] });
    refused.refuseFilter = true;
    const q = new Presence(refused as unknown as AmiClient, pino({ level: 'silent' }));
    refused.emit('connected');
    await new Promise((r) => setTimeout(r, 10));
    expect(q.ready).toBe(true);
    expect(q.of('agent1001')!.registered).toBe(true);
  });
});
