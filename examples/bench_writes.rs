//! Latency of live writes over HTTP on loopback: an offer posted (201), changed (PUT), deleted,
//! and a batch of 20, on a copy of a data directory, with or without the model.
//!
//! ```text
//! passerelle import --data /tmp/fx fixtures/data/*.jsonl && passerelle index --data /tmp/fx
//! cargo run --release --example bench_writes -- /tmp/fx [MODEL_DIR]
//! ```
//!
//! The offers are the fixtures' labelled offers (fixtures/eval/offer-to-programmes, 80-250 words,
//! read from the working directory), each made new by a word of its own so that the model embeds
//! it (nothing comes from the embedding cache) and the search for that word finds it. "visible"
//! is the time from sending the POST until `/api/search` for that word returns it: a write is
//! served before its 201, so it is the 201 plus one search. Prints p50 / p99 / max in ms.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embed::{BertEmbedder, EmbedOptions, QUERY_CACHE_SIZE, QueryEncoder};
use serde_json::{Value, json};

const MASTER: &str = "bench-writes-master-key";

fn offers() -> Vec<String> {
    let path = Path::new("fixtures/eval/offer-to-programmes/queries.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e} (run from the repository)", path.display()));
    text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter_map(|v| v["text"].as_str().map(str::to_string)).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the data directory").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A word no fixture holds, different for each `i`.
fn marker(i: usize) -> String {
    let mut word = String::from("repere");
    let mut n = i;
    loop {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return word;
        }
    }
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1]);
    println!("{name:<40} n={:<4} p50 {:>7.1}  p99 {:>7.1}  max {:>7.1}", times.len(), at(0.5), at(0.99), ms(*times.last().unwrap()));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let data = args.next().expect("usage: bench_writes DATA_DIR [MODEL_DIR]");
    let model = args.next();
    let copy = tempfile::tempdir().expect("a temporary directory");
    copy_dir(Path::new(&data), copy.path());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut config = server::ServeConfig::new(copy.path().to_path_buf(), addr);
    config.master_key = Some(MASTER.into());
    let limit = std::num::NonZeroU32::new(1_000_000).expect("positive");
    config.limits.per_client_per_minute = limit;
    config.limits.per_key_per_minute = limit;
    if let Some(model) = &model {
        let id = indexer::SearchIndex::open_current(copy.path()).ok().and_then(|i| i.vectors_manifest().map(|m| m.model_id)).expect("the index has vectors");
        let embedder = BertEmbedder::load(Path::new(model), &id, EmbedOptions::default()).expect("model loads");
        config.encoder = Some(Arc::new(QueryEncoder::new(Arc::new(embedder), QUERY_CACHE_SIZE, Duration::from_secs(60))));
    }
    runtime.spawn(server::serve_on(listener, config, std::future::pending()));
    let base = format!("http://{addr}");
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        assert!(started.elapsed() < Duration::from_secs(60), "the server never became ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("live writes, {} ({} documents), HTTP on loopback, one client", if model.is_some() { "with the model" } else { "keyword only" }, {
        let (_, ready) = get(&client, &format!("{base}/readyz"));
        ready["documents"].clone()
    });

    let texts = offers();
    let (mut posts, mut visible, mut puts, mut deletes, mut batches) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut ids = Vec::new();
    let mut semantic_skipped = 0;
    for (i, text) in texts.iter().enumerate() {
        let word = marker(i);
        let body = json!({"title": format!("Offre {word}"), "contract_type": "internship", "description": format!("{text} {word}")});
        let sent = Instant::now();
        let (status, answer) = send(&client, reqwest::Method::POST, &format!("{base}/api/offers"), Some(&body));
        posts.push(sent.elapsed());
        assert_eq!(status, 201, "{answer}");
        if answer["served"]["vectors_not_updated"].is_string() {
            semantic_skipped += 1;
        }
        let id = answer["written"][0]["id"].as_str().expect("an id").to_string();
        loop {
            let (_, found) = get(&client, &format!("{base}/api/search?q={word}&semantic_ratio=0"));
            if found["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["id"] == id.as_str())) {
                visible.push(sent.elapsed());
                break;
            }
            assert!(sent.elapsed() < Duration::from_secs(5), "offer {id} not found 5 s after its POST");
        }
        let changed = json!({"title": format!("Offre {word}"), "contract_type": "apprenticeship", "description": format!("{word} {text}")});
        let sent = Instant::now();
        let (status, answer) = send(&client, reqwest::Method::PUT, &format!("{base}/api/offers/{id}"), Some(&changed));
        puts.push(sent.elapsed());
        assert_eq!(status, 200, "{answer}");
        ids.push(id);
    }
    for id in &ids {
        let sent = Instant::now();
        let (status, answer) = send(&client, reqwest::Method::DELETE, &format!("{base}/api/offers/{id}"), None);
        deletes.push(sent.elapsed());
        assert_eq!(status, 200, "{answer}");
    }
    for (round, chunk) in texts.chunks(20).enumerate() {
        let batch: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(j, text)| {
                let word = marker(10_000 + round * 20 + j);
                json!({"title": format!("Offre {word}"), "contract_type": "internship", "description": format!("{text} {word}")})
            })
            .collect();
        if batch.len() < 20 {
            break;
        }
        let sent = Instant::now();
        let (status, answer) = send(&client, reqwest::Method::POST, &format!("{base}/api/offers"), Some(&Value::Array(batch)));
        batches.push(sent.elapsed());
        assert_eq!(status, 201, "{answer}");
    }
    summary("POST /api/offers (one new offer)", posts);
    summary("  POST sent -> found by /api/search", visible);
    summary("PUT /api/offers/{id} (new text)", puts);
    summary("DELETE /api/offers/{id}", deletes);
    if !batches.is_empty() {
        summary("POST /api/offers (20 new offers)", batches);
    }
    if model.is_some() && semantic_skipped > 0 {
        println!("warning: {semantic_skipped} writes did not update the vectors");
    }
}

fn get(client: &reqwest::blocking::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().expect("request");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().expect("body")).unwrap_or(Value::Null))
}

fn send(client: &reqwest::blocking::Client, method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = client.request(method, url).bearer_auth(MASTER);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().expect("body")).unwrap_or(Value::Null))
}
