-- 0021: AI voice agents as owners (issue 17 item 5). An agent of kind 'ai' is a SIP/PJSIP endpoint
-- (a voice bot) rung like a phone, which may take up to max_calls callbacks at once; a 'human' agent
-- takes one at a time (max_calls is not read for humans). Existing agents stay human.
ALTER TABLE agents ADD COLUMN kind TEXT NOT NULL DEFAULT 'human';
ALTER TABLE agents ADD COLUMN max_calls INTEGER NOT NULL DEFAULT 1;
