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

-- Contentless: the text lives in the body; the index maps words to held_actions' rowids. A submission's body
-- never changes after intake, so indexing it on insert, in the intake transaction, keeps the index exact.
CREATE VIRTUAL TABLE held_actions_text USING fts5 (intent, summary, content = '', tokenize = 'porter unicode61');
INSERT INTO held_actions_text (rowid, intent, summary)
    SELECT rowid, json_extract(body, '$.intent'), json_extract(body, '$.case.summary') FROM held_actions;
CREATE TRIGGER held_actions_text_on_insert AFTER INSERT ON held_actions BEGIN
    INSERT INTO held_actions_text (rowid, intent, summary)
        VALUES (new.rowid, json_extract(new.body, '$.intent'), json_extract(new.body, '$.case.summary'));
END;
