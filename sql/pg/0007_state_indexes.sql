-- 0007 (PostgreSQL mirror of sql/0007_state_indexes.sql): the same indexes.
CREATE INDEX callbacks_state_due ON callbacks(state, due_at, id);
CREATE INDEX callbacks_campaign_state_due ON callbacks(campaign_id, state, due_at, id);
