//! Relevance must not regress: `passerelle eval` on the project's labelled sets, against floors
//! set a little under the figures measured when they were written (BENCHMARKS.md).

mod common;

use common::{fixtures, run_ok};

/// (task, mode, floor for nDCG@10, floor for MAP)
const FLOORS: &[(&str, &str, f64, f64)] = &[
    ("offer-to-programmes", "bm25", 0.80, 0.66),
    ("student-to-offers", "bm25", 0.80, 0.68),
    ("similar-questions", "bm25", 0.88, 0.86),
];

#[test]
fn relevance_stays_above_the_floors() {
    for (task, mode, ndcg_floor, map_floor) in FLOORS {
        let dir = fixtures().join("eval").join(task);
        let out = run_ok(&["eval", "--dataset", dir.to_str().unwrap(), "--mode", mode, "--json"]);
        let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ndcg = m["ndcg_10"].as_f64().unwrap();
        let map = m["map"].as_f64().unwrap();
        eprintln!("{task} {mode}: nDCG@10 {ndcg:.3}, MAP {map:.3}, MRR {:.3}", m["mrr"].as_f64().unwrap());
        assert!(ndcg >= *ndcg_floor, "{task} {mode}: nDCG@10 {ndcg:.3} fell under {ndcg_floor}");
        assert!(map >= *map_floor, "{task} {mode}: MAP {map:.3} fell under {map_floor}");
    }
}

#[test]
fn a_broken_dataset_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corpus.jsonl"), "{\"_id\": \"d1\", \"text\": \"a\"}\n{oops\n").unwrap();
    std::fs::write(dir.path().join("queries.jsonl"), "{\"_id\": \"q1\", \"text\": \"a\"}\n").unwrap();
    std::fs::write(dir.path().join("qrels.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\n").unwrap();
    let out = common::bin().args(["eval", "--dataset", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corpus.jsonl:2"), "{err}");
    let out = common::bin().args(["eval", "--dataset", dir.path().to_str().unwrap(), "--mode", "hybrid"]).env_remove("PASSERELLE_MODEL_DIR").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("embedding model"));
}
