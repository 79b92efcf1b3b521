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
    /// `relevance` (the default), `distance` (nearest to `near` first, among each leg's best
    /// candidates) or `recent`: without words, the most recently posted offers first (with
    /// `q`, refused: words are ordered by relevance).
    #[param(inline)]
    sort: Option<SortName>,
    /// Only the records whose town is within `radius_km` of this town ("Namur", "Bruxelles",
    /// "Mons, FR"): the gazetteer's names, in French, Dutch or English. Each hit gets its
    /// `distance_km`; without words, the nearest come first. An unknown town is a 400 with the
    /// nearest spellings.
    near: Option<String>,
    /// The circle's centre by coordinates instead of a town: degrees north (with `lon`).
    #[param(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    /// Degrees east (with `lat`).
    #[param(minimum = -180, maximum = 180)]
    lon: Option<f64>,
    /// The circle's radius in km, with `near` or `lat`/`lon`: 30 by default, at most 1,000.
    #[param(minimum = 0, maximum = 1000)]
    radius_km: Option<f64>,
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
    /// Nearest to `near` (or `lat`/`lon`) first.
    Distance,
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
    let mut names = vec!["q", "limit", "offset", "prefix", "semantic_ratio", "explain", "fusion", "sort", "near", "lat", "lon", "radius_km"];
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

/// The circle of a request: a town (`near`) or coordinates (`lat` and `lon`), and a radius;
/// `None` when none is given. Shared by the search and the matchers, whose errors name the
/// fields with `prefix` (`filters.`).
pub(crate) fn near(
    prefix: &str,
    town: Option<&str>,
    lat: Option<&str>,
    lon: Option<&str>,
    radius_km: Option<&str>,
) -> Result<Option<indexer::geo::Near>, ApiError> {
    let field = |name: &str| format!("{prefix}{name}");
    let number = |name: &str, v: &str| -> Result<f64, ApiError> {
        v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| ApiError::invalid(field(name), format!("must be a number, got `{v}`")))
    };
    let radius = radius_km.map(|r| number("radius_km", r)).transpose()?;
    let circle = match (town, lat, lon) {
        (None, None, None) => {
            if radius.is_some() {
                return Err(ApiError::invalid(field("radius_km"), "needs a place: `near` (a town) or `lat` and `lon`"));
            }
            return Ok(None);
        }
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => return Err(ApiError::invalid(field("near"), "give a town or `lat` and `lon`, not both")),
        (Some(town), None, None) => indexer::geo::Near::around(prefix, town, radius)?,
        (None, Some(lat), Some(lon)) => indexer::geo::Near::at_named(prefix, number("lat", lat)?, number("lon", lon)?, radius)?,
        (None, Some(_), None) => return Err(ApiError::invalid(field("lon"), "is needed with `lat`")),
        (None, None, Some(_)) => return Err(ApiError::invalid(field("lat"), "is needed with `lon`")),
    };
    Ok(Some(circle))
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
        near: None,
    };
    request.sort = match params.get("sort").map(|f| f.trim()) {
        None | Some("relevance") => indexer::Sort::Relevance,
        Some("recent") => indexer::Sort::Recent,
        Some("distance") => indexer::Sort::Distance,
        Some(other) => return Err(ApiError::invalid("sort", format!("is relevance, distance or recent, got `{other}`"))),
    };
    let text = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    request.near = near("", text("near"), text("lat"), text("lon"), text("radius_km"))?;
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
        if matches!(
            name.as_str(),
            "q" | "limit" | "offset" | "prefix" | "semantic_ratio" | "explain" | "fusion" | "sort" | "near" | "lat" | "lon" | "radius_km"
        ) {
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

    #[test]
    fn reads_a_place_and_a_radius_or_says_what_is_wrong() {
        let r = parse(&params(&[("q", "stage"), ("near", "Namur"), ("radius_km", "25")])).unwrap();
        let near = r.near.unwrap();
        assert_eq!((near.place.unwrap().name, near.radius_km), ("Namur".to_string(), 25.0));
        let r = parse(&params(&[("lat", "50.85"), ("lon", "4.35"), ("sort", "distance")])).unwrap();
        assert_eq!((r.near.unwrap().radius_km, r.sort), (indexer::geo::DEFAULT_RADIUS_KM, indexer::Sort::Distance));
        let unknown = parse(&params(&[("near", "Namurr")])).unwrap_err();
        assert!(unknown.field.as_deref() == Some("near") && unknown.message.contains("Namur"), "{unknown:?}");
        for (pairs, field) in [
            (vec![("radius_km", "30")], "radius_km"),
            (vec![("near", "Namur"), ("radius_km", "0")], "radius_km"),
            (vec![("near", "Namur"), ("radius_km", "far")], "radius_km"),
            (vec![("near", "Namur"), ("radius_km", "inf")], "radius_km"),
            (vec![("lat", "50.8")], "lon"),
            (vec![("lat", "95"), ("lon", "4")], "lat"),
            (vec![("near", "Namur"), ("lat", "50"), ("lon", "4")], "near"),
        ] {
            let e = parse(&params(&pairs)).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{pairs:?}: {e:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any query string (names and values of any Unicode, numbers out of range) is read or
        /// refused with a 400, never a panic.
        #[test]
        fn any_query_string_is_read_or_refused(pairs in proptest::collection::vec((
            proptest::prop_oneof!["[a-z_]{1,14}", "(q|limit|offset|prefix|semantic_ratio|explain|fusion|kind|region|level|near|lat|lon|radius_km|sort)", proptest::prelude::any::<String>()],
            proptest::prop_oneof![proptest::prelude::any::<String>(), "[0-9.e+-]{0,25}", "(true|false|rrf|convex|offer,programme|NaN|inf|Namur|distance)"],
        ), 0..6)) {
            let map: HashMap<String, String> = pairs.into_iter().collect();
            if let Err(e) = parse(&map) {
                proptest::prop_assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            }
        }
    }
}
