-- 0013: call recording (issue 15 item 4). A campaign records answered calls when `record` is
-- 'agent_and_customer' (ARI bridge recording, wav); recordings older than recording_retention_days
-- are deleted by the retention sweep. Per attempt: the stored recording's name, or why there is none.
ALTER TABLE campaigns ADD COLUMN record TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE call_attempts ADD COLUMN recording_name TEXT;
ALTER TABLE call_attempts ADD COLUMN recording_note TEXT;
ALTER TABLE call_attempts ADD COLUMN recording_deleted_at INTEGER;
