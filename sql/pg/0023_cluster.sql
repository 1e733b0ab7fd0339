-- 0023 (PostgreSQL twin of sql/0023_cluster.sql, which changes nothing in SQLite): several daemons
-- on one database (issue 16). Both objects exist only here; compare-shape.ts lists them as
-- PostgreSQL-only (PG_ONLY), so test/integration/pg-schema.test.ts still holds the shapes together.

-- The outbox order. An identity is handed out at INSERT, but transactions commit in any order: a
-- reader of `id > cursor` could pass an id whose transaction is still open and never see it. The
-- transaction id of the writer tells which rows are safe: every row with
-- `xid < pg_snapshot_xmin(pg_current_snapshot())` was written by a transaction that has ended, so no
-- smaller id can still appear among them. Existing rows get the migrating transaction's id (ended
-- by the time anyone reads them).
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();

-- The nudge. Every change a scheduler or the event hub must see writes an events row, so one
-- statement-level trigger wakes every daemon's listener (LISTEN callbackd) when such a transaction
-- commits. PostgreSQL delivers a notification only at commit, never for a rollback, and folds the
-- same channel+payload into one per transaction.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('callbackd', 'events');
  RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
