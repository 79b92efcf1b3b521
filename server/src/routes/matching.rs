//! `POST /api/match/offer-to-programmes`, `/api/match/student-to-offers`,
//! `/api/match/student-to-programmes`: `{"text": "...", "limit": 10, "filters": {...}}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use indexer::matching::{DEFAULT_MATCH_LIMIT, MatchFilters, MatchRequest, OffersAnswer, ProgrammesAnswer, Task};
use serde::Deserialize;

use crate::routes::on_index;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchBody {
    text: String,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    filters: Option<serde_json::Value>,
}

/// Reads a matcher's JSON body; every mistake is a 400 that says what is expected.
fn parse(task: Task, body: &[u8]) -> Result<MatchRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(format!(
            "empty body: send JSON {{\"text\": \"...\", \"limit\": 10, \"filters\": {{...}}}}; filters accepted: {}",
            task.filter_names().join(", ")
        )));
    }
    let parsed: MatchBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the body is not the expected JSON ({e}); expected {{\"text\": \"...\", \"limit\": 10, \"filters\": {{...}}}}"))
    })?;
    let filters = MatchFilters::from_json(task, parsed.filters.as_ref())?;
    Ok(MatchRequest { text: parsed.text, limit: parsed.limit.unwrap_or(DEFAULT_MATCH_LIMIT), filters })
}

pub async fn offer_to_programmes(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<ProgrammesAnswer>, ApiError> {
    let request = parse(Task::OfferToProgrammes, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_programmes(Task::OfferToProgrammes, &request, encoder)).await?))
}

pub async fn student_to_programmes(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<ProgrammesAnswer>, ApiError> {
    let request = parse(Task::StudentToProgrammes, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_programmes(Task::StudentToProgrammes, &request, encoder)).await?))
}

pub async fn student_to_offers(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<OffersAnswer>, ApiError> {
    let request = parse(Task::StudentToOffers, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_offers(&request, encoder)).await?))
}
