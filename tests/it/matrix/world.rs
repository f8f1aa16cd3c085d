//! Two tenants with one of everything, the objects a cell consumes made fresh for it, and the snapshot that
//! shows a refused cell changed nothing.

use crate::api::{example, post};
use crate::harness::{TestApp, PASSWORD};
use countersign::domain::Role;
use countersign::service::By;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use uuid::Uuid;

/// What a request aims at: the ids and names its arguments carry.
#[derive(Clone, Debug)]
pub struct Target {
    /// "own", "other" or "none".
    pub label: &'static str,
    pub tenant: String,
    pub agent: String,
    pub held: String,
    pub decided: String,
    pub credential: String,
    pub delivery: String,
    pub handover: String,
    pub person: String,
    pub sample: String,
    /// A trusted issuer of the tenant: its id and its name (typed to confirm its removal).
    pub issuer: String,
    pub issuer_name: String,
    /// The agent's owner, an owner to hand over to, and the person a hand-over proposes.
    pub owner: String,
    pub gus: String,
    pub recipient: String,
    pub token: String,
}

impl Target {
    pub fn exists(&self) -> bool {
        self.label != "none"
    }

    /// Replaces this target's values in `text` with placeholders.
    pub fn blank(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, name) in [
            (&self.held, "<held>"),
            (&self.decided, "<decided>"),
            (&self.agent, "<agent>"),
            (&self.credential, "<credential>"),
            (&self.delivery, "<delivery>"),
            (&self.handover, "<handover>"),
            (&self.person, "<person>"),
            (&self.sample, "<sample>"),
            (&self.issuer, "<issuer>"),
            (&self.issuer_name, "<issuer name>"),
            (&self.owner, "<owner>"),
            (&self.gus, "<gus>"),
            (&self.tenant, "<tenant>"),
        ] {
            out = out.replace(value.as_str(), name);
        }
        out
    }
}

/// One tenant: its objects, and the staff that make decisions and samples in it.
pub struct World {
    pub base: Target,
    supervisor: reqwest::Client,
    auditor: reqwest::Client,
}

pub struct Worlds {
    pub own: World,
    pub other: World,
    pub ghost: Target,
    counter: AtomicUsize,
    pub head: AtomicI64,
}

impl Worlds {
    pub async fn make(app: &TestApp) -> Worlds {
        app.tenant("acme").await;
        app.tenant("globex").await;
        // Each tenant keeps an admin of its own, whatever roles the personas end up with there.
        app.person("admin-globex@matrix.test", &[Role::Admin], &["globex"]).await;
        for p in super::rules::PERSONAS {
            let user = app.person(&p.email(), &p.all_roles(), &p.tenants()).await;
            // Then each membership's own roles, as the people page sets them.
            for tenant in p.tenants() {
                let id = app.store.tenant_by_slug(tenant).await.expect("read").expect("tenant").id;
                let by = countersign::service::By::Operator;
                app.service.set_roles_in(by, user, id, &p.roles_in(tenant)).await.expect("roles");
            }
        }
        let own = World::make(app, "acme", "owner@matrix.test", "owner@matrix.test").await;
        let other = World::make(app, "globex", "own-globex@matrix.test", "own-globex@matrix.test").await;
        let id = || Uuid::now_v7().to_string();
        let ghost = Target {
            label: "none",
            tenant: "ghost-tenant".into(),
            agent: id(),
            held: id(),
            decided: id(),
            credential: id(),
            delivery: id(),
            handover: id(),
            person: id(),
            sample: id(),
            issuer: id(),
            issuer_name: "https://ghost-issuer.test".into(),
            owner: "ghost@nowhere.test".into(),
            gus: "ghost-gus@nowhere.test".into(),
            recipient: "ghost@nowhere.test".into(),
            token: String::new(),
        };
        Worlds { own, other, ghost, counter: AtomicUsize::new(0), head: AtomicI64::new(0) }
    }

