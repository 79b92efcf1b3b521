//! `GET /api/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&limit=10`: most wanted skills, most active
//! companies, offers per level and per programme, this period against the same dates a year
//! earlier. `to` defaults to today, `from` to the first of January of `to`'s year.
//! `GET /api/stats/gaps` (same parameters): the occupations offers ask for and few programmes
//! train for.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use features::stats::{DEFAULT_STATS_LIMIT, GapsAnswer, StatsAnswer};
use time::Date;

use crate::routes::search::number;
use crate::routes::{date, on_index};
use crate::{ApiError, AppState};

/// The parameters `/api/stats` takes.
const ACCEPTED: [&str; 3] = ["from", "to", "limit"];

/// The query string of `/api/stats` (documentation; the route reads and checks it itself).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// First day counted, `YYYY-MM-DD`; the first of January of `to`'s year by default.
    #[param(format = Date)]
    from: Option<String>,
    /// Last day counted, `YYYY-MM-DD`; today by default.
    #[param(format = Date)]
    to: Option<String>,
    /// Entries in each list: 10 by default, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// Trends of the offers
///
/// The most wanted skills, the most active companies, offers per education level and per
/// programme (the offers for which the offer -> programmes matcher ranks it first, and the
/// offers sharing one of its ROME occupations), each counted in the period and in the same dates
/// a year earlier. The ranking is spread over requests: one spends at most 2 s ranking offers
/// not ranked before, and `ranked_offers.pending` says how many are left for the next.
#[utoipa::path(
    get,
    path = "/api/stats",
    tag = "stats",
    params(StatsParams),
    responses(
        (status = 200, description = "The period's counts against the year before's.", body = StatsAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn stats(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<StatsAnswer>, ApiError> {
    let (from, to, limit) = read(&params)?;
    Ok(Json(on_index(state, move |index, _| index.stats(from, to, Some(limit))).await?))
}

/// Where companies cannot find recruits
///
/// The occupations (ROME codes) the offers of the period ask for, against the programmes that
/// train for them: programmes with the same code, and, as a weak match, programmes with another
/// code of the same occupation sheet. Largest shortfall first: the period's offers per
/// programme (`shortfall`). Takes the same parameters as `/api/stats`.
#[utoipa::path(
    get,
    path = "/api/stats/gaps",
    operation_id = "stats_gaps",
    tag = "stats",
    params(StatsParams),
    responses(
        (status = 200, description = "The occupations, largest shortfall first.", body = GapsAnswer),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn gaps(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<GapsAnswer>, ApiError> {
    let (from, to, limit) = read(&params)?;
    Ok(Json(on_index(state, move |index, _| index.gaps(from, to, Some(limit))).await?))
}

/// `from`, `to` and `limit`, checked; any other parameter is refused.
fn read(params: &HashMap<String, String>) -> Result<(Option<Date>, Option<Date>, usize), ApiError> {
    if let Some(unknown) = params.keys().find(|k| !ACCEPTED.contains(&k.as_str())) {
        return Err(ApiError::unknown_parameter(unknown, "from, to (YYYY-MM-DD), limit"));
    }
    Ok((day(params, "from")?, day(params, "to")?, number(params, "limit", DEFAULT_STATS_LIMIT)?))
}

/// The date parameter `name`, if given.
fn day(params: &HashMap<String, String>, name: &str) -> Result<Option<Date>, ApiError> {
    params.get(name).map(|v| date(name, v)).transpose()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_parameters_are_the_accepted_ones() {
        use utoipa::IntoParams;
        let documented: Vec<String> = super::StatsParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        assert_eq!(documented, super::ACCEPTED);
    }
}
