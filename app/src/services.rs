//! The ports the server functions call. src/ implements them; this crate only names them, so it compiles
//! to wasm32 without the server's dependencies.

use crate::error::AppError;
use crate::model::{
    AgentDetail, AgentFormOptions, AgentSummary, AuditPage, ChainReport, CreatedAgent, MintedCredential, People, Viewer,
};
use crate::review_model::{CaseView, DecisionForm, QueueFilter, QueuePage};
use async_trait::async_trait;
use tower_sessions::Session;

#[async_trait]
pub trait Console: Send + Sync + 'static {
    /// Checks the credentials, cycles the session id and binds the session to the person.
    async fn sign_in(&self, session: &Session, email: &str, password: &str) -> Result<(), AppError>;
    async fn sign_out(&self, session: &Session, viewer: &Viewer) -> Result<(), AppError>;
    /// Changes the viewer's password, ends their other sessions and renews this one.
    async fn change_password(
        &self,
        session: &Session,
        viewer: &Viewer,
        current: &str,
        new: &str,
    ) -> Result<(), AppError>;
    async fn audit_page(&self, viewer: &Viewer, before: Option<i64>) -> Result<AuditPage, AppError>;
    async fn verify_audit_chain(&self, viewer: &Viewer) -> Result<ChainReport, AppError>;
    async fn people(&self, viewer: &Viewer) -> Result<People, AppError>;
}

#[async_trait]
pub trait AgentConsole: Send + Sync + 'static {
    async fn agents(&self, viewer: &Viewer) -> Result<Vec<AgentSummary>, AppError>;
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
    ) -> Result<(), AppError>;
    async fn mint_credential(&self, viewer: &Viewer, agent: &str, ttl: &str) -> Result<MintedCredential, AppError>;
    async fn revoke_credential(&self, viewer: &Viewer, credential: &str) -> Result<(), AppError>;
    /// Queues a webhook message again (owners and admins of its agent).
    async fn redeliver(&self, viewer: &Viewer, delivery: &str) -> Result<(), AppError>;
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
