// The call center the browser tests sign in to: one New York campaign (DST), two agents, a
// manager with lead-modify, an admin; leads with US numbers.
export const FIXTURE = {
  trunks: [{ id: 'carrier', max_channels: 10 }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [
    // The agent's alert line takes its style from here (callback_alert): C1 blinks red until seen, C2 is red only.
    { id: 'C1', name: 'Renewals', time_zone: 'America/New_York', outbound_number: '+15550100001', callback_alert: 'blink_red_defer' },
    { id: 'C2', name: 'Winback', time_zone: 'America/Chicago', outbound_number: '+15550100001', callback_alert: 'red' },
  ],
  lists: [
    { id: 'L1', campaign: 'C1' },
    { id: 'L2', campaign: 'C2' },
  ],
  agents: [
    { id: 'a1', name: 'Alice', campaigns: ['C1', 'C2'] },
    { id: 'a2', name: 'Bob', campaigns: ['C1', 'C2'] },
  ],
  phones: [
    { endpoint: 'p1', agent: 'a1' },
    { endpoint: 'p2', agent: 'a2' },
  ],
  leads: [
    { id: 'n1', list: 'L1', first_name: 'Ann', last_name: 'Lee', phone: '+12125550101' },
    { id: 'n2', list: 'L1', first_name: 'Ben', phone: '+12125550102' },
    { id: 'n3', list: 'L2', first_name: 'Cat', phone: '+13125550103' },
    { id: 'n4', list: 'L1', first_name: 'Dan', phone: '+12125550104' },
    { id: 'n5', list: 'L1', first_name: 'Eve', phone: '+12125550105' },
    { id: 'n6', list: 'L1', first_name: 'Fay', phone: '+12125550106' },
    { id: 'n7', list: 'L2', first_name: 'Gus', phone: '+13125550107' },
    { id: 'n8', list: 'L2', first_name: 'Hal', phone: '+13125550108' },
  ],
  users: [
    { id: 'root', role: 'admin' },
    { id: 'mgr', role: 'manager', campaigns: ['C1', 'C2'], lead_modify: true },
    { id: 'a1', role: 'agent' },
    { id: 'a2', role: 'agent' },
  ],
};
