-- 0018: what the agent and the customer hear before the bridge (issue 17 items 2 and 3).
-- Per campaign: the agent's whisper (off | name | digits), whether the agent must press 1 to accept
-- (agent_accept off | on, within accept_timeout_seconds), and the customer's choice (customer_choice
-- off | on: 1 talk now, 2 call me again in snooze_minutes, 3 cancel).
-- Per attempt: what the agent answered (ACCEPTED | REJECTED | TIMEOUT | HANGUP; null = not asked)
-- and what the customer chose (TALK | SNOOZE | CANCEL | NONE | HANGUP; null = not asked).
ALTER TABLE campaigns ADD COLUMN whisper TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN agent_accept TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN accept_timeout_seconds INTEGER NOT NULL DEFAULT 8;
ALTER TABLE campaigns ADD COLUMN customer_choice TEXT NOT NULL DEFAULT 'off';
ALTER TABLE campaigns ADD COLUMN snooze_minutes INTEGER NOT NULL DEFAULT 15;
ALTER TABLE call_attempts ADD COLUMN agent_response TEXT;
ALTER TABLE call_attempts ADD COLUMN customer_choice TEXT;
-- "never the same agent again for that callback within a short time": the scheduler reads the
-- recent rejections of one callback (only attempts where the agent was asked are indexed).
CREATE INDEX call_attempts_agent_responses ON call_attempts(callback_id) WHERE agent_response IS NOT NULL;
