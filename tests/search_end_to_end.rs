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

fn distances(json: &serde_json::Value, list: &str) -> Vec<f64> {
    json[list].as_array().unwrap().iter().map(|h| h["distance_km"].as_f64().unwrap_or_else(|| panic!("no distance_km: {h}"))).collect()
}

#[test]
fn near_a_town_filters_sorts_and_explains_by_distance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import_fixtures(data);
    let out = run_ok(&["index", "--data", data.to_str().unwrap()]);
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    // Every town of the fixtures is in the gazetteer (its aliases name Bruxelles, Antwerpen and
    // the merged municipalities).
    assert!(printed.contains("places: ") && printed.contains("records located by their town"), "{printed}");
    assert!(!printed.contains("does not know"), "{printed}");
    let server = Server::start(data);
    server.wait_for("/readyz", Duration::from_secs(10), |s, _| s == 200);

    // Words near a town: only hits within the radius, each with its distance; fewer than without.
    let (status, everywhere) = server.get("/api/search?q=stage&limit=100");
    assert_eq!(status, 200, "{everywhere}");
    let (status, near) = server.get("/api/search?q=stage&near=Namur&radius_km=30&limit=100");
    assert_eq!(status, 200, "{near}");
    let total = near["total"].as_u64().unwrap();
    assert!(total > 0 && total < everywhere["total"].as_u64().unwrap(), "{total}");
    assert_eq!(near["hits"].as_array().unwrap().len() as u64, total);
    assert!(distances(&near, "hits").iter().all(|d| *d <= 30.0), "{near}");
    let cities: Vec<&str> = near["hits"].as_array().unwrap().iter().filter_map(|h| h["record"]["city"].as_str()).collect();
    assert!(cities.contains(&"Namur"), "{cities:?}");
    assert!(!cities.iter().any(|c| ["Liège", "Bruxelles", "Nantes", "Gent"].contains(c)), "{cities:?}");
    assert_eq!(near["near"]["place"]["name"], "Namur");
    assert_eq!(near["facets"]["kind"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>(), total);

    // The same circle by coordinates.
    let (lat, lon) = (near["near"]["lat"].as_f64().unwrap(), near["near"]["lon"].as_f64().unwrap());
    let (_, by_coordinates) = server.get(&format!("/api/search?q=stage&lat={lat}&lon={lon}&radius_km=30&limit=0"));
    assert_eq!(by_coordinates["total"].as_u64(), Some(total));

    // No words: the nearest first, Namur itself at 0 km; a wider circle reaches Liège.
    let (_, browse) = server.get("/api/search?near=Namur&radius_km=60&limit=100");
    let d = distances(&browse, "hits");
    assert!(d.windows(2).all(|w| w[0] <= w[1]) && d[0] < 1.0, "{d:?}");
    let cities: Vec<&str> = browse["hits"].as_array().unwrap().iter().filter_map(|h| h["record"]["city"].as_str()).collect();
    assert!(cities.contains(&"Liège") && !cities.contains(&"Gent"), "{cities:?}");

    // Words sorted by distance; Bruxelles (an alias of Brussels) is a town too.
    let (status, sorted) = server.get("/api/search?q=stage&near=Bruxelles&radius_km=100&sort=distance&limit=50");
    assert_eq!(status, 200, "{sorted}");
    let d = distances(&sorted, "hits");
    assert!(d.len() > 3 && d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");

    // Mistakes are said: an unknown town with its nearest spellings, a sort without a place.
    let (status, json) = server.get("/api/search?q=stage&near=Namurr");
    assert_eq!(status, 400);
    assert_eq!(json["error"]["field"], "near", "{json}");
    assert!(json["error"]["message"].as_str().unwrap().contains("did you mean Namur"), "{json}");
    let (status, json) = server.get("/api/search?q=stage&sort=distance");
    assert_eq!(status, 400, "{json}");
    let (status, _) = server.get("/api/search?q=stage&near=Namur&radius_km=5000");
    assert_eq!(status, 400);

    // The place field's suggestions.
    let (status, places) = server.get("/api/places?q=brux");
    assert_eq!(status, 200, "{places}");
    assert!(places["places"].as_array().unwrap().iter().any(|p| p["name"] == "Bruxelles"), "{places}");
    assert_eq!(server.get("/api/places?q=nam&limit=500").0, 400);

    // The matchers take the same circle, in their filters, and give each result its distance.
    let (status, offers) = server.post(
        "/api/match/student-to-offers",
        &serde_json::json!({"text": "stage", "limit": 20, "filters": {"near": "Liège", "radius_km": 20, "open_only": false}}),
    );
    assert_eq!(status, 200, "{offers}");
    assert!(!offers["offers"].as_array().unwrap().is_empty(), "{offers}");
    assert!(distances(&offers, "offers").iter().all(|d| *d <= 20.0), "{offers}");
    let (status, programmes) = server.post(
        "/api/match/offer-to-programmes",
        &serde_json::json!({"text": "Comptable : tenue de la comptabilité, TVA, bilans", "filters": {"lat": lat, "lon": lon, "radius_km": 40}}),
    );
    assert_eq!(status, 200, "{programmes}");
    let d = distances(&programmes, "programmes");
    assert!(!d.is_empty() && d.iter().all(|d| *d <= 40.0), "{programmes}");
    let (status, json) = server.post("/api/match/student-to-offers", &serde_json::json!({"text": "stage", "filters": {"near": "Nowhere-sur-Rien"}}));
    assert_eq!(status, 400);
    assert_eq!(json["error"]["field"], "filters.near", "{json}");
}
