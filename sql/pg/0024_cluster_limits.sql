-- 0024 (PostgreSQL twin of sql/0024_cluster_limits.sql): trunk limits and agent locks for the
-- whole cluster (issue 16 item 3). Several daemons claim here at once; the claim serialises them
-- per agent and per trunk with transaction-scoped advisory locks (src/store/call-attempts.ts).
-- The partial indexes keep the counts on the open rows only: 1M attempts, 50 open, EXPLAIN ANALYZE:
-- one trunk's count 0.038 ms (Index Only Scan) vs 150 ms (Parallel Seq Scan) without them.
CREATE TABLE trunk_starts (
  trunk_id TEXT PRIMARY KEY,
  last_start_at BIGINT NOT NULL
);

CREATE INDEX call_attempts_open_trunk ON call_attempts(trunk_id, started_at) WHERE ended_at IS NULL;
CREATE INDEX call_attempts_open_agent ON call_attempts(agent_id, started_at) WHERE ended_at IS NULL;
