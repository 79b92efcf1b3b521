//! One module per group of routes.

pub mod health;
pub mod matching;
pub mod page;
pub mod questions;
pub mod search;
pub mod stats;

use std::sync::Arc;

use crate::{ApiError, AppState};

/// Runs blocking index work (a matcher, the questions check, stats) off the async threads, on
/// the served generation with the loaded model; 503 before the first index.
pub(crate) async fn on_index<T: Send + 'static>(
    state: Arc<AppState>,
    work: impl FnOnce(&indexer::SearchIndex, Option<&indexer::semantic::QueryEncoder>) -> Result<T, indexer::IndexError> + Send + 'static,
) -> Result<T, ApiError> {
    let index = state.index().ok_or_else(|| ApiError::not_ready("no index yet: run `passerelle index`"))?;
    let encoder = state.encoder.clone();
    Ok(tokio::task::spawn_blocking(move || work(&index, encoder.as_deref()))
        .await
        .map_err(|e| ApiError::internal(format!("index task failed: {e}")))??)
}

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}; see /api/search, /api/stats, /api/match/offer-to-programmes, /api/match/student-to-offers, /api/match/student-to-programmes, /api/questions/similar (POST), /healthz, /readyz", uri.path()))
}

pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    let expected = if uri.path().starts_with("/api/match/") || uri.path().starts_with("/api/questions/") { "POST with a JSON body" } else { "GET" };
    ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{method} is not accepted on {}: use {expected}", uri.path()),
    }
}
