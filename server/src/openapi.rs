//! The OpenAPI 3.1 document of the API, `GET /api/openapi.json`, and what `GET /api/docs` shows.
//!
//! The document is generated, never written by hand. Each handler carries `#[utoipa::path]` (its
//! path, parameters, body and answers), the types it reads and answers derive their schemas
//! from their definitions (the engine crates behind their `openapi` feature), and the router
//! ([`crate::router_with`]) registers every handler with utoipa-axum's `routes!`, which adds the
//! handler to the router and its operation to the document in the same call: a route cannot be
//! served without being documented.
//!
//! What the router's layers add to every route is added here, once, to every operation: the
//! scope the key check wants ([`auth::required_scope`], as `security` and `x-scope`), and the
//! errors of the layers (401 and 403 of the key check, 413 of the body limit, 429 of the rate
//! limits with `Retry-After`, 503 of the timeout, 500). Every error answer refers to one schema,
//! [`ErrorBody`].

use std::sync::OnceLock;

use axum::http::Method;
use serde_json::Value;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToResponse, ToSchema};

use crate::auth;
use crate::config::DEFAULT_PUBLIC_SCOPES;
use crate::error::{ErrorBody, ErrorDetail};

/// The name of the security scheme of API keys (`Authorization: Bearer KEY`).
pub const BEARER: &str = "bearer";

/// The document's tags, in the order the reference page shows them.
pub const TAGS: &[(&str, &str)] = &[
    ("search", "The search box: schools, programmes, offers, companies and questions, hybrid (keywords and meaning) when a model is loaded."),
    ("match", "The matchers: an offer to the programmes that train for it, a student's wish to offers or to programmes."),
    ("questions", "Quiz questions: near-duplicates of a question being written, and the live writes of questions."),
    ("offers", "Live writes of offers (committed to the records store, served at once), and forwarding an offer to programme managers."),
    ("programmes", "Live writes of study programmes."),
    ("stats", "Trends of the offers, and the offers forwarded to programme managers."),
    ("export", "The marketing team's contacts export, its log, and the suppression list."),
    ("keys", "API keys: created, listed and revoked over HTTP with the master key or the scope `keys`."),
    ("service", "Health probes, metrics, the web page and this reference."),
];

/// HTTP methods an operation can have, as the document names them.
const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// An error answer of the document's `components.responses`: its name, its description, and
/// whether it carries `Retry-After`.
struct ErrorResponse {
    name: &'static str,
    description: &'static str,
    retry_after: bool,
}

const BAD_REQUEST: ErrorResponse = ErrorResponse {
    name: "BadRequest",
    description: "`bad_request`: the request cannot be read (broken JSON, empty body); `invalid_request`: one field or parameter is wrong, \
                  and `field` names it (an unknown query parameter is refused, so that a misspelt filter does not go unnoticed).",
    retry_after: false,
};
const UNAUTHORIZED: ErrorResponse = ErrorResponse {
    name: "Unauthorized",
    description: "`unauthorized`: no key where the route's scope needs one, or a key that is unknown, revoked or expired (even on a public route). \
                  The answer has `WWW-Authenticate: Bearer`.",
    retry_after: false,
};
const FORBIDDEN: ErrorResponse = ErrorResponse {
    name: "Forbidden",
    description: "`forbidden`: the key is valid but lacks the route's scope, or is bound to a company or to programmes that this request is not about.",
    retry_after: false,
};
const NOT_FOUND: ErrorResponse =
    ErrorResponse { name: "NotFound", description: "`not_found`: no such record, key or entry (the message says which).", retry_after: false };
