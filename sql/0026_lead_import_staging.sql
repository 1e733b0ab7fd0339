-- 0026: the CSV lead import's staging (callbackd import-leads; README "Import leads from CSV").
-- Checked rows wait here until the whole file is read and good, then are copied into leads and
-- lead_phones a chunk per transaction and deleted. Regular tables (not SQLite's TEMP database) so
-- that one body of SQL runs on both engines: a PostgreSQL session's temporary table would have to
-- outlive the many transactions of the copy on one pinned connection. Rows are keyed by the import
-- (lead_imports.id), so two imports at once never see each other's rows; a killed import's rows are
-- removed by a later import once they are a day old (src/store/lead-staging.ts).
CREATE TABLE lead_imports (
  id          TEXT PRIMARY KEY,
  started_at  INTEGER NOT NULL
);
-- One good row of the file: n counts the good rows (1, 2, …) so chunks are ranges of n; the unique
-- id per import is what finds a lead listed twice in the file.
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
-- The row's numbers in dial order (lead_phones' columns; position 1 = phone_e164).
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