    pub fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

impl World {
    async fn make(app: &TestApp, slug: &str, owner: &str, recipient: &str) -> World {
        let gus = format!("gus-{slug}@matrix.test");
        let (sup, aud) = (format!("sup-{slug}@matrix.test"), format!("aud-{slug}@matrix.test"));
        if app.store.user_by_email(owner).await.expect("user").is_none() {
            app.person(owner, &[Role::Owner], &[slug]).await;
        }
        app.person(&gus, &[Role::Owner], &[slug]).await;
        app.person(&sup, &[Role::Supervisor], &[slug]).await;
        app.person(&aud, &[Role::Auditor], &[slug]).await;
        let host = if slug == "acme" { 50 } else { 52 };
        let (supervisor, auditor) = (app.browser_from(host), app.browser_from(host + 1));
        assert!(app.sign_in(&supervisor, &sup, PASSWORD).await.status().is_success());
        assert!(app.sign_in(&auditor, &aud, PASSWORD).await.status().is_success());
        assert!(app.call(&supervisor, "queue/step-up", &[("password", PASSWORD)]).await.status().is_success());
        let (agent, token) = agent(app, slug, owner).await;
        let person = app.store.user_by_email(&gus).await.expect("user").expect("gus").id.to_string();
        let mut base = Target {
            label: if slug == "acme" { "own" } else { "other" },
            tenant: slug.into(),
            agent: agent.to_string(),
            held: String::new(),
            decided: String::new(),
            credential: String::new(),
            delivery: String::new(),
            handover: String::new(),
            person,
            sample: String::new(),
            issuer: String::new(),
            issuer_name: String::new(),
            owner: owner.into(),
            gus,
            recipient: recipient.into(),
            token,
        };
        let mut world = World { base: base.clone(), supervisor, auditor };
        base.held = world.held(app).await;
        base.credential = credential(app, agent).await;
        base.decided = world.decided(app).await;
        base.sample = world.sample(app).await;
        let deliveries = app.store.deliveries(agent, 10).await.expect("deliveries");
        base.delivery = deliveries.first().expect("a webhook message").id.to_string();
        base.handover = handover(app, agent, &base.gus).await;
        (base.issuer, base.issuer_name) = issuer(app, slug).await;
        world.base = base;
        world
    }

    /// A pending held action of this tenant's agent.
    pub async fn held(&self, app: &TestApp) -> String {
        let mut body = example(&Uuid::now_v7().to_string());
        body["case"]["customer"]["id"] = serde_json::json!(format!("cus_{}", self.base.tenant));
        let answer = post(app, &self.base.token, &body).await;
        assert!(answer.status().is_success(), "held action: {}", answer.status());
        let held: serde_json::Value = answer.json().await.expect("held");
        held["id"].as_str().expect("id").to_string()
    }

    /// A held action this tenant's supervisor denied.
    pub async fn decided(&self, app: &TestApp) -> String {
        let id = self.held(app).await;
        let form = [("id", id.as_str()), ("form[verdict]", "deny"), ("form[amount]", ""), ("form[preset]", "")];
        let form = [&form[..], &[("form[reason]", "not needed")]].concat();
        let answer = app.call(&self.supervisor, "queue/decide", &form).await;
        assert!(answer.status().is_success(), "deny: {}", answer.text().await.unwrap_or_default());
        id
    }

    /// A QA sample of one fresh decision, drawn by this tenant's auditor.
    pub async fn sample(&self, app: &TestApp) -> String {
        let decided = self.decided(app).await;
        let form = [("tenant", self.base.tenant.as_str()), ("days", "30"), ("size", "50")];
        let answer = app.call(&self.auditor, "insights/sample", &form).await;
        assert!(answer.status().is_success(), "sample: {}", answer.text().await.unwrap_or_default());
        let tenant = app.store.tenant_by_slug(&self.base.tenant).await.expect("tenant").expect("exists").id;
        let since = countersign::domain::clock::Clock::now(app.clock.as_ref()) - time::Duration::days(1);
        let samples = app.store.samples(&[tenant], since).await.expect("samples");
        let decided: Uuid = decided.parse().expect("uuid");
        samples.iter().find(|s| s.held_action_id == decided).expect("sampled").id.to_string()
    }

