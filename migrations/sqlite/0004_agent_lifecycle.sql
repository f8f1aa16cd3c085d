-- The agent's life: why and when its state last changed, its access reviews, orphaning, hand-overs; and
-- one-time passwords for people an admin adds.

-- NULL: registration plus the review interval (agents registered before reviews existed).
ALTER TABLE agents ADD COLUMN review_due_at TEXT;
ALTER TABLE agents ADD COLUMN last_reviewed_at TEXT;
ALTER TABLE agents ADD COLUMN state_reason TEXT;
ALTER TABLE agents ADD COLUMN state_changed_at TEXT;
-- The actor as the audit log names it (`user:<id>`, `cli`, `system`).
ALTER TABLE agents ADD COLUMN state_changed_by TEXT;
-- Set when its owner can no longer own it; cleared when an owner takes it over.
ALTER TABLE agents ADD COLUMN orphaned_at TEXT;

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE agent_handovers (
    id           BLOB PRIMARY KEY,
    agent_id     BLOB NOT NULL REFERENCES agents (id),
    from_owner   BLOB NOT NULL REFERENCES users (id),
    to_owner     BLOB NOT NULL REFERENCES users (id),
    -- The actor as the audit log names it.
    proposed_by  TEXT NOT NULL,
    proposed_at  TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn', 'lapsed')),
    answered_at  TEXT
);
CREATE INDEX agent_handovers_by_agent ON agent_handovers (agent_id, proposed_at);
CREATE INDEX agent_handovers_by_recipient ON agent_handovers (to_owner, state);
-- At most one open proposal per agent.
CREATE UNIQUE INDEX agent_handovers_one_pending ON agent_handovers (agent_id) WHERE state = 'pending';

-- An agent's timeline reads its own events without scanning the log.
CREATE INDEX audit_events_by_subject ON audit_events (subject, seq);
