//! The API's writes and keys, end to end on the fixtures: each scope allowed and refused where it
//! should be, revoked and expired keys, company-bound keys, live writes seen at once by search and
//! the matchers, deletes gone at once, questions found by the duplicate check, the contacts export
//! (key, suppression list, formula cells, log), and the rate limits.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use fixtures::build_index;
use passerelle_server::{ServeConfig, serve_on};
use serde_json::{Value, json};

const MASTER: &str = "master-key-of-the-writes-test";

struct Server {
    base: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Answer {
    status: u16,
    body: Value,
    text: String,
    headers: reqwest::header::HeaderMap,
}

impl Server {
    async fn start(data: &Path, tune: impl FnOnce(&mut ServeConfig)) -> Server {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = ServeConfig::new(data.to_path_buf(), addr);
        config.master_key = Some(MASTER.into());
        config.reload_every = Duration::from_millis(100);
        tune(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_on(listener, config, async move {
            let _ = stopped.await;
        }));
        let server = Server { base: format!("http://{addr}"), client: reqwest::Client::new(), _stop: stop };
        let started = Instant::now();
        while server.call("GET", "/readyz", None, None).await.status != 200 {
            assert!(started.elapsed() < Duration::from_secs(30), "the server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(url),
            "POST" => self.client.post(url),
            "PUT" => self.client.put(url),
            "DELETE" => self.client.delete(url),
            other => panic!("{other}"),
        };
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text, headers }
    }

    /// Creates a key with the master key; returns its secret.
    async fn key(&self, name: &str, scopes: &[&str], extra: Value) -> String {
        let mut body = json!({"name": name, "scopes": scopes});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let answer = self.call("POST", "/api/keys", Some(MASTER), Some(body)).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["key"].as_str().unwrap().to_string()
    }
}

fn error_code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error envelope: {}", a.text))
}

fn offer(title: &str, description: &str) -> Value {
    json!({"title": title, "contract_type": "internship", "region": "Wallonie", "city": "Namur", "description": description})
}

