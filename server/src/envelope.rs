//! The middleware every answer goes through: it names each request with an id (the
//! `x-request-id` header of every answer), gives up after the request timeout, and turns every
//! 4xx and 5xx, whoever made it (a route's [`ApiError`], a layer's bare status, an extractor's
//! rejection), into the one `{"error": {...}}` envelope. A 500 is logged here with its id and
//! its cause; the client reads only the id.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;
use crate::error::from_bare;

/// The response header naming the request, as in the log.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How much of a bare error body is kept as its message.
const BARE_BODY_BYTES: usize = 4096;

/// A request's id: a per-process prefix (so that ids of two runs differ) and a counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    fn next() -> RequestId {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let prefix = PREFIX.get_or_init(|| {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
            nanos ^ std::process::id().rotate_left(16)
        });
        RequestId(format!("{prefix:08x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed)))
    }
}

/// Names the request, answers, and makes any error answer the envelope.
pub(crate) async fn envelope(mut request: Request, next: Next) -> Response {
    let id = RequestId::next();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    request.extensions_mut().insert(id.clone());
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let status = response.status();
    // One line per request. The path is untrusted text: `?` writes it escaped, so a path holding
    // a line break cannot forge a log line; the query string (what people search for) is left out.
    tracing::info!(request_id = %id.0, %method, path = ?path, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    if status.is_client_error() || status.is_server_error() {
        let error = match response.extensions_mut().remove::<ApiError>() {
            Some(error) => error,
            None => {
                // A bare status from a layer or a rejection: its body, if any, is plain text.
                let body = to_bytes(std::mem::take(response.body_mut()), BARE_BODY_BYTES).await.unwrap_or_default();
                let text = String::from_utf8_lossy(&body).trim().to_string();
                from_bare(status, if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text })
            }
        };
        if error.status.is_server_error() {
            match error.cause() {
                Some(cause) => tracing::error!(request_id = %id.0, %method, path = ?path, status = error.status.as_u16(), "{cause}"),
                None => tracing::warn!(request_id = %id.0, %method, path = ?path, status = error.status.as_u16(), code = error.code, "{}", error.message),
            }
        }
        let mut enveloped = (error.status, Json(error.body(Some(&id.0)))).into_response();
        // Keep what the route or layer said besides the body (`Allow` on a 405...).
        for (name, value) in response.headers() {
            if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
                enveloped.headers_mut().append(name.clone(), value.clone());
            }
        }
        response = enveloped;
    }
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Answers 503 `timeout` when the inner service takes longer than `after`. The blocking index
/// work it waited for runs to its end, unobserved.
///
/// A write (`POST`, `PUT`, `DELETE`, but the matchers' and the duplicate check's reads) waits
/// at least [`WRITE_TIMEOUT`]: once committed it is served whatever the client does, so a 503
/// would tell the client it failed when it did not. A batch of 100 offers embedded by the model
/// takes about 25 s on 2 cores.
pub(crate) async fn timeout(after: Duration, request: Request, next: Next) -> Response {
    let after = if is_write(&request) { after.max(WRITE_TIMEOUT) } else { after };
    tokio::time::timeout(after, next.run(request)).await.unwrap_or_else(|_| ApiError::timeout(after).into_response())
}

/// Longest time a write may take before it is answered 503 `timeout`.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

fn is_write(request: &Request) -> bool {
    let path = request.uri().path();
    match *request.method() {
        axum::http::Method::PUT | axum::http::Method::DELETE => true,
        axum::http::Method::POST => !path.starts_with("/api/match/") && path != "/api/questions/similar",
        _ => false,
    }
}
