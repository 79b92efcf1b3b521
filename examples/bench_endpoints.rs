//! Latency of every API endpoint on the fixtures, in-process and over HTTP on loopback.
//!
//! ```text
//! passerelle import --data /tmp/fx fixtures/data/*.jsonl && passerelle index --data /tmp/fx
//! cargo run --release --example bench_endpoints -- /tmp/fx MODEL_DIR [ROUNDS]
//! ```
//!
//! Requests are the fixtures' labelled queries (fixtures/eval/*/queries.jsonl, read from the
//! working directory): offers for offer -> programmes, wishes for the student matchers and the
//! search box, new questions for the similar-questions check. Each endpoint is timed twice per
//! round: "new" texts (the query-vector cache emptied first: what a pasted offer costs) and
//! "repeated" texts (the cache warm). Prints p50 / p99 / max in milliseconds.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embed::{BertEmbedder, EmbedOptions};
use embed::{QUERY_CACHE_SIZE, QueryEncoder};
use features::Features;
use features::matching::{MatchFilters, MatchRequest, Task};
use features::questions::SimilarRequest;
use indexer::SearchRequest;

fn queries(set: &str) -> Vec<String> {
    let path = Path::new("fixtures/eval").join(set).join("queries.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run from the repository)", path.display()));
    text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter_map(|v| v["text"].as_str().map(str::to_string)).collect()
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    value.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1]);
    println!("{name:<44} n={:<4} p50 {:>7.1}  p99 {:>7.1}  max {:>7.1}", times.len(), at(0.5), at(0.99), ms(*times.last().unwrap()));
}

/// Calls an endpoint in-process with one input.
type LocalCall = Box<dyn Fn(&Features, &QueryEncoder, &str)>;
/// Builds the HTTP request of an endpoint for one input (client, base URL, input).
type HttpCall = Box<dyn Fn(&reqwest::blocking::Client, &str, &str) -> reqwest::blocking::RequestBuilder>;

/// One endpoint: how to call it in-process, and its HTTP method, path and body.
struct Endpoint {
    name: &'static str,
    inputs: Vec<String>,
    local: LocalCall,
    http: HttpCall,
}

