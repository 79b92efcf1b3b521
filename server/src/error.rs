//! [`ApiError`], the one error type routes return, and how the engine's errors and axum's
//! rejections become one.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::MAX_BODY_BYTES;

/// An error answered as `{"error": {"code", "message"}}` (plus `"field"` when one field of the
/// request is at fault) with its HTTP status.
///
/// A 500 keeps its cause for the log: the client reads `internal error, request id <id>` and
/// the log line with the same id says what happened.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable name (`bad_request`, `invalid_request`, `not_ready`...).
    pub code: &'static str,
    /// What went wrong and what to do about it, for a person.
    pub message: String,
    /// The request field at fault (`limit`, `text`, `filters.region`...), when known.
    pub field: Option<String>,
    /// The cause of a 500, logged and never answered.
    cause: Option<String>,
    /// Seconds to wait, answered as `Retry-After` (a 429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, cause: None, retry_after: None }
    }

    /// 401 `unauthorized`: no key where one is needed, or a key that is not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`: the key is valid but may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 409 `conflict`: the request contradicts what is stored.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 429 `rate_limited`, to be tried again after `seconds`.
    pub fn rate_limited(seconds: u64, message: impl Into<String>) -> Self {
        Self { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("{}; try again in {seconds} s", message.into())) }
    }

    /// 400 `bad_request`: the request cannot be read at all (bad JSON, empty body...).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400 `invalid_request`: one field is wrong; the message is "`{field}`: {reason}".
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        let field = field.into();
        Self { field: Some(field.clone()), ..Self::new(StatusCode::BAD_REQUEST, "invalid_request", format!("`{field}`: {reason}")) }
    }

    /// 400 `invalid_request` on a query parameter the route does not take.
    pub fn unknown_parameter(name: &str, accepted: &str) -> Self {
        Self {
            field: Some(name.to_string()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request", format!("unknown parameter `{name}`; accepted: {accepted}"))
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message)
    }

    /// 413 `payload_too_large`: the body is over [`MAX_BODY_BYTES`].
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body is larger than {MAX_BODY_BYTES} bytes"))
    }

    /// 503 `not_ready`: no index generation is served yet.
    pub fn not_ready() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "no index generation yet: run `passerelle index`")
    }

    /// 503 `timeout`: the answer took longer than the server's request timeout.
    pub fn timeout(after: std::time::Duration) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", format!("no answer within {after:?}; try again, or narrow the request"))
    }

    /// 500 `internal`: `cause` goes to the log with the request id, never to the client.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self { cause: Some(cause.into()), ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error") }
    }

    /// The cause of a 500, for the log.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// A bare status, named, with `text` as the message; a 5xx keeps `text` as its cause only.
    fn from_status(status: StatusCode, text: String) -> Self {
        match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Self::bad_request(text),
            StatusCode::NOT_FOUND => Self::not_found(text),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(text),
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(status, "unsupported_media_type", text),
            s if s.is_server_error() => Self { status: s, ..Self::internal(format!("bare {s} answer: {text}")) },
            s => Self::new(s, "client_error", text),
        }
    }

    /// The `{"error": {...}}` body; a 500 names `request_id` (when known) and nothing else.
    pub(crate) fn body(&self, request_id: Option<&str>) -> ErrorBody {
        let message = match (self.status.is_server_error() && self.code == "internal", request_id) {
            (true, Some(id)) => format!("internal error, request id {id}"),
            _ => self.message.clone(),
        };
        let request_id = request_id.filter(|_| self.status.is_server_error()).map(str::to_string);
        ErrorBody { error: ErrorDetail { code: self.code, message, field: self.field.clone(), request_id } }
    }
}

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, in an error answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable name: `bad_request`, `invalid_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `payload_too_large`, `rate_limited`, `not_ready`, `timeout`, `internal`...
    pub code: &'static str,
    /// What went wrong and what to do about it, for a person. A 500 says only `internal error, request id ...`.
    pub message: String,
    /// The request field at fault (`limit`, `text`, `filters.region`, `[2].title`...), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (as in the `x-request-id` header and the server's log), on a 5xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<indexer::IndexError> for ApiError {
    fn from(e: indexer::IndexError) -> Self {
        match e {
            indexer::IndexError::InvalidRequest { field, reason } => ApiError::invalid(field, reason),
            indexer::IndexError::NoIndex(_) => ApiError::not_ready(),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Invalid { source, .. } => ApiError::invalid(source.field, source.message),
            store::StoreError::Key(message) | store::StoreError::Transmission(message) => ApiError::bad_request(message),
            store::StoreError::Suppression(message) => ApiError::invalid("value", message),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// A 4xx or 5xx answered without an `ApiError` (a layer's bare status, an extractor's
/// rejection), with `text`, its plain-text body. axum's rejections say "Failed to deserialize
/// ...: path: serde's message"; the path, when there is one, is the field.
pub(crate) fn from_bare(status: StatusCode, text: String) -> ApiError {
    if !matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY) {
        return ApiError::from_status(status, text);
    }
    let detail = text.split_once(": ").map_or(text.as_str(), |(_, rest)| rest);
    match detail.split_once(": ") {
        Some((path, reason)) if is_path(path) => ApiError::invalid(path, reason),
        _ => match named_field(detail) {
            Some(field) => ApiError::invalid(field, detail),
            None => ApiError::bad_request(text),
        },
    }
}

/// A serde path as serde_path_to_error writes it: `limit`, `filters.region`, `options[2]`.
fn is_path(s: &str) -> bool {
    !s.is_empty() && s != "." && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'))
}

/// Reads a JSON body into `T`. An empty body or broken JSON is `bad_request`; a field of the
/// wrong type, a missing or an unknown field is `invalid_request` naming it. `expected` shows
/// the shape to send.
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8], expected: &str) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(format!("empty body: send JSON {expected}")));
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut reader)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|value| reader.end().map(|()| value).map_err(|e| (String::new(), e)));
    parsed.map_err(|(path, e)| {
        let field = Some(path).filter(|p| is_path(p)).or_else(|| named_field(&e.to_string()));
        match (e.classify(), field) {
            (serde_json::error::Category::Data, Some(field)) => ApiError {
                message: format!("the body is not the expected JSON (`{field}`: {e}); expected {expected}"),
                field: Some(field),
                ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "")
            },
            _ => ApiError::bad_request(format!("the body is not the expected JSON ({e}); expected {expected}")),
        }
    })
}

/// The field serde names in "missing field `text`" or "unknown field `limti`, expected ...".
fn named_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `").or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split_once('`').map(|(name, _)| name.to_string())
}

