-- 0001: the call center directory, callbacks and the call log.
-- Times are INTEGER milliseconds since the Unix epoch, UTC. Zones are IANA names, never offsets.

CREATE TABLE trunks (
  id               TEXT PRIMARY KEY,            -- the PJSIP endpoint name of the carrier trunk
  max_channels     INTEGER NOT NULL DEFAULT 0,  -- concurrent customer legs; 0 = unlimited
  calls_per_second REAL    NOT NULL DEFAULT 0,  -- new customer legs per second; 0 = unlimited
  updated_at       INTEGER NOT NULL
);

CREATE TABLE numbers (
  e164             TEXT PRIMARY KEY,            -- caller ID presented to customers
  trunk_id         TEXT NOT NULL REFERENCES trunks(id),
  outbound_enabled INTEGER NOT NULL DEFAULT 1 CHECK (outbound_enabled IN (0,1)),
  description      TEXT,
  updated_at       INTEGER NOT NULL
);

CREATE TABLE campaigns (
  id                    TEXT PRIMARY KEY,
  name                  TEXT NOT NULL,
  time_zone             TEXT NOT NULL,
  outbound_number       TEXT REFERENCES numbers(e164),
  dial_order            TEXT NOT NULL DEFAULT 'AGENT_FIRST' CHECK (dial_order IN ('AGENT_FIRST','CUSTOMER_FIRST')),
  max_attempts          INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  retry_busy_sec        INTEGER NOT NULL DEFAULT 300,
  retry_no_answer_sec   INTEGER NOT NULL DEFAULT 900,
  retry_congestion_sec  INTEGER NOT NULL DEFAULT 120,
  retry_max_sec         INTEGER NOT NULL DEFAULT 3600,
  agent_ring_sec        INTEGER NOT NULL DEFAULT 20,
  customer_ring_sec     INTEGER NOT NULL DEFAULT 30,
  updated_at            INTEGER NOT NULL
);

CREATE TABLE lists (
  id          TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  name        TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE leads (
  id          TEXT PRIMARY KEY,
  list_id     TEXT NOT NULL REFERENCES lists(id),
  first_name  TEXT,
  last_name   TEXT,
  phone_e164  TEXT NOT NULL,
  time_zone   TEXT,                              -- IANA; NULL = the campaign's zone
  updated_at  INTEGER NOT NULL
);
CREATE INDEX leads_phone ON leads(phone_e164);

CREATE TABLE agents (
  id                    TEXT PRIMARY KEY,        -- the agent's user id
  name                  TEXT NOT NULL,
  scheduled_callbacks   INTEGER NOT NULL DEFAULT 1 CHECK (scheduled_callbacks IN (0,1)),
  agent_only_callbacks  INTEGER NOT NULL DEFAULT 1 CHECK (agent_only_callbacks IN (0,1)),
  updated_at            INTEGER NOT NULL
);

CREATE TABLE agent_campaigns (
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  PRIMARY KEY (agent_id, campaign_id)
);

CREATE TABLE phones (
  endpoint        TEXT PRIMARY KEY,              -- the PJSIP endpoint the phone registers as
  agent_id        TEXT NOT NULL REFERENCES agents(id),
  active_account  INTEGER NOT NULL DEFAULT 1 CHECK (active_account IN (0,1)),
  status          TEXT NOT NULL DEFAULT 'ACTIVE'
                  CHECK (status IN ('ACTIVE','ADMIN','SUSPENDED','CLOSED','PENDING','DELETED')),
  updated_at      INTEGER NOT NULL
);
CREATE INDEX phones_agent ON phones(agent_id);

CREATE TABLE dnc (
  phone_e164  TEXT NOT NULL,
  campaign_id TEXT NOT NULL DEFAULT '',          -- '' = the global list
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (phone_e164, campaign_id)
);

CREATE TABLE callbacks (
  id               INTEGER PRIMARY KEY,
  lead_id          TEXT NOT NULL REFERENCES leads(id),
  campaign_id      TEXT NOT NULL REFERENCES campaigns(id),
  type             TEXT NOT NULL CHECK (type IN ('USERONLY','ANYONE')),
  owner_agent_id   TEXT REFERENCES agents(id),
  due_at           INTEGER NOT NULL,
  due_zone         TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'ACTIVE'
                   CHECK (state IN ('ACTIVE','LIVE','DIALING','COMPLETED','NO_ANSWER','BUSY','FAILED','CANCELLED')),
  attempts         INTEGER NOT NULL DEFAULT 0,   -- customer legs dialed
  max_attempts     INTEGER NOT NULL,
  dial_seq         INTEGER NOT NULL DEFAULT 0,   -- every claim, including agent-only tries
  next_attempt_at  INTEGER,                      -- LIVE: not before this instant
  lease_owner      TEXT,
  lease_token      TEXT,
  lease_expires_at INTEGER,
  last_outcome     TEXT,
  last_cause       INTEGER,
  last_sip_code    INTEGER,
  wait_reason      TEXT,                         -- why a LIVE callback is not dialing right now
  fail_reason      TEXT,
  notes            TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  CHECK (type = 'ANYONE' OR owner_agent_id IS NOT NULL)
);
-- The scheduler's two questions: "what becomes due next?" and "what LIVE work is ready?"
CREATE INDEX callbacks_active_due ON callbacks(due_at) WHERE state = 'ACTIVE';
CREATE INDEX callbacks_live_ready ON callbacks(next_attempt_at) WHERE state = 'LIVE';
CREATE INDEX callbacks_dialing ON callbacks(lease_expires_at) WHERE state = 'DIALING';
CREATE INDEX callbacks_lead ON callbacks(lead_id);

CREATE TABLE call_attempts (
  id                   INTEGER PRIMARY KEY,
  callback_id          INTEGER NOT NULL REFERENCES callbacks(id),
  seq                  INTEGER NOT NULL,          -- callbacks.dial_seq at claim
  customer_attempt     INTEGER,                   -- callbacks.attempts once the customer leg is dialed
  dial_order           TEXT NOT NULL,
  agent_id             TEXT,
  phone_endpoint       TEXT,
  caller_id            TEXT NOT NULL,             -- the outbound number presented
  customer_number      TEXT NOT NULL,
  trunk_id             TEXT NOT NULL,
  agent_channel_id     TEXT NOT NULL,
  customer_channel_id  TEXT NOT NULL,
  bridge_id            TEXT NOT NULL,
  lease_token          TEXT NOT NULL,
  started_at           INTEGER NOT NULL,
  agent_ringing_at     INTEGER,
  agent_answered_at    INTEGER,
  customer_dialed_at   INTEGER,
  customer_ringing_at  INTEGER,
  customer_answered_at INTEGER,
  ended_at             INTEGER,
  outcome              TEXT,                       -- NULL while in progress
  cause                INTEGER,                    -- Q.850, from ChannelDestroyed
  sip_code             INTEGER,                    -- tech_cause from ChannelDestroyed
  duration_ms          INTEGER,                    -- customer answer to hangup
  detail               TEXT,
  UNIQUE (callback_id, seq)
);
CREATE INDEX call_attempts_open ON call_attempts(callback_id) WHERE outcome IS NULL;
