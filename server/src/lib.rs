//! The HTTP face of passerelle: the JSON API under `/api`, the search page at `/`, and the
//! health probes. Routes translate typed requests only: each reads its query string or JSON body
//! into the request type of `passerelle-indexer` or `passerelle-features`, calls it, and answers
//! its result as JSON. Ranking, matching and analysis live in those crates.
//!
//! The served index generation is watched: when `passerelle index` publishes a new one, the
//! server opens it and swaps it in between two requests, without a restart.
//!
//! `/api/search` is hybrid when the generation has vectors and a model is loaded (see
//! [`indexer::SearchIndex::search_hybrid`]); otherwise keyword only, and the answer says why.
//! `POST /api/match/*` are the matchers (see [`features::matching`]), `POST
//! /api/questions/similar` the near-duplicate check, `GET /api/stats` the offers' trends.
//!
//! `GET /api/openapi.json` is the API's OpenAPI 3.1 document, generated from the routes and
//! types (see [`openapi`]): every handler is registered with utoipa-axum's `routes!`, which adds
//! it to the router and its operation to the document in the same call, so no route is served
//! undocumented. `GET /api/docs` is the reference page that shows it.
//!
//! Every answer carries an `x-request-id` header. Every 4xx and 5xx answer, whoever made it (a
//! route, the body limit, the timeout, an extractor, the router's fallbacks), is one envelope:
//!
//! ```json
//! {"error": {"code": "invalid_request", "message": "`limit`: ...", "field": "limit"}}
//! ```
//!
//! | status | `code` | when |
//! |---|---|---|
//! | 400 | `bad_request`, `invalid_request` (with `field`) | the request cannot be read, or one field is wrong |
//! | 404 | `not_found` | no such path |
//! | 405 | `method_not_allowed` | the path takes another method (the message and `Allow` say which) |
//! | 413 | `payload_too_large` | a body (or its `Content-Length`) over [`MAX_BODY_BYTES`] |
//! | 503 | `not_ready` | no index generation yet |
//! | 503 | `timeout` | no answer within [`ServeConfig::request_timeout`] (a write: at least [`WRITE_TIMEOUT`]) |
//! | 500 | `internal` | anything else; the body has only `request_id`, the log has the cause |
//!
//! A timeout is a 503 rather than a 504 (there is no upstream gateway) or a 408 (the client was
//! not slow to send): the service is too busy for this request now, and may answer it later.
//!
//! Writes, keys and limits (see [`auth`]): `POST/PUT/DELETE /api/offers`, `/api/programmes`,
//! `/api/questions` are live writes (committed to the records store before the answer, served
//! at once); `POST /api/offers/{id}/forward` sends an offer to programme managers (mailed by the
//! outbox when SMTP is configured); `GET /api/export/contacts.csv` is the contacts export; the
//! suppression list and the export log; `/api/keys`. 401 `unauthorized` without a valid key where
//! one is needed, 403 `forbidden` with a key that lacks the scope or its binding, 429
//! `rate_limited` with `Retry-After` past a limit.
//!
//! ```no_run
//! # async fn run() -> Result<(), passerelle_server::ServeError> {
//! let config = passerelle_server::ServeConfig::new("data".into(), "127.0.0.1:7800".parse().unwrap());
//! passerelle_server::serve(config, |addr| println!("http://{addr}/"), std::future::pending()).await
//! # }
//! ```

#![warn(missing_docs)]

pub mod auth;
mod envelope;
mod error;
mod outbox;
mod routes;
mod state;

pub mod config;
pub mod mail;
pub mod metrics;
pub mod openapi;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use envelope::{REQUEST_ID, RequestId, WRITE_TIMEOUT};
pub use error::ApiError;
pub use state::AppState;

/// Largest request body accepted by default.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Where the data is, where to listen, and the server's limits, keys and mail.
#[derive(Clone)]
pub struct ServeConfig {
    /// The data directory (records and index generations).
    pub data_dir: PathBuf,
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// How often the served generation pointer is checked.
    pub reload_every: Duration,
    /// Longest time a request may take before it is answered 503 `timeout`.
    pub request_timeout: Duration,
    /// Turns queries into vectors for the semantic leg; `None`: keyword search only.
    pub encoder: Option<Arc<embed::QueryEncoder>>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// The scopes open without a key.
    pub public_scopes: Vec<String>,
    /// The master key (every scope), if any.
    pub master_key: Option<String>,
    /// Rate limits.
    pub limits: config::Limits,
    /// Browser origins allowed to call the API (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Where transmissions are mailed; `None`: stored only.
    pub smtp: Option<config::SmtpConfig>,
}

impl ServeConfig {
    /// The defaults: reload check every 500 ms, 10 s request timeout, no model, the default
    /// public scopes and limits, no master key, no CORS, no mail.
    pub fn new(data_dir: PathBuf, addr: SocketAddr) -> Self {
        Self::from_config(&config::ServerConfig { server: config::ServerSettings { data: data_dir, addr, ..Default::default() }, ..Default::default() }, None)
    }

