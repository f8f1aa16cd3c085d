-- Trusted issuers are edited and removed, and removal keeps the row (who registered it stays known): a
-- removed issuer has `removed_at`, and only live issuers are unique per tenant. SQLite cannot drop a
-- table's UNIQUE constraint, so the table is rebuilt with a partial unique index instead.
CREATE TABLE trusted_issuers_new (
    id          BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    jwks_url    TEXT,
    jwks        TEXT,
    created_at  TEXT NOT NULL,
    created_by  BLOB,
    changed_at  TEXT,
    changed_by  BLOB,
    removed_at  TEXT,
    removed_by  BLOB
);
INSERT INTO trusted_issuers_new (id, tenant_id, issuer, audience, jwks_url, jwks, created_at, created_by)
    SELECT id, tenant_id, issuer, audience, jwks_url, jwks, created_at, created_by FROM trusted_issuers;
DROP TABLE trusted_issuers;
ALTER TABLE trusted_issuers_new RENAME TO trusted_issuers;
CREATE UNIQUE INDEX trusted_issuers_live ON trusted_issuers (tenant_id, issuer) WHERE removed_at IS NULL;
CREATE INDEX trusted_issuers_by_name ON trusted_issuers (issuer);
