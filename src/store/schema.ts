// Mirrors sql/*.sql, which is the source of truth; test/integration/store.test.ts ("schema") checks
// that every column here exists in the migrated database with the same name.
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { ALERT_STYLES } from '../domain/agent-view.js';
import { AGENT_RESPONSES, CUSTOMER_CHOICES } from '../domain/call-prompts.js';

export const trunks = sqliteTable('trunks', {
  id: text('id').primaryKey(),
  maxChannels: integer('max_channels').notNull().default(0),
  callsPerSecond: real('calls_per_second').notNull().default(0),
  updatedAt: integer('updated_at').notNull(),
  serverId: text('server_id').notNull().default('default'), // 0016
});

export const numbers = sqliteTable('numbers', {
  e164: text('e164').primaryKey(),
  trunkId: text('trunk_id').notNull(),
  outboundEnabled: integer('outbound_enabled', { mode: 'boolean' }).notNull().default(true),
  description: text('description'),
  updatedAt: integer('updated_at').notNull(),
});

export const campaigns = sqliteTable('campaigns', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull(),
  outboundNumber: text('outbound_number'),
  dialOrder: text('dial_order', { enum: ['AGENT_FIRST', 'CUSTOMER_FIRST'] }).notNull().default('AGENT_FIRST'),
  maxAttempts: integer('max_attempts').notNull().default(3),
  retryBusySec: integer('retry_busy_sec').notNull().default(300),
  retryNoAnswerSec: integer('retry_no_answer_sec').notNull().default(900),
  retryCongestionSec: integer('retry_congestion_sec').notNull().default(120),
  retryMaxSec: integer('retry_max_sec').notNull().default(3600),
  agentRingSec: integer('agent_ring_sec').notNull().default(20),
  customerRingSec: integer('customer_ring_sec').notNull().default(30),
  updatedAt: integer('updated_at').notNull(),
  // 0003: callback rules
  scheduledCallbacks: integer('scheduled_callbacks', { mode: 'boolean' }).notNull().default(true),
  myCallbackDefault: text('my_callback_default', { enum: ['USERONLY', 'ANYONE'] }).notNull().default('USERONLY'),
  daysLimit: integer('days_limit').notNull().default(0),
  hoursBlock: integer('hours_block').notNull().default(0),
  activeLimit: integer('active_limit').notNull().default(0),
  calltimeCheck: text('calltime_check', { enum: ['REFUSE', 'MOVE', 'OFF'] }).notNull().default('REFUSE'),
  callingWindows: text('calling_windows', { mode: 'json' }).$type<Record<string, string> | null>(),
  holidays: text('holidays', { mode: 'json' }).$type<string[]>().notNull().default([]),
  leadDailyCap: integer('lead_daily_cap').notNull().default(0),
  autoReschedule: text('auto_reschedule', { enum: ['OFF', 'NEXT_DAY', 'NEXT_WEEK'] }).notNull().default('OFF'),
  useronlyMoveMinutes: integer('useronly_move_minutes').notNull().default(0),
  allowUnassignedAgents: integer('allow_unassigned_agents', { mode: 'boolean' }).notNull().default(false),
  dncFilterUseronly: integer('dnc_filter_useronly', { mode: 'boolean' }).notNull().default(true),
  defaultRegion: text('default_region').notNull().default('US'),
  countMode: text('count_mode', { enum: ['LIVE', 'ACTIVE', 'ALL_ACTIVE'] }).notNull().default('ALL_ACTIVE'),
  displayDays: integer('display_days').notNull().default(0),
  // 0012
  maxDaysAhead: integer('max_days_ahead').notNull().default(365),
  // 0015: the agent's alert line
  callbackAlert: text('callback_alert', { enum: ALERT_STYLES }).notNull().default('BLINK_RED_DEFER'),
  // 0011: events
  emailWhenLive: integer('email_when_live', { mode: 'boolean' }).notNull().default(false),
  // 0013: recording
  record: text('record', { enum: ['off', 'agent_and_customer'] }).notNull().default('off'),
  recordingRetentionDays: integer('recording_retention_days').notNull().default(90),
  // 0017: after NO_ANSWER/BUSY the next attempt dials the lead's next number
  altDial: text('alt_dial', { enum: ['off', 'on'] }).notNull().default('off'),
  // 0018: what the agent and the customer hear before the bridge
  whisper: text('whisper', { enum: ['off', 'name', 'digits'] }).notNull().default('off'),
  agentAccept: text('agent_accept', { enum: ['off', 'on'] }).notNull().default('off'),
  acceptTimeoutSeconds: integer('accept_timeout_seconds').notNull().default(8),
  customerChoice: text('customer_choice', { enum: ['off', 'on'] }).notNull().default('off'),
  snoozeMinutes: integer('snooze_minutes').notNull().default(15),
  // 0022: an inbound callback not placed this long after the caller arrived ends FAILED/EXPIRED; 0 = never
  inboundCallbackExpiryHours: integer('inbound_callback_expiry_hours').notNull().default(96),
});

