-- A case's history, newest first, is walked in the index's own order and stops at the page's end: with the
-- tenant first, the rows of every tenant the viewer sees had to be gathered and sorted (a busy case has
-- thousands). A case id belongs to one tenant's systems, so the tenant test on the few rows met is enough.
DROP INDEX held_actions_by_case;
CREATE INDEX held_actions_by_case ON held_actions (case_id, received_at, id);
