//! `GET /api/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&limit=10`: most wanted skills, most active
//! companies, offers per level and per programme, this period against the same dates a year
//! earlier. `to` defaults to today, `from` to the first of January of `to`'s year.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use indexer::stats::{DEFAULT_STATS_LIMIT, StatsAnswer};

use crate::routes::on_index;
use crate::routes::search::number;
use crate::{ApiError, AppState};

pub async fn stats(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<StatsAnswer>, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !["from", "to", "limit"].contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("unknown parameter `{unknown}`; accepted: from, to (YYYY-MM-DD), limit")));
    }
    let limit = number(&params, "limit", DEFAULT_STATS_LIMIT)?;
    let (from, to) = (params.get("from").cloned(), params.get("to").cloned());
    Ok(Json(on_index(state, move |index, _| index.stats(from.as_deref(), to.as_deref(), Some(limit))).await?))
}
