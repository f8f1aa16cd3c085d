-- Tenants, people, their roles and memberships, and the append-only audit chain.
-- Ids are UUIDv7 stored as 16-byte blobs; times are RFC 3339 text.

CREATE TABLE tenants (
    id          BLOB PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id                    BLOB PRIMARY KEY,
    email                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    active                INTEGER NOT NULL DEFAULT 1,
    failed_sign_ins       INTEGER NOT NULL DEFAULT 0,
    failure_window_start  TEXT,
    locked_until          TEXT,
    created_at            TEXT NOT NULL
);

CREATE TABLE user_roles (
    user_id  BLOB NOT NULL REFERENCES users (id),
    role     TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'owner', 'auditor')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE memberships (
    user_id    BLOB NOT NULL REFERENCES users (id),
    tenant_id  BLOB NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX memberships_by_tenant ON memberships (tenant_id);

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    tenant_id  BLOB REFERENCES tenants (id),
    data       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
