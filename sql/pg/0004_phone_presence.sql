-- 0004 (PostgreSQL mirror of sql/0004_phone_presence.sql): what the daemon sees of each phone in AMI.
CREATE TABLE phone_presence (
  endpoint     TEXT PRIMARY KEY,
  registered   INTEGER NOT NULL,
  reachable    INTEGER NOT NULL,
  contact_uri  TEXT,
  device_state TEXT NOT NULL,
  in_use       INTEGER NOT NULL,
  changed_at   BIGINT NOT NULL,
  written_at   BIGINT NOT NULL
);
