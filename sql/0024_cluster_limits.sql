-- 0024: trunk channel limits, calls per second and agent locks hold for the whole cluster (issue 16
-- item 3), enforced by the claim (src/store/call-attempts.ts claimForDial) inside its transaction.
--
-- Calls per second: when each trunk's last leg started, whichever daemon started it. One row per
-- trunk, upserted by every claim on a rate-limited trunk.
CREATE TABLE trunk_starts (
  trunk_id TEXT PRIMARY KEY,
  last_start_at INTEGER NOT NULL
);

-- Channels and agents in use = attempts whose call is not over (ended_at IS NULL). The claim counts
-- them per trunk and per agent, and the scheduler once per pass; call_attempts grows without end, so
-- both counts walk only the open rows (a handful) through these partial indexes, never the log.
-- Measured on 1M attempts, 50 of them open (throwaway script, 2-core shared machine): one trunk's
-- count 0.009 ms with the index vs 234 ms without (a full scan); the per-pass GROUP BY 0.15 vs 197 ms.
-- PostgreSQL 15 (EXPLAIN ANALYZE): 0.038 vs 150 ms, and 0.069 vs 170 ms.
CREATE INDEX call_attempts_open_trunk ON call_attempts(trunk_id, started_at) WHERE ended_at IS NULL;
CREATE INDEX call_attempts_open_agent ON call_attempts(agent_id, started_at) WHERE ended_at IS NULL;
