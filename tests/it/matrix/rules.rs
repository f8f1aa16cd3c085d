//! Who may reach what, written out here independently of `src/domain/access.rs` so that loosening the code
//! fails the matrix. Roles are read in the object's tenant: a person who is admin in one tenant and auditor
//! in another has no admin powers in the second.

use countersign::domain::Role;
use Role::*;

/// The rule of one server function.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// Signing in and out: tried on their own (they change who is signed in).
    Session,
    /// Anyone, signed in or not.
    Anyone,
    /// Anyone signed in.
    SignedIn,
    /// Names no tenant's object: a role among these in any of the person's tenants.
    Any(&'static [Role]),
    /// Names an object (or tenant): a role among these in its tenant.
    In(&'static [Role]),
    /// An agent's object: an admin of its tenant, or its owner (holding the owner role there).
    Manage,
    /// A hand-over: only the person it proposes.
    Recipient,
}

/// Every server function's rule; one without a rule fails the test.
pub fn rule(endpoint: &str) -> Rule {
    use Rule::*;
    match endpoint {
        "login" | "logout" => Session,
        "viewer" => Anyone,
        "account/password" => SignedIn,
        "queue/page" | "queue/case" | "queue/release" => In(&[Admin, Supervisor]),
        // Admins watch the queue; only supervisors take an item to decide it.
        "queue/claim" | "queue/renew" | "queue/decide" => In(&[Supervisor]),
        "queue/step-up" => Any(&[Admin, Supervisor]),
        "history/page" => In(&[Admin, Auditor, Supervisor]),
        "history/record" => In(&[Admin, Auditor]),
        "insights" | "insights/sample" | "insights/verdict" => In(&[Admin, Auditor]),
        "audit/page" => In(&[Admin, Auditor]),
        "audit/verify" | "audit/verify/status" => Any(&[Admin, Auditor]),
        "agents/list" => Any(&[Admin, Owner]),
        "agents/options" | "people" | "people/admin" | "tenants/add" => Any(&[Admin]),
        "agents/create" | "agents/issuers/add" => In(&[Admin]),
        "agents/issuers/change" | "agents/issuers/remove" => In(&[Admin]),
        "people/add" | "people/edit" | "people/active" | "people/unlock" => In(&[Admin]),
        "agents/get" | "agents/update" | "agents/credentials/mint" | "agents/credentials/revoke" => Manage,
        "agents/deliveries/redeliver" | "agents/state" | "agents/handover/propose" => Manage,
        "agents/handover/withdraw" | "agents/sponsor" | "agents/review/evidence" | "agents/review/attest" => Manage,
        "agents/handover/answer" => Recipient,
        other => panic!("server function /api/{other} is not in the authorization matrix: add its rule"),
    }
}

/// The pages' rule, by first path segment: a section opens to a role among these in any tenant.
pub fn page(path: &str) -> Option<&'static [Role]> {
    if path == "/agents/new" {
        return Some(&[Admin]);
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    Some(match first {
        "" | "account" | "login" => return None,
        "queue" => &[Admin, Supervisor],
        "history" => &[Admin, Auditor, Supervisor],
        "insights" | "audit" => &[Admin, Auditor],
        "agents" => &[Admin, Owner],
        "people" => &[Admin],
        other => panic!("page /{other} is not in the authorization matrix: add its rule"),
    })
}

/// The rule of a page of one object, beyond its section's.
pub fn page_object(route: &str) -> Rule {
    match route.trim_start_matches('/').split('/').next().unwrap_or_default() {
        "queue" => Rule::In(&[Admin, Supervisor]),
        "history" => Rule::In(&[Admin, Auditor]),
        "agents" => Rule::Manage,
        other => panic!("page of one object /{other} is not in the authorization matrix: add its rule"),
    }
}

/// Functions and routes that name a tenant by its slug. One that is not the person's answers like one that
/// does not exist ("not one of your tenants", 422) once the person's role allows the call at all.
pub fn names_tenant(endpoint: &str) -> bool {
    matches!(
        endpoint,
        "queue/page"
            | "history/page"
            | "audit/page"
            | "insights"
            | "insights/sample"
            | "agents/create"
            | "agents/issuers/add"
            | "people/add"
            | "people/edit"
            | "/history/export"
            | "/audit/export"
    )
}

/// Whether the person holds one of the rule's roles in any tenant (the role check passes; the tenant's
/// is next).
pub fn role_anywhere(rule: Rule, who: Option<&Persona>) -> bool {
    let Some(who) = who else { return false };
    match rule {
        Rule::In(wanted) | Rule::Any(wanted) => who.all_roles().iter().any(|r| wanted.contains(r)),
        Rule::Manage => who.all_roles().iter().any(|r| [Admin, Owner].contains(r)),
        _ => true,
    }
}

/// The console's other routes (`countersign::web::console_routes`): who may open each.
pub fn console_route(path: &str) -> Rule {
    match path {
        "/queue/events" => Rule::Any(&[Admin, Supervisor]),
        "/history/export" => Rule::In(&[Admin, Auditor, Supervisor]),
        "/audit/export" => Rule::In(&[Admin, Auditor]),
        other => panic!("console route {other} is not in the authorization matrix: add its rule"),
    }
}

/// How the agent-facing API authorises each operation of its OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRule {
    /// Published for anyone (receipt keys).
    Public,
    /// The agent's credential, acting for itself (no object named).
    Agent,
    /// The agent's credential, on one of its own held actions: another's answers like a missing one.
    OwnHeld,
    /// The agent's credential, on one of its cases: another agent's case is simply not its own.
    OwnCase,
}

