//! Server functions: the browser's only way in. Each one finds the signed-in viewer the server resolved
//! for this request and hands the work to the [`Console`](crate::services::Console) port, which checks
//! roles and tenants. Endpoints are named so their URLs under `/api/` stay stable.

pub mod agents;
pub mod codec;
pub mod history;
pub mod insights;
pub mod lifecycle;
pub mod review;

use crate::error::AppError;
use crate::history_model::AuditFilter;
use crate::history_model::ChainStatus;
use crate::model::{AuditPage, People, Viewer};
use codec::TextJson;
use leptos::prelude::*;

#[server(endpoint = "viewer", output = TextJson)]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(ssr::viewer())
}

#[server(endpoint = "login", output = TextJson)]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    ssr::answer(async {
        let session = ssr::session().await?;
        ssr::console()?.sign_in(&session, &email, &password, &ssr::client()).await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

#[server(endpoint = "logout", output = TextJson)]
pub async fn logout() -> Result<(), AppError> {
    ssr::answer(async {
        let session = ssr::session().await?;
        if let Some(viewer) = ssr::viewer() {
            ssr::console()?.sign_out(&session, &viewer).await?;
        }
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/password", output = TextJson)]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), AppError> {
    ssr::answer(async {
        let viewer = ssr::viewer().ok_or(AppError::Unauthenticated)?;
        if new != confirm {
            return Err(AppError::Invalid("The new password and its confirmation differ.".into()));
        }
        let session = ssr::session().await?;
        ssr::console()?.change_password(&session, &viewer, &current, &new).await
    })
    .await
}

#[server(endpoint = "audit/page", output = TextJson)]
pub async fn fetch_audit_page(#[server(default)] filter: AuditFilter) -> Result<AuditPage, AppError> {
    ssr::answer(async { ssr::console()?.audit_page(&ssr::require_viewer()?, filter).await }).await
}

#[server(endpoint = "audit/verify", output = TextJson)]
pub async fn start_chain_check() -> Result<ChainStatus, AppError> {
    ssr::answer(async { ssr::console()?.start_chain_check(&ssr::require_viewer()?).await }).await
}

#[server(endpoint = "audit/verify/status", output = TextJson)]
pub async fn chain_check_status() -> Result<ChainStatus, AppError> {
    ssr::answer(async { ssr::console()?.chain_status(&ssr::require_viewer()?).await }).await
}

#[server(endpoint = "people", output = TextJson)]
pub async fn list_people() -> Result<People, AppError> {
    ssr::answer(async { ssr::console()?.people(&ssr::require_viewer()?).await }).await
}

/// The helpers server-function bodies use; bodies are compiled only on the server.
#[cfg(feature = "ssr")]
mod ssr_support {
    pub use super::ssr::{
        agent_console, answer, history_console, insights_console, lifecycle_console, people_console, require_viewer,
        review_console, session,
    };
}
#[cfg(not(feature = "ssr"))]
mod ssr_support {}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::model::Viewer;
    use crate::services::Console;
    use leptos::prelude::*;
    use std::future::Future;
    use std::sync::Arc;

    /// Runs a server function body and gives a failure its HTTP status.
    pub async fn answer<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
        let result = body.await;
        // A plain form post (before the WASM loads) is answered with a redirect back to the form: keep it one.
        let plain_form = use_context::<axum::http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"))
        });
        if let (Err(err), Some(response), false) = (&result, use_context::<leptos_axum::ResponseOptions>(), plain_form)
        {
            let status =
                axum::http::StatusCode::from_u16(err.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            response.set_status(status);
        }
        result
    }

    pub fn console() -> Result<Arc<dyn Console>, AppError> {
        use_context::<Arc<dyn Console>>().ok_or(AppError::Internal)
    }

    pub fn agent_console() -> Result<Arc<dyn crate::services::AgentConsole>, AppError> {
        use_context::<Arc<dyn crate::services::AgentConsole>>().ok_or(AppError::Internal)
    }

    pub fn lifecycle_console() -> Result<Arc<dyn crate::services::LifecycleConsole>, AppError> {
        use_context::<Arc<dyn crate::services::LifecycleConsole>>().ok_or(AppError::Internal)
    }

    pub fn people_console() -> Result<Arc<dyn crate::services::PeopleConsole>, AppError> {
        use_context::<Arc<dyn crate::services::PeopleConsole>>().ok_or(AppError::Internal)
    }

    pub fn history_console() -> Result<Arc<dyn crate::services::HistoryConsole>, AppError> {
        use_context::<Arc<dyn crate::services::HistoryConsole>>().ok_or(AppError::Internal)
    }

    pub fn insights_console() -> Result<Arc<dyn crate::services::InsightsConsole>, AppError> {
        use_context::<Arc<dyn crate::services::InsightsConsole>>().ok_or(AppError::Internal)
    }

    pub fn review_console() -> Result<Arc<dyn crate::services::ReviewConsole>, AppError> {
        use_context::<Arc<dyn crate::services::ReviewConsole>>().ok_or(AppError::Internal)
    }

    /// The viewer the server's session middleware resolved for this request, if any.
    pub fn viewer() -> Option<Viewer> {
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Viewer>().cloned())
    }

    /// The viewer, refused while they still have to replace a one-time password.
    pub fn require_viewer() -> Result<Viewer, AppError> {
        match viewer() {
            Some(v) if v.must_change_password => {
                Err(AppError::Refused("Choose your own password first (Account).".into()))
            }
            Some(v) => Ok(v),
            None => Err(AppError::Unauthenticated),
        }
    }

    /// The client's address as the server resolved it (see `trusted_proxies`); "unknown" without one.
    pub fn client() -> String {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::model::ClientAddr>().map(|c| c.0.clone()))
            .unwrap_or_else(|| "unknown".into())
    }

    pub async fn session() -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>().await.map_err(|_| AppError::Internal)
    }
}
