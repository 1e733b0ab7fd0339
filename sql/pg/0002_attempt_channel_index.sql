-- 0002 (PostgreSQL mirror of sql/0002): finding the attempt a stray channel belongs to must not scan
-- call_attempts, which grows without end.
CREATE INDEX call_attempts_agent_channel ON call_attempts(agent_channel_id);
CREATE INDEX call_attempts_customer_channel ON call_attempts(customer_channel_id);
