-- 0010: the event outbox (issue 14). Every change to a callback or the end of a call attempt
-- writes one row here from a trigger, inside the transaction that made the change: whoever the
-- writer is (API, CLI in another process, scheduler, recovery, dialer), an event cannot be
-- forgotten, and a rolled-back or crashed change leaves none. Webhooks, email and the SSE stream
-- (src/events/) only read this table.

CREATE TABLE events (
  -- AUTOINCREMENT: ids never go back, even after retention empties the table, so a client's
  -- Last-Event-ID stays meaningful.
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  at              INTEGER NOT NULL,              -- the writer's clock (the row's updated_at / ended_at)
  type            TEXT NOT NULL,
  callback_id     INTEGER NOT NULL,              -- no FK: purge archives callbacks, events stay
  version         INTEGER NOT NULL,              -- the callback's version after the change
  -- Who may see it (app/auth.ts canSee), copied so the stream filters without a join.
  campaign_id     TEXT NOT NULL,
  callback_type   TEXT NOT NULL,
  owner_agent_id  TEXT,
  actor           TEXT,                          -- from the audit row of the same change, when there is one
  data            TEXT NOT NULL                  -- JSON: the fields a consumer needs
);
CREATE INDEX events_callback ON events(callback_id, id);
CREATE INDEX events_at ON events(at);

-- How far each consumer (email, retention) has read the outbox. Webhook endpoints keep their own.
CREATE TABLE event_cursors (
  consumer TEXT PRIMARY KEY,
  last_id  INTEGER NOT NULL
);

-- version: the value the row has once callbacks_version (0005) has run, whichever of the two
-- triggers SQLite runs first (CASE ... END below; SQLite has no user functions in SQL).

CREATE TRIGGER events_callback_created AFTER INSERT ON callbacks
BEGIN
  INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, actor, data)
  VALUES (NEW.created_at, 'callback.created', NEW.id, NEW.version, NEW.campaign_id, NEW.type, NEW.owner_agent_id, NEW.created_by,
    json_object('id', NEW.id, 'leadId', NEW.lead_id, 'campaignId', NEW.campaign_id, 'type', NEW.type, 'owner', NEW.owner_agent_id,
      'state', NEW.state, 'dueAt', NEW.due_at, 'dueZone', NEW.due_zone, 'maxAttempts', NEW.max_attempts,
      'forceDial', NEW.force_dial, 'notes', NEW.notes, 'createdBy', NEW.created_by));
END;

CREATE TRIGGER events_callback_state AFTER UPDATE OF state ON callbacks
WHEN NEW.state IS NOT OLD.state
BEGIN
  INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, data)
  SELECT NEW.updated_at, t.type, NEW.id,
    CASE WHEN NEW.version = OLD.version THEN OLD.version + 1 ELSE NEW.version END,
    NEW.campaign_id, NEW.type, NEW.owner_agent_id,
    json_object('id', NEW.id, 'leadId', NEW.lead_id, 'campaignId', NEW.campaign_id, 'type', NEW.type, 'owner', NEW.owner_agent_id,
      'state', NEW.state, 'from', OLD.state, 'dueAt', NEW.due_at, 'dueZone', NEW.due_zone,
      'attempts', NEW.attempts, 'maxAttempts', NEW.max_attempts, 'nextAttemptAt', NEW.next_attempt_at,
      'lastOutcome', NEW.last_outcome, 'lastCause', NEW.last_cause, 'lastSipCode', NEW.last_sip_code,
      'waitReason', NEW.wait_reason, 'failReason', NEW.fail_reason, 'replacedBy', NEW.replaced_by)
  FROM (SELECT CASE NEW.state
      WHEN 'LIVE' THEN 'callback.live'
      WHEN 'DIALING' THEN 'callback.dialing'
      WHEN 'COMPLETED' THEN 'callback.completed'
      WHEN 'NO_ANSWER' THEN 'callback.failed'
      WHEN 'BUSY' THEN 'callback.failed'
      WHEN 'FAILED' THEN 'callback.failed'
      WHEN 'CANCELLED' THEN 'callback.cancelled'
      WHEN 'ACTIVE' THEN 'callback.rescheduled'
    END AS type) t
  WHERE t.type IS NOT NULL;
