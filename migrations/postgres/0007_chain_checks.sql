-- Verifications of the audit chain, kept so the console shows the last result, the head it reached and when.
-- Ids are time-ordered (UUID v7): the newest is the last. `counts` (JSON) holds the events verified per
-- tenant and per person, so each reader is told of their own.
CREATE TABLE chain_checks (
    id             UUID PRIMARY KEY,
    started_by     TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ NOT NULL,
    checked        BIGINT NOT NULL,
    head_seq       BIGINT,
    head_hash      TEXT,
    broken_seq     BIGINT,
    broken_reason  TEXT,
    counts         TEXT NOT NULL
);
