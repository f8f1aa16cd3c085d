-- The agent's life: why and when its state last changed, its access reviews, orphaning, hand-overs; and
-- one-time passwords for people an admin adds.

-- NULL: registration plus the review interval (agents registered before reviews existed).
ALTER TABLE agents ADD COLUMN review_due_at TIMESTAMPTZ;
ALTER TABLE agents ADD COLUMN last_reviewed_at TIMESTAMPTZ;
ALTER TABLE agents ADD COLUMN state_reason TEXT;
ALTER TABLE agents ADD COLUMN state_changed_at TIMESTAMPTZ;
-- The actor as the audit log names it (`user:<id>`, `cli`, `system`).
ALTER TABLE agents ADD COLUMN state_changed_by TEXT;
-- Set when its owner can no longer own it; cleared when an owner takes it over.
ALTER TABLE agents ADD COLUMN orphaned_at TIMESTAMPTZ;

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE agent_handovers (
    id           UUID PRIMARY KEY,
    agent_id     UUID NOT NULL REFERENCES agents (id),
    from_owner   UUID NOT NULL REFERENCES users (id),
    to_owner     UUID NOT NULL REFERENCES users (id),
    -- The actor as the audit log names it.
    proposed_by  TEXT NOT NULL,
    proposed_at  TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn', 'lapsed')),
    answered_at  TIMESTAMPTZ
);
CREATE INDEX agent_handovers_by_agent ON agent_handovers (agent_id, proposed_at);
CREATE INDEX agent_handovers_by_recipient ON agent_handovers (to_owner, state);
-- At most one open proposal per agent.
CREATE UNIQUE INDEX agent_handovers_one_pending ON agent_handovers (agent_id) WHERE state = 'pending';

-- An agent's timeline reads its own events without scanning the log.
CREATE INDEX audit_events_by_subject ON audit_events (subject, seq);