pub fn api(method: &str, path: &str) -> ApiRule {
    match (method, path) {
        ("get", "/api/v1/receipt-key") | ("get", "/.well-known/jwks.json") => ApiRule::Public,
        ("post", "/api/v1/held-actions") | ("post", "/api/v1/credentials") => ApiRule::Agent,
        ("get", "/api/v1/held-actions/{id}") | ("delete", "/api/v1/held-actions/{id}") => ApiRule::OwnHeld,
        ("post", "/api/v1/cases/{case_id}/close") => ApiRule::OwnCase,
        (m, p) => panic!("API operation {m} {p} is not in the authorization matrix: add its rule"),
    }
}

/// Someone signing in: the roles they hold in each of their tenants.
pub struct Persona {
    pub name: &'static str,
    pub memberships: &'static [(&'static str, &'static [Role])],
}

/// Every role alone, several roles at once, and one person in two tenants with a different role in each.
pub const PERSONAS: &[Persona] = &[
    Persona { name: "admin", memberships: &[("acme", &[Admin])] },
    Persona { name: "supervisor", memberships: &[("acme", &[Supervisor])] },
    Persona { name: "owner", memberships: &[("acme", &[Owner])] },
    Persona { name: "auditor", memberships: &[("acme", &[Auditor])] },
    Persona { name: "sup-aud", memberships: &[("acme", &[Supervisor, Auditor])] },
    Persona { name: "own-sup", memberships: &[("acme", &[Owner, Supervisor])] },
    Persona { name: "everything", memberships: &[("acme", &[Admin, Supervisor, Owner, Auditor])] },
    Persona { name: "two-tenants", memberships: &[("acme", &[Admin]), ("globex", &[Auditor])] },
];

impl Persona {
    pub fn email(&self) -> String {
        format!("{}@matrix.test", self.name)
    }

    pub fn roles_in(&self, tenant: &str) -> Vec<Role> {
        self.memberships.iter().filter(|(t, _)| *t == tenant).flat_map(|(_, r)| r.iter().copied()).collect()
    }

    pub fn all_roles(&self) -> Vec<Role> {
        let mut all: Vec<Role> = self.memberships.iter().flat_map(|(_, r)| r.iter().copied()).collect();
        all.dedup();
        all
    }

    pub fn tenants(&self) -> Vec<&'static str> {
        self.memberships.iter().map(|(t, _)| *t).collect()
    }
}

/// Whether `who` (None: no one signed in) may do what `rule` guards to an object of `tenant` (None: names
/// nothing, or a nonexistent object), owned by `owner` and handed over to `recipient`.
pub fn may(rule: Rule, who: Option<&Persona>, tenant: Option<&str>, owner: &str, recipient: &str) -> bool {
    let Some(who) = who else { return matches!(rule, Rule::Anyone) };
    let has = |roles: &[Role], wanted: &[Role]| roles.iter().any(|r| wanted.contains(r));
    match (rule, tenant) {
        (Rule::Session | Rule::Anyone | Rule::SignedIn, _) => true,
        (Rule::Any(wanted), _) => has(&who.all_roles(), wanted),
        (_, None) => false,
        (Rule::In(wanted), Some(t)) => has(&who.roles_in(t), wanted),
        (Rule::Manage, Some(t)) => {
            let roles = who.roles_in(t);
            roles.contains(&Admin) || (roles.contains(&Owner) && who.email() == owner)
        }
        (Rule::Recipient, Some(t)) => !who.roles_in(t).is_empty() && who.email() == recipient,
    }
}
