-- Agents without standing secrets (issue 12).

-- Receipt keys rotate: the highest position signs; every key stays published so old receipts verify.
ALTER TABLE receipt_keys ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX receipt_keys_by_position ON receipt_keys (position);

-- Issuers a tenant trusts to vouch for its agents' workload identity: an OIDC issuer (`iss`) or a SPIFFE
-- trust domain (`spiffe://…`), with the JWKS URL to fetch keys from or a pasted JWKS.
CREATE TABLE trusted_issuers (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    jwks_url    TEXT,
    jwks        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    UNIQUE (tenant_id, issuer)
);

-- The one workload subject an agent is, and whether it may hold owner-minted long-lived credentials.
ALTER TABLE agents ADD COLUMN workload_subject TEXT;
ALTER TABLE agents ADD COLUMN workload_only BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX agents_by_workload_subject ON agents (tenant_id, workload_subject);

-- Just-in-time credentials: bound to one case and a subset of the agent's action types (JSON array), and
-- the workload subject that obtained them.
ALTER TABLE agent_credentials ADD COLUMN case_id TEXT;
ALTER TABLE agent_credentials ADD COLUMN action_types TEXT;
ALTER TABLE agent_credentials ADD COLUMN subject TEXT;
CREATE INDEX agent_credentials_by_case ON agent_credentials (agent_id, case_id);
