//! The search page: static HTML and one script; results are drawn with `textContent`, only the
//! server-escaped `snippet` / `title_html` (text with `<mark>`) go through `innerHTML`.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("../../assets/index.html");
const SCRIPT: &str = include_str!("../../assets/app.js");
/// The pages' Content-Security-Policy: their own scripts, their own API, nothing else.
pub(crate) const CSP: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'";

/// The search page
///
/// The website's search box, with the matchers and the trends' charts: static HTML and one
/// same-origin script, which calls this API.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "search_page",
    tag = "service",
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"))
)]
pub async fn index() -> impl IntoResponse {
    html(PAGE)
}

/// A page of the server: HTML under the same-origin content security policy.
pub(crate) fn html(page: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, CSP), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], page)
}

/// A page's script, never sniffed as anything else.
pub(crate) fn javascript(script: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], script)
}

/// The search page's script
#[utoipa::path(
    get,
    path = "/app.js",
    operation_id = "search_page_script",
    tag = "service",
    responses((status = 200, description = "The script.", body = String, content_type = "text/javascript"))
)]
pub async fn script() -> impl IntoResponse {
    javascript(SCRIPT)
}
