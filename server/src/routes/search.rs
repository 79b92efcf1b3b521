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

/// The query string of a search, but for the facet filters ([`FacetFilters`]). Documentation
/// only: [`parse`] reads the query string (refusing unknown names), and a test checks that
/// both name the same parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// The text typed in the search box (at most 1,000 characters); empty: every document, filtered.
    q: Option<String>,
    /// Hits on the page: 20 by default, at most 100.
    #[param(minimum = 0, maximum = 100)]
    limit: Option<usize>,
    /// Hits skipped before the page (`offset + limit` at most 10,000).
    offset: Option<usize>,
    /// Match the last word as a prefix (search-as-you-type); `true` by default.
    prefix: Option<bool>,
    /// Weight of the semantic leg, from 0 (keywords only) to 1 (meaning only); 0.5 by default.
    #[param(minimum = 0, maximum = 1)]
    semantic_ratio: Option<f32>,
    /// Give each hit its rank and score in each leg, and the fused score (`explain`).
    explain: Option<bool>,
    /// How the legs are fused: `rrf` (reciprocal rank fusion, k = 60, the default) or `convex`
    /// (weighted sum of normalised scores).
    #[param(inline)]
    fusion: Option<FusionName>,
    /// `relevance` (the default) or `recent`: without words, the most recently posted offers
    /// first (with `q`, refused: words are ordered by relevance).
    #[param(inline)]
    sort: Option<SortName>,
}

/// The order of a page.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SortName {
    /// Best match first.
    Relevance,
    /// Most recently posted first (without words only).
    Recent,
}

/// How the legs of a hybrid search are fused.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum FusionName {
    /// Reciprocal rank fusion (k = 60).
    Rrf,
    /// A weighted sum of the legs' min-max-normalised scores.
    Convex,
}

/// The facet filters of a search, one query parameter per filterable field
/// ([`FacetField::ALL`]).
pub struct FacetFilters;

impl utoipa::IntoParams for FacetFilters {
    fn into_params(_: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        FacetField::ALL
            .iter()
            .map(|field| {
                let kinds =
                    if *field == FacetField::Kind { format!(" (kinds: {})", schemas::RecordKind::ALL.map(|k| k.as_str()).join(", ")) } else { String::new() };
                ParameterBuilder::new()
                    .name(field.name())
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(format!(
                        "Keeps the documents whose `{}` is one of these values{kinds}, comma-separated; the filters of several fields must all match.",
                        field.name()
                    )))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build()
            })
            .collect()
    }
}

