-- Roles belong to a membership: a person's role in one tenant grants nothing in another. Everyone keeps
-- exactly what they had: each role they held is copied into each of their memberships. `user_roles` now
-- holds only the roles of people who belong to no tenant.

CREATE TABLE membership_roles (
    user_id    BLOB NOT NULL,
    tenant_id  BLOB NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'owner', 'auditor')),
    PRIMARY KEY (user_id, tenant_id, role),
    FOREIGN KEY (user_id, tenant_id) REFERENCES memberships (user_id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX membership_roles_by_tenant ON membership_roles (tenant_id, role);

INSERT INTO membership_roles (user_id, tenant_id, role)
SELECT m.user_id, m.tenant_id, r.role FROM memberships m JOIN user_roles r ON r.user_id = m.user_id;

DELETE FROM user_roles WHERE user_id IN (SELECT user_id FROM memberships);
