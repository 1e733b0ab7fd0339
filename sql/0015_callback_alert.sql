-- 0015: how the agent's callbacks alert line looks (issue 13 item 4; VICIdial's campaign option for the
-- callbacks alert): NONE, RED, BLINK, BLINK_RED and the DEFER variants that stop blinking once the agent
-- opened the list, until the count changes. Import option callback_alert; BLINK_RED_DEFER unless set.
ALTER TABLE campaigns ADD COLUMN callback_alert TEXT NOT NULL DEFAULT 'BLINK_RED_DEFER';
