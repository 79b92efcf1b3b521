//! One module per group of routes.

pub mod health;
pub mod page;
pub mod search;

use crate::ApiError;

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}; see /api/search, /healthz, /readyz", uri.path()))
}