impl IntoResponse for ApiError {
    /// The envelope without a request id; the router's middleware answers it again with the
    /// id, from the copy left in the response's extensions.
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body(None))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        text: String,
        #[serde(default)]
        limit: Option<usize>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let field = |body: &str| from_json::<Body>(body.as_bytes(), "{}").unwrap_err().field;
        assert_eq!(field(r#"{"text": 3}"#).as_deref(), Some("text"));
        assert_eq!(field(r#"{"text": "a", "limit": "ten"}"#).as_deref(), Some("limit"));
        assert_eq!(field(r#"{"text": "a", "limti": 3}"#).as_deref(), Some("limti"));
        assert_eq!(field(r#"{"limit": 3}"#).as_deref(), Some("text"));
        let broken = from_json::<Body>(br#"{"text": "#, "{}").unwrap_err();
        assert_eq!((broken.code, broken.field), ("bad_request", None));
        assert!(from_json::<Body>(br#"{"text": "a"} trailing"#, "{}").is_err());
        assert_eq!(from_json::<Body>(b"  ", "{}").unwrap_err().message, "empty body: send JSON {}");
    }

    #[test]
    fn an_internal_error_answers_its_id_and_not_its_cause() {
        let e = ApiError::internal("/srv/data/index/g1/meta.json: permission denied");
        let body = serde_json::to_value(e.body(Some("r-1"))).unwrap();
        assert!(!body.to_string().contains("/srv") && body.to_string().contains("internal error, request id r-1"), "{body}");
        assert_eq!(body["error"]["request_id"], "r-1");
        let bad = serde_json::to_value(ApiError::invalid("limit", "is too big").body(Some("r-2"))).unwrap();
        assert_eq!(bad, serde_json::json!({"error": {"code": "invalid_request", "message": "`limit`: is too big", "field": "limit"}}));
        assert_eq!(e.cause(), Some("/srv/data/index/g1/meta.json: permission denied"));
    }

    #[test]
    fn rejections_name_the_field_serde_names() {
        let e = from_bare(StatusCode::BAD_REQUEST, "Failed to deserialize query string: limit: invalid digit found in string".into());
        assert_eq!((e.code, e.field.as_deref()), ("invalid_request", Some("limit")));
        let e = from_bare(StatusCode::BAD_REQUEST, "Failed to parse the request body as JSON: EOF while parsing".into());
        assert_eq!((e.code, e.field), ("bad_request", None));
    }
}