const PAYLOAD_TOO_LARGE: ErrorResponse = ErrorResponse {
    name: "PayloadTooLarge",
    description: "`payload_too_large`: the body (or its `Content-Length`) is over the server's limit (256 KiB by default).",
    retry_after: false,
};
const RATE_LIMITED: ErrorResponse = ErrorResponse {
    name: "RateLimited",
    description: "`rate_limited`: too many requests from this address or with this key, or too many failed key attempts; `Retry-After` says when to come back.",
    retry_after: true,
};
const UNAVAILABLE: ErrorResponse = ErrorResponse {
    name: "Unavailable",
    description: "`timeout`: no answer within the server's request timeout (try again, or narrow the request); `not_ready`: no index generation is \
                  served yet (run `passerelle index`), for the routes that read the index.",
    retry_after: false,
};
const INTERNAL: ErrorResponse = ErrorResponse {
    name: "Internal",
    description: "`internal`: anything else. The message says only `internal error, request id ...`; the server's log has the cause under that id.",
    retry_after: false,
};

/// Every error answer, as `components.responses` lists them.
const ERROR_RESPONSES: &[ErrorResponse] = &[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, PAYLOAD_TOO_LARGE, RATE_LIMITED, UNAVAILABLE, INTERNAL];

impl ErrorResponse {
    fn response(&self) -> Response {
        let mut response = ResponseBuilder::new()
            .description(self.description)
            .content("application/json", utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()))));
        if self.retry_after {
            let seconds = utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer).minimum(Some(1));
            response = response.header(
                "Retry-After",
                utoipa::openapi::HeaderBuilder::new().schema(Some(seconds)).description(Some("Seconds to wait before trying again.")).build(),
            );
        }
        response.build()
    }
}

macro_rules! error_response_types {
    ($($(#[$doc:meta])* $type:ident = $response:ident;)*) => {$(
        $(#[$doc])*
        pub struct $type;

        impl<'r> ToResponse<'r> for $type {
            fn response() -> (&'r str, RefOr<Response>) {
                ($response.name, RefOr::T($response.response()))
            }
        }
    )*};
}

error_response_types! {
    /// 400, for `responses((status = 400, response = BadRequest))`.
    BadRequest = BAD_REQUEST;
    /// 403 of a route's own checks (a key's binding), beside the scope's.
    Forbidden = FORBIDDEN;
    /// 404 of a route that reads a record, a key or an entry by its id.
    NotFound = NOT_FOUND;
}

/// The scope an operation needs, and whether it is open without a key by default.
fn scope_of(method: &str, path: &str) -> Option<(&'static str, bool)> {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok()?;
    auth::required_scope(&method, path).map(|scope| (scope, DEFAULT_PUBLIC_SCOPES.contains(&scope)))
}

/// The document, built once from the router's registration (the JSON of [`json`], read back).
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::from_str(json()).expect("the document is JSON"))
}

/// The methods the document lists for a path template (`/api/offers/{id}`), upper case.
pub fn methods(path: &str) -> Vec<String> {
    let item = &document()["paths"][path];
    METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_ascii_uppercase()).collect()
}

/// The document as JSON text, built once: what `/api/openapi.json` answers. Paths in the
/// router's order and properties in their fields' order.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| without_links(&serde_json::to_string(&finish(crate::routes_with_docs().into_openapi())).expect("the document serialises")))
}

/// The document the routes start from: what the API is.
pub(crate) fn base() -> OpenApi {
    use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApiBuilder};
    let info = InfoBuilder::new()
        .title("passerelle")
        .version(env!("CARGO_PKG_VERSION"))
        .license(Some(LicenseBuilder::new().name("MIT").identifier(Some("MIT")).build()))
        .description(Some(include_str!("openapi.md")))
        .build();
    OpenApiBuilder::new().info(info).build()
}

