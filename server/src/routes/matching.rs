//! `POST /api/match/offer-to-programmes`, `/api/match/student-to-offers`,
//! `/api/match/student-to-programmes`: `{"text": "...", "limit": 10, "filters": {...}}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use features::matching::{DEFAULT_MATCH_LIMIT, FilterValues, MatchFilters, MatchRequest, OffersAnswer, ProgrammesAnswer, Task};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::from_json;
use crate::routes::{date, on_index};
use crate::{ApiError, AppState};

/// What a matcher reads.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchBody {
    /// The pasted offer, or the student's wish, at most 20,000 characters.
    text: String,
    /// How many results: 10 by default, 1 to 50.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    limit: Option<usize>,
    /// Which records may be returned, by filter name: a string or a list of strings (any of
    /// them matches) for the facets; `posted_after` and `as_of` dates `YYYY-MM-DD` and
    /// `open_only` a boolean (student to offers only); `near` a town ("Namur") or `lat` and
    /// `lon` numbers, with `radius_km` (30 by default): only the records within that circle,
    /// each with its `distance_km`. The filters each matcher takes are in its description.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filters: Option<Map<String, Value>>,
}

/// A matcher's description: `what`, then the filters it takes.
fn described(task: Task, what: &str) -> String {
    format!("{what}\n\nFilters (`filters` of the body): {}.", task.filter_names().iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))
}

/// Reads a matcher's JSON body; every mistake is a 400 that says what is expected.
fn parse(task: Task, body: &[u8]) -> Result<MatchRequest, ApiError> {
    let expected = format!("{{\"text\": \"...\", \"limit\": 10, \"filters\": {{...}}}}; filters accepted: {}", task.filter_names().join(", "));
    let parsed: MatchBody = from_json(body, &expected)?;
    let filters = MatchFilters::for_task(task, filter_values(parsed.filters.unwrap_or_default())?)?;
    Ok(MatchRequest { text: parsed.text, limit: parsed.limit.unwrap_or(DEFAULT_MATCH_LIMIT), filters })
}

/// The `filters` object, typed: dates YYYY-MM-DD, `open_only` a boolean, every other filter a
/// string or a list of strings (which filters a task takes is the matcher's to say).
fn filter_values(filters: Map<String, Value>) -> Result<FilterValues, ApiError> {
    let mut out = FilterValues::default();
    let (mut town, mut lat, mut lon, mut radius) = (None, None, None, None);
    for (name, value) in filters {
        let field = format!("filters.{name}");
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            ("near", Value::String(t)) => town = Some(t),
            ("near", other) => return Err(ApiError::invalid(field, format!("must be a town, for example \"Namur\", got {other}"))),
            ("lat" | "lon" | "radius_km", Value::Number(n)) => {
                let n = Some(n.to_string());
                match name.as_str() {
                    "lat" => lat = n,
                    "lon" => lon = n,
                    _ => radius = n,
                }
            }
            ("lat" | "lon" | "radius_km", other) => return Err(ApiError::invalid(field, format!("must be a number, got {other}"))),
            ("posted_after" | "as_of", Value::String(day)) => {
                let day = Some(date(&field, &day)?);
                if name == "as_of" { out.as_of = day } else { out.posted_after = day }
            }
            ("posted_after" | "as_of", other) => return Err(ApiError::invalid(field, format!("must be a date YYYY-MM-DD, got {other}"))),
            ("open_only", Value::Bool(open)) => out.open_only = Some(open),
            ("open_only", other) => return Err(ApiError::invalid(field, format!("must be true or false, got {other}"))),
            (_, Value::String(one)) => out.facets.push((name, vec![one])),
            (_, Value::Array(items)) => {
                let values = items.iter().map(|i| i.as_str().map(str::to_string)).collect::<Option<Vec<_>>>();
                out.facets.push((name, values.ok_or_else(|| ApiError::invalid(&field, "must be a string or a list of strings"))?));
            }
            (_, other) => return Err(ApiError::invalid(field, format!("must be a string or a list of strings, got {other}"))),
        }
    }
    out.near = crate::routes::search::near("filters.", town.as_deref().map(str::trim), lat.as_deref(), lon.as_deref(), radius.as_deref())?;
    Ok(out)
}

/// The programmes that train for an offer
#[utoipa::path(
    post,
    path = "/api/match/offer-to-programmes",
    description = described(Task::OfferToProgrammes, "The recruiter pastes an offer; the matcher reads its title, skills and occupations (ROME codes written or guessed from its nearest neighbours), leaves out the sentences about pay, perks and how to apply, and ranks the programmes by keywords and meaning, credited for the occupations they share with the offer."),
    tag = "match",
    request_body(content = MatchBody, description = "The text and, optionally, the limit and the filters."),
    responses(
        (status = 200, description = "The programmes that train for the offer, best first, with their school and contact, and why each was found.", body = ProgrammesAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn offer_to_programmes(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<ProgrammesAnswer>, ApiError> {
    let request = parse(Task::OfferToProgrammes, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_programmes(Task::OfferToProgrammes, &request, encoder)).await?))
}

/// The programmes that fit what a student wants to study
#[utoipa::path(
    post,
    path = "/api/match/student-to-programmes",
    description = described(Task::StudentToProgrammes, "The student describes what to study or the occupation wanted; the matcher ranks the programmes by keywords and meaning, credited for the occupations they share with the wish."),
    tag = "match",
    request_body(content = MatchBody, description = "The text and, optionally, the limit and the filters."),
    responses(
        (status = 200, description = "The programmes that fit the wish, best first, with their school and contact, and why each was found.", body = ProgrammesAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn student_to_programmes(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<ProgrammesAnswer>, ApiError> {
    let request = parse(Task::StudentToProgrammes, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_programmes(Task::StudentToProgrammes, &request, encoder)).await?))
}

/// The offers that fit a student's wish
#[utoipa::path(
    post,
    path = "/api/match/student-to-offers",
    description = described(Task::StudentToOffers, "The student describes the internship or job wanted. Besides the offers, the answer lists the companies that posted similar offers before (open now or not: where to send an unsolicited application) and the recruiters' contacts."),
    tag = "match",
    request_body(content = MatchBody, description = "The text and, optionally, the limit and the filters."),
    responses(
        (status = 200, description = "The offers that fit the wish (open ones by default), the companies that posted similar offers, and the recruiters to write to.", body = OffersAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn student_to_offers(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<OffersAnswer>, ApiError> {
    let request = parse(Task::StudentToOffers, &body)?;
    Ok(Json(on_index(state, move |index, encoder| index.match_offers(&request, encoder)).await?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any body (bytes, or JSON whose filters have any names and values) is read or refused
        /// with a 400, for every matcher, never a panic.
        #[test]
        fn any_match_body_is_read_or_refused(
            raw in proptest::collection::vec(any::<u8>(), 0..200),
            name in prop_oneof!["(region|level|city|domain|contract_type|posted_after|as_of|open_only|language|near|lat|lon|radius_km)", any::<String>()],
            value in prop_oneof![
                any::<String>().prop_map(Value::String),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                proptest::collection::vec(any::<String>(), 0..3).prop_map(Value::from),
                "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
            ],
            limit in any::<i64>(),
        ) {
            let json = serde_json::json!({"text": "stage", "limit": limit, "filters": {name.clone(): value}}).to_string();
            for task in [Task::OfferToProgrammes, Task::StudentToOffers, Task::StudentToProgrammes] {
                for body in [raw.as_slice(), json.as_bytes()] {
                    if let Err(e) = parse(task, body) {
                        prop_assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
                    }
                }
            }
        }
    }
}
