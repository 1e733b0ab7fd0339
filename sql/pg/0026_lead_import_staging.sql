-- 0026 (PostgreSQL mirror of sql/0026_lead_import_staging.sql): the CSV lead import's staging.
CREATE TABLE lead_imports (
  id          TEXT PRIMARY KEY,
  started_at  BIGINT NOT NULL
);
CREATE TABLE lead_import_rows (
  import_id   TEXT NOT NULL,
  n           INTEGER NOT NULL,
  id          TEXT NOT NULL,
  list_id     TEXT NOT NULL,
  first_name  TEXT,
  last_name   TEXT,
  phone_e164  TEXT NOT NULL,
  time_zone   TEXT,
  PRIMARY KEY (import_id, n),
  UNIQUE (import_id, id)
);
CREATE TABLE lead_import_phones (
  import_id   TEXT NOT NULL,
  n           INTEGER NOT NULL,
  position    INTEGER NOT NULL,
  e164        TEXT NOT NULL,
  label       TEXT NOT NULL,
  dnc         INTEGER NOT NULL,
  time_zone   TEXT,
  PRIMARY KEY (import_id, n, position)
);
