//! The console port, implemented over the services: session handling and the translation of service
//! errors into what the browser may see. Internals are logged here and never sent.

use super::session;
use crate::service::{Service, ServiceError, SignInError};
use app::error::AppError;
use app::history_model::AuditFilter;
use app::history_model::ChainStatus;
use app::model::{AuditPage, People, Viewer};
use app::services::Console;
use async_trait::async_trait;
use tower_sessions::Session;
use uuid::Uuid;

pub struct ConsoleService(pub Service);

pub fn hide(e: ServiceError) -> AppError {
    match e {
        ServiceError::Invalid(invalid) => AppError::Invalid(invalid.0),
        ServiceError::Forbidden => AppError::Forbidden,
        ServiceError::Busy => AppError::TooManyAttempts(5),
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "store failure behind a server function");
            AppError::Internal
        }
    }
}

fn user_id(viewer: &Viewer) -> Result<Uuid, AppError> {
    Uuid::parse_str(&viewer.user_id).map_err(|_| AppError::Unauthenticated)
}

#[async_trait]
impl Console for ConsoleService {
    async fn sign_in(&self, session: &Session, email: &str, password: &str, client: &str) -> Result<(), AppError> {
        let user = self.0.sign_in(email, password, client).await.map_err(|e| match e {
            SignInError::Refused => AppError::SignInRefused,
            SignInError::Service(e) => hide(e),
        })?;
        session::begin(session, user.id, user.session_epoch, self.0.clock.now()).await.map_err(|e| {
            tracing::error!(error = %e, "could not start a session");
            AppError::Internal
        })
    }

    /// The session ends first: a sign-out must never be kept from ending it by a failure to record it.
    async fn sign_out(&self, session: &Session, viewer: &Viewer) -> Result<(), AppError> {
        let user = user_id(viewer)?;
        session::end(session).await.map_err(|e| {
            tracing::error!(error = %e, "could not end a session");
            AppError::Internal
        })?;
        self.0.sign_out(user).await.map_err(hide)
    }

    async fn change_password(
        &self,
        session: &Session,
        viewer: &Viewer,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        let user = user_id(viewer)?;
        let epoch = self.0.change_password(user, current, new).await.map_err(hide)?;
        // Every other session just ended; this one carries on under a fresh id.
        session::begin(session, user, epoch, self.0.clock.now()).await.map_err(|e| {
            tracing::error!(error = %e, "could not renew the session");
            AppError::Internal
        })
    }

    async fn audit_page(&self, viewer: &Viewer, filter: AuditFilter) -> Result<AuditPage, AppError> {
        self.0.audit_page(viewer, &filter).await.map_err(hide)
    }

    async fn start_chain_check(&self, viewer: &Viewer) -> Result<ChainStatus, AppError> {
        self.0.start_chain_check(viewer).await.map_err(hide)
    }

    async fn chain_status(&self, viewer: &Viewer) -> Result<ChainStatus, AppError> {
        self.0.chain_status(viewer).await.map_err(hide)
    }

    async fn people(&self, viewer: &Viewer) -> Result<People, AppError> {
        self.0.people(viewer).await.map_err(hide)
    }
}
