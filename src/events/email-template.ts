import { DateTime } from 'luxon';
import type { LiveContext } from '../store/emails.js';

// The "callback is LIVE" email: a subject and a plain-text body with {placeholders}, filled from
// the callback, its lead and its owner. Pure: the time is shown in the agent's zone (their
// profile's, else the campaign's), which is what they read their day in.

export interface EmailTemplate {
  subject: string;
  body: string;
}

export const DEFAULT_TEMPLATE: EmailTemplate = {
  subject: 'Callback due: {lead} {phone}',
  body: [
    'Hello {agent},',
    '',
    'Your callback with {lead} ({phone}) in campaign {campaign} is due now.',
    'Promised for: {due}',
    'Notes: {notes}',
    '',
    'Open it: {link}',
    '',
    '-- callbackd (callback {callbackId})',
  ].join('\n'),
};

export function formatDue(dueAt: number, zone: string): string {
  // A numeric offset: zone abbreviations depend on the ICU data and locale (Paris is "GMT+1" in en-US).
  const t = DateTime.fromMillis(dueAt, { zone });
  return `${t.toFormat('cccc d LLLL yyyy, HH:mm')} (${zone}, UTC${t.toFormat('ZZ')})`;
}

export function renderEmail(t: EmailTemplate, c: LiveContext, consoleUrl: string): EmailTemplate {
  const lead = [c.firstName, c.lastName].filter(Boolean).join(' ') || c.leadId;
  const zone = c.agentZone ?? c.campaignZone;
  const values: Record<string, string> = {
    lead,
    firstName: c.firstName ?? '',
    lastName: c.lastName ?? '',
    phone: c.phone,
    campaign: c.campaignName,
    due: formatDue(c.dueAt, zone),
    zone,
    agent: c.agentName ?? c.agentId ?? '',
    notes: c.notes ?? '-',
    link: `${consoleUrl.replace(/\/+$/, '')}/callbacks/${c.callbackId}`,
    callbackId: String(c.callbackId),
  };
  const fill = (s: string) => s.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
  // A subject is one header line: no line breaks from a lead's name or a template.
  return { subject: fill(t.subject).replace(/[\r\n]+/g, ' ').slice(0, 250), body: fill(t.body) };
}
