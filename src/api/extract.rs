//! Path and query extractors whose rejections are problem details, not axum's plain text.

use super::problem::ApiError;
use crate::domain::submission::FieldError;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};

/// `Path<T>`, refusing a malformed segment (a held-action id that is not a UUID) with a 400 naming it.
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>`, refusing a malformed parameter (`wait=soon`) with a 400 naming it.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::BadRequest(vec![FieldError { field: "(path)".into(), message: e.body_text() }])
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::BadRequest(vec![FieldError { field: "(query)".into(), message: e.body_text() }])
    }
}
