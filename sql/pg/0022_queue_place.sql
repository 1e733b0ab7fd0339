-- 0022 (PostgreSQL mirror of sql/0022_queue_place.sql): inbound callbacks keep their place in line.
-- callbacks.arrived_at: when the caller joined the line (epoch ms; the dialplan's CALLBACKD_ARRIVED,
-- else the creation time of the caller's channel); null for callbacks nobody queued for. Ready
-- callbacks are dialed by arrived_at (or, without one, their due time) first (domain/queue-place.ts).
-- campaigns.inbound_callback_expiry_hours: an inbound callback not placed this long after the caller
-- arrived ends FAILED/EXPIRED (VICIdial's 96 h); 0 = never.
ALTER TABLE callbacks ADD COLUMN arrived_at BIGINT;
ALTER TABLE campaigns ADD COLUMN inbound_callback_expiry_hours INTEGER NOT NULL DEFAULT 96;