/// A query encoder with an empty cache; `model_id` must be the index's, or the vector leg is
/// (rightly) skipped.
fn encoder(model: &Path, model_id: &str) -> QueryEncoder {
    let embedder = BertEmbedder::load(model, model_id, EmbedOptions::default()).expect("model loads");
    QueryEncoder::new(Arc::new(embedder), QUERY_CACHE_SIZE, Duration::from_secs(60))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(data), Some(model)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bench_endpoints DATA_DIR MODEL_DIR [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(2);
    let (data, model) = (Path::new(data), Path::new(model));
    let index = Features::new(indexer::SearchIndex::open_current(data).expect("an indexed data dir"));
    let model_id = index.vectors_manifest().expect("index the data dir with the model first").model_id.clone();
    let model_id = model_id.as_str();
    let probe = MatchRequest { text: "stage développeur Java".into(), limit: 10, filters: MatchFilters::default() };
    let answer = index.match_offers(&probe, Some(&encoder(model, model_id))).expect("match");
    assert!(answer.semantic.used, "the vector leg must run: {:?}", answer.semantic.note);

    let offers = queries("offer-to-programmes");
    let wishes = queries("student-to-offers");
    let questions = queries("similar-questions");
    let words: Vec<String> = wishes.iter().map(|w| w.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).collect();
    let periods: Vec<String> = (1..=11).map(|m| format!("from=2026-{m:02}-01&to=2026-11-24")).collect();
    let matcher = |task: Task| {
        move |index: &Features, encoder: &QueryEncoder, text: &str| {
            let request = MatchRequest { text: text.to_string(), limit: 10, filters: MatchFilters::default() };
            match task {
                Task::StudentToOffers => drop(index.match_offers(&request, Some(encoder)).expect("match")),
                _ => drop(index.match_programmes(task, &request, Some(encoder)).expect("match")),
            }
        }
    };
    let post = |path: &'static str| {
        move |client: &reqwest::blocking::Client, base: &str, text: &str| {
            client.post(format!("{base}{path}")).header("content-type", "application/json").body(serde_json::json!({"text": text, "limit": 10}).to_string())
        }
    };
    let endpoints = vec![
        Endpoint {
            name: "GET /api/search (hybrid, 3 words)",
            inputs: words,
            local: Box::new(|index, encoder, q| {
                let request = SearchRequest { q: q.to_string(), limit: 20, prefix: true, semantic_ratio: None, ..Default::default() };
                drop(index.search_hybrid(&request, Some(encoder)).expect("search"))
            }),
            http: Box::new(|client, base, q| client.get(format!("{base}/api/search?q={}", encode(q)))),
        },
        Endpoint {
            name: "POST /api/match/offer-to-programmes",
            inputs: offers,
            local: Box::new(matcher(Task::OfferToProgrammes)),
            http: Box::new(post("/api/match/offer-to-programmes")),
        },
        Endpoint {
            name: "POST /api/match/student-to-offers",
            inputs: wishes.clone(),
            local: Box::new(matcher(Task::StudentToOffers)),
            http: Box::new(post("/api/match/student-to-offers")),
        },
        Endpoint {
            name: "POST /api/match/student-to-programmes",
            inputs: wishes,
            local: Box::new(matcher(Task::StudentToProgrammes)),
            http: Box::new(post("/api/match/student-to-programmes")),
        },
        Endpoint {
            name: "POST /api/questions/similar",
            inputs: questions,
            local: Box::new(|index, encoder, text| {
                let request = SimilarRequest { text: text.to_string(), limit: Some(10), ..Default::default() };
                drop(index.similar_questions(&request, Some(encoder)).expect("similar"))
            }),
            http: Box::new(post("/api/questions/similar")),
        },
        Endpoint {
            name: "GET /api/stats",
            inputs: periods,
            local: Box::new(|index, _, query| {
                let day = |d: &str| time::Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]")).expect("a date");
                let from = query.split('&').next().and_then(|p| p.strip_prefix("from=")).map(day);
                drop(index.stats(from, Some(day("2026-11-24")), Some(10)).expect("stats"))
            }),
            http: Box::new(|client, base, query| client.get(format!("{base}/api/stats?{query}"))),
        },
    ];

    println!("in-process ({} documents, generation {})", index.num_docs(), index.name());
    for e in &endpoints {
        let (mut new, mut repeated) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let fresh = encoder(model, model_id);
            for input in &e.inputs {
                let t = Instant::now();
                (e.local)(&index, &fresh, input);
                new.push(t.elapsed());
            }
            for input in &e.inputs {
                let t = Instant::now();
                (e.local)(&index, &fresh, input);
                repeated.push(t.elapsed());
            }
        }
        summary(&format!("{}, new texts", e.name), new);
        summary(&format!("{}, repeated", e.name), repeated);
    }

    println!("\nover HTTP on 127.0.0.1 (one client, one request at a time)");
    for e in &endpoints {
        let (mut new, mut repeated) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            // A fresh server each round: its query cache starts empty.
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("address"));
            let mut config = server::ServeConfig::new(data.to_path_buf(), listener.local_addr().expect("address"));
            config.encoder = Some(Arc::new(encoder(model, model_id)));
            config.request_timeout = Duration::from_secs(60);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let handle = runtime.spawn(server::serve_on(listener, config, async {
                let _ = stopped.await;
            }));
            let client = reqwest::blocking::Client::new();
            let ready = Instant::now();
            while client.get(format!("{base}/readyz")).send().map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
                assert!(ready.elapsed() < Duration::from_secs(30), "server not ready");
                std::thread::sleep(Duration::from_millis(20));
            }
            for times in [&mut new, &mut repeated] {
                for input in &e.inputs {
                    let t = Instant::now();
                    let response = (e.http)(&client, &base, input).send().expect("response");
                    let status = response.status();
                    let _ = response.bytes();
                    times.push(t.elapsed());
                    assert!(status.is_success(), "{} {status}", e.name);
                }
            }
            let _ = stop.send(());
            let _ = runtime.block_on(handle);
        }
        summary(&format!("{}, new texts", e.name), new);
        summary(&format!("{}, repeated", e.name), repeated);
    }
}
