//! One module per group of routes.

pub mod docs;
pub mod export;
pub mod forward;
pub mod health;
pub mod keys;
pub mod matching;
pub mod page;
pub mod places;
pub mod questions;
pub mod records;
pub mod search;
pub mod stats;

use std::sync::Arc;

use crate::{ApiError, AppState};

/// Runs blocking index work (a matcher, the questions check, stats) off the async threads, on
/// the served generation with the loaded model; 503 before the first index.
pub(crate) async fn on_index<T: Send + 'static>(
    state: Arc<AppState>,
    work: impl FnOnce(&features::Features, Option<&embed::QueryEncoder>) -> Result<T, indexer::IndexError> + Send + 'static,
) -> Result<T, ApiError> {
    let index = state.index().ok_or_else(ApiError::not_ready)?;
    let encoder = state.encoder.clone();
    Ok(tokio::task::spawn_blocking(move || work(&index, encoder.as_deref())).await.map_err(|e| ApiError::internal(format!("index task failed: {e}")))??)
}

/// Runs blocking work (the records store, a live write) off the async threads; a task that
/// panicked is a 500.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
}

/// A day written YYYY-MM-DD; `field` names it in the error.
pub(crate) fn date(field: &str, value: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value.trim(), &format).map_err(|_| ApiError::invalid(field, format!("is `{value}`: write a date as YYYY-MM-DD")))
}

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route for {}; every route is in the API reference, /api/docs (the OpenAPI document: /api/openapi.json): /api/search, /api/stats, \
         /api/match/offer-to-programmes, /api/match/student-to-offers, /api/match/student-to-programmes, /api/questions/similar (POST), \
         /api/offers, /api/programmes, /api/questions, /api/transmissions, /api/export/contacts.csv, /api/keys, /healthz, /readyz, /metrics",
        uri.path()
    ))
}

/// A 405 names the methods the route takes, as the API reference lists them (the router adds
/// them as `Allow` too).
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri, route: Option<axum::extract::MatchedPath>) -> ApiError {
    match route.map(|r| crate::openapi::methods(r.as_str())).filter(|m| !m.is_empty()) {
        Some(methods) => ApiError::method_not_allowed(format!("{method} is not accepted on {}: use {}", uri.path(), methods.join(" or "))),
        None => ApiError::method_not_allowed(format!("{method} is not accepted on {}: the `Allow` header lists the methods it takes", uri.path())),
    }
}
