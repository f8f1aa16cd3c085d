-- The approved totals (the case view's "approved in the last 24 hours", an agent's access review) read
-- approved rows only. Without the condition every pending row was entered too, at a place set by its
-- amount: one more scattered page written per submission, on the intake's hot path.
DROP INDEX held_actions_agent_decided;
CREATE INDEX held_actions_agent_decided ON held_actions
    (agent_id, status, decided_at, amount_value, approved_value, amount_currency) WHERE status = 'approved';