fn search_ids(a: &Answer) -> Vec<String> {
    a.body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scope_is_allowed_and_refused_where_it_should_be() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), |_| {}).await;

    // Public by default: the website's reads.
    assert_eq!(server.call("GET", "/api/search?q=informatique", None, None).await.status, 200);
    assert_eq!(server.call("POST", "/api/match/student-to-offers", None, Some(json!({"text": "stage web"}))).await.status, 200);
    assert_eq!(server.call("POST", "/api/questions/similar", None, Some(json!({"text": "Que vaut 2 + 2 ?"}))).await.status, 200);
    assert_eq!(server.call("GET", "/api/stats", None, None).await.status, 200);

    // Writes, export, transmissions and keys need a key: 401 in the envelope, with the scope named.
    for (method, path, body) in [
        ("POST", "/api/offers", Some(offer("Stage comptable", "Tenue des comptes."))),
        ("POST", "/api/questions", Some(json!({"text": "Que vaut 3 + 3 ?"}))),
        ("POST", "/api/programmes", Some(json!({"title": "Bachelier en comptabilité", "description": "Trois ans."}))),
        ("GET", "/api/export/contacts.csv", None),
        ("GET", "/api/transmissions", None),
        ("GET", "/api/keys", None),
        ("GET", "/api/contacts/suppressions", None),
    ] {
        let a = server.call(method, path, None, body).await;
        assert_eq!((a.status, error_code(&a)), (401, "unauthorized"), "{method} {path}: {}", a.text);
        assert!(a.body["error"]["message"].as_str().unwrap().contains("scope"), "{}", a.text);
        assert_eq!(a.headers.get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
    }

    // A key with one scope: allowed there, 403 elsewhere, naming what it has.
    let questions_writer = server.key("contributeur", &["questions.write"], json!({})).await;
    assert!(questions_writer.starts_with("pk_"));
    let a = server
        .call("POST", "/api/questions", Some(&questions_writer), Some(json!({"text": "Quel mot-clé déclare une constante en Java ?", "tag": "Java"})))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = server.call("POST", "/api/offers", Some(&questions_writer), Some(offer("Stage comptable", "Tenue des comptes."))).await;
    assert_eq!((a.status, error_code(&a)), (403, "forbidden"), "{}", a.text);
    assert!(a.text.contains("offers.write") && a.text.contains("questions.write"), "{}", a.text);
    assert_eq!(error_code(&server.call("GET", "/api/export/contacts.csv", Some(&questions_writer), None).await), "forbidden");
    assert_eq!(error_code(&server.call("GET", "/api/keys", Some(&questions_writer), None).await), "forbidden");
    // A key on a public route is checked all the same.
    assert_eq!(server.call("GET", "/api/search?q=java", Some(&questions_writer), None).await.status, 200);
    assert_eq!(error_code(&server.call("GET", "/api/search?q=java", Some("pk_0000"), None).await), "unauthorized");
    assert_eq!(error_code(&server.call("GET", "/api/search?q=java", Some("not a bearer token at all"), None).await), "unauthorized");

    // The list shows keys without their secrets; a key cannot grant what it does not hold.
    let list = server.call("GET", "/api/keys", Some(MASTER), None).await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(&questions_writer) && list.text.contains("contributeur"), "{}", list.text);
    let keys_admin = server.key("admin-cles", &["keys", "search"], json!({})).await;
    let a = server.call("POST", "/api/keys", Some(&keys_admin), Some(json!({"name": "escalade", "scopes": ["export"]}))).await;
    assert_eq!((a.status, error_code(&a)), (403, "forbidden"), "{}", a.text);
    assert_eq!(server.call("POST", "/api/keys", Some(&keys_admin), Some(json!({"name": "lecteur", "scopes": ["search"]}))).await.status, 201);
    let a = server.call("POST", "/api/keys", Some(MASTER), Some(json!({"name": "mauvais", "scopes": ["everything"]}))).await;
    assert_eq!(a.status, 400, "{}", a.text);

    // Revoked: refused at once. Expired: refused.
    assert_eq!(server.call("DELETE", "/api/keys/contributeur", Some(MASTER), None).await.status, 200);
    let a = server.call("POST", "/api/questions", Some(&questions_writer), Some(json!({"text": "Que vaut 5 + 5 ?"}))).await;
    assert_eq!((a.status, error_code(&a)), (401, "unauthorized"), "{}", a.text);
    assert!(a.text.contains("revoked"), "{}", a.text);
    let expired = {
        let mut store = store::RecordStore::open_dir(dir.path()).unwrap();
        let new = store::NewKey { name: "ancien".into(), scopes: vec!["export".into()], expires_at: Some("2020-01-01T00:00:00Z".into()), ..Default::default() };
        store.create_key(&new).unwrap().1
    };
    let a = server.call("GET", "/api/export/contacts.csv", Some(&expired), None).await;
    assert_eq!((a.status, error_code(&a)), (401, "unauthorized"), "{}", a.text);
    assert!(a.text.contains("expired"), "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_writes_are_served_at_once_and_company_keys_touch_only_their_offers() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), |_| {}).await;
    let writer = server.key("plateforme", &["offers.write", "questions.write"], json!({})).await;

    // One offer: 201, found by the search box and by student -> offers at once.
    let posted = Instant::now();
    let a = server
        .call("POST", "/api/offers", Some(&writer), Some(offer("Stage en ferronnerie d'art", "Forge, soudure et restauration de grilles anciennes à Namur.")))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["written"][0]["action"], "inserted");
    assert_eq!(a.body["served"]["upserted"], 1);
    let id = a.body["written"][0]["id"].as_str().unwrap().to_string();
    let found = server.call("GET", "/api/search?q=ferronnerie", None, None).await;
    assert_eq!(search_ids(&found), vec![id.clone()], "{}", found.text);
    let matched = server.call("POST", "/api/match/student-to-offers", None, Some(json!({"text": "stage ferronnerie forge soudure"}))).await;
    assert_eq!(matched.body["offers"][0]["id"], id.as_str(), "{}", matched.text);
    assert!(posted.elapsed() < Duration::from_secs(1), "served in {:?}", posted.elapsed());
    assert_eq!(server.call("GET", &format!("/api/offers/{id}"), None, None).await.body["title"], "Stage en ferronnerie d'art");

    // An array, all or none: one bad record names its place and field, and nothing is written.
    let a = server
        .call(
            "POST",
            "/api/offers",
            Some(&writer),
            Some(json!([offer("Stage en tonnellerie", "Fûts de chêne."), {"title": "", "contract_type": "internship"}])),
        )
        .await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (400, Some("[1].title")), "{}", a.text);
    assert!(search_ids(&server.call("GET", "/api/search?q=tonnellerie", None, None).await).is_empty());
    let a = server.call("POST", "/api/offers", Some(&writer), Some(json!({"title": "Stage", "contract_type": "internship", "regoin": "Wallonie"}))).await;
    assert_eq!(a.body["error"]["field"], "regoin", "{}", a.text);
    let a = server
        .call("POST", "/api/offers", Some(&writer), Some(json!([offer("Stage en tonnellerie", "Fûts de chêne."), offer("Stage en vannerie", "Osier.")])))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["written"].as_array().unwrap().len(), 2);

    // PUT changes it in place; DELETE makes it gone at once.
    let a = server.call("PUT", &format!("/api/offers/{id}"), Some(&writer), Some(offer("Stage en ferronnerie d'art", "Forge et dinanderie."))).await;
    assert_eq!((a.status, &a.body["written"][0]["action"]), (200, &json!("updated")), "{}", a.text);
    assert_eq!(search_ids(&server.call("GET", "/api/search?q=dinanderie", None, None).await), vec![id.clone()]);
    assert!(search_ids(&server.call("GET", "/api/search?q=grilles%20anciennes", None, None).await).iter().all(|i| i != &id));
    assert_eq!(server.call("DELETE", &format!("/api/offers/{id}"), Some(&writer), None).await.status, 200);
    assert!(search_ids(&server.call("GET", "/api/search?q=ferronnerie", None, None).await).is_empty());
    assert_eq!(server.call("GET", &format!("/api/offers/{id}"), None, None).await.status, 404);
    assert_eq!(server.call("DELETE", &format!("/api/offers/{id}"), Some(&writer), None).await.status, 404);

    // A posted question is found by the duplicate check.
    let text = "En Python, quelle fonction renvoie la longueur d'une liste de tuples imbriqués ?";
    let a = server.call("POST", "/api/questions", Some(&writer), Some(json!({"text": text, "tag": "Python"}))).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let qid = a.body["written"][0]["id"].as_str().unwrap().to_string();
    let similar = server.call("POST", "/api/questions/similar", None, Some(json!({"text": text}))).await;
    assert_eq!(similar.body["questions"][0]["id"], qid.as_str(), "{}", similar.text);

    // A company-bound key: its offers are its company's; another company's offer is 403.
    let companies: Vec<Value> = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data/companies.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let company_id = schemas::stable_id(schemas::RecordKind::Company, "fixtures", companies[0]["source_key"].as_str().unwrap());
    let recruiter = server.key("recruteur-nivelys", &["offers.write"], json!({"company": company_id})).await;
    let a = server.call("POST", "/api/offers", Some(&recruiter), Some(offer("Stage développeur Rust", "Services en ligne pour des mutualités."))).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let own = a.body["written"][0]["id"].as_str().unwrap().to_string();
    let stored = server.call("GET", &format!("/api/offers/{own}"), None, None).await;
    assert_eq!(stored.body["company_id"], company_id.as_str(), "{}", stored.text);
    assert_eq!(stored.body["company_name"], companies[0]["name"]);
    let other = server.call("POST", "/api/offers", Some(&writer), Some(offer("Stage de soudeur", "Atelier de chaudronnerie."))).await.body["written"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = server.call("PUT", &format!("/api/offers/{other}"), Some(&recruiter), Some(offer("Stage de soudeur", "Repris."))).await;
    assert_eq!((a.status, error_code(&a)), (403, "forbidden"), "{}", a.text);
    assert_eq!(error_code(&server.call("DELETE", &format!("/api/offers/{other}"), Some(&recruiter), None).await), "forbidden");
    let a = server
        .call(
            "POST",
            "/api/offers",
            Some(&recruiter),
            Some(json!({"title": "Stage", "contract_type": "internship", "company_key": "comp-002", "source": "fixtures"})),
        )
        .await;
    assert_eq!(error_code(&a), "forbidden", "{}", a.text);
    assert_eq!(
        error_code(&server.call("POST", "/api/programmes", Some(&recruiter), Some(json!({"title": "Bachelier", "description": "x"}))).await),
        "forbidden"
    );
    assert_eq!(server.call("DELETE", &format!("/api/offers/{own}"), Some(&recruiter), None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_needs_its_key_honours_suppressions_neutralises_formulas_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    {
        // A crawled school whose name would run as a formula in a spreadsheet.
        let mut store = store::RecordStore::open_dir(dir.path()).unwrap();
        let school: schemas::Record = serde_json::from_value(json!({
            "kind": "school", "source": "test", "source_key": "formula", "name": "=HYPERLINK(\"http://example.invalid\")",
            "emails": ["secretariat@formule.example"], "phones": ["+3281000000"], "region": "Wallonie"
        }))
        .unwrap();
        store.upsert(school).unwrap();
    }
    let server = Server::start(dir.path(), |_| {}).await;
    let marketing = server.key("marketing", &["export"], json!({})).await;
    assert_eq!(server.call("GET", "/api/export/contacts.csv", None, None).await.status, 401);

    let all = server.call("GET", "/api/export/contacts.csv?bom=true", Some(&marketing), None).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert!(all.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(all.headers["content-disposition"].to_str().unwrap().contains("contacts.csv"));
    assert!(all.text.starts_with('\u{feff}'));
    assert!(all.text.contains("contact@stfelixlasalle.fr"));
    assert!(!all.text.contains(",=HYPERLINK") && !all.text.contains(",\"=HYPERLINK"), "a formula cell went out as is");
    assert!(all.text.contains("'=HYPERLINK"), "{}", &all.text[..all.text.len().min(400)]);

    // Suppressed: an address, a domain, a phone; never exported again.
    for value in ["contact@stfelixlasalle.fr", "@formule.example", "+32 81 00 00 00"] {
        let a = server.call("POST", "/api/contacts/suppressions", Some(&marketing), Some(json!({"value": value, "reason": "droit d'opposition"}))).await;
        assert_eq!(a.status, 201, "{value}: {}", a.text);
    }
    assert_eq!(
        server.call("POST", "/api/contacts/suppressions", Some(&marketing), Some(json!({"value": "0470 12 34 56"}))).await.body["error"]["field"],
        "value"
    );
    let listed = server.call("GET", "/api/contacts/suppressions", Some(&marketing), None).await;
    assert_eq!(listed.body["suppressions"].as_array().unwrap().len(), 3, "{}", listed.text);
    for path in ["/api/export/contacts.csv", "/api/export/contacts.jsonl?region=Wallonie"] {
        let a = server.call("GET", path, Some(&marketing), None).await;
        assert_eq!(a.status, 200);
        for gone in ["contact@stfelixlasalle.fr", "secretariat@formule.example", "3281000000"] {
            assert!(!a.text.contains(gone), "{path} still holds {gone}");
        }
    }
    // A recrawl that finds the address again does not bring it back.
    {
        let mut store = store::RecordStore::open_dir(dir.path()).unwrap();
        let school: schemas::Record = serde_json::from_value(json!({
            "kind": "school", "source": "test", "source_key": "formula", "name": "Institut de la Formule",
            "emails": ["secretariat@formule.example", "direction@formule.example"], "region": "Wallonie"
        }))
        .unwrap();
        store.upsert(school).unwrap();
    }
    let again = server.call("GET", "/api/export/contacts.jsonl", Some(&marketing), None).await;
    assert!(!again.text.contains("secretariat@formule.example") && !again.text.contains("direction@formule.example"), "the recrawl brought it back");
    assert!(again.text.contains("Institut de la Formule"), "the school itself stays");
    assert_eq!(server.call("DELETE", "/api/contacts/suppressions/@formule.example", Some(&marketing), None).await.status, 200);
    assert!(server.call("GET", "/api/export/contacts.jsonl", Some(&marketing), None).await.text.contains("secretariat@formule.example"));

    // Every export is logged with the key that asked.
    let log = server.call("GET", "/api/exports", Some(&marketing), None).await;
    let exports = log.body["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 5, "{}", log.text);
    assert!(exports.iter().all(|e| e["who"] == "marketing" && e["rows"].as_u64().unwrap() > 0));
    assert_eq!(exports[2]["filters"]["region"], "Wallonie");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_the_limit_gets_429_with_retry_after_and_failed_keys_are_slowed() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), |c| {
        c.limits.per_client_per_minute = std::num::NonZeroU32::new(20).unwrap();
        c.limits.failed_auth_per_minute = std::num::NonZeroU32::new(3).unwrap();
    })
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let a = server.call("GET", "/api/search?q=stage", None, None).await;
        if a.status == 429 {
            assert_eq!(error_code(&a), "rate_limited");
            retry_after = a.headers.get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        }
        statuses.push(a.status);
    }
    // /readyz polls of start() are not limited (only /api routes are).
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
    assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{retry_after:?}");

    let dir2 = tempfile::tempdir().unwrap();
    build_index(dir2.path());
    let server = Server::start(dir2.path(), |c| c.limits.failed_auth_per_minute = std::num::NonZeroU32::new(3).unwrap()).await;
    let codes: Vec<u16> = futures_statuses(&server).await;
    assert_eq!(codes[..3], [401, 401, 401]);
    assert!(codes[3..].iter().all(|c| *c == 429), "{codes:?}");
    // The right key still works: only failures are counted.
    assert_eq!(server.call("GET", "/api/keys", Some(MASTER), None).await.status, 200);
}

async fn futures_statuses(server: &Server) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..6 {
        out.push(server.call("GET", "/api/keys", Some(&format!("pk_wrong{i}")), None).await.status);
    }
    out
}

