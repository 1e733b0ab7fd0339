-- 0017 (PostgreSQL mirror of sql/0017_lead_phones.sql): several numbers per lead, alt-dial.
CREATE TABLE lead_phones (
  lead_id    TEXT NOT NULL REFERENCES leads(id),
  position   INTEGER NOT NULL,
  e164       TEXT NOT NULL,
  label      TEXT NOT NULL DEFAULT 'mobile',
  dnc        INTEGER NOT NULL DEFAULT 0 CHECK (dnc IN (0,1)),
  time_zone  TEXT,
  PRIMARY KEY (lead_id, position)
);
CREATE INDEX lead_phones_e164 ON lead_phones(e164);
INSERT INTO lead_phones (lead_id, position, e164, label, dnc, time_zone)
  SELECT id, 1, phone_e164, 'mobile', 0, NULL FROM leads;
ALTER TABLE campaigns ADD COLUMN alt_dial TEXT NOT NULL DEFAULT 'off';
ALTER TABLE callbacks ADD COLUMN phone_position INTEGER;
ALTER TABLE call_attempts ADD COLUMN phone_position INTEGER;
