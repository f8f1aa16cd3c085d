-- Signed heads of the audit chain (src/domain/checkpoint.rs): the signing key is derived from secret_key,
-- which the database never holds, so whoever can write here can delete checkpoints but not forge one; the
-- exported copies (`countersign audit checkpoints`) are the anchor outside.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);