/// Checks the Prometheus text format: `# TYPE` before each family's samples, every sample
/// `name{label="value",...} number`; returns (name, labels, value) of each sample.
fn prometheus_samples(text: &str) -> Vec<(String, String, f64)> {
    let mut typed = std::collections::HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split_whitespace().next().expect("a family name");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"))),
            None => (series, ""),
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "bad name: {line}");
        let family = ["_bucket", "_sum", "_count", "_total", "_info"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(typed.contains(name) || typed.contains(family), "no # TYPE for {name}");
        samples.push((name.to_string(), labels.to_string(), value));
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_cors_answers_only_the_configured_origin() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), |c| c.cors_origins = vec!["https://www.passerelle.example".into()]).await;
    let writer = server.key("plateforme", &["offers.write"], json!({})).await;
    server.call("GET", "/api/search?q=stage", None, None).await;
    server.call("GET", "/api/offers/offer-0000000000000000", None, None).await;
    server.call("POST", "/api/offers", Some(&writer), Some(offer("Stage en horlogerie", "Mouvements mécaniques."))).await;
    server.call("POST", "/api/offers", Some("pk_wrong"), Some(offer("Stage", "x"))).await;
    let metrics = server.call("GET", "/metrics", None, None).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let samples = prometheus_samples(&metrics.text);
    let has = |name: &str, label: &str| samples.iter().any(|(n, l, v)| n == name && l.contains(label) && *v > 0.0);
    assert!(has("http_requests_total", "route=\"/api/offers/{id}\""), "routes are labelled by template:\n{}", metrics.text);
    assert!(has("http_requests_total", "status=\"401\""));
    assert!(has("http_request_duration_seconds_count", "route=\"/api/search\""));
    assert!(has("live_writes_total", "kind=\"offer\""));
    assert!(has("documents", "kind=\"offer\""));
    assert!(has("index_generation_info", "generation="));
    assert!(has("semantic_leg_total", "status=\"no_vectors\""), "the search box's semantic leg is counted:\n{}", metrics.text);
    assert!(!metrics.text.contains("offer-0000000000000000"), "a raw path leaked into a label");

    // CORS: the configured origin gets the headers (preflight included), another gets none.
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/offers", server.base))
        .header("origin", "https://www.passerelle.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("https://www.passerelle.example"));
    let other = server.client.get(format!("{}/api/search?q=stage", server.base)).header("origin", "https://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
