//! A recruiter's offer through `passerelle serve`: found by search and by student -> offers at
//! once; still there after the server is killed (SIGKILL) right after its 201, and after a
//! `passerelle index` the running server swaps in; a deleted offer gone at once and for good; no
//! offer served twice.

mod common;

use std::time::{Duration, Instant};

use common::{Server, hit_values, import_fixtures, run_ok};
use serde_json::{Value, json};

const MASTER: &str = "master-key-of-the-live-writes-test";

fn ids(json: &Value) -> Vec<String> {
    hit_values(json, "id").into_iter().map(str::to_string).collect()
}

fn start(data: &std::path::Path) -> Server {
    let server = Server::start_env(data, &[], &[("PASSERELLE_MASTER_KEY", MASTER)]);
    let (status, _) = server.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    assert_eq!(status, 200, "the server never became ready");
    server
}

#[test]
fn an_acknowledged_offer_survives_a_kill_and_a_reindex_and_a_deleted_one_stays_gone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import_fixtures(data);
    run_ok(&["index", "--data", data.to_str().unwrap()]);

    let server = start(data);
    let offer = json!({
        "title": "Stage en marqueterie",
        "contract_type": "internship",
        "city": "Liège",
        "region": "Wallonie",
        "description": "Atelier d'ébénisterie : placages, incrustations de bois précieux et restauration de mobilier ancien."
    });
    let started = Instant::now();
    let (status, written) = server.call("POST", "/api/offers", MASTER, Some(&offer));
    assert_eq!(status, 201, "{written}");
    let id = written["written"][0]["id"].as_str().unwrap().to_string();
    let (_, found) = server.get("/api/search?q=marqueterie");
    assert_eq!(ids(&found), vec![id.clone()]);
    let (_, matched) = server.post("/api/match/student-to-offers", &json!({"text": "stage marqueterie ébénisterie"}));
    assert_eq!(matched["offers"][0]["id"], id.as_str(), "{matched}");
    assert!(started.elapsed() < Duration::from_secs(1), "written and found in {:?}", started.elapsed());

    // Killed right after its 201: the next server serves it.
    let (status, second) = server.call(
        "POST",
        "/api/offers",
        MASTER,
        Some(&json!({"title": "Stage en dorure à la feuille", "contract_type": "internship", "description": "Feuilles d'or."})),
    );
    assert_eq!(status, 201, "{second}");
    let gilding = second["written"][0]["id"].as_str().unwrap().to_string();
    server.kill();
    let server = start(data);
    assert_eq!(ids(&server.get("/api/search?q=marqueterie").1), vec![id.clone()]);
    assert_eq!(ids(&server.get("/api/search?q=dorure").1), vec![gilding.clone()]);
    let (_, matched) = server.post("/api/match/student-to-offers", &json!({"text": "stage dorure à la feuille d'or"}));
    assert_eq!(matched["offers"][0]["id"], gilding.as_str(), "{matched}");

    // Deleted: gone at once, and after a restart.
    let (status, _) = server.call("DELETE", &format!("/api/offers/{gilding}"), MASTER, None);
    assert_eq!(status, 200);
    assert!(ids(&server.get("/api/search?q=dorure").1).is_empty());
    server.kill();
    let server = start(data);
    assert!(ids(&server.get("/api/search?q=dorure").1).is_empty());

    // A re-index while serving: the new generation holds the written offer, once.
    let (_, before) = server.get("/readyz");
    run_ok(&["index", "--data", data.to_str().unwrap()]);
    let (_, after) = server.wait_for("/readyz", Duration::from_secs(10), |_, j| j["generation"] != before["generation"]);
    assert_ne!(after["generation"], before["generation"], "the new generation was not swapped in");
    let (_, found) = server.get("/api/search?q=marqueterie&limit=50");
    assert_eq!(ids(&found), vec![id.clone()], "served once, after the re-index");
    assert!(ids(&server.get("/api/search?q=dorure").1).is_empty());
    let (_, all) = server.get("/api/search?kind=offer&limit=0");
    let (_, stored) = server.call("GET", &format!("/api/offers/{id}"), MASTER, None);
    assert_eq!(stored["title"], "Stage en marqueterie");
    let offers_in_fixtures = std::fs::read_to_string(common::fixtures().join("data/offers.jsonl")).unwrap().lines().count() as u64;
    assert_eq!(all["total"].as_u64(), Some(offers_in_fixtures + 1), "{all}");
}
