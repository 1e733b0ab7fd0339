-- 0011: webhooks and email (issue 14). Both are consumers of the event outbox (0010): what they
-- owe is copied into their own queue (deliveries, emails), so the outbox's retention never loses
-- a pending message, and each message's state (pending, sent, dead) is visible in the API.

CREATE TABLE webhooks (
  id          INTEGER PRIMARY KEY,
  url         TEXT NOT NULL,
  events      TEXT NOT NULL DEFAULT '[]',        -- JSON list of event types; [] = all
  secret      TEXT NOT NULL,                     -- HMAC-SHA256 key; shown once, when created
  description TEXT,
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  cursor      INTEGER NOT NULL DEFAULT 0,        -- the last outbox id queued for this endpoint
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
  id          INTEGER PRIMARY KEY,
  webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id    INTEGER NOT NULL,                  -- the idempotency key receivers see
  event_type  TEXT NOT NULL,
  callback_id INTEGER NOT NULL,                  -- deliveries of one callback go out in order
  payload     TEXT NOT NULL,                     -- the exact JSON body
  state       TEXT NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING','DELIVERED','DEAD')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  last_status INTEGER,                           -- HTTP status of the last try, NULL if none came back
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 'PENDING';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(webhook_id, callback_id, id) WHERE state = 'PENDING';
CREATE INDEX webhook_deliveries_state ON webhook_deliveries(webhook_id, state, id);

-- VICIdial's "Send Callbacks Email": the owner of a USERONLY callback is mailed when it goes LIVE.
ALTER TABLE campaigns ADD COLUMN email_when_live INTEGER NOT NULL DEFAULT 0 CHECK (email_when_live IN (0,1));
ALTER TABLE agents ADD COLUMN email TEXT;

CREATE TABLE emails (
  id          INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL UNIQUE,           -- one email per callback.live event, whatever happens
  callback_id INTEGER NOT NULL,
  agent_id    TEXT NOT NULL,
  to_address  TEXT NOT NULL,
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  state       TEXT NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING','SENT','DEAD')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  sent_at     INTEGER
);
CREATE INDEX emails_due ON emails(next_at) WHERE state = 'PENDING';
CREATE INDEX emails_state ON emails(state, id);
