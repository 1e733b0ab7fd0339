-- 0006: listings at scale. Measured with bench/scale.ts at 200,000 callbacks: the first page of
-- GET /callbacks (ordered by due time) took 290 ms p50 because SQLite sorted the whole table, and
-- page 201 by cursor 460 ms. These let it walk an index instead.
CREATE INDEX callbacks_due ON callbacks(due_at, id);
CREATE INDEX callbacks_campaign_due ON callbacks(campaign_id, due_at, id);
CREATE INDEX callbacks_owner_due ON callbacks(owner_agent_id, due_at, id);
