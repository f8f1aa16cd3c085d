-- Decision history for auditors: newest first over everything, the filters they use most, and free text
-- over the agent's intent and the case summary.
CREATE INDEX held_actions_history ON held_actions (received_at, id);
CREATE INDEX held_actions_by_case ON held_actions (tenant_id, case_id, received_at);
CREATE INDEX held_actions_by_status ON held_actions (status, received_at, id);
-- "My decisions" and the reviewer filter.
CREATE INDEX reviews_by_reviewer ON reviews (reviewer_id, held_action_id);
-- The audit log's filters.
CREATE INDEX audit_events_by_kind ON audit_events (kind, seq);
CREATE INDEX audit_events_by_actor ON audit_events (actor, seq);

-- A submission's body never changes after intake: its words are computed once, with the row.
ALTER TABLE held_actions ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', coalesce((body::jsonb) ->> 'intent', '') || ' ' || coalesce((body::jsonb) -> 'case' ->> 'summary', ''))
) STORED;
CREATE INDEX held_actions_search ON held_actions USING GIN (search);
