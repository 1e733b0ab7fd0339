// Several Asterisk servers (README "Running several servers"): each daemon is bound to one server and
// places a call only where both legs can start on it: the agent's phone registers there, and the
// campaign's caller number goes out through a trunk configured there. Pure: the store reads the
// rows, this decides.

/** The implicit server of a center with one Asterisk (sql/0016_servers.sql). */
export const DEFAULT_SERVER = 'default';

export interface ServerPhone {
  endpoint: string;
  serverId: string;
}

export interface ServerTrunk {
  trunkId: string;
  serverId: string;
}

/** Why this phone cannot be rung from `serverId`, or null when it can. */
export function phoneOffServer(phone: ServerPhone, serverId: string): string | null {
  return phone.serverId === serverId ? null : `phone ${phone.endpoint} is on server ${phone.serverId}, not ${serverId}`;
}

/**
 * The trunk a number goes out through from `serverId`, or why none. Several trunks of one number
 * on one server: the first by id, so every pass picks the same one.
 */
export function trunkOnServer(number: string, trunks: readonly ServerTrunk[], serverId: string): { trunkId: string } | { reason: string } {
  const here = trunks.filter((t) => t.serverId === serverId).map((t) => t.trunkId).sort();
  if (here.length > 0) return { trunkId: here[0]! };
  const elsewhere = [...new Set(trunks.map((t) => t.serverId))].sort();
  return { reason: `number ${number} has no trunk on server ${serverId}${elsewhere.length ? ` (it goes out on ${elsewhere.join(', ')})` : ''}` };
}

/**
 * The one rule "can this server place this callback with this agent": one of the agent's phones is
 * on the server and the number has a trunk there. The phones returned are the ones to consider.
 */
export function canPlaceOn(
  serverId: string,
  agentPhones: readonly ServerPhone[],
  number: { e164: string; trunks: readonly ServerTrunk[] },
): { ok: true; trunkId: string; phones: string[] } | { ok: false; reason: string } {
  const trunk = trunkOnServer(number.e164, number.trunks, serverId);
  if ('reason' in trunk) return { ok: false, reason: trunk.reason };
  const phones = agentPhones.filter((p) => phoneOffServer(p, serverId) === null).map((p) => p.endpoint);
  if (phones.length === 0) {
    const where = [...new Set(agentPhones.map((p) => p.serverId))].sort();
    return { ok: false, reason: where.length ? `no phone on server ${serverId} (phones on ${where.join(', ')})` : 'no phone' };
  }
  return { ok: true, trunkId: trunk.trunkId, phones };
}
