use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// The process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when an index generation is served.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    match state.index() {
        Some(index) => Ok(Json(json!({
            "status": "ready",
            "generation": index.name(),
            "documents": index.num_docs(),
            "semantic": {
                "model": state.encoder.as_ref().map(|e| e.model_id().to_string()),
                "index_vectors": index.vectors_manifest().map(|m| json!({"model": m.model_id, "by_kind": m.by_kind})),
            },
        }))),
        None => Err(ApiError::not_ready(format!(
            "no index generation in {} yet: run `passerelle index`",
            state.data_dir.display()
        ))),
    }
}
