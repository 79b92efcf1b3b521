//! The counters served at `/metrics`, in the Prometheus text format (version 0.0.4), made with
//! `prometheus-client`:
//!
//! | family | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `route` (the route's template), `method`, `status` |
//! | `http_request_duration_seconds` | histogram, 1 ms to 10 s | `route`, `method` |
//! | `rate_limited_total` | counter | `reason`: `client`, `key`, `failed_auth` |
//! | `live_writes_total` | counter | `kind`, `op` |
//! | `semantic_leg_total` | counter | `status`: `ran`, a reason it was skipped, `degraded` |
//! | `documents` | gauge | `kind` |
//! | `index_generation_info` | gauge, always 1 | `generation` |
//! | `index_generation_age_seconds` | gauge | |
//!
//! Label values must stay few: a route is labelled by its template (`/api/offers/{id}`), never by
//! the path asked for, and an unknown method is `other`. [`track`] is the middleware that does it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s answer.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The route label of a request no route matched (404s, and the fallbacks).
pub const UNMATCHED: &str = "unmatched";

/// Upper bounds of the request duration buckets, in seconds.
pub const DURATION_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The longest label value kept; a longer one is cut (labels come from the code, this is a bound
/// against a caller passing something unbounded by mistake).
const MAX_LABEL_CHARS: usize = 120;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    kind: String,
    op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GenerationLabel {
    generation: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The server's metrics: made once, shared by every request (it is `Send + Sync`; each update is
/// an atomic operation or a short lock).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    rate_limited: Family<ReasonLabel, Counter>,
    live_writes: Family<WriteLabels, Counter>,
    semantic: Family<StatusLabel, Counter>,
    documents: Family<KindLabel, Gauge>,
    generation: Family<GenerationLabel, Gauge>,
    generation_age: Gauge,
    /// When the served generation was built (unix seconds); `i64::MIN`: unknown.
    generation_created: AtomicI64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every family registered, all empty.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template, method and status", requests.clone());
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route template and method", durations.clone());
        let rate_limited = Family::<ReasonLabel, Counter>::default();
        registry.register("rate_limited", "Requests refused by a rate limit (client, key, failed_auth)", rate_limited.clone());
        let live_writes = Family::<WriteLabels, Counter>::default();
        registry.register("live_writes", "Records written through the API, by kind and operation", live_writes.clone());
        let semantic = Family::<StatusLabel, Counter>::default();
        registry.register("semantic_leg", "Searches by what the semantic leg did: ran, why it was skipped, degraded", semantic.clone());
        let documents = Family::<KindLabel, Gauge>::default();
        registry.register("documents", "Documents in the served index generation, by kind", documents.clone());
        let generation = Family::<GenerationLabel, Gauge>::default();
        registry.register("index_generation_info", "The served index generation (value 1)", generation.clone());
        let generation_age = Gauge::default();
        registry.register("index_generation_age_seconds", "Seconds since the served index generation was built", generation_age.clone());
        Metrics {
            registry,
            requests,
            durations,
            rate_limited,
            live_writes,
            semantic,
            documents,
            generation,
            generation_age,
            generation_created: AtomicI64::new(i64::MIN),
        }
    }

    /// One answered request: `route` is the route's template (see [`track`]).
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let (route, method) = (label(route), method_label(method));
        self.requests.get_or_create(&RequestLabels { route: route.clone(), method: method.clone(), status: status.to_string() }).inc();
        self.durations.get_or_create(&RouteLabels { route, method }).observe(elapsed.as_secs_f64());
    }

    /// One request refused by a rate limit: `client`, `key` or `failed_auth`.
    pub fn rate_limited(&self, reason: &str) {
        self.rate_limited.get_or_create(&ReasonLabel { reason: label(reason) }).inc();
    }

    /// `n` records of `kind` written through the API by `op` (`upsert`, `delete`...).
    pub fn live_write(&self, kind: &str, op: &str, n: u64) {
        self.live_writes.get_or_create(&WriteLabels { kind: label(kind), op: label(op) }).inc_by(n);
    }

    /// One search, by what its semantic leg did: `ran`, a reason it was skipped, or `degraded`.
    pub fn semantic(&self, status: &str) {
        self.semantic.get_or_create(&StatusLabel { status: label(status) }).inc();
    }

    /// The served generation's documents by kind; kinds not given are dropped.
    pub fn set_documents(&self, by_kind: &BTreeMap<String, u64>) {
        self.documents.clear();
        for (kind, n) in by_kind {
            self.documents.get_or_create(&KindLabel { kind: label(kind) }).set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    /// The generation now served, and when it was built (unix seconds) if known.
    pub fn set_generation(&self, name: &str, created_at_unix: Option<i64>) {
        self.generation.clear();
        self.generation.get_or_create(&GenerationLabel { generation: label(name) }).set(1);
        self.generation_created.store(created_at_unix.unwrap_or(i64::MIN), Ordering::Relaxed);
    }

    /// Every family in the Prometheus text format (version 0.0.4; see [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let created = self.generation_created.load(Ordering::Relaxed);
        self.generation_age.set(if created == i64::MIN { 0 } else { now.saturating_sub(created).max(0) });
        let mut text = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_err() {
            // Writing to a String does not fail; an encoder error leaves what was written.
            tracing::warn!("metrics: encoding failed");
        }
        text
    }
}