/// Search schools, programmes, offers, companies and questions
///
/// Typo-tolerant and as-you-type (the last word is a prefix). Hybrid when the served index
/// generation has vectors and a model is loaded: the keyword (BM25) and the semantic legs
/// are fused, and `semantic` says what the semantic leg did; otherwise keywords only, and
/// `semantic.note` says why. `snippet` and `title_html` are HTML (escaped text with `<mark>`
/// around the matches); every other string is plain text, to be escaped by whoever shows it.
#[utoipa::path(
    get,
    path = "/api/search",
    tag = "search",
    params(SearchParams, FacetFilters),
    responses(
        (status = 200, description = "One page of hits, best first, with the facet counts.", body = SearchResponse),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn search(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<SearchResponse>, ApiError> {
    let request = parse(&params)?;
    let answer = on_index(state.clone(), move |index, encoder| index.search_hybrid(&request, encoder)).await?;
    if let Some(semantic) = &answer.semantic {
        state.metrics.semantic(if semantic.used { "ran" } else { semantic.skipped.as_deref().unwrap_or("skipped") });
    }
    Ok(Json(answer))
}

fn accepted() -> String {
    let mut names = vec!["q", "limit", "offset", "prefix", "semantic_ratio", "explain", "fusion", "sort"];
    names.extend(FacetField::ALL.iter().map(|f| f.name()));
    names.join(", ")
}

pub(crate) fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ApiError::invalid(name, format!("must be a whole number, got `{v}`"))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str, default: bool) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None => Ok(default),
        Some("true" | "1" | "") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::invalid(name, format!("must be true or false, got `{other}`"))),
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
        sort: indexer::Sort::Relevance,
    };
    request.sort = match params.get("sort").map(|f| f.trim()) {
        None | Some("relevance") => indexer::Sort::Relevance,
        Some("recent") => indexer::Sort::Recent,
        Some(other) => return Err(ApiError::invalid("sort", format!("is relevance or recent, got `{other}`"))),
    };
    request.fusion = match params.get("fusion").map(|f| f.trim()) {
        None | Some("rrf") => None,
        Some("convex") => Some(indexer::hybrid::Fusion::Convex),
        Some(other) => return Err(ApiError::invalid("fusion", format!("is rrf or convex, got `{other}`"))),
    };
    if let Some(r) = params.get("semantic_ratio") {
        let ratio: f32 = r
            .trim()
            .parse()
            .ok()
            .filter(|v: &f32| (0.0..=1.0).contains(v))
            .ok_or_else(|| ApiError::invalid("semantic_ratio", format!("goes from 0 (keyword only) to 1 (meaning only), got `{r}`")))?;
        request.semantic_ratio = Some(ratio);
    }
    request.explain = flag(params, "explain", false)?;
    if request.limit > MAX_LIMIT {
        return Err(ApiError::invalid("limit", format!("is at most {MAX_LIMIT}")));
    }
    request.prefix = flag(params, "prefix", true)?;
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        if matches!(name.as_str(), "q" | "limit" | "offset" | "prefix" | "semantic_ratio" | "explain" | "fusion" | "sort") {
            continue;
        }
        let Some(field) = FacetField::parse(name) else {
            return Err(ApiError::unknown_parameter(name, &accepted()));
        };
        let values: Vec<String> = params[name].split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect();
        if let Some(bad) = values.iter().find(|v| field == FacetField::Kind && schemas::RecordKind::parse(v).is_none()) {
            return Err(ApiError::invalid("kind", format!("unknown kind `{bad}`; kinds are school, programme, offer, company, question")));
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
    fn the_documented_parameters_are_the_accepted_ones() {
        use utoipa::IntoParams;
        let mut documented: Vec<String> = SearchParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        documented.extend(FacetFilters::into_params(|| None).into_iter().map(|p| p.name));
        assert_eq!(documented.join(", "), accepted());
        assert!(parse(&params(&[("fusion", "rrf"), ("explain", "1")])).is_ok());
    }

    #[test]
    fn reads_filters_and_refuses_unknown_parameters() {
        let r = parse(&params(&[("q", "java"), ("kind", "offer,programme"), ("region", "Wallonie")])).unwrap();
        assert_eq!(r.filters.len(), 2);
        let unknown = parse(&params(&[("regoin", "Wallonie")])).unwrap_err();
        assert!(unknown.message.contains("regoin") && unknown.field.as_deref() == Some("regoin"), "{unknown:?}");
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
        assert_eq!(parse(&params(&[("sort", "recent")])).unwrap().sort, indexer::Sort::Recent);
        assert!(parse(&params(&[("sort", "newest")])).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any query string (names and values of any Unicode, numbers out of range) is read or
        /// refused with a 400, never a panic.
        #[test]
        fn any_query_string_is_read_or_refused(pairs in proptest::collection::vec((
            proptest::prop_oneof!["[a-z_]{1,14}", "(q|limit|offset|prefix|semantic_ratio|explain|fusion|kind|region|level)", proptest::prelude::any::<String>()],
            proptest::prop_oneof![proptest::prelude::any::<String>(), "[0-9.e+-]{0,25}", "(true|false|rrf|convex|offer,programme|NaN|inf)"],
        ), 0..6)) {
            let map: HashMap<String, String> = pairs.into_iter().collect();
            if let Err(e) = parse(&map) {
                proptest::prop_assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            }
        }
    }
}
