//! import -> index -> serve on a free loopback port -> query over HTTP, as a visitor would.

mod common;

use std::time::Duration;

use common::{Server, hit_values, import_fixtures, run_ok};

fn kinds(json: &serde_json::Value) -> Vec<&str> {
    hit_values(json, "kind")
}

#[test]
fn the_search_box_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import_fixtures(data);
    run_ok(&["index", "--data", data.to_str().unwrap()]);
    let server = Server::start(data);

    let (status, ready) = server.wait_for("/readyz", Duration::from_secs(10), |s, _| s == 200);
    assert_eq!(status, 200, "{ready}");
    assert_eq!(server.get("/healthz").0, 200);

    // A word, its prefix while typing, and a typo find programmes and offers.
    for q in ["informatique", "infor", "infromatique"] {
        let (status, json) = server.get(&format!("/api/search?q={q}&limit=50"));
        assert_eq!(status, 200, "{json}");
        let k = kinds(&json);
        assert!(k.contains(&"programme") && k.contains(&"offer"), "q={q}: {k:?}");
        let titles = hit_values(&json, "title");
        assert!(titles[..5].iter().any(|t| t.to_lowercase().contains("informati")), "q={q}: {titles:?}");
    }

    // Filters: every hit is a school of that region, and the facets count exactly the hits.
    let (status, json) = server.get("/api/search?kind=school&region=Wallonie&limit=100");
    assert_eq!(status, 200, "{json}");
    let total = json["total"].as_u64().unwrap();
    assert!(total >= 10, "{json}");
    assert_eq!(json["hits"].as_array().unwrap().len() as u64, total);
    for hit in json["hits"].as_array().unwrap() {
        assert_eq!(hit["kind"], "school");
        assert_eq!(hit["record"]["region"], "Wallonie");
    }
    assert_eq!(json["facets"]["kind"]["school"].as_u64(), Some(total));
    assert_eq!(json["facets"]["region"]["Wallonie"].as_u64(), Some(total));
    // Filters fold case and accents like the search does.
    let (_, folded) = server.get("/api/search?kind=school&region=wallonie&limit=0");
    assert_eq!(folded["total"].as_u64(), Some(total));

    // Facets count every match, not only the page shown.
    let (_, json) = server.get("/api/search?q=stage&limit=3");
    let total = json["total"].as_u64().unwrap();
    let counted: u64 = json["facets"]["kind"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(counted, total);
    let (_, all) = server.get("/api/search?q=java&limit=100");
    let total = all["total"].as_u64().unwrap();
    assert!(total > 3 && total <= 100, "pick a query with at most a page of hits: {total}");
    assert_eq!(all["hits"].as_array().unwrap().len() as u64, total);
    let mut by_kind = std::collections::BTreeMap::<&str, u64>::new();
    for k in kinds(&all) {
        *by_kind.entry(k).or_default() += 1;
    }
    for (k, n) in by_kind {
        assert_eq!(all["facets"]["kind"][k].as_u64(), Some(n), "kind {k}");
    }

    // Snippets are highlighted.
    let (_, json) = server.get("/api/search?q=comptabilit%C3%A9&limit=5");
    assert!(hit_values(&json, "snippet").iter().any(|s| s.contains("<mark>")), "{json}");

    // Bad requests get a JSON error that says what to fix.
    let (status, json) = server.get("/api/search?q=java&regoin=Wallonie");
    assert_eq!(status, 400);
    assert!(json["error"]["message"].as_str().unwrap().contains("regoin"), "{json}");
    let (status, _) = server.get(&format!("/api/search?q={}", "a".repeat(2000)));
    assert_eq!(status, 400);
    let (status, _) = server.get("/api/search?q=java&limit=-1");
    assert_eq!(status, 400);
    let (status, json) = server.get("/api/nothing-here");
    assert_eq!((status, json["error"]["code"].as_str()), (404, Some("not_found")));
}

#[test]
fn crawled_text_is_escaped_and_new_generations_are_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    import_fixtures(data);
    run_ok(&["index", "--data", d]);
    let server = Server::start(data);
    server.wait_for("/readyz", Duration::from_secs(10), |s, _| s == 200);
    let (_, before) = server.get("/api/search?q=zanzibar");
    assert_eq!(before["total"], 0);

    let file = data.join("new.jsonl");
    std::fs::write(
        &file,
        r#"{"kind":"offer","source":"test","source_key":"x1","title":"Stage Zanzibar <script>alert(1)</script>","contract_type":"internship","description":"Mission <img src=x onerror=alert(2)> à Zanzibar & ailleurs."}"#,
    )
    .unwrap();
    run_ok(&["import", "--data", d, file.to_str().unwrap()]);
    run_ok(&["index", "--data", d]);
    let (_, after) = server.wait_for("/api/search?q=zanzibar", Duration::from_secs(10), |_, j| j["total"] == 1);
    assert_eq!(after["total"], 1, "the new generation was not picked up: {after}");
    let hit = &after["hits"][0];
    assert_eq!(hit["title"], "Stage Zanzibar <script>alert(1)</script>");
    let html = format!("{} {}", hit["title_html"].as_str().unwrap(), hit["snippet"].as_str().unwrap());
    assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;") && html.contains("<mark>Zanzibar</mark>"), "{html}");
}
