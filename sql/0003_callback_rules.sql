-- 0003: the rules of a real call center (issue 3). Every option has the default that keeps
-- callbackd's earlier behaviour, so existing databases change nothing until an admin opts in.

-- Creation rules (VICIdial names in brackets).
ALTER TABLE campaigns ADD COLUMN scheduled_callbacks INTEGER NOT NULL DEFAULT 1 CHECK (scheduled_callbacks IN (0,1));
ALTER TABLE campaigns ADD COLUMN my_callback_default TEXT NOT NULL DEFAULT 'USERONLY' CHECK (my_callback_default IN ('USERONLY','ANYONE')); -- [my callback option]
ALTER TABLE campaigns ADD COLUMN days_limit INTEGER NOT NULL DEFAULT 0 CHECK (days_limit >= 0);            -- [callback days limit]; 0 = unlimited
ALTER TABLE campaigns ADD COLUMN hours_block INTEGER NOT NULL DEFAULT 0 CHECK (hours_block >= 0);          -- [callback hours block]
ALTER TABLE campaigns ADD COLUMN active_limit INTEGER NOT NULL DEFAULT 0 CHECK (active_limit >= 0);        -- [callback active limit]; 0 = unlimited
ALTER TABLE campaigns ADD COLUMN calltime_check TEXT NOT NULL DEFAULT 'REFUSE' CHECK (calltime_check IN ('REFUSE','MOVE','OFF'));
-- Calling windows, evaluated in the lead's zone: JSON {"mon-fri":"09:00-20:00",...}; NULL = any time.
ALTER TABLE campaigns ADD COLUMN calling_windows TEXT;
ALTER TABLE campaigns ADD COLUMN holidays TEXT NOT NULL DEFAULT '[]';                                      -- JSON ["2026-12-25",...]
-- Retry policy.
ALTER TABLE campaigns ADD COLUMN lead_daily_cap INTEGER NOT NULL DEFAULT 0 CHECK (lead_daily_cap >= 0);   -- customer legs per lead per 24 h; 0 = no cap
ALTER TABLE campaigns ADD COLUMN auto_reschedule TEXT NOT NULL DEFAULT 'OFF' CHECK (auto_reschedule IN ('OFF','NEXT_DAY','NEXT_WEEK'));
-- Ownership.
ALTER TABLE campaigns ADD COLUMN useronly_move_minutes INTEGER NOT NULL DEFAULT 0 CHECK (useronly_move_minutes >= 0); -- 0 = never
ALTER TABLE campaigns ADD COLUMN allow_unassigned_agents INTEGER NOT NULL DEFAULT 0 CHECK (allow_unassigned_agents IN (0,1));
-- DNC: ANYONE callbacks are always filtered; USERONLY too unless an admin turns this off.
ALTER TABLE campaigns ADD COLUMN dnc_filter_useronly INTEGER NOT NULL DEFAULT 1 CHECK (dnc_filter_useronly IN (0,1));
ALTER TABLE campaigns ADD COLUMN default_region TEXT NOT NULL DEFAULT 'US';                               -- for national-format numbers
-- What an agent sees.
ALTER TABLE campaigns ADD COLUMN count_mode TEXT NOT NULL DEFAULT 'ALL_ACTIVE' CHECK (count_mode IN ('LIVE','ACTIVE','ALL_ACTIVE'));
ALTER TABLE campaigns ADD COLUMN display_days INTEGER NOT NULL DEFAULT 0 CHECK (display_days >= 0);       -- 0 = all

ALTER TABLE agents ADD COLUMN time_zone TEXT;                      -- for times the agent types
ALTER TABLE agents ADD COLUMN active_limit INTEGER CHECK (active_limit >= 0); -- NULL = the campaign's

ALTER TABLE callbacks ADD COLUMN hidden_until INTEGER;             -- hours block: not in the owner's list before this
ALTER TABLE callbacks ADD COLUMN force_dial INTEGER NOT NULL DEFAULT 0 CHECK (force_dial IN (0,1)); -- ignore calling windows
ALTER TABLE callbacks ADD COLUMN owner_waiting_since INTEGER;      -- LIVE USERONLY: since when its owner could not be rung
ALTER TABLE callbacks ADD COLUMN created_by TEXT;                  -- who booked it (agent id, 'cli', 'agi', ...)
ALTER TABLE callbacks ADD COLUMN replaced_by INTEGER REFERENCES callbacks(id);
CREATE INDEX callbacks_open_lead ON callbacks(lead_id, campaign_id) WHERE state IN ('ACTIVE','LIVE','DIALING');
CREATE INDEX callbacks_owner_active ON callbacks(owner_agent_id) WHERE state IN ('ACTIVE','LIVE') AND type = 'USERONLY';

-- Who changed what, and why: ownership moves, replacements, force-dials.
CREATE TABLE audit (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,                  -- a user, 'scheduler', 'cli', ...
  action      TEXT NOT NULL,
  callback_id INTEGER REFERENCES callbacks(id),
  before      TEXT,                           -- JSON
  after       TEXT,                           -- JSON
  reason      TEXT
);
CREATE INDEX audit_callback ON audit(callback_id);
