-- 0015 (PostgreSQL mirror of sql/0015_callback_alert.sql): how the agent's callbacks alert line looks.
ALTER TABLE campaigns ADD COLUMN callback_alert TEXT NOT NULL DEFAULT 'BLINK_RED_DEFER';
