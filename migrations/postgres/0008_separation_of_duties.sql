-- Separation of duties (src/domain/review.rs, `may_decide`): who registered each agent and last changed its
-- scope, who issued each credential, and which credential submitted each held action, so nobody decides an
-- action they could have produced. Rows from before this migration have none of these (NULL: not known).
ALTER TABLE agents ADD COLUMN registered_by UUID REFERENCES users (id);
ALTER TABLE agents ADD COLUMN scope_changed_by UUID REFERENCES users (id);
ALTER TABLE agent_credentials ADD COLUMN issued_by UUID REFERENCES users (id);
ALTER TABLE held_actions ADD COLUMN credential_id UUID REFERENCES agent_credentials (id);
