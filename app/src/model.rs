//! Data shared by the server and the browser. No rules live here: the server decides what a viewer may
//! open (src/domain/access.rs) and sends the answer along in [`Viewer::sections`].

use serde::{Deserialize, Serialize};

/// What a person may be; one person can hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Owner,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Owner, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Owner => "owner",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A screen of the console. Each has one path; the server guards it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Section {
    Overview,
    Audit,
    People,
    Account,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Overview,
        Section::Audit,
        Section::People,
        Section::Account,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Section::Overview => "/",
            Section::Audit => "/audit",
            Section::People => "/people",
            Section::Account => "/account",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Audit => "Audit log",
            Section::People => "People",
            Section::Account => "Account",
        }
    }

    /// The section a page path belongs to (`/audit/...` belongs to Audit).
    pub fn of_path(path: &str) -> Option<Section> {
        if path == "/" || path.is_empty() {
            return Some(Section::Overview);
        }
        Section::ALL
            .into_iter()
            .filter(|s| *s != Section::Overview)
            .find(|s| {
                let p = s.path();
                path == p
                    || path
                        .strip_prefix(p)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRef {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// The signed-in person as the console sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub tenants: Vec<TenantRef>,
    /// Sections this viewer may open, in navigation order.
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub tenant: Option<String>,
    pub data: String,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `before` to fetch the next (older) page; `None` at the start of the log.
    pub older: Option<i64>,
}

/// The outcome of recomputing the whole audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainReport {
    Intact { events: u64 },
    Broken { seq: i64, reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub tenants: Vec<String>,
    pub active: bool,
    /// RFC 3339 time until which sign-in is locked, if it is.
    pub locked_until: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct People {
    pub tenants: Vec<TenantRef>,
    pub people: Vec<PersonRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_section() {
        assert_eq!(Section::of_path("/"), Some(Section::Overview));
        assert_eq!(Section::of_path("/audit"), Some(Section::Audit));
        assert_eq!(Section::of_path("/audit/12"), Some(Section::Audit));
        assert_eq!(Section::of_path("/auditx"), None);
        assert_eq!(Section::of_path("/nowhere"), None);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
