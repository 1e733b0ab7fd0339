-- 0007: filtered listings at scale. Measured with bench/scale.ts at 1,000,000 callbacks: "state=ACTIVE,
-- campaign=C2" took 176 ms p50, because the open callbacks sit at the far end of the campaign's
-- due-time index, behind a year of history. With the state in the index they come first.
CREATE INDEX callbacks_state_due ON callbacks(state, due_at, id);
CREATE INDEX callbacks_campaign_state_due ON callbacks(campaign_id, state, due_at, id);
