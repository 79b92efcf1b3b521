//! The HTTP face of passerelle: the JSON API under `/api`, the search page at `/`, and the
//! health probes. Routes only translate requests into calls on the indexer and answer JSON;
//! ranking and analysis live in `passerelle-indexer`.
//!
//! The served index generation is watched: when `passerelle index` publishes a new one, the
//! server opens it and swaps it in between two requests, without a restart.
//!
//! `/api/search` is hybrid when the generation has vectors and a model is loaded (see
//! [`indexer::SearchIndex::search_hybrid`]); otherwise keyword only, and the answer says why.
//!
//! `POST /api/match/*` are the matchers (see [`indexer::matching`]): an offer -> programmes, a
//! student's wish -> offers (with companies and recruiters' contacts) or programmes.
//!
//! Not here yet: similar questions, stats, API keys, rate limits.
//!
//! ```no_run
//! # async fn run() -> Result<(), passerelle_server::ServeError> {
//! let config = passerelle_server::ServeConfig::new("data".into(), "127.0.0.1:7800".parse().unwrap());
//! passerelle_server::serve(config, |addr| println!("http://{addr}/"), std::future::pending()).await
//! # }
//! ```

pub mod demo;
mod error;
mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use state::AppState;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    /// How often the served generation pointer is checked.
    pub reload_every: Duration,
    pub request_timeout: Duration,
    /// Turns queries into vectors for the semantic leg; `None`: keyword search only.
    pub encoder: Option<Arc<indexer::semantic::QueryEncoder>>,
}

impl ServeConfig {
    pub fn new(data_dir: PathBuf, addr: SocketAddr) -> Self {
        Self { data_dir, addr, reload_every: Duration::from_millis(500), request_timeout: Duration::from_secs(10), encoder: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source} (is another server using it? pick another with --addr)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// The application's routes, on a given state.
pub fn router(state: Arc<AppState>, request_timeout: Duration) -> Router {
    Router::new()
        .route("/", get(routes::page::index))
        .route("/app.js", get(routes::page::script))
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/api/search", get(routes::search::search))
        .route("/api/stats", get(routes::stats::stats))
        .route("/api/match/offer-to-programmes", post(routes::matching::offer_to_programmes))
        .route("/api/match/student-to-offers", post(routes::matching::student_to_offers))
        .route("/api/match/student-to-programmes", post(routes::matching::student_to_programmes))
        .route("/api/questions/similar", post(routes::questions::similar))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .with_state(state)
}

/// Binds `config.addr` (port 0 picks a free port), calls `on_bound` with the address, and
/// serves until `shutdown` resolves.
pub async fn serve(
    config: ServeConfig,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind { addr: config.addr, source })?;
    on_bound(listener.local_addr()?);
    serve_on(listener, config, shutdown).await
}

/// Serves on a listener already bound (tests bind port 0 and read the address).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = Arc::new(AppState::with_encoder(config.data_dir.clone(), config.encoder.clone()));
    state.reload_if_changed();
    tokio::spawn(state::watch_generations(state.clone(), config.reload_every));
    let app = router(state, config.request_timeout);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