END;

-- A new due time without a change of state (an edit; a change of state that lands in ACTIVE is
-- already callback.rescheduled above).
CREATE TRIGGER events_callback_rescheduled AFTER UPDATE OF due_at ON callbacks
WHEN NEW.due_at IS NOT OLD.due_at AND NEW.state IS OLD.state
BEGIN
  INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, data)
  VALUES (NEW.updated_at, 'callback.rescheduled', NEW.id,
    CASE WHEN NEW.version = OLD.version THEN OLD.version + 1 ELSE NEW.version END,
    NEW.campaign_id, NEW.type, NEW.owner_agent_id,
    json_object('id', NEW.id, 'leadId', NEW.lead_id, 'campaignId', NEW.campaign_id, 'type', NEW.type, 'owner', NEW.owner_agent_id,
      'state', NEW.state, 'dueAt', NEW.due_at, 'previousDueAt', OLD.due_at, 'dueZone', NEW.due_zone));
END;

CREATE TRIGGER events_callback_reassigned AFTER UPDATE OF owner_agent_id, type ON callbacks
WHEN NEW.owner_agent_id IS NOT OLD.owner_agent_id OR NEW.type IS NOT OLD.type
BEGIN
  INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, data)
  VALUES (NEW.updated_at, 'callback.reassigned', NEW.id,
    CASE WHEN NEW.version = OLD.version THEN OLD.version + 1 ELSE NEW.version END,
    NEW.campaign_id, NEW.type, NEW.owner_agent_id,
    json_object('id', NEW.id, 'leadId', NEW.lead_id, 'campaignId', NEW.campaign_id, 'type', NEW.type, 'owner', NEW.owner_agent_id,
      'previousType', OLD.type, 'previousOwner', OLD.owner_agent_id, 'state', NEW.state, 'dueAt', NEW.due_at));
END;

-- An attempt has ended once it has both an outcome and an end time. An answered call gets its
-- outcome at the bridge and its end at hangup, so that is when it is told.
CREATE TRIGGER events_attempt_ended AFTER UPDATE OF outcome, ended_at ON call_attempts
WHEN NEW.outcome IS NOT NULL AND NEW.ended_at IS NOT NULL AND (OLD.outcome IS NULL OR OLD.ended_at IS NULL)
BEGIN
  INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, data)
  SELECT NEW.ended_at, 'attempt.ended', c.id, c.version, c.campaign_id, c.type, c.owner_agent_id,
    json_object('id', c.id, 'attemptId', NEW.id, 'seq', NEW.seq, 'customerAttempt', NEW.customer_attempt,
      'outcome', NEW.outcome, 'cause', NEW.cause, 'sipCode', NEW.sip_code, 'detail', NEW.detail,
      'agentId', NEW.agent_id, 'phoneEndpoint', NEW.phone_endpoint, 'trunkId', NEW.trunk_id,
      'startedAt', NEW.started_at, 'customerDialedAt', NEW.customer_dialed_at, 'customerAnsweredAt', NEW.customer_answered_at,
      'endedAt', NEW.ended_at, 'durationMs', NEW.duration_ms,
      'state', c.state, 'attempts', c.attempts, 'nextAttemptAt', c.next_attempt_at)
  FROM callbacks c WHERE c.id = NEW.callback_id;
END;

-- The actor: writers put the audit row after the change, in the same transaction and with the
-- same clock reading, so the events of that change are the ones of this callback at this instant
-- still without an actor.
CREATE TRIGGER events_actor AFTER INSERT ON audit
WHEN NEW.callback_id IS NOT NULL
BEGIN
  UPDATE events SET actor = NEW.actor
  WHERE callback_id = NEW.callback_id AND at = NEW.at AND actor IS NULL;
END;
