-- Trusted issuers are edited and removed, and removal keeps the row (who registered it stays known): a
-- removed issuer has `removed_at`, and only live issuers are unique per tenant.
ALTER TABLE trusted_issuers ADD COLUMN changed_at TIMESTAMPTZ;
ALTER TABLE trusted_issuers ADD COLUMN changed_by UUID;
ALTER TABLE trusted_issuers ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE trusted_issuers ADD COLUMN removed_by UUID;
ALTER TABLE trusted_issuers DROP CONSTRAINT trusted_issuers_tenant_id_issuer_key;
CREATE UNIQUE INDEX trusted_issuers_live ON trusted_issuers (tenant_id, issuer) WHERE removed_at IS NULL;
CREATE INDEX trusted_issuers_by_name ON trusted_issuers (issuer);
