-- 0018 (PostgreSQL mirror of sql/0018_call_prompts.sql): whisper, accept and the customer's choice.
ALTER TABLE campaigns ADD COLUMN whisper TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN agent_accept TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN accept_timeout_seconds INTEGER NOT NULL DEFAULT 8;
ALTER TABLE campaigns ADD COLUMN customer_choice TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN snooze_minutes INTEGER NOT NULL DEFAULT 15;
ALTER TABLE call_attempts ADD COLUMN agent_response TEXT;
ALTER TABLE call_attempts ADD COLUMN customer_choice TEXT;
CREATE INDEX call_attempts_agent_responses ON call_attempts(callback_id) WHERE agent_response IS NOT NULL;