export const lists = sqliteTable('lists', {
  id: text('id').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  name: text('name').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const leads = sqliteTable('leads', {
  id: text('id').primaryKey(),
  listId: text('list_id').notNull(),
  firstName: text('first_name'),
  lastName: text('last_name'),
  phoneE164: text('phone_e164').notNull(),
  timeZone: text('time_zone'),
  updatedAt: integer('updated_at').notNull(),
});

// 0017: a lead's numbers in dial order; position 1 is always leads.phone_e164 too.
export const PHONE_LABELS = ['mobile', 'home', 'work', 'other'] as const;
export const leadPhones = sqliteTable(
  'lead_phones',
  {
    leadId: text('lead_id').notNull(),
    position: integer('position').notNull(),
    e164: text('e164').notNull(),
    label: text('label', { enum: PHONE_LABELS }).notNull().default('mobile'),
    dnc: integer('dnc', { mode: 'boolean' }).notNull().default(false),
    timeZone: text('time_zone'),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.position] })],
);

export const agents = sqliteTable('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  scheduledCallbacks: integer('scheduled_callbacks', { mode: 'boolean' }).notNull().default(true),
  agentOnlyCallbacks: integer('agent_only_callbacks', { mode: 'boolean' }).notNull().default(true),
  updatedAt: integer('updated_at').notNull(),
  timeZone: text('time_zone'),
  activeLimit: integer('active_limit'),
  email: text('email'), // 0011
  // 0021: 'ai' = a voice bot endpoint taking up to maxCalls callbacks at once (README "AI voice agents")
  kind: text('kind', { enum: ['human', 'ai'] }).notNull().default('human'),
  maxCalls: integer('max_calls').notNull().default(1),
});

export const agentCampaigns = sqliteTable(
  'agent_campaigns',
  { agentId: text('agent_id').notNull(), campaignId: text('campaign_id').notNull() },
  (t) => [primaryKey({ columns: [t.agentId, t.campaignId] })],
);

export const PHONE_STATUSES = ['ACTIVE', 'ADMIN', 'SUSPENDED', 'CLOSED', 'PENDING', 'DELETED'] as const;
export const phones = sqliteTable('phones', {
  endpoint: text('endpoint').primaryKey(),
  agentId: text('agent_id').notNull(),
  activeAccount: integer('active_account', { mode: 'boolean' }).notNull().default(true),
  status: text('status', { enum: PHONE_STATUSES }).notNull().default('ACTIVE'),
  updatedAt: integer('updated_at').notNull(),
  serverId: text('server_id').notNull().default('default'), // 0016
});

export const dnc = sqliteTable(
  'dnc',
  {
    phoneE164: text('phone_e164').notNull(),
    campaignId: text('campaign_id').notNull().default(''),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.phoneE164, t.campaignId] })],
);

