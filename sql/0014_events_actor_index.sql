-- The events_actor trigger (0010) finds a change's events by callback and instant. With only
-- events_at to go on, SQLite scanned every event of that instant: a bulk import that writes
-- many events at one `at` made each audit insert scan all of them (500 audit rows took 50 s
-- with 100k events at one instant). This index makes it an exact lookup.
CREATE INDEX events_callback_at ON events(callback_id, at);
