//! HNSW recall and latency on clustered unit vectors (embedding-like):
//!
//! ```text
//! cargo run --release -p passerelle-indexer --example bench_vectors -- [N] [DIM] [QUERIES]
//! ```
//!
//! Builds the graph over N vectors (default 100,000 x 384, M 16, ef_construction 200), then
//! compares the top 10 at several ef values with exact search, and times the searches.

use std::collections::HashSet;
use std::time::Instant;

use passerelle_indexer::vectors::{EF_SEARCH, VectorIndex, exact_search, synthetic_vectors};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(384);
    let queries = args.get(2).copied().unwrap_or(500);
    let vectors = synthetic_vectors(n, dim, n / 100, 42);
    let items: Vec<(String, Vec<f32>, u64)> = vectors.iter().enumerate().map(|(i, v)| (format!("d{i}"), v.clone(), i as u64)).collect();
    let t = Instant::now();
    let index = VectorIndex::build(dim, items).expect("build");
    println!("built {n} x {dim} in {:.1}s", t.elapsed().as_secs_f64());
    let named: Vec<(String, Vec<f32>)> = vectors.into_iter().enumerate().map(|(i, v)| (format!("d{i}"), v)).collect();
    let qs = synthetic_vectors(queries, dim, n / 100, 4242);
    let truth: Vec<HashSet<String>> = qs.iter().map(|q| exact_search(&named, q, 10).into_iter().map(|x| x.id).collect()).collect();
    println!("{:>6} {:>10} {:>8} {:>8}", "ef", "recall@10", "p50 ms", "p99 ms");
    for ef in [16, 32, EF_SEARCH, 128] {
        let mut found = 0;
        let mut times = Vec::new();
        for (q, t_set) in qs.iter().zip(&truth) {
            let t = Instant::now();
            let hits = index.search(q, 10, ef, None);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found += hits.iter().filter(|h| t_set.contains(&h.id)).count();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p = |x: f64| times[((times.len() - 1) as f64 * x) as usize];
        let marker = if ef == EF_SEARCH { " (default)" } else { "" };
        println!("{ef:>6} {:>10.4} {:>8.3} {:>8.3}{marker}", found as f64 / (qs.len() * 10) as f64, p(0.5), p(0.99));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    index.save(&dir.path().join("v")).expect("save");
    let saved = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = VectorIndex::load(&dir.path().join("v")).expect("load");
    println!("save {saved:.1}s, reload {:.1}s, {} vectors", t.elapsed().as_secs_f64(), back.len());
}
