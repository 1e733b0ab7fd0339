-- 0012: how far ahead a callback may be booked (issue 12). Every booking, edit and hook is held to
-- it; 365 days unless the campaign says otherwise (import option max_days_ahead, 1-3650).
ALTER TABLE campaigns ADD COLUMN max_days_ahead INTEGER NOT NULL DEFAULT 365;
