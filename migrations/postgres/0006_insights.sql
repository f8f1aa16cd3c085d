-- Rollups for the auditors' pictures, kept in the same transactions as the decisions they count, so
-- /insights reads a few rows per day instead of scanning the history.

-- Settled actions per day (UTC, of the decision), tenant, action type and outcome, by time-to-decision bucket
-- (src/domain/insights.rs, BUCKET_BOUNDS; the backfill below spells out the same bounds).
CREATE TABLE rollup_decisions (
    tenant_id    UUID NOT NULL REFERENCES tenants (id),
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
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    day             TEXT NOT NULL,
    reviewer_id     UUID NOT NULL REFERENCES users (id),
    action_type     TEXT NOT NULL,
    approvals       BIGINT NOT NULL,
    denials         BIGINT NOT NULL,
    fast_approvals  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, reviewer_id, action_type)
);

INSERT INTO rollup_decisions (tenant_id, day, action_type, outcome, bucket, n)
    SELECT tenant_id, day, action_type, status, bucket, COUNT(*) FROM (
        SELECT tenant_id, to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, action_type, status,
        CASE
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 1 THEN 0
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 2 THEN 1
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 3 THEN 2
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 5 THEN 3
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 8 THEN 4
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 10 THEN 5
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 15 THEN 6
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 20 THEN 7
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 30 THEN 8
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 45 THEN 9
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 60 THEN 10
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 90 THEN 11
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 120 THEN 12
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 180 THEN 13
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 240 THEN 14
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 300 THEN 15
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 420 THEN 16
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 600 THEN 17
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 900 THEN 18
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 1200 THEN 19
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 1800 THEN 20
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 2700 THEN 21
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 3600 THEN 22
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 5400 THEN 23
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 7200 THEN 24
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 10800 THEN 25
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 14400 THEN 26
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 21600 THEN 27
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 43200 THEN 28
        WHEN EXTRACT(EPOCH FROM decided_at - received_at) <= 86400 THEN 29
        ELSE 30 END AS bucket
        FROM held_actions WHERE status <> 'pending' AND decided_at IS NOT NULL
    ) settled GROUP BY tenant_id, day, action_type, status, bucket;

-- Votes, and the deciding votes of rows that carry no vote rows (bulk-loaded history).
INSERT INTO rollup_votes (tenant_id, day, reviewer_id, action_type, approvals, denials, fast_approvals)
    SELECT tenant_id, day, reviewer_id, action_type, SUM(approve), SUM(1 - approve), 0 FROM (
        SELECT h.tenant_id, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, r.reviewer_id, h.action_type,
               CASE WHEN r.approve THEN 1 ELSE 0 END AS approve
        FROM reviews r JOIN held_actions h ON h.id = r.held_action_id
        UNION ALL
        SELECT h.tenant_id, to_char(h.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), h.decided_by, h.action_type,
               CASE WHEN h.status = 'approved' THEN 1 ELSE 0 END
        FROM held_actions h WHERE h.decided_by IS NOT NULL AND h.status IN ('approved', 'denied')
            AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.held_action_id = h.id)
    ) votes GROUP BY tenant_id, day, reviewer_id, action_type;

-- Quality assurance: decisions an auditor drew at random for re-review, and their verdicts.
CREATE TABLE qa_samples (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    held_action_id  UUID NOT NULL UNIQUE REFERENCES held_actions (id),
    drawn_by        UUID NOT NULL REFERENCES users (id),
    drawn_at        TIMESTAMPTZ NOT NULL,
    verdict         TEXT CHECK (verdict IN ('agree', 'disagree')),
    note            TEXT,
    reviewed_by     UUID REFERENCES users (id),
    reviewed_at     TIMESTAMPTZ
);
CREATE INDEX qa_samples_by_tenant ON qa_samples (tenant_id, drawn_at);
