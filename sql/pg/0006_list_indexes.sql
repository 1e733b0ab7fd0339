-- 0006 (PostgreSQL mirror of sql/0006_list_indexes.sql): the same indexes.
CREATE INDEX callbacks_due ON callbacks(due_at, id);
CREATE INDEX callbacks_campaign_due ON callbacks(campaign_id, due_at, id);
CREATE INDEX callbacks_owner_due ON callbacks(owner_agent_id, due_at, id);