export const CALLBACK_STATES = ['ACTIVE', 'LIVE', 'DIALING', 'COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'] as const;
export const callbacks = sqliteTable('callbacks', {
  id: integer('id').primaryKey(),
  leadId: text('lead_id').notNull(),
  campaignId: text('campaign_id').notNull(),
  type: text('type', { enum: ['USERONLY', 'ANYONE'] }).notNull(),
  ownerAgentId: text('owner_agent_id'),
  dueAt: integer('due_at').notNull(),
  dueZone: text('due_zone').notNull(),
  state: text('state', { enum: CALLBACK_STATES }).notNull().default('ACTIVE'),
  attempts: integer('attempts').notNull().default(0),
  maxAttempts: integer('max_attempts').notNull(),
  dialSeq: integer('dial_seq').notNull().default(0),
  nextAttemptAt: integer('next_attempt_at'),
  leaseOwner: text('lease_owner'),
  leaseToken: text('lease_token'),
  leaseExpiresAt: integer('lease_expires_at'),
  lastOutcome: text('last_outcome'),
  lastCause: integer('last_cause'),
  lastSipCode: integer('last_sip_code'),
  waitReason: text('wait_reason'),
  failReason: text('fail_reason'),
  notes: text('notes'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  hiddenUntil: integer('hidden_until'),
  forceDial: integer('force_dial', { mode: 'boolean' }).notNull().default(false),
  ownerWaitingSince: integer('owner_waiting_since'),
  createdBy: text('created_by'),
  replacedBy: integer('replaced_by'),
  version: integer('version').notNull().default(1),
  context: text('context'),
  // 0017: the number (position) the booking asked for; null = position 1
  phonePosition: integer('phone_position'),
  // 0022: when the caller joined the line (inbound callbacks); orders the ready callbacks
  arrivedAt: integer('arrived_at'),
});

export const audit = sqliteTable('audit', {
  id: integer('id').primaryKey(),
  at: integer('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  callbackId: integer('callback_id'),
  before: text('before', { mode: 'json' }),
  after: text('after', { mode: 'json' }),
  reason: text('reason'),
});

export const callAttempts = sqliteTable('call_attempts', {
  id: integer('id').primaryKey(),
  callbackId: integer('callback_id').notNull(),
  seq: integer('seq').notNull(),
  customerAttempt: integer('customer_attempt'),
  dialOrder: text('dial_order', { enum: ['AGENT_FIRST', 'CUSTOMER_FIRST'] }).notNull(),
  agentId: text('agent_id'),
  phoneEndpoint: text('phone_endpoint'),
  callerId: text('caller_id').notNull(),
  customerNumber: text('customer_number').notNull(),
  trunkId: text('trunk_id').notNull(),
  agentChannelId: text('agent_channel_id').notNull(),
  customerChannelId: text('customer_channel_id').notNull(),
  bridgeId: text('bridge_id').notNull(),
  leaseToken: text('lease_token').notNull(),
  startedAt: integer('started_at').notNull(),
  agentRingingAt: integer('agent_ringing_at'),
  agentAnsweredAt: integer('agent_answered_at'),
  customerDialedAt: integer('customer_dialed_at'),
  customerRingingAt: integer('customer_ringing_at'),
  customerAnsweredAt: integer('customer_answered_at'),
  endedAt: integer('ended_at'),
  outcome: text('outcome'),
  cause: integer('cause'),
  sipCode: integer('sip_code'),
  durationMs: integer('duration_ms'),
  detail: text('detail'),
  // 0013: the stored recording's name, or why the call was not recorded; when retention deleted it
  recordingName: text('recording_name'),
  recordingNote: text('recording_note'),
  recordingDeletedAt: integer('recording_deleted_at'),
  // 0017: which of the lead's numbers was dialed (customer_number holds its digits)
  phonePosition: integer('phone_position'),
  // 0018: what the agent answered to the accept prompt, what the customer chose (null = not asked)
  agentResponse: text('agent_response', { enum: AGENT_RESPONSES }),
  customerChoice: text('customer_choice', { enum: CUSTOMER_CHOICES }),
});

// 0024: each trunk's last leg start, every daemon's (calls per second across the cluster: store/claim.ts)
export const trunkStarts = sqliteTable('trunk_starts', {
  trunkId: text('trunk_id').primaryKey(),
  lastStartAt: integer('last_start_at').notNull(),
});

export type CallbackRow = typeof callbacks.$inferSelect;
export type CallAttemptRow = typeof callAttempts.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
export type PhoneRow = typeof phones.$inferSelect;
export type AgentRow = typeof agents.$inferSelect;
export type LeadRow = typeof leads.$inferSelect;
export type LeadPhoneRow = typeof leadPhones.$inferSelect;
export type NumberRow = typeof numbers.$inferSelect;
export type TrunkRow = typeof trunks.$inferSelect;
export type ListRow = typeof lists.$inferSelect;

export const phonePresence = sqliteTable('phone_presence', {
  endpoint: text('endpoint').primaryKey(),
  registered: integer('registered', { mode: 'boolean' }).notNull(),
  reachable: integer('reachable', { mode: 'boolean' }).notNull(),
  contactUri: text('contact_uri'),
  deviceState: text('device_state').notNull(),
  inUse: integer('in_use', { mode: 'boolean' }).notNull(),
  changedAt: integer('changed_at').notNull(),
  writtenAt: integer('written_at').notNull(),
  serverId: text('server_id').notNull().default('default'), // 0016
});

// 0016: Asterisk servers; NULL connection fields = the daemon's own ari/ami config.
export const servers = sqliteTable('servers', {
  id: text('id').primaryKey(),
  ariUrl: text('ari_url'),
  ariUsername: text('ari_username'),
  amiHost: text('ami_host'),
  amiPort: integer('ami_port'),
  amiUsername: text('ami_username'),
  updatedAt: integer('updated_at').notNull(),
});
export type ServerRow = typeof servers.$inferSelect;

export const numberTrunks = sqliteTable(
  'number_trunks',
  { e164: text('e164').notNull(), trunkId: text('trunk_id').notNull() },
  (t) => [primaryKey({ columns: [t.e164, t.trunkId] })],
);

export const ROLES = ['agent', 'manager', 'admin'] as const;
export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  role: text('role', { enum: ROLES }).notNull(),
  agentId: text('agent_id'),
  campaigns: text('campaigns', { mode: 'json' }).$type<string[]>().notNull().default([]),
  leadModify: integer('lead_modify', { mode: 'boolean' }).notNull().default(false),
  updatedAt: integer('updated_at').notNull(),
});

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey(),
  userId: text('user_id').notNull(),
  name: text('name'),
  hash: text('hash').notNull(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
  lastUsedAt: integer('last_used_at'),
});

export const callbacksArchive = sqliteTable('callbacks_archive', {
  id: integer('id').primaryKey(),
  archivedAt: integer('archived_at').notNull(),
  row: text('row', { mode: 'json' }).notNull(),
  attempts: text('attempts', { mode: 'json' }).notNull(),
});
export type UserRow = typeof users.$inferSelect;
