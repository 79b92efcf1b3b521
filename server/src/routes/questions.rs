//! `POST /api/questions/similar` `{"text": "...", "code": "...", "options": [...], "limit": 10}`:
//! the near-duplicates of a question being written, each with a verdict, and its language tag.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use features::questions::{SimilarAnswer, SimilarRequest};

use crate::error::from_json;
use crate::routes::on_index;
use crate::{ApiError, AppState};

const EXPECTED: &str = "{\"text\": \"the stem\", \"code\": \"optional code\", \"options\": [\"...\"], \"limit\": 10}";

/// The near-duplicates of a question being written
///
/// What a quiz contributor sees before saving a question: the indexed questions closest to it,
/// each with a similarity, a verdict (`duplicate`, `similar`, `distinct`) and the reasons for
/// it, and the language tag (Java, Python, PHP, .NET, UX, Bebras...) it would get. Without
/// vectors or a model, only the same or nearly the same wordings can be told (`semantic` says
/// so).
#[utoipa::path(
    post,
    path = "/api/questions/similar",
    tag = "questions",
    request_body(content = SimilarRequest, description = "The question: its stem, and optionally its code, its options and how many questions to return."),
    responses(
        (status = 200, description = "Duplicates first, then similar, then distinct questions, and the tag guessed.", body = SimilarAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn similar(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<SimilarAnswer>, ApiError> {
    let request: SimilarRequest = from_json(&body, EXPECTED)?;
    Ok(Json(on_index(state, move |index, encoder| index.similar_questions(&request, encoder)).await?))
}
