//! `/healthz`, `/readyz` and `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::{ApiError, AppState};

/// The answer of `/healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// The answer of `/readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// Always `ready` (not ready is a 503).
    pub status: &'static str,
    /// The index generation served (its folder name).
    pub generation: String,
    /// Documents in it.
    pub documents: u64,
    /// The semantic leg: the model loaded and the one that made the generation's vectors.
    pub semantic: SemanticReadiness,
}

/// What the semantic leg has to work with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SemanticReadiness {
    /// The embedding model loaded; null: keyword search only.
    pub model: Option<String>,
    /// The generation's vectors; null when it has none.
    pub index_vectors: Option<IndexVectors>,
}

/// The vectors of the served generation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexVectors {
    /// The model that made them: the semantic leg runs only when it is the one loaded.
    pub model: String,
    /// Live vectors per record kind.
    pub by_kind: BTreeMap<String, usize>,
}

/// The process is up
///
/// Answers as long as the process serves requests, index or not.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Up.", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// An index generation is served
///
/// Ready when an index generation is served: the generation, its documents, and what the
/// semantic leg has (the model loaded, and the one that made the generation's vectors).
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, description = "Ready.", body = Ready)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Ready>, ApiError> {
    match state.index() {
        Some(index) => Ok(Json(Ready {
            status: "ready",
            generation: index.name().to_string(),
            documents: index.num_docs(),
            semantic: SemanticReadiness {
                model: state.encoder.as_ref().map(|e| e.model_id().to_string()),
                index_vectors: index.vectors_manifest().map(|m| IndexVectors { model: m.model_id, by_kind: m.by_kind }),
            },
        })),
        None => Err(ApiError::not_ready()),
    }
}

/// The server's counters, for Prometheus
///
/// Requests by route template and status, latencies, rate limits hit, live writes, documents
/// per kind (counted now), in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses((status = 200, description = "The Prometheus text format.", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(index) = state.index() {
        let by_kind = index.document_counts();
        state.metrics.set_documents(&by_kind);
    }
    ([(axum::http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], state.metrics.render()).into_response()
}
