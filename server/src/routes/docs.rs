//! The API reference: `GET /api/openapi.json`, the OpenAPI 3.1 document generated from the
//! routes and types (see [`crate::openapi`]), and `GET /api/docs`, the page that shows it
//! (static HTML and one same-origin script that fetches the document and draws it as text).

use axum::http::header;
use axum::response::IntoResponse;

use crate::routes::page::{html, javascript};

const PAGE: &str = include_str!("../../assets/docs.html");
const SCRIPT: &str = include_str!("../../assets/docs.js");

/// The OpenAPI 3.1 document of this API
///
/// Generated from the server's routes and types: every route, its parameters, bodies, answers
/// and errors, and the scope each one needs (`security`, `x-scope`).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "service",
    responses((status = 200, description = "The document.", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], crate::openapi::json())
}

/// The API reference page
///
/// This document, shown per tag: each operation's method, path, scope, parameters, body and
/// answers.
#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "docs_page",
    tag = "service",
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"))
)]
pub async fn page() -> impl IntoResponse {
    html(PAGE)
}

/// The API reference page's script
#[utoipa::path(
    get,
    path = "/api/docs.js",
    operation_id = "docs_page_script",
    tag = "service",
    responses((status = 200, description = "The script.", body = String, content_type = "text/javascript"))
)]
pub async fn script() -> impl IntoResponse {
    javascript(SCRIPT)
}
