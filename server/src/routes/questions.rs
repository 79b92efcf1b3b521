//! `POST /api/questions/similar` `{"text": "...", "code": "...", "options": [...], "limit": 10}`:
//! the near-duplicates of a question being written, each with a verdict, and its language tag.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use indexer::questions::{SimilarAnswer, SimilarRequest};

use crate::routes::on_index;
use crate::{ApiError, AppState};

const EXPECTED: &str = "{\"text\": \"the stem\", \"code\": \"optional code\", \"options\": [\"...\"], \"limit\": 10}";

pub async fn similar(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<SimilarAnswer>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(format!("empty body: send JSON {EXPECTED}")));
    }
    let request: SimilarRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON ({e}); expected {EXPECTED}")))?;
    Ok(Json(on_index(state, move |index, encoder| index.similar_questions(&request, encoder)).await?))
}
