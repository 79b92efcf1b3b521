//! Keyword-search latency on a synthetic corpus, in-process.
//!
//! ```text
//! cargo run --release -p passerelle-indexer --example bench_search -- [DOCS] [QUERIES]
//! ```
//!
//! Builds DOCS (default 100,000) synthetic records whose words are drawn, with a Zipf law, from
//! the vocabulary of the project's fixtures (so the term distribution looks like French offers
//! and programmes), indexes them as one generation, then times QUERIES (default 2,000) searches
//! of each shape the search box sends: one word, two words, a prefix being typed, a typo, a
//! word with filters, a word near a town (30 km), and a town without words (nearest first). Each search asks for 20 hits with snippets and all facet counts.
//!
//! With a model directory as third argument it then times hybrid search on the same corpus:
//! documents get synthetic embedding-like vectors (embedding 100,000 texts with the real model
//! would take hours on this machine, and graph search costs the same), queries are embedded by
//! the real model, first with an empty query cache, then warm.
//!
//! ```text
//! cargo run --release -p passerelle-indexer --example bench_search -- 100000 300 MODEL_DIR
//! ```

use std::path::Path;
use std::time::Instant;

use passerelle_indexer::{FacetField, SearchIndex, SearchRequest, build_generation};
use schemas::{ContractType, Offer, Programme, Record, School};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index in 0..n, small ones more likely (Zipf, s = 1).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let x = ((n as f64 + 1.0).ln() * u).exp() - 1.0;
        (x as usize).min(n - 1)
    }
}

fn vocabulary() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data");
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for file in ["offers.jsonl", "programmes.jsonl", "questions.jsonl"] {
        let text = std::fs::read_to_string(root.join(file)).expect("fixtures are readable");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("fixture line is JSON");
            let body = format!("{} {}", v["title"].as_str().unwrap_or(""), v["description"].as_str().unwrap_or(""));
            for w in body.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 2) {
                *counts.entry(w.to_lowercase()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}

const REGIONS: [&str; 4] = ["Wallonie", "Bruxelles-Capitale", "Flandre", "Pays de la Loire"];
const CITIES: [&str; 8] = ["Namur", "Liège", "Mons", "Bruxelles", "Gent", "Nantes", "Angers", "Le Mans"];

fn text(rng: &mut Rng, vocab: &[String], words: usize) -> String {
    (0..words).map(|_| vocab[rng.zipf(vocab.len())].as_str()).collect::<Vec<_>>().join(" ")
}

fn synthetic(i: usize, rng: &mut Rng, vocab: &[String]) -> Record {
    let city = CITIES[rng.below(CITIES.len())];
    let region = REGIONS[rng.below(REGIONS.len())];
    let title_len = 3 + rng.below(5);
    let body_len = 60 + rng.below(90);
    match i % 10 {
        0 => Record::School(School {
            source: "bench".into(),
            source_key: format!("s{i}"),
            name: format!("Lycée {}", text(rng, vocab, 2)),
            city: Some(city.into()),
            region: Some(region.into()),
            ..Default::default()
        }),
        1..=3 => Record::Programme(Programme {
            source: "bench".into(),
            source_key: format!("p{i}"),
            title: text(rng, vocab, title_len),
            description: text(rng, vocab, body_len),
            level: Some(["BTS", "Bachelier", "Master"][rng.below(3)].into()),
            city: Some(city.into()),
            region: Some(region.into()),
            ..Default::default()
        }),
        _ => Record::Offer(Offer {
            id: String::new(),
            source: "bench".into(),
            source_key: format!("o{i}"),
            title: text(rng, vocab, title_len),
            company_key: None,
            company_id: None,
            company_name: Some(text(rng, vocab, 2)),
            contract_type: [ContractType::Internship, ContractType::Apprenticeship, ContractType::Permanent][rng.below(3)],
            level: None,
            description: text(rng, vocab, body_len),
            skills: vec![],
            city: Some(city.into()),
            region: Some(region.into()),
            country: None,
            date_posted: Some(format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28))),
            valid_through: None,
            duration: None,
            language: Some("fr".into()),
            url: None,
            contact: None,
            occupations: vec![],
        }),
    }
}

