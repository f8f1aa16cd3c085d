-- Provenance: everyone who could have produced a request, kept as append-only history instead of single
-- fields that later changes overwrite. Rows are inserted, never updated or deleted. The rule that reads them
-- is `may_decide` in src/domain/review.rs.

-- Who holds authority over what an agent may ask: who registered it, bound its workload subject or widened
-- its scope, each remembered for as long as the agent lives.
CREATE TABLE agent_authority (
    agent_id  BLOB NOT NULL REFERENCES agents (id),
    user_id   BLOB NOT NULL REFERENCES users (id),
    path      TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (agent_id, user_id, path)
);
INSERT INTO agent_authority (agent_id, user_id, path, at)
    SELECT id, registered_by, 'registered_agent', created_at FROM agents WHERE registered_by IS NOT NULL;
INSERT INTO agent_authority (agent_id, user_id, path, at)
    SELECT id, scope_changed_by, 'changed_scope', created_at FROM agents WHERE scope_changed_by IS NOT NULL
    ON CONFLICT DO NOTHING;

-- Who registered or changed a trusted issuer: whoever sets its keys can sign tokens for its subjects.
CREATE TABLE issuer_authority (
    issuer_id BLOB NOT NULL REFERENCES trusted_issuers (id),
    user_id   BLOB NOT NULL REFERENCES users (id),
    path      TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (issuer_id, user_id, path)
);
INSERT INTO issuer_authority (issuer_id, user_id, path, at)
    SELECT id, created_by, 'registered_issuer', created_at FROM trusted_issuers WHERE created_by IS NOT NULL;

-- A case credential's parent (the credential it was exchanged from) and the issuer whose token obtained it.
ALTER TABLE agent_credentials ADD COLUMN parent_id BLOB REFERENCES agent_credentials (id);
ALTER TABLE agent_credentials ADD COLUMN issuer_id BLOB REFERENCES trusted_issuers (id);
CREATE INDEX agent_credentials_by_parent ON agent_credentials (parent_id);

-- The issuer whose key signed the workload token a held action was submitted with.
ALTER TABLE held_actions ADD COLUMN issuer_id BLOB REFERENCES trusted_issuers (id);

-- Who could have produced each held action, recorded at intake in the same transaction as the action.
CREATE TABLE held_action_provenance (
    held_action_id BLOB NOT NULL REFERENCES held_actions (id),
    user_id        BLOB NOT NULL REFERENCES users (id),
    path           TEXT NOT NULL,
    PRIMARY KEY (held_action_id, user_id, path)
);
INSERT INTO held_action_provenance (held_action_id, user_id, path)
    SELECT h.id, c.issued_by, 'minted_credential' FROM held_actions h
    JOIN agent_credentials c ON c.id = h.credential_id WHERE c.issued_by IS NOT NULL;
INSERT INTO held_action_provenance (held_action_id, user_id, path)
    SELECT h.id, a.owner_id, 'owner' FROM held_actions h JOIN agents a ON a.id = h.agent_id;
INSERT INTO held_action_provenance (held_action_id, user_id, path)
    SELECT h.id, a.sponsor_id, 'sponsor' FROM held_actions h JOIN agents a ON a.id = h.agent_id
    WHERE a.sponsor_id IS NOT NULL;
INSERT INTO held_action_provenance (held_action_id, user_id, path)
    SELECT h.id, g.user_id, g.path FROM held_actions h JOIN agent_authority g ON g.agent_id = h.agent_id;

-- How each person's account came to be able to decide: who created it, set its password or granted it the
-- supervisor role. Someone who provisioned an approver could sign in as them or chose them.
CREATE TABLE account_provenance (
    user_id  BLOB NOT NULL REFERENCES users (id),
    by_user  BLOB NOT NULL REFERENCES users (id),
    path     TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (user_id, by_user, path)
);
-- Accounts created before this table from the console: their creator, as the audit log names them.
INSERT INTO account_provenance (user_id, by_user, path, at)
    SELECT u.id, b.id, 'created_account', u.created_at FROM audit_events e
    JOIN users u ON u.id = unhex(replace(substr(e.subject, 6), '-', ''))
    JOIN users b ON b.id = unhex(replace(substr(e.actor, 6), '-', ''))
    WHERE e.kind = 'user.created' AND e.subject LIKE 'user:%' AND e.actor LIKE 'user:%' AND b.id <> u.id
    ON CONFLICT DO NOTHING;