    /// The settings of a `server.toml` (already overridden by the environment), with the
    /// master key read from where it names.
    pub fn from_config(c: &config::ServerConfig, master_key: Option<String>) -> Self {
        Self {
            data_dir: c.server.data.clone(),
            addr: c.server.addr,
            reload_every: c.server.reload_every,
            request_timeout: c.server.request_timeout,
            encoder: None,
            max_body_bytes: c.server.max_body_bytes,
            public_scopes: c.server.public_scopes.clone(),
            master_key,
            limits: c.limits,
            cors_origins: c.cors.origins.clone(),
            smtp: c.smtp.clone(),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source} (is another server using it? pick another with --addr)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    /// The `[smtp]` settings cannot make a mailer.
    #[error("[smtp]: {0}")]
    Mail(String),
}

/// The application's routes, on a given state, with the default body limit and no CORS.
pub fn router(state: Arc<AppState>, request_timeout: Duration) -> Router {
    router_with(state, request_timeout, MAX_BODY_BYTES, &[])
}

/// The routes under the key check (`/api`, but for the reference): each handler registered
/// with its documentation (see [`openapi`]).
fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    use routes::{export, forward, keys, matching, places, questions, records, search, stats};
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(search::search))
        .routes(routes!(places::places))
        .routes(routes!(stats::stats))
        .routes(routes!(stats::gaps))
        .routes(routes!(matching::offer_to_programmes))
        .routes(routes!(matching::student_to_offers))
        .routes(routes!(matching::student_to_programmes))
        .routes(routes!(questions::similar))
        .routes(routes!(records::create_offer))
        .routes(routes!(records::get_offer, records::replace_offer, records::remove_offer))
        .routes(routes!(forward::forward))
        .routes(routes!(records::create_programme))
        .routes(routes!(records::get_programme, records::replace_programme, records::remove_programme))
        .routes(routes!(records::create_question))
        .routes(routes!(records::get_question, records::replace_question, records::remove_question))
        .routes(routes!(forward::list))
        .routes(routes!(export::contacts_csv))
        .routes(routes!(export::contacts_jsonl))
        .routes(routes!(export::contacts_count))
        .routes(routes!(export::log))
        .routes(routes!(export::suppress, export::suppressions))
        .routes(routes!(export::unsuppress))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::revoke))
}

/// The routes open to everyone, outside the key check: the page, the probes, the metrics and
/// the API reference.
fn open_routes() -> OpenApiRouter<Arc<AppState>> {
    use routes::{docs, health, page};
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(page::index))
        .routes(routes!(page::page))
        .routes(routes!(page::asset))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::page))
        .routes(routes!(docs::script))
}

/// Every route and its documentation, without the layers: what `/api/openapi.json` is made of.
pub(crate) fn routes_with_docs() -> OpenApiRouter<Arc<AppState>> {
    api_routes().merge(open_routes())
}

/// The application's routes with this body limit and these CORS origins.
pub fn router_with(state: Arc<AppState>, request_timeout: Duration, max_body_bytes: usize, cors_origins: &[String]) -> Router {
    let (api, _) = api_routes().split_for_parts();
    // After routing, so the guard knows the route's template (and so its scope).
    let api = api.route_layer(middleware::from_fn_with_state(state.clone(), auth::authorize));
    let (open, _) = open_routes().split_for_parts();
    let meter = state.metrics.clone();
    let mut app = open
        .merge(api)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // Innermost first: a panic is a bare 500, the limit a bare 413, and the envelope, outermost,
        // makes each of them (and every route's error) the JSON error with the request id.
        .layer(CatchPanicLayer::new())
        .layer(RequestBodyLimitLayer::new(max_body_bytes))
        .layer(middleware::from_fn(move |request, next| envelope::timeout(request_timeout, request, next)))
        .layer(middleware::from_fn(move |request, next| metrics::track(meter.clone(), request, next)))
        .layer(middleware::from_fn(envelope::envelope));
    if let Some(cors) = cors_layer(cors_origins) {
        app = app.layer(cors);
    }
    app.with_state(state)
}

/// CORS for the configured origins (the config checked their form); `None` when there are none.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(allowed)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, envelope::REQUEST_ID])
            .max_age(Duration::from_secs(600)),
    )
}

/// Binds `config.addr` (port 0 picks a free port), calls `on_bound` with the address, and
/// serves until `shutdown` resolves.
pub async fn serve(config: ServeConfig, on_bound: impl FnOnce(SocketAddr), shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(|source| ServeError::Bind { addr: config.addr, source })?;
    on_bound(listener.local_addr()?);
    serve_on(listener, config, shutdown).await
}

/// Serves on a listener already bound (tests bind port 0 and read the address). On shutdown,
/// in-flight requests (writes included) finish before it returns.
pub async fn serve_on(listener: tokio::net::TcpListener, config: ServeConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let guard = auth::Guard::new(config.public_scopes.clone(), config.master_key.as_deref(), config.limits);
    let mailer = match &config.smtp {
        None => None,
        Some(smtp) => {
            Some(mail::Mailer::new(mail::MailConfig::from_config(smtp, |name| std::env::var(name).ok())).map_err(|e| ServeError::Mail(e.to_string()))?)
        }
    };
    let state = Arc::new(AppState::with_guard(config.data_dir.clone(), config.encoder.clone(), guard).with_mailer(mailer));
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.reload_if_changed()).await.map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    tokio::spawn(state::watch_generations(state.clone(), config.reload_every));
    tokio::spawn(outbox::run(state.clone()));
    let app = router_with(state, config.request_timeout, config.max_body_bytes, &config.cors_origins);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
