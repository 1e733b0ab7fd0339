-- 0004: what the daemon sees of each phone in AMI, so `callbackd agents` (another process) can
-- show it. Written by the daemon on every change and every 30 s; never read by the dialer.
CREATE TABLE phone_presence (
  endpoint     TEXT PRIMARY KEY,
  registered   INTEGER NOT NULL,
  reachable    INTEGER NOT NULL,          -- 0 while qualify says Unreachable
  contact_uri  TEXT,
  device_state TEXT NOT NULL,
  in_use       INTEGER NOT NULL,
  changed_at   INTEGER NOT NULL,          -- last change seen in AMI
  written_at   INTEGER NOT NULL           -- when the daemon last wrote this row
);
