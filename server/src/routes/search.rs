//! `GET /api/search?q=&kind=&limit=&offset=&prefix=&semantic_ratio=&explain=&<filter>=`: the
//! search box, hybrid when a model and vectors are there.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use indexer::{FacetField, MAX_LIMIT, SearchRequest, SearchResponse};

use crate::routes::on_index;
use crate::{ApiError, AppState};

const DEFAULT_LIMIT: usize = 20;

pub async fn search(
    State(state): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = parse(&params)?;
    Ok(Json(on_index(state, move |index, encoder| index.search_hybrid(&request, encoder)).await?))
}

fn accepted() -> String {
    let mut names = vec!["q", "limit", "offset", "prefix", "semantic_ratio", "explain", "fusion"];
    names.extend(FacetField::ALL.iter().map(|f| f.name()));
    names.join(", ")
}

pub(crate) fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request(format!("`{name}` must be a whole number, got `{v}`"))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str, default: bool) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None => Ok(default),
        Some("true" | "1" | "") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!("`{name}` must be true or false, got `{other}`"))),
    }
}

/// Reads the query string; unknown parameters are refused so that a misspelt filter does not
/// silently return unfiltered results.
pub fn parse(params: &HashMap<String, String>) -> Result<SearchRequest, ApiError> {
    let mut request = SearchRequest {
        q: params.get("q").cloned().unwrap_or_default(),
        limit: number(params, "limit", DEFAULT_LIMIT)?,
        offset: number(params, "offset", 0)?,
        prefix: true,
        filters: Vec::new(),
        semantic_ratio: None,
        explain: false,
        fusion: None,
    };
    request.fusion = match params.get("fusion").map(|f| f.trim()) {
        None | Some("rrf") => None,
        Some("convex") => Some(indexer::hybrid::Fusion::Convex),
        Some(other) => return Err(ApiError::bad_request(format!("`fusion` is rrf or convex, got `{other}`"))),
    };
    if let Some(r) = params.get("semantic_ratio") {
        let ratio: f32 = r
            .trim()
            .parse()
            .ok()
            .filter(|v: &f32| (0.0..=1.0).contains(v))
            .ok_or_else(|| ApiError::bad_request(format!("`semantic_ratio` goes from 0 (keyword only) to 1 (meaning only), got `{r}`")))?;
        request.semantic_ratio = Some(ratio);
    }
    request.explain = flag(params, "explain", false)?;
    if request.limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!("`limit` is at most {MAX_LIMIT}")));
    }
    request.prefix = flag(params, "prefix", true)?;
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        if matches!(name.as_str(), "q" | "limit" | "offset" | "prefix" | "semantic_ratio" | "explain" | "fusion") {
            continue;
        }
        let Some(field) = FacetField::parse(name) else {
            return Err(ApiError::bad_request(format!("unknown parameter `{name}`; accepted: {}", accepted())));
        };
        let values: Vec<String> =
            params[name].split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect();
        if field == FacetField::Kind {
            if let Some(bad) = values.iter().find(|v| schemas::RecordKind::parse(v).is_none()) {
                return Err(ApiError::bad_request(format!(
                    "unknown kind `{bad}`; kinds are school, programme, offer, company, question"
                )));
            }
        }
        if !values.is_empty() {
            request.filters.push((field, values));
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_filters_and_refuses_unknown_parameters() {
        let r = parse(&params(&[("q", "java"), ("kind", "offer,programme"), ("region", "Wallonie")])).unwrap();
        assert_eq!(r.filters.len(), 2);
        assert!(parse(&params(&[("regoin", "Wallonie")])).unwrap_err().message.contains("regoin"));
        assert!(parse(&params(&[("kind", "planet")])).is_err());
        assert!(parse(&params(&[("limit", "many")])).is_err());
        assert!(parse(&params(&[("limit", "1000")])).is_err());
        assert!(!parse(&params(&[("prefix", "false")])).unwrap().prefix);
        let r = parse(&params(&[("q", "web"), ("semantic_ratio", "0.7"), ("explain", "true")])).unwrap();
        assert_eq!(r.semantic_ratio, Some(0.7));
        assert!(r.explain);
        for bad in ["1.5", "-0.1", "half", "NaN"] {
            let err = parse(&params(&[("semantic_ratio", bad)])).unwrap_err().message;
            assert!(err.contains("semantic_ratio"), "{bad}: {err}");
        }
        assert!(parse(&params(&[("explain", "yes")])).is_err());
        assert_eq!(parse(&params(&[("fusion", "convex")])).unwrap().fusion, Some(indexer::hybrid::Fusion::Convex));
        assert!(parse(&params(&[("fusion", "max")])).unwrap_err().message.contains("rrf or convex"));
    }
}
