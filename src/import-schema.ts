import { z } from 'zod';
import { isRegion } from './domain/phone-number.js';
import { parseCalendar } from './domain/windows.js';
import { E164, Id, MONTH_S, OnOff, Phone, strict, Zone } from './import-fields.js';
import { LeadEntry } from './import-lead.js';
import { PHONE_STATUSES } from './store/schema.js';

// The import file's sections and fields (README "Import file"; examples/callcenter.yaml is a complete
// one): what each entry may say and its defaults. Checking references is src/import.ts's.

export const ImportSchema = strict({
  // Asterisk servers (README "Running several servers"). No secrets here: each daemon has its own.
  // A field left out = the daemon's own ari/ami setting. None listed = the implicit server `default`.
  servers: z
    .array(
      strict({
        id: Id,
        ari_url: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http:// or https:// URL').optional(),
        ari_username: z.string().min(1).optional(),
        ami_host: z.string().min(1).optional(),
        ami_port: z.number().int().min(1).max(65535).optional(),
        ami_username: z.string().min(1).optional(),
      }),
    )
    .default([]),
  trunks: z
    .array(
      strict({
        id: Id,
        max_channels: z.number().int().min(0).default(0),
        calls_per_second: z.number().min(0).default(0),
        server: Id.optional(), // the server the trunk is configured on; default `default`
      }),
    )
    .default([]),
  numbers: z
    // trunk: one, or one per server the number goes out from (the first is the number's main trunk).
    .array(strict({ number: E164, trunk: z.union([Id, z.array(Id).min(1)]), outbound_enabled: z.boolean().default(true), description: z.string().optional() }))
    .default([]),
  campaigns: z
    .array(
      strict({
        id: Id,
        name: z.string().min(1),
        time_zone: Zone,
        outbound_number: E164.optional(),
        dial_order: z.enum(['agent_first', 'customer_first']).default('agent_first'),
        max_attempts: z.number().int().min(1).max(100).default(3),
        retry_delays: strict({
          busy: z.number().int().min(0).max(MONTH_S).default(300),
          no_answer: z.number().int().min(0).max(MONTH_S).default(900),
          congestion: z.number().int().min(0).max(MONTH_S).default(120),
          max: z.number().int().min(0).max(MONTH_S).default(3600),
        }).default({}),
        agent_ring_seconds: z.number().int().min(5).max(300).default(20),
        customer_ring_seconds: z.number().int().min(5).max(300).default(30),
        // Callback rules (README "Callback rules").
        scheduled_callbacks: z.boolean().default(true),
        my_callback_default: z.enum(['useronly', 'anyone']).default('useronly'),
        days_limit: z.number().int().min(0).max(3650).default(0),
        // How far ahead any callback may be booked (issue 12): bounds every booking, edit and hook.
        max_days_ahead: z.number().int().min(1).max(3650).default(365),
        hours_block: z.number().int().min(0).max(8760).default(0),
        active_limit: z.number().int().min(0).max(100_000).default(0),
        calltime_check: z.enum(['refuse', 'move', 'off']).default('refuse'),
        calling_windows: z.record(z.string()).optional(),
        holidays: z.array(z.string()).default([]),
        lead_daily_cap: z.number().int().min(0).max(1000).default(0),
        auto_reschedule: z.enum(['off', 'next_day', 'next_week']).default('off'),
        useronly_move_minutes: z.number().int().min(0).max(525_600).default(0),
        allow_unassigned_agents: z.boolean().default(false),
        dnc_filter_useronly: z.boolean().default(true),
        default_region: z.string().refine(isRegion, 'must be a two-letter region like US or GB').default('US'),
        count_mode: z.enum(['live', 'active', 'all_active']).default('all_active'),
        display_days: z.number().int().min(0).max(3650).default(0),
        // How the agent's callbacks alert line looks (README "Callback rules"; VICIdial's callbacks alert).
        callback_alert: z.enum(['none', 'red', 'blink', 'blink_red', 'red_defer', 'blink_defer', 'blink_red_defer']).default('blink_red_defer'),
        // Mail the owner of a USERONLY callback when it goes LIVE (README "Events, webhooks, email, reports").
        email_when_live: z.boolean().default(false),
        // Record answered calls (ARI bridge recording) and keep them this many days (README "Recording").
        record: z.enum(['off', 'agent_and_customer']).default('off'),
        recording_retention_days: z.number().int().min(1).max(3650).default(90),
        // After NO_ANSWER/BUSY the next attempt dials the lead's next number (README "Several numbers per lead").
        alt_dial: OnOff.default('off'),
        // Before the bridge (README "Whisper, accept and the customer's choice").
        whisper: z.enum(['off', 'name', 'digits']).default('off'),
        agent_accept: OnOff.default('off'),
        accept_timeout_seconds: z.number().int().min(2).max(60).default(8),
        customer_choice: OnOff.default('off'),
        snooze_minutes: z.number().int().min(1).max(1440).default(15),
        // An inbound callback not placed this long after the caller arrived ends FAILED/EXPIRED (README "Inbound callbacks keep their place").
        inbound_callback_expiry_hours: z.number().int().min(0).max(8760).default(96),
      }).superRefine((c, ctx) => {
        const cal = parseCalendar(c.calling_windows, c.holidays);
        if (!cal.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [c.calling_windows ? 'calling_windows' : 'holidays'], message: cal.error });
      }),
    )
    .default([]),
  lists: z.array(strict({ id: Id, campaign: Id, name: z.string().min(1).optional() })).default([]),
  agents: z
    .array(
      strict({
        id: Id,
        name: z.string().min(1),
        campaigns: z.array(Id).default([]),
        scheduled_callbacks: z.boolean().default(true),
        agent_only_callbacks: z.boolean().default(true),
        time_zone: Zone.optional(),
        active_limit: z.number().int().min(0).optional(),
        email: z.string().email().max(254).optional(),
        // An AI voice agent (README "AI voice agents"): a bot's endpoint taking up to max_calls callbacks at once.
        kind: z.enum(['human', 'ai']).default('human'),
        max_calls: z.number().int().min(1).max(1000).optional(),
      })
      .refine((a) => a.kind === 'ai' || a.max_calls === undefined || a.max_calls === 1, { message: 'max_calls is for kind: ai (a human agent takes one call at a time)', path: ['max_calls'] }),
    )
    .default([]),
  phones: z
    .array(
      strict({
        endpoint: Id,
        agent: Id,
        active_account: z.boolean().default(true),
        status: z.enum(PHONE_STATUSES).default('ACTIVE'),
        server: Id.optional(), // the server the phone registers on; default `default`
      }),
    )
    .default([]),
  leads: z.array(LeadEntry).default([]),
  users: z
    .array(
      strict({
        id: Id,
        role: z.enum(['agent', 'manager', 'admin']),
        agent: Id.optional(), // role agent: the agent this user is (default: the same id)
        campaigns: z.array(Id).default([]), // role manager: the campaigns managed
        lead_modify: z.boolean().default(false), // role manager: may edit callbacks
      }),
    )
    .default([]),
  dnc: z.array(strict({ number: Phone, campaign: Id.optional(), region: z.string().refine(isRegion, 'must be a two-letter region like US').optional() })).default([]),
});
export type ImportFile = z.infer<typeof ImportSchema>;

/** A number's trunks as listed: `trunk: a` or `trunk: [a, b]`. */
export const trunksOf = (n: { trunk: string | string[] }): string[] => (Array.isArray(n.trunk) ? n.trunk : [n.trunk]);
