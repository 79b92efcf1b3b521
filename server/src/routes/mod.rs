//! One module per group of routes.

pub mod health;
pub mod matching;
pub mod page;
pub mod search;

use crate::ApiError;

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}; see /api/search, /api/match/offer-to-programmes, /api/match/student-to-offers, /api/match/student-to-programmes (POST), /healthz, /readyz", uri.path()))
}
