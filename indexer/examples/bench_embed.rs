//! Indexing throughput with and without the embedding cache, and query-embedding latency.
//!
//! ```text
//! cargo run --release -p passerelle-indexer --example bench_embed -- MODEL_DIR [COPIES]
//! ```
//!
//! Loads the project's fixture records (460; COPIES > 1 repeats them with changed ids and
//! titles, so every copy is a new text to embed), then times: a keyword-only build; a build with
//! vectors on an empty embedding cache (every record embedded); the same build again (every
//! vector read from the cache); and 200 single-query embeddings (the cost the query LRU saves).

use std::path::Path;
use std::time::Instant;

use embed::{BertEmbedder, EmbedOptions, Embedder, TextRole, model::model_id};
use passerelle_indexer::{build_generation, build_generation_with};
use schemas::Record;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(model) = args.get(1) else {
        eprintln!("usage: bench_embed MODEL_DIR [COPIES]");
        std::process::exit(2);
    };
    let copies: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let model = Path::new(model);
    let t = Instant::now();
    let embedder = BertEmbedder::load(model, &model_id(model), EmbedOptions::default()).expect("model loads");
    println!("model {} loaded in {:.1}s; {} threads (RAYON_NUM_THREADS)", embedder.model_id(), t.elapsed().as_secs_f64(), candle_threads());

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data");
    let mut records: Vec<Record> = Vec::new();
    for copy in 0..copies {
        for file in ["schools", "programmes", "companies", "offers", "questions"] {
            let text = std::fs::read_to_string(root.join(format!("{file}.jsonl"))).expect("fixtures");
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let mut v: serde_json::Value = serde_json::from_str(line).expect("fixture JSON");
                if copy > 0 {
                    let key = format!("{}-copy{copy}", v["source_key"].as_str().unwrap_or(""));
                    v["source_key"] = key.into();
                    for field in ["title", "name", "text"] {
                        if let Some(t) = v[field].as_str() {
                            v[field] = format!("{t} ({copy})").into();
                        }
                    }
                }
                records.push(serde_json::from_value(v).expect("fixture record"));
            }
        }
    }
    let n = records.len();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = store::RecordStore::open_dir(dir.path()).expect("store");
    store.upsert_many(records).expect("stored");

    let t = Instant::now();
    build_generation(dir.path(), &mut store, |_| {}).expect("keyword build");
    let keyword = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cold = build_generation_with(dir.path(), &mut store, Some(&embedder), |_, _, _| {}).expect("cold build");
    let cold_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let warm = build_generation_with(dir.path(), &mut store, Some(&embedder), |_, _, _| {}).expect("warm build");
    let warm_s = t.elapsed().as_secs_f64();
    let (cv, wv) = (cold.manifest.vectors.expect("vectors"), warm.manifest.vectors.expect("vectors"));
    println!("{n} records");
    println!("{:<38} {:>9} {:>10} {:>10}", "build", "seconds", "docs/s", "embedded");
    println!("{:<38} {:>9.2} {:>10.0} {:>10}", "keyword only", keyword, n as f64 / keyword, 0);
    println!("{:<38} {:>9.2} {:>10.1} {:>10}", "with vectors, empty embedding cache", cold_s, n as f64 / cold_s, cv.embedded);
    println!("{:<38} {:>9.2} {:>10.0} {:>10}", "with vectors, warm embedding cache", warm_s, n as f64 / warm_s, wv.embedded);

    let queries =
        ["stage en développement web", "infirmier gériatrie Namur", "alternance comptabilité", "what is a Java interface", "bachelier informatique de gestion"];
    let mut times = Vec::new();
    for i in 0..200 {
        let q = format!("{} {i}", queries[i % queries.len()]);
        let t = Instant::now();
        embedder.embed_as(TextRole::Query, &[q.as_str()]).expect("embeds");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!("query embedding (one short query): p50 {:.1} ms, p99 {:.1} ms", times[100], times[197]);
}

fn candle_threads() -> usize {
    candle_core::utils::get_num_threads()
}
