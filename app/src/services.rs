//! The ports the server functions call. src/ implements them; this crate only names them, so it compiles
//! to wasm32 without the server's dependencies.

use crate::error::AppError;
use crate::model::{AuditPage, ChainReport, People, Viewer};
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
