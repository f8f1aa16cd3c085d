//! The one error type the browser sees. Internals never cross this boundary: the server logs them and sends
//! [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Shown for every refused sign-in, whatever the reason, so it never reveals whether an email exists.
pub const SIGN_IN_REFUSED: &str = "Sign-in failed. Check your email and password. After 5 failed attempts \
     an account is locked for 15 minutes.";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{SIGN_IN_REFUSED}")]
    SignInRefused,
    #[error("Your session has ended. Sign in again.")]
    Unauthenticated,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    /// Refused by a rule the person should know about (separation of duties, step-up).
    #[error("{0}")]
    Refused(String),
    /// Someone else changed it first ("already approved by Ana at 10:04:12").
    #[error("{0}")]
    Conflict(String),
    /// Too many password attempts from here or in all: wait this many seconds.
    #[error("Too many attempts: wait {0} seconds and try again.")]
    TooManyAttempts(u64),
    #[error("Something went wrong on our side. Try again; if it keeps happening, tell an admin.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::SignInRefused | AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::Refused(_) => 403,
            AppError::Conflict(_) => 409,
            AppError::Invalid(_) => 422,
            AppError::TooManyAttempts(_) => 429,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
