//! One module per group of routes.

pub mod health;
pub mod matching;
pub mod page;
pub mod questions;
pub mod search;
pub mod stats;

use crate::ApiError;

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
