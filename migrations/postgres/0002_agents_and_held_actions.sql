-- A password change moves the epoch on; sessions from an older epoch end.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- Agents: non-human identities with a named owner, a scope, and credentials of their own.
CREATE TABLE agents (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    owner_id        UUID NOT NULL REFERENCES users (id),
    sponsor_id      UUID REFERENCES users (id),
    state           TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'retired')),
    webhook_url     TEXT,
    -- Needed in clear to sign webhooks (HMAC); shown to the owner once.
    webhook_secret  TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX agents_by_owner ON agents (owner_id);

CREATE TABLE agent_allowances (
    agent_id        UUID NOT NULL REFERENCES agents (id),
    action_type     TEXT NOT NULL,
    limit_value     TEXT,
    limit_currency  TEXT,
    PRIMARY KEY (agent_id, action_type)
);

CREATE TABLE agent_credentials (
    id            UUID PRIMARY KEY,
    agent_id      UUID NOT NULL REFERENCES agents (id),
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX agent_credentials_by_agent ON agent_credentials (agent_id);

-- Held actions: the submission as received (canonical JSON) plus the columns the queue sorts and filters by.
CREATE TABLE held_actions (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants (id),
    agent_id         UUID NOT NULL REFERENCES agents (id),
    idempotency_key  TEXT NOT NULL,
    action_type      TEXT NOT NULL,
    amount_value     TEXT,
    amount_currency  TEXT,
    risk_tier        TEXT NOT NULL CHECK (risk_tier IN ('high', 'critical')),
    case_id          TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    body             TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
    received_at      TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    decided_at       TIMESTAMPTZ,
    UNIQUE (agent_id, idempotency_key)
);
CREATE INDEX held_actions_queue ON held_actions (tenant_id, status, expires_at);
