-- 0013 (PostgreSQL mirror of sql/0013_recording.sql): call recording per campaign and attempt.
ALTER TABLE campaigns ADD COLUMN record TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE call_attempts ADD COLUMN recording_name TEXT;
ALTER TABLE call_attempts ADD COLUMN recording_note TEXT;
ALTER TABLE call_attempts ADD COLUMN recording_deleted_at BIGINT;
