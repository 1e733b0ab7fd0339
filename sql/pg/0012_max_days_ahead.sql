-- 0012 (PostgreSQL mirror of sql/0012_max_days_ahead.sql): how far ahead a callback may be booked.
ALTER TABLE campaigns ADD COLUMN max_days_ahead INTEGER NOT NULL DEFAULT 365;
