-- Rollups for the auditors' pictures, kept in the same transactions as the decisions they count, so
-- /insights reads a few rows per day instead of scanning the history.

-- Settled actions per day (UTC, of the decision), tenant, action type and outcome, by time-to-decision bucket
-- (src/domain/insights.rs, BUCKET_BOUNDS; the backfill below spells out the same bounds).
CREATE TABLE rollup_decisions (
    tenant_id    BLOB NOT NULL REFERENCES tenants (id),
    day          TEXT NOT NULL,
    action_type  TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    bucket       BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, action_type, outcome, bucket)
);

-- Votes per day (UTC), tenant, reviewer and action type; fast approvals came sooner after the reviewer opened
-- the case than reading it takes (votes cast before this migration are not classified).
CREATE TABLE rollup_votes (
    tenant_id       BLOB NOT NULL REFERENCES tenants (id),
    day             TEXT NOT NULL,
    reviewer_id     BLOB NOT NULL REFERENCES users (id),
    action_type     TEXT NOT NULL,
    approvals       BIGINT NOT NULL,
    denials         BIGINT NOT NULL,
    fast_approvals  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, reviewer_id, action_type)
);

INSERT INTO rollup_decisions (tenant_id, day, action_type, outcome, bucket, n)
    SELECT tenant_id, day, action_type, status, bucket, COUNT(*) FROM (
        SELECT tenant_id, substr(decided_at, 1, 10) AS day, action_type, status,
        CASE
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 1 THEN 0
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 2 THEN 1
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 3 THEN 2
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 5 THEN 3
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 8 THEN 4
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 10 THEN 5
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 15 THEN 6
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 20 THEN 7
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 30 THEN 8
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 45 THEN 9
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 60 THEN 10
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 90 THEN 11
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 120 THEN 12
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 180 THEN 13
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 240 THEN 14
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 300 THEN 15
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 420 THEN 16
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 600 THEN 17
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 900 THEN 18
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 1200 THEN 19
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 1800 THEN 20
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 2700 THEN 21
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 3600 THEN 22
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 5400 THEN 23
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 7200 THEN 24
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 10800 THEN 25
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 14400 THEN 26
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 21600 THEN 27
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 43200 THEN 28
        WHEN (julianday(decided_at) - julianday(received_at)) * 86400.0 <= 86400 THEN 29
        ELSE 30 END AS bucket
        FROM held_actions WHERE status <> 'pending' AND decided_at IS NOT NULL
    ) GROUP BY tenant_id, day, action_type, status, bucket;

-- Votes, and the deciding votes of rows that carry no vote rows (bulk-loaded history).
INSERT INTO rollup_votes (tenant_id, day, reviewer_id, action_type, approvals, denials, fast_approvals)
    SELECT tenant_id, day, reviewer_id, action_type, SUM(approve), SUM(1 - approve), 0 FROM (
        SELECT h.tenant_id, substr(r.at, 1, 10) AS day, r.reviewer_id, h.action_type, CAST(r.approve AS INTEGER) AS approve
        FROM reviews r JOIN held_actions h ON h.id = r.held_action_id
        UNION ALL
        SELECT h.tenant_id, substr(h.decided_at, 1, 10), h.decided_by, h.action_type, CASE WHEN h.status = 'approved' THEN 1 ELSE 0 END
        FROM held_actions h WHERE h.decided_by IS NOT NULL AND h.status IN ('approved', 'denied')
            AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.held_action_id = h.id)
    ) GROUP BY tenant_id, day, reviewer_id, action_type;

-- Quality assurance: decisions an auditor drew at random for re-review, and their verdicts.
CREATE TABLE qa_samples (
    id              BLOB PRIMARY KEY,
    tenant_id       BLOB NOT NULL REFERENCES tenants (id),
    held_action_id  BLOB NOT NULL UNIQUE REFERENCES held_actions (id),
    drawn_by        BLOB NOT NULL REFERENCES users (id),
    drawn_at        TEXT NOT NULL,
    verdict         TEXT CHECK (verdict IN ('agree', 'disagree')),
    note            TEXT,
    reviewed_by     BLOB REFERENCES users (id),
    reviewed_at     TEXT
);
CREATE INDEX qa_samples_by_tenant ON qa_samples (tenant_id, drawn_at);
