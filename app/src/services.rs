//! The ports the server functions call. src/ implements them; this crate only names them, so it compiles
//! to wasm32 without the server's dependencies.

use crate::error::AppError;
use crate::history_model::{AuditFilter, ChainStatus, DecisionRecord, HistoryFilter, HistoryPage};
use crate::insights_model::InsightsView;
use crate::lifecycle_model::{AgentsOverview, EvidenceView, PeopleAdmin};
use crate::model::{AgentDetail, AgentFormOptions, AuditPage, CreatedAgent, MintedCredential, People, Viewer};
use crate::review_model::{CaseView, DecisionForm, QueueFilter, QueuePage};
use async_trait::async_trait;
use tower_sessions::Session;

#[async_trait]
pub trait Console: Send + Sync + 'static {
    /// Checks the credentials, cycles the session id and binds the session to the person.
    async fn sign_in(&self, session: &Session, email: &str, password: &str, client: &str) -> Result<(), AppError>;
    async fn sign_out(&self, session: &Session, viewer: &Viewer) -> Result<(), AppError>;
    /// Changes the viewer's password, ends their other sessions and renews this one.
    async fn change_password(
        &self,
        session: &Session,
        viewer: &Viewer,
        current: &str,
        new: &str,
    ) -> Result<(), AppError>;
    async fn audit_page(&self, viewer: &Viewer, filter: AuditFilter) -> Result<AuditPage, AppError>;
    /// Starts verifying the audit chain in the background, unless a check is running.
    async fn start_chain_check(&self, viewer: &Viewer) -> Result<ChainStatus, AppError>;
    async fn chain_status(&self, viewer: &Viewer) -> Result<ChainStatus, AppError>;
    async fn people(&self, viewer: &Viewer) -> Result<People, AppError>;
}

#[async_trait]
pub trait AgentConsole: Send + Sync + 'static {
    async fn agents(&self, viewer: &Viewer) -> Result<AgentsOverview, AppError>;
    async fn agent(&self, viewer: &Viewer, id: &str) -> Result<AgentDetail, AppError>;
    async fn form_options(&self, viewer: &Viewer) -> Result<AgentFormOptions, AppError>;
    #[allow(clippy::too_many_arguments)]
    async fn create(
        &self,
        viewer: &Viewer,
        tenant: String,
        name: String,
        purpose: String,
        owner: String,
        sponsor: String,
        allowances: String,
        webhook_url: String,
    ) -> Result<CreatedAgent, AppError>;
    async fn update(
        &self,
        viewer: &Viewer,
        id: &str,
        purpose: String,
        allowances: String,
        webhook_url: String,
        identity: Option<crate::model::WorkloadForm>,
    ) -> Result<(), AppError>;
    async fn mint_credential(&self, viewer: &Viewer, agent: &str, ttl: &str) -> Result<MintedCredential, AppError>;
    async fn revoke_credential(&self, viewer: &Viewer, credential: &str) -> Result<(), AppError>;
    /// Queues a webhook message again (owners and admins of its agent).
    async fn redeliver(&self, viewer: &Viewer, delivery: &str) -> Result<(), AppError>;
    /// Registers an issuer a tenant trusts (admins): its JWKS URL or a pasted JWKS.
    async fn add_issuer(&self, viewer: &Viewer, issuer: crate::lifecycle_model::IssuerForm) -> Result<(), AppError>;
    /// Edits an issuer's audience and keys (admins of its tenant).
    async fn change_issuer(
        &self,
        viewer: &Viewer,
        edit: crate::lifecycle_model::IssuerEditForm,
    ) -> Result<(), AppError>;
    /// Removes an issuer, confirmed by typing its name (admins of its tenant); its tokens stop at once.
    async fn remove_issuer(&self, viewer: &Viewer, id: &str, confirm: &str) -> Result<(), AppError>;
}