    /// The target an endpoint's cell aims at: the tenant's objects, with fresh ones where the call uses
    /// its object up (a suspension, a revocation, a decision).
    pub async fn fresh(&self, app: &TestApp, endpoint: &str) -> Target {
        let mut t = self.base.clone();
        let agent_id = || t.agent.parse::<Uuid>().expect("uuid");
        match endpoint {
            "agents/state" | "agents/handover/propose" | "agents/review/attest" => {
                t.agent = agent(app, &t.tenant, &t.owner).await.0.to_string();
            }
            "agents/credentials/revoke" => t.credential = credential(app, agent_id()).await,
            "agents/deliveries/redeliver" => {
                // A message that was sent and failed (the only kind one may queue again).
                app.db
                    .execute("UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, last_attempt_at = NULL")
                    .await;
            }
            "agents/handover/answer" => {
                let (from, _) = agent(app, &t.tenant, &t.gus).await;
                t.handover = handover(app, from, &t.recipient).await;
            }
            "agents/handover/withdraw" => {
                let (fresh, _) = agent(app, &t.tenant, &t.owner).await;
                t.handover = handover(app, fresh, &t.gus).await;
            }
            "people/edit" | "people/active" | "people/unlock" => {
                let email = format!("p-{}@matrix.test", Uuid::now_v7().simple());
                t.person = app.person(&email, &[Role::Supervisor], &[&t.tenant]).await.to_string();
            }
            "queue/claim" | "queue/renew" | "queue/release" | "queue/decide" => t.held = self.held(app).await,
            "insights/sample" => t.decided = self.decided(app).await,
            "agents/issuers/change" | "agents/issuers/remove" => {
                (t.issuer, t.issuer_name) = issuer(app, &t.tenant).await
            }
            "insights/verdict" => t.sample = self.sample(app).await,
            _ => {}
        }
        t
    }
}

async fn agent(app: &TestApp, slug: &str, owner: &str) -> (Uuid, String) {
    let draft = countersign::service::AgentDraft {
        tenant: slug.into(),
        name: format!("{slug}-bot-{}", Uuid::now_v7().simple()),
        purpose: format!("{slug} purpose"),
        owner_email: owner.into(),
        sponsor_email: None,
        allowances: vec!["refund:500.00EUR".into()],
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
    };
    let (agent, _) = app.service.create_agent(By::Operator, draft).await.expect("agent");
    let (_, token) =
        app.service.issue_credential(By::Operator, agent.id, time::Duration::hours(24)).await.expect("cred");
    (agent.id, token)
}

async fn credential(app: &TestApp, agent: Uuid) -> String {
    let (c, _) = app.service.issue_credential(By::Operator, agent, time::Duration::hours(1)).await.expect("credential");
    c.id.to_string()
}

/// A trusted issuer of `slug` with a pasted key: its id and name.
async fn issuer(app: &TestApp, slug: &str) -> (String, String) {
    let draft = countersign::service::IssuerDraft {
        tenant: slug.into(),
        issuer: format!("https://{slug}-{}.issuer.test", Uuid::now_v7().simple()),
        audience: "countersign".into(),
        jwks_url: None,
        jwks: Some(super::args::JWKS.into()),
    };
    let issuer = app.service.add_issuer(By::Operator, draft).await.expect("issuer");
    (issuer.id.to_string(), issuer.issuer)
}

async fn handover(app: &TestApp, agent: Uuid, to: &str) -> String {
    app.service.propose_handover(By::Operator, agent, to).await.expect("handover").id.to_string()
}

/// The audit chain's last sequence number, read on from the last one seen (the chain only grows).
pub async fn head(app: &TestApp, hint: &AtomicI64) -> i64 {
    let mut seen = hint.load(Ordering::Relaxed);
    loop {
        let page = app.store.audit_chain(seen, 1_000).await.expect("audit");
        match page.last() {
            Some(last) => seen = last.seq,
            None => break,
        }
    }
    hint.fetch_max(seen, Ordering::Relaxed);
    seen
}

/// What the other tenant looks like in the store: its rows' states; and the audit chain's head.
pub async fn snapshot(app: &TestApp, worlds: &Worlds, t: &Target) -> String {
    format!("head {}; {}", head(app, &worlds.head).await, rows(app, t).await)
}

/// The states of a target's rows.
pub async fn rows(app: &TestApp, t: &Target) -> String {
    if !t.exists() {
        return String::new();
    }
    let uuid = |s: &str| s.parse::<Uuid>().expect("uuid");
    let agent = app.store.agent(uuid(&t.agent)).await.expect("agent").expect("exists");
    let held = app.store.held_action(uuid(&t.held)).await.expect("held").expect("exists");
    let person = app.store.user_by_id(uuid(&t.person)).await.expect("user").expect("exists");
    let credentials = app.store.credentials(agent.id).await.expect("credentials");
    let handover = app.store.handover(uuid(&t.handover)).await.expect("handover").map(|h| format!("{h:?}"));
    format!(
        "agent {:?} {:?} {:?} {:?}; held {:?} {} {:?}; person {} {:?}; credentials {:?}; {handover:?}",
        agent.state,
        agent.scope,
        agent.owner_id,
        agent.sponsor_id,
        held.status,
        held.approvals,
        held.claim,
        person.active,
        person.roles,
        credentials.iter().map(|c| c.revoked_at.is_some()).collect::<Vec<_>>()
    )
}
