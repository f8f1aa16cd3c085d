-- The outbox carries each outcome to every channel the agent is told on: its webhook, and JetStream when
-- the servers publish there (src/broker/outcomes.rs). Each channel's worker takes only its own rows.
ALTER TABLE webhook_deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'nats'));
CREATE INDEX webhook_deliveries_due_by_channel ON webhook_deliveries (channel, state, next_attempt_at);
