-- 0008: at every ARI (re)connect the scheduler looks for answered calls whose end was never
-- recorded (recovery.settleAnsweredCalls); this keeps that a short index walk on a long call log.
CREATE INDEX call_attempts_answered_open ON call_attempts(started_at) WHERE outcome = 'ANSWERED' AND ended_at IS NULL;
