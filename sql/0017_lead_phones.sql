-- 0017: several numbers per lead (issue 17 item 1; ipSCAPE phone 1-3, VICIdial's ALT/ADDR3 numbers).
-- A lead's numbers in dial order (position 1 first), each with a label, its own DNC flag (the lead's
-- own "never this number", checked beside the DNC lists) and an optional IANA zone (NULL = the lead's).
-- leads.phone_e164 stays and always equals position 1 (every reader of "the lead's number" keeps
-- working); the writers of leads keep both in step (store/lead-phones.ts).
CREATE TABLE lead_phones (
  lead_id    TEXT NOT NULL REFERENCES leads(id),
  position   INTEGER NOT NULL,
  e164       TEXT NOT NULL,
  label      TEXT NOT NULL DEFAULT 'mobile',
  dnc        INTEGER NOT NULL DEFAULT 0 CHECK (dnc IN (0,1)),
  time_zone  TEXT,
  PRIMARY KEY (lead_id, position)
);
-- The search (callback list q / phone) looks in every number.
CREATE INDEX lead_phones_e164 ON lead_phones(e164);
-- Existing leads: their one number becomes position 1.
INSERT INTO lead_phones (lead_id, position, e164, label, dnc, time_zone)
  SELECT id, 1, phone_e164, 'mobile', 0, NULL FROM leads;
-- Alt-dial per campaign (off | on): after NO_ANSWER/BUSY the next attempt dials the next number.
ALTER TABLE campaigns ADD COLUMN alt_dial TEXT NOT NULL DEFAULT 'off';
-- The number a booking asked for (position), dialed first; NULL = position 1.
ALTER TABLE callbacks ADD COLUMN phone_position INTEGER;
-- Which of the lead's numbers an attempt dialed (customer_number already holds the digits).
ALTER TABLE call_attempts ADD COLUMN phone_position INTEGER;