/// The reviewer's pages. The session carries the time of the viewer's last password re-entry (step-up).
#[async_trait]
pub trait ReviewConsole: Send + Sync + 'static {
    async fn queue(&self, viewer: &Viewer, filter: QueueFilter) -> Result<QueuePage, AppError>;
    async fn case(&self, session: &Session, viewer: &Viewer, id: &str) -> Result<CaseView, AppError>;
    /// Claims (or renews the claim on) an item; with `take_over`, even from someone else.
    async fn claim(&self, viewer: &Viewer, id: &str, take_over: bool) -> Result<(), AppError>;
    async fn release(&self, viewer: &Viewer, id: &str) -> Result<(), AppError>;
    async fn step_up(&self, session: &Session, viewer: &Viewer, password: &str) -> Result<(), AppError>;
    async fn decide(&self, session: &Session, viewer: &Viewer, id: &str, form: DecisionForm) -> Result<(), AppError>;
}

/// An agent's life: suspension, retirement, hand-over, sponsor and access reviews (its owner or an admin;
/// hand-overs are answered by the person proposed).
#[async_trait]
pub trait LifecycleConsole: Send + Sync + 'static {
    /// `change` is `suspend`, `resume` or `retire`; retirement is confirmed with the agent's name.
    async fn change_state(
        &self,
        viewer: &Viewer,
        agent: &str,
        change: &str,
        reason: &str,
        confirm: &str,
    ) -> Result<(), AppError>;
    async fn propose_handover(&self, viewer: &Viewer, agent: &str, to: &str) -> Result<(), AppError>;
    async fn answer_handover(&self, viewer: &Viewer, handover: &str, accept: bool) -> Result<(), AppError>;
    async fn withdraw_handover(&self, viewer: &Viewer, handover: &str) -> Result<(), AppError>;
    /// An empty email removes the sponsor.
    async fn set_sponsor(&self, viewer: &Viewer, agent: &str, email: &str) -> Result<(), AppError>;
    async fn evidence(&self, viewer: &Viewer, agent: &str) -> Result<EvidenceView, AppError>;
    /// `decision` is `keep`, `narrow` (to `allowances`) or `retire`.
    async fn attest(
        &self,
        viewer: &Viewer,
        agent: &str,
        decision: &str,
        allowances: &str,
        note: &str,
    ) -> Result<(), AppError>;
}

/// Admins' people workplace.
#[async_trait]
pub trait PeopleConsole: Send + Sync + 'static {
    async fn people_admin(&self, viewer: &Viewer) -> Result<PeopleAdmin, AppError>;
    #[allow(clippy::too_many_arguments)]
    async fn add_person(
        &self,
        viewer: &Viewer,
        email: &str,
        name: &str,
        roles: &[String],
        tenants: &[String],
        one_time_password: String,
    ) -> Result<(), AppError>;
    async fn edit_person(
        &self,
        viewer: &Viewer,
        person: &str,
        roles: &[String],
        tenants: &[String],
    ) -> Result<(), AppError>;
    async fn set_person_active(&self, viewer: &Viewer, person: &str, active: bool) -> Result<(), AppError>;
    async fn unlock_person(&self, viewer: &Viewer, person: &str) -> Result<(), AppError>;
    async fn add_tenant(&self, viewer: &Viewer, slug: &str, name: &str) -> Result<(), AppError>;
}

/// Auditors' pages: the decision history and the record of one decision.
#[async_trait]
pub trait HistoryConsole: Send + Sync + 'static {
    async fn history(&self, viewer: &Viewer, filter: HistoryFilter) -> Result<HistoryPage, AppError>;
    async fn record(&self, viewer: &Viewer, id: &str) -> Result<DecisionRecord, AppError>;
}

/// Auditors' pictures of their tenants' decisions.
#[async_trait]
pub trait InsightsConsole: Send + Sync + 'static {
    /// `tenant` is a slug or empty (all); `days` one of the offered periods or empty (30).
    async fn insights(&self, viewer: &Viewer, tenant: &str, days: &str) -> Result<InsightsView, AppError>;
    /// Draws `size` decisions of the period for re-review.
    async fn draw_sample(&self, viewer: &Viewer, tenant: &str, days: &str, size: &str) -> Result<(), AppError>;
    /// `verdict` is `agree` or `disagree`.
    async fn record_verdict(&self, viewer: &Viewer, sample: &str, verdict: &str, note: &str) -> Result<(), AppError>;
}
