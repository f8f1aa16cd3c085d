-- The review workflow: who holds an item, the votes cast, the final outcome, and its delivery to the agent.
ALTER TABLE held_actions ADD COLUMN approvals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE held_actions ADD COLUMN outcome_reason TEXT;
-- A narrowed amount, in the action's currency; NULL means as requested.
ALTER TABLE held_actions ADD COLUMN approved_value TEXT;
ALTER TABLE held_actions ADD COLUMN decided_by UUID REFERENCES users (id);
ALTER TABLE held_actions ADD COLUMN receipt TEXT;
ALTER TABLE held_actions ADD COLUMN claimed_by UUID REFERENCES users (id);
ALTER TABLE held_actions ADD COLUMN claimed_until TIMESTAMPTZ;

-- The queue walks pending items by deadline, whatever their tenants; the expiry worker finds the overdue
-- ones the same way. Partial, so it holds only what is pending. It replaces the tenant-first index, over which
-- PostgreSQL sorted every pending row of the viewer's tenants for each page.
DROP INDEX held_actions_queue;
CREATE INDEX held_actions_pending ON held_actions (expires_at, id) WHERE status = 'pending';
CREATE INDEX held_actions_by_agent ON held_actions (agent_id, status, expires_at);
-- The case view's history: an agent's and a customer's actions, newest first, and what was approved lately.
CREATE INDEX held_actions_agent_history ON held_actions (agent_id, received_at);
-- Covering: the 24-hour approved total reads the index alone.
CREATE INDEX held_actions_agent_decided ON held_actions
    (agent_id, status, decided_at, amount_value, approved_value, amount_currency);
CREATE INDEX held_actions_by_customer ON held_actions (tenant_id, customer_id, received_at);

-- Pending counts per tenant, tier, action type and agent, kept with every change: the queue's per-tier
-- counts cost a few rows, not a scan of everything pending.
CREATE TABLE queue_counts (
    tenant_id    UUID NOT NULL REFERENCES tenants (id),
    risk_tier    TEXT NOT NULL,
    action_type  TEXT NOT NULL,
    agent_id     UUID NOT NULL REFERENCES agents (id),
    pending      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, risk_tier, action_type, agent_id)
);
INSERT INTO queue_counts (tenant_id, risk_tier, action_type, agent_id, pending)
    SELECT tenant_id, risk_tier, action_type, agent_id, COUNT(*) FROM held_actions WHERE status = 'pending'
    GROUP BY tenant_id, risk_tier, action_type, agent_id;

-- One vote per reviewer per action: nobody counts twice.
CREATE TABLE reviews (
    held_action_id  UUID NOT NULL REFERENCES held_actions (id),
    reviewer_id     UUID NOT NULL REFERENCES users (id),
    approve         BOOLEAN NOT NULL,
    reason          TEXT,
    approved_value  TEXT,
    stepped_up      BOOLEAN NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (held_action_id, reviewer_id)
);

-- The transactional outbox: written with the outcome, drained by the delivery worker.
CREATE TABLE webhook_deliveries (
    id               UUID PRIMARY KEY,
    agent_id         UUID NOT NULL REFERENCES agents (id),
    held_action_id   UUID NOT NULL REFERENCES held_actions (id),
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ,
    last_attempt_at  TIMESTAMPTZ,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_agent ON webhook_deliveries (agent_id, created_at);

-- The key that signs outcome receipts, made once per installation.
CREATE TABLE receipt_keys (
    id          TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
