-- 0008 (PostgreSQL mirror of sql/0008_answered_open_index.sql): the same index.
CREATE INDEX call_attempts_answered_open ON call_attempts(started_at) WHERE outcome = 'ANSWERED' AND ended_at IS NULL;