/// The generated document, with what the layers add to every operation: scope and security,
/// the layers' errors; and the tags, the security scheme, the error schema and responses.
fn finish(mut api: OpenApi) -> OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    use utoipa::openapi::tag::TagBuilder;
    api.tags = Some(TAGS.iter().map(|(name, description)| TagBuilder::new().name(*name).description(Some(*description)).build()).collect());
    let components = api.components.get_or_insert_with(Default::default);
    let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
        "An API key, `Authorization: Bearer KEY`: the master key (PASSERELLE_MASTER_KEY, every scope) or one made by `passerelle keys create` \
         or `POST /api/keys`, with its scopes.",
    ));
    components.add_security_scheme(BEARER, SecurityScheme::Http(bearer.build()));
    for response in ERROR_RESPONSES {
        components.responses.insert(response.name.to_string(), RefOr::T(response.response()));
    }
    components.schemas.insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    components.schemas.insert(ErrorDetail::name().into_owned(), ErrorDetail::schema());
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                let scope = scope_of(method, path);
                add_scope(operation, scope);
                add_layer_errors(operation, scope);
            }
        }
    }
    api
}

/// The descriptions come from doc comments: their intra-doc links (``[`Record::assign_id`]``)
/// become code spans. `text` is the document's JSON, where a backtick is never escaped.
fn without_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[`") {
        let Some(len) = rest[start + 2..].find("`]") else { break };
        let end = start + 2 + len + 2;
        out.push_str(&rest[..start]);
        if rest[end..].starts_with('(') {
            out.push_str(&rest[start..end]);
        } else {
            out.push_str(&rest[start + 1..end - 1]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `security`, `x-scope` and a line of the description, from the scope the key check wants.
fn add_scope(operation: &mut Operation, scope: Option<(&str, bool)>) {
    let anonymous = SecurityRequirement::default();
    let key = SecurityRequirement::new(BEARER, Vec::<String>::new());
    let (security, line) = match scope {
        None => (vec![anonymous], "Scope: none, open to everyone.".to_string()),
        Some((scope, true)) => {
            (vec![anonymous, key], format!("Scope: `{scope}`, public by default (no key needed unless the server's `public_scopes` leaves it out)."))
        }
        Some((scope, false)) => (vec![key], format!("Scope: `{scope}`: an API key holding it, or the master key.")),
    };
    operation.security = Some(security);
    let mut extensions = ExtensionsBuilder::new().add("x-public", scope.is_none_or(|(_, public)| public));
    if let Some((scope, _)) = scope {
        extensions = extensions.add("x-scope", scope);
    }
    operation.extensions.get_or_insert_with(Default::default).merge(extensions.build());
    operation.description = Some(match operation.description.take() {
        Some(description) if !description.is_empty() => format!("{description}\n\n{line}"),
        _ => line,
    });
}

/// The errors every route can answer because of the router's layers.
fn add_layer_errors(operation: &mut Operation, scope: Option<(&str, bool)>) {
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, response: &ErrorResponse| {
        responses.entry(status.to_string()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(response.name)));
    };
    if let Some((_, public)) = scope {
        add("401", &UNAUTHORIZED);
        if !public {
            add("403", &FORBIDDEN);
        }
        add("429", &RATE_LIMITED);
    }
    if has_body {
        add("413", &PAYLOAD_TOO_LARGE);
    }
    add("500", &INTERNAL);
    add("503", &UNAVAILABLE);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_operation_says_its_scope_and_refers_to_the_error_schema() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        let search = &doc["paths"]["/api/search"]["get"];
        assert_eq!(search["x-scope"], "search");
        assert_eq!(search["security"], json!([{}, {"bearer": []}]));
        let keys = &doc["paths"]["/api/keys"]["post"];
        assert_eq!(keys["security"], json!([{"bearer": []}]));
        assert_eq!(keys["responses"]["403"]["$ref"], "#/components/responses/Forbidden");
        assert_eq!(keys["responses"]["413"]["$ref"], "#/components/responses/PayloadTooLarge");
        assert_eq!(without_links("see [`Record::assign_id`] and [`a`](b)"), "see `Record::assign_id` and [`a`](b)");
        let limited = &doc["components"]["responses"]["RateLimited"];
        assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
        assert_eq!(limited["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
    }
}
