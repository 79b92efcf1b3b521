//! A killed `passerelle index` never harms the served generation; a killed import leaves the
//! store consistent.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Server, bin, import_fixtures, run_ok};

fn generation_dirs(data: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("index"))
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('g')).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn current(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("index/CURRENT")).unwrap().trim().to_string()
}

/// Many offers, so that indexing them takes long enough to be killed midway.
fn write_synthetic_offers(path: &std::path::Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let words = ["développement", "réseau", "logistique", "comptabilité", "soins", "maintenance", "données", "vente"];
    for i in 0..n {
        let w = words[i % words.len()];
        let description = format!("Offre synthétique numéro {i} en {w}. ").repeat(40);
        let line = serde_json::json!({
            "kind": "offer", "source": "synthetic", "source_key": format!("s{i}"),
            "title": format!("Stage {w} {i}"), "contract_type": "internship", "description": description,
        });
        writeln!(f, "{line}").unwrap();
    }
}

#[test]
fn sigkill_during_index_leaves_the_previous_generation_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    import_fixtures(data);
    run_ok(&["index", "--data", d]);
    let first = current(data);
    let server = Server::start(data);
    server.wait_for("/readyz", Duration::from_secs(10), |s, _| s == 200);
    let (_, baseline) = server.get("/api/search?q=informatique&limit=5");

    let big = data.join("big.jsonl");
    write_synthetic_offers(&big, 40_000);
    run_ok(&["import", "--data", d, big.to_str().unwrap()]);

    let mut child = bin().args(["index", "--data", d]).spawn().unwrap();
    let start = Instant::now();
    while generation_dirs(data).len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "the build never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the build finished before it could be killed; make the corpus larger");

    // The pointer still names the first generation, and the server still answers from it.
    assert_eq!(current(data), first);
    let (status, ready) = server.get("/readyz");
    assert_eq!((status, ready["generation"].as_str()), (200, Some(first.as_str())));
    let (_, again) = server.get("/api/search?q=informatique&limit=5");
    assert_eq!(again["hits"], baseline["hits"]);
    let leftovers = generation_dirs(data);
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");

    // The next build succeeds, is served without restart, and clears the half-written folder.
    run_ok(&["index", "--data", d]);
    let second = current(data);
    assert_ne!(second, first);
    let (_, ready) = server.wait_for("/readyz", Duration::from_secs(10), |_, j| j["generation"].as_str() == Some(second.as_str()));
    assert_eq!(ready["generation"].as_str(), Some(second.as_str()));
    let dirs = generation_dirs(data);
    assert_eq!(dirs, {
        let mut v = vec![first.clone(), second.clone()];
        v.sort();
        v
    });
    let (_, json) = server.get("/api/search?q=synth%C3%A9tique&limit=1");
    assert!(json["total"].as_u64().unwrap() >= 40_000, "{json}");
}

#[test]
fn sigkill_during_import_keeps_the_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    import_fixtures(data);
    let count = || {
        let out = run_ok(&["export", "records", "--data", d]);
        String::from_utf8(out.stdout).unwrap().lines().count()
    };
    let before = count();

    let big = data.join("big.jsonl");
    write_synthetic_offers(&big, 20_000);
    let mut child = bin().args(["import", "--data", d, big.to_str().unwrap()]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();

    // A file is imported in one transaction: all of it or none, and what was there stays.
    let after = count();
    assert!(after == before || after == before + 20_000, "before {before}, after {after}");
    run_ok(&["import", "--data", d, big.to_str().unwrap()]);
    assert_eq!(count(), before + 20_000);
}
