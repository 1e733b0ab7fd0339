-- 0005: the HTTP API (issue 4): users with roles, hashed bearer tokens, optimistic concurrency on
-- callbacks, a callback's context (e.g. an AI agent's transcript), and the archive for purges.

CREATE TABLE users (
  id           TEXT PRIMARY KEY,
  role         TEXT NOT NULL CHECK (role IN ('agent','manager','admin')),
  agent_id     TEXT REFERENCES agents(id),        -- role agent: the agent this user is
  campaigns    TEXT NOT NULL DEFAULT '[]',         -- role manager: JSON list of campaigns managed
  lead_modify  INTEGER NOT NULL DEFAULT 0 CHECK (lead_modify IN (0,1)), -- manager may edit callbacks
  updated_at   INTEGER NOT NULL
);

CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT,
  hash         TEXT NOT NULL UNIQUE,              -- sha256 of the token; the token itself is shown once
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  last_used_at INTEGER
);

-- Every change to a callback bumps its version, whoever makes it (API, CLI, scheduler), so an
-- edit based on what a manager saw earlier is refused (409) instead of silently overwriting.
ALTER TABLE callbacks ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER callbacks_version AFTER UPDATE ON callbacks
WHEN NEW.version = OLD.version
BEGIN
  UPDATE callbacks SET version = OLD.version + 1 WHERE id = NEW.id;
END;

ALTER TABLE callbacks ADD COLUMN context TEXT;     -- the conversation so far, size-limited by the API

-- Purged (finished, old) callbacks and their attempts move here, out of the scheduler's tables.
CREATE TABLE callbacks_archive (
  id           INTEGER PRIMARY KEY,
  archived_at  INTEGER NOT NULL,
  row          TEXT NOT NULL,                     -- JSON of the callback row
  attempts     TEXT NOT NULL                      -- JSON array of its call_attempts rows
);