/// Middleware: times the request and counts its answer under the route's template (axum's
/// [`MatchedPath`]), or [`UNMATCHED`]. Add it with `Router::layer` (then every route sees the
/// template), e.g. `.layer(middleware::from_fn(move |r, n| metrics::track(m.clone(), r, n)))`.
pub async fn track(metrics: Arc<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, |m| m.as_str()).to_string();
    let method = request.method().clone();
    let response = next.run(request).await;
    metrics.observe_request(&route, method.as_str(), response.status().as_u16(), started.elapsed());
    response
}

fn label(value: &str) -> String {
    value.chars().take(MAX_LABEL_CHARS).collect()
}

/// The standard methods as they are; anything else (any token is a valid method) is `other`.
fn method_label(method: &str) -> String {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.iter().find(|known| known.eq_ignore_ascii_case(method)).map_or("other", |known| known).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// One sample of the exposition: its name, labels and value.
    #[derive(Debug)]
    struct Sample {
        name: String,
        labels: BTreeMap<String, String>,
        value: f64,
    }

    /// A checker of the Prometheus text format 0.0.4: `# HELP name text`, `# TYPE name type`,
    /// then `name{label="value",...} number` lines; every sample belongs to a family with a TYPE
    /// (a histogram's `_bucket`, `_sum` and `_count`, a counter's name ends in `_total`).
    fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
        let mut types: HashMap<String, String> = HashMap::new();
        let mut samples = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let at = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
            if line.is_empty() {
                return Err(at("empty line"));
            }
            if let Some(rest) = line.strip_prefix("# ") {
                let mut parts = rest.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("HELP"), Some(name), Some(_)) if valid_name(name) => {}
                    (Some("TYPE"), Some(name), Some(kind)) if valid_name(name) => {
                        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                            return Err(at("unknown type"));
                        }
                        if types.insert(name.to_string(), kind.to_string()).is_some() {
                            return Err(at("second TYPE"));
                        }
                    }
                    _ => return Err(at("bad comment")),
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').ok_or_else(|| at("no value"))?;
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse::<f64>().map_err(|_| at("bad value"))?,
            };
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').ok_or_else(|| at("unclosed labels"))?).map_err(|e| at(&e))?),
            };
            if !valid_name(name) {
                return Err(at("bad name"));
            }
            let family = [name, name.strip_suffix("_bucket").unwrap_or(""), name.strip_suffix("_sum").unwrap_or(""), name.strip_suffix("_count").unwrap_or("")]
                .into_iter()
                .find(|f| types.contains_key(*f))
                .ok_or_else(|| at("sample without a TYPE"))?;
            match types[family].as_str() {
                "counter" if !name.ends_with("_total") => return Err(at("counter not named _total")),
                "histogram" if name == family => return Err(at("bare histogram sample")),
                "histogram" if name.ends_with("_bucket") && !labels.contains_key("le") => return Err(at("bucket without le")),
                _ => {}
            }
            samples.push(Sample { name: name.to_string(), labels, value });
        }
        Ok(samples)
    }

    fn valid_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn parse_labels(mut text: &str) -> Result<BTreeMap<String, String>, String> {
        let mut labels = BTreeMap::new();
        while !text.is_empty() {
            let (name, rest) = text.split_once("=\"").ok_or("label without =\"")?;
            if !valid_name(name) {
                return Err(format!("bad label name {name:?}"));
            }
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        _ => return Err("bad escape".into()),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err("unclosed label value".into()),
                }
            };
            labels.insert(name.to_string(), value);
            text = &rest[end + 1..];
            text = text.strip_prefix(',').unwrap_or(text);
        }
        Ok(labels)
    }

    fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
        samples.iter().find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
    }

    #[test]
    fn render_is_prometheus_text_with_the_values() {
        let metrics = Metrics::new();
        metrics.observe_request("/api/search", "GET", 200, Duration::from_millis(3));
        metrics.observe_request("/api/search", "GET", 200, Duration::from_millis(40));
        metrics.observe_request("/api/offers/{id}", "get", 404, Duration::from_millis(1));
        metrics.observe_request("unmatched", "BREW", 404, Duration::from_secs(30));
        metrics.rate_limited("client");
        metrics.rate_limited("client");
        metrics.rate_limited("failed_auth");
        metrics.live_write("offers", "upsert", 3);
        metrics.live_write("offers", "delete", 1);
        metrics.semantic("ran");
        metrics.semantic("skipped_keyword_strong");
        metrics.set_documents(&BTreeMap::from([("offers".to_string(), 12), ("programmes".to_string(), 5)]));
        metrics.set_documents(&BTreeMap::from([("offers".to_string(), 13)]));
        metrics.set_generation("gen-0001", None);
        let created = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 - 120;
        metrics.set_generation("gen-0002 \"quoted\"\\", Some(created));

        let text = metrics.render();
        let samples = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let value = |name: &str, labels: &[(&str, &str)]| find(&samples, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}")).value;

        assert_eq!(value("http_requests_total", &[("route", "/api/search"), ("method", "GET"), ("status", "200")]), 2.0);
        assert_eq!(value("http_requests_total", &[("route", "/api/offers/{id}"), ("method", "GET"), ("status", "404")]), 1.0);
        assert_eq!(value("http_requests_total", &[("route", "unmatched"), ("method", "other")]), 1.0);
        assert_eq!(value("http_request_duration_seconds_count", &[("route", "/api/search")]), 2.0);
        assert_eq!(value("http_request_duration_seconds_bucket", &[("route", "/api/search"), ("le", "0.005")]), 1.0);
        assert_eq!(value("http_request_duration_seconds_bucket", &[("route", "/api/search"), ("le", "0.05")]), 2.0);
        assert_eq!(value("http_request_duration_seconds_bucket", &[("route", "unmatched"), ("le", "10")]), 0.0);
        assert_eq!(value("http_request_duration_seconds_bucket", &[("route", "unmatched"), ("le", "+Inf")]), 1.0);
        assert!((value("http_request_duration_seconds_sum", &[("route", "/api/search")]) - 0.043).abs() < 1e-9);
        assert_eq!(value("rate_limited_total", &[("reason", "client")]), 2.0);
        assert_eq!(value("rate_limited_total", &[("reason", "failed_auth")]), 1.0);
        assert_eq!(value("live_writes_total", &[("kind", "offers"), ("op", "upsert")]), 3.0);
        assert_eq!(value("semantic_leg_total", &[("status", "skipped_keyword_strong")]), 1.0);
        assert_eq!(value("documents", &[("kind", "offers")]), 13.0);
        assert!(find(&samples, "documents", &[("kind", "programmes")]).is_none(), "a kind no longer served is dropped");
        assert_eq!(value("index_generation_info", &[("generation", "gen-0002 \"quoted\"\\")]), 1.0);
        assert!(find(&samples, "index_generation_info", &[("generation", "gen-0001")]).is_none());
        let age = value("index_generation_age_seconds", &[]);
        assert!((120.0..130.0).contains(&age), "{age}");
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"), "{text}");
        assert!(CONTENT_TYPE.starts_with("text/plain; version=0.0.4"));
    }

    #[test]
    fn an_empty_registry_renders() {
        let text = Metrics::new().render();
        parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(text.contains("index_generation_age_seconds 0"), "{text}");
    }

    #[test]
    fn the_checker_rejects_bad_lines() {
        for bad in ["x 1", "# TYPE x counter\nx 1", "# TYPE x_total counter\nx_total{a=\"b} 1", "# TYPE x gauge\nx one", "# TYPE h histogram\nh_bucket 1"] {
            assert!(parse_exposition(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn track_labels_by_route_template() {
        use axum::Router;
        use axum::body::Body;
        use axum::routing::get;
        use tower::ServiceExt;

        let metrics = Arc::new(Metrics::new());
        let m = metrics.clone();
        let app = Router::new()
            .route("/api/offers/{id}", get(|| async { "offer" }))
            .layer(axum::middleware::from_fn(move |request, next| track(m.clone(), request, next)));
        for uri in ["/api/offers/1", "/api/offers/2", "/nowhere/123"] {
            let response = app.clone().oneshot(axum::http::Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
            let _ = response.status();
        }
        let text = metrics.render();
        let samples = parse_exposition(&text).unwrap();
        assert_eq!(find(&samples, "http_requests_total", &[("route", "/api/offers/{id}"), ("status", "200")]).map(|s| s.value), Some(2.0), "{text}");
        assert_eq!(find(&samples, "http_requests_total", &[("route", UNMATCHED), ("status", "404")]).map(|s| s.value), Some(1.0), "{text}");
        assert!(!text.contains("/api/offers/1"), "{text}");
    }
}
