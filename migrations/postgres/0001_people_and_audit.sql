-- Tenants, people, their roles and memberships, and the append-only audit chain.

CREATE TABLE tenants (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                    UUID PRIMARY KEY,
    email                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    failed_sign_ins       BIGINT NOT NULL DEFAULT 0,
    failure_window_start  TIMESTAMPTZ,
    locked_until          TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_roles (
    user_id  UUID NOT NULL REFERENCES users (id),
    role     TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'owner', 'auditor')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE memberships (
    user_id    UUID NOT NULL REFERENCES users (id),
    tenant_id  UUID NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX memberships_by_tenant ON memberships (tenant_id);

CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    tenant_id  UUID REFERENCES tenants (id),
    -- Text, not JSONB: the hash covers these exact bytes.
    data       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