fn typo(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let i = 1 + rng.below(chars.len().saturating_sub(2).max(1));
    if i + 1 < chars.len() {
        chars.swap(i, i + 1);
    }
    chars.into_iter().collect()
}

/// A label and the p50, p90, p99 and max of sorted latencies.
fn row(label: &str, width: usize, sorted: &[f64]) -> String {
    format!(
        "{label:<width$} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        percentile(sorted, 0.5),
        percentile(sorted, 0.9),
        percentile(sorted, 0.99),
        sorted[sorted.len() - 1]
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Makes one request of a query shape, from the generator and a picker of typed words.
type MakeRequest = fn(&mut Rng, &dyn Fn(&mut Rng) -> String) -> SearchRequest;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let docs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let queries: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let vocab = vocabulary();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let t = Instant::now();
    let mut store = store::RecordStore::open_dir(dir.path()).expect("store");
    let batch: Vec<Record> = (0..docs).map(|i| synthetic(i, &mut rng, &vocab)).collect();
    store.upsert_many(batch).expect("records stored");
    let stored = t.elapsed();
    let t = Instant::now();
    let report = build_generation(dir.path(), &mut store, |_| {}).expect("index built");
    let built = t.elapsed();
    let index = SearchIndex::open_current(dir.path()).expect("index opens");
    println!(
        "corpus: {docs} documents, vocabulary {} words; store {:.1}s, index {:.1}s ({:.0} docs/s)",
        vocab.len(),
        stored.as_secs_f64(),
        built.as_secs_f64(),
        report.manifest.documents as f64 / built.as_secs_f64()
    );

    // Words people type: the 2,000 most frequent of the vocabulary that are not stop words,
    // common ones more often (Zipf), so most queries match thousands of documents.
    let mut analyzers = passerelle_indexer::analysis::Analyzers::default();
    let typed: Vec<String> = vocab.iter().filter(|w| !analyzers.stems(passerelle_indexer::analysis::Lang::Fr, w).is_empty()).take(2_000).cloned().collect();
    let pick = |rng: &mut Rng| typed[rng.zipf(typed.len())].clone();
    let shapes: [(&str, MakeRequest); 7] = [
        ("one word", |rng, pick| req(pick(rng), false)),
        ("two words", |rng, pick| req(format!("{} {}", pick(rng), pick(rng)), false)),
        ("prefix (typing)", |rng, pick| {
            let w = pick(rng);
            let cut = (w.chars().count() / 2).max(2);
            req(format!("{} {}", pick(rng), w.chars().take(cut).collect::<String>()), true)
        }),
        ("typo", |rng, pick| {
            let w = loop {
                let w = pick(rng);
                if w.chars().count() >= 6 {
                    break w;
                }
            };
            req(typo(rng, &w), false)
        }),
        ("word + filters", |rng, pick| {
            let mut r = req(pick(rng), true);
            r.filters = vec![(FacetField::Kind, vec!["offer".into()]), (FacetField::Region, vec![REGIONS[rng.below(REGIONS.len())].into()])];
            r
        }),
        // Near a town: a circle that holds about one document in eight (one town of the eight).
        ("word + near 30km", |rng, pick| {
            let mut r = req(pick(rng), true);
            r.near = Some(near(CITIES[rng.below(CITIES.len())], 30.0));
            r
        }),
        ("near, no words", |rng, _| {
            let mut r = req(String::new(), false);
            r.near = Some(near(CITIES[rng.below(CITIES.len())], 30.0));
            r
        }),
    ];
    // Warm the page cache and the automaton tables.
    for _ in 0..50 {
        let _ = index.search(&req(pick(&mut rng), true));
    }
    println!("located by their town: {} of {} documents", report.manifest.places.located, report.manifest.documents);
    println!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>10}", "query shape", "p50 ms", "p90 ms", "p99 ms", "max ms", "avg hits");
    let mut all = Vec::new();
    for (name, make) in shapes {
        let mut times = Vec::with_capacity(queries);
        let mut hits = 0usize;
        for _ in 0..queries {
            let request = make(&mut rng, &pick);
            let t = Instant::now();
            let response = index.search(&request).expect("search works");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            hits += response.total;
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{} {:>10.0}", row(name, 16, &times), hits as f64 / queries as f64);
        all.extend(times);
    }
    all.sort_by(|a, b| a.total_cmp(b));
    println!("{}", row("all", 16, &all));
    if let Some(model) = args.get(3) {
        drop(index);
        hybrid(dir.path(), &report.manifest.name, &store, Path::new(model), queries, &mut rng, &typed);
    }
}

fn hybrid(data: &Path, generation: &str, store: &store::RecordStore, model: &Path, queries: usize, rng: &mut Rng, typed: &[String]) {
    use embed::QueryEncoder;
    use embed::{BertEmbedder, EmbedOptions, Embedder, model::model_id};
    use passerelle_indexer::semantic::{GenerationVectors, VECTORS_DIR};
    let embedder = std::sync::Arc::new(BertEmbedder::load(model, &model_id(model), EmbedOptions::default()).expect("model loads"));
    let mut records = Vec::new();
    store
        .for_each(None, |r| {
            records.push(r);
            Ok(())
        })
        .expect("records read");
    let vectors = passerelle_indexer::vectors::synthetic_vectors(records.len(), embedder.dim(), 200, 7);
    let t = Instant::now();
    let built = GenerationVectors::from_vectors(&records, vectors, embedder.model_id(), embedder.dim()).expect("graphs built");
    built.save(&passerelle_indexer::generation::index_root(data).join(generation).join(VECTORS_DIR)).expect("vectors saved");
    println!("\nhybrid: {} synthetic document vectors, graphs built and saved in {:.1}s", records.len(), t.elapsed().as_secs_f64());
    drop(built);
    let index = SearchIndex::open(data, generation).expect("index opens");
    let encoder = QueryEncoder::new(embedder, 100_000, std::time::Duration::from_secs(30));
    let texts: Vec<String> = (0..queries)
        .map(|i| match i % 3 {
            0 => format!("{} {}", typed[rng.zipf(typed.len())], typed[rng.zipf(typed.len())]),
            1 => format!("stage {} {}", typed[rng.zipf(typed.len())], typed[rng.zipf(typed.len())]),
            _ => typed[rng.zipf(typed.len())].clone(),
        })
        .collect();
    println!("{:<30} {:>8} {:>8} {:>8} {:>8} {:>8}", "hybrid (ratio 0.6, no skip)", "p50 ms", "p90 ms", "p99 ms", "max ms", "used %");
    // Ratio 0.6 never meets the skip rule (0.4 x title share < 0.45): every query pays the
    // semantic leg, first with an empty query cache, then warm; then the default ratio.
    for (label, ratio, circle) in [
        ("query cache cold", Some(0.6), false),
        ("query cache warm", Some(0.6), false),
        ("default ratio 0.5 (skip rule)", None, false),
        ("warm, one region (1 in 4)", Some(0.6), false),
        ("warm, near a town 30 km", Some(0.6), true),
    ] {
        let mut times = Vec::with_capacity(queries);
        let mut used = 0;
        for (i, q) in texts.iter().enumerate() {
            let mut r = req(q.clone(), true);
            r.semantic_ratio = ratio;
            if circle {
                r.near = Some(near(CITIES[i % CITIES.len()], 30.0));
            }
            if label.contains("region") {
                r.filters = vec![(FacetField::Region, vec![REGIONS[i % REGIONS.len()].into()])];
            }
            let t = Instant::now();
            let response = index.search_hybrid(&r, Some(&encoder)).expect("hybrid search works");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            used += usize::from(response.semantic.is_some_and(|s| s.used));
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{} {:>8.0}", row(label, 30, &times), 100.0 * used as f64 / queries as f64);
    }
}

fn near(town: &str, km: f64) -> passerelle_indexer::geo::Near {
    passerelle_indexer::geo::Near::around("", town, Some(km)).expect("a town of the gazetteer")
}

fn req(q: String, prefix: bool) -> SearchRequest {
    SearchRequest { q, limit: 20, offset: 0, prefix, filters: Vec::new(), ..Default::default() }
}
