// VICIdial's phone semantics: Active Account says whether the phone is listed/selectable,
// Status says whether it may be used. ACTIVE works, ADMIN works and grants admin access,
// every other status (SUSPENDED, CLOSED, PENDING, DELETED) is blocked.
export type PhoneStatus = 'ACTIVE' | 'ADMIN' | 'SUSPENDED' | 'CLOSED' | 'PENDING' | 'DELETED';

export interface PhoneGate {
  endpoint: string;
  activeAccount: boolean;
  status: PhoneStatus;
}

/** Why this phone may not be used, or null when it may. */
export function phoneBlockedReason(p: PhoneGate): string | null {
  if (!p.activeAccount) return `phone ${p.endpoint} has Active Account off`;
  if (p.status !== 'ACTIVE' && p.status !== 'ADMIN') return `phone ${p.endpoint} has status ${p.status}`;
  return null;
}

export function grantsAdmin(p: PhoneGate): boolean {
  return p.activeAccount && p.status === 'ADMIN';
}
