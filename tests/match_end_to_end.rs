//! The matchers end to end: fixtures imported and indexed with the model, then the API
//! (`POST /api/match/*`), the CLI (`passerelle match ...`) and their relevance on the
//! fixtures' labelled sets (`passerelle eval --mode matcher`).

mod common;

use std::time::Duration;

use common::{Server, bin, import_fixtures, model_dir, run_ok};
use serde_json::{Value, json};

/// An offer written for this test: noisy, the way recruiters paste them.
const OFFER: &str = "Développeur·se applications Java / Spring (H/F) – Angers\n\
Éditeur de logiciels pour les collectivités, 80 personnes, nous cherchons un développeur pour notre pôle produit. \
Vous développerez des API REST en Java et Spring Boot, écrirez des tests unitaires et des requêtes SQL sur PostgreSQL, \
et participerez aux revues de code avec Git. Profil : bac+2 ou bac+3 en informatique, curieux et rigoureux. \
Avantages : tickets restaurant, mutuelle, télétravail partiel. Postulez en envoyant votre CV à recrutement@exemple.fr.";

fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array().unwrap().iter().map(|h| h[field].as_str().unwrap_or("")).collect()
}

fn ndcg(output: &std::process::Output) -> f64 {
    let m: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stdout)));
    m["ndcg_10"].as_f64().unwrap()
}

#[test]
fn matchers_end_to_end() {
    let model = model_dir();
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let d = data.to_str().unwrap();
    import_fixtures(data);
    run_ok(&["index", "--data", d, "--model-dir", model]);

    // Relevance on the labelled sets, through the matchers. Each single leg on the same sets
    // (passerelle eval --mode bm25 / vector): offer-to-programmes .831 / .907, student-to-offers
    // .827 / .907; the matchers must stay above both.
    let fixtures = common::fixtures();
    for (task, floor) in [("offer-to-programmes", 0.92), ("student-to-offers", 0.91)] {
        let set = fixtures.join("eval").join(task);
        let out = run_ok(&["eval", "--mode", "matcher", "--dataset", set.to_str().unwrap(), "--data", d, "--model-dir", model, "--json"]);
        let got = ndcg(&out);
        assert!(got >= floor, "{task}: nDCG@10 {got:.3} under {floor}");
    }

    let server = Server::start_with(data, &["--model-dir", model]);
    let (status, ready) = server.wait_for("/readyz", Duration::from_secs(20), |s, _| s == 200);
    assert_eq!(status, 200, "{ready}");

    // An offer -> programmes: development programmes first, with their contact and why.
    let (status, a) = server.post("/api/match/offer-to-programmes", &json!({"text": OFFER, "limit": 5}));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["semantic"]["used"], true, "{a}");
    assert_eq!(a["signals"]["title"], "Développeur·se applications Java / Spring (H/F) – Angers");
    assert!(a["signals"]["skills"].as_array().unwrap().iter().any(|s| s == "Spring Boot"), "{a}");
    assert!(a["signals"]["noise_sentences"].as_u64().unwrap() >= 2, "{a}");
    let codes: Vec<&str> = a["signals"]["occupations"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"M1805"), "{codes:?}");
    let programmes = &a["programmes"];
    let titles = strings(programmes, "title");
    assert_eq!(titles.len(), 5);
    let dev = ["BTS Services informatiques aux organisations – option SLAM", "BTS SIO option SLAM", "Bachelier en informatique de gestion", "Titre professionnel Développeur web", "Bachelor in de toegepaste informatica"];
    assert!(dev.iter().any(|t| titles[0].starts_with(t)), "{titles:?}");
    assert!(titles[..3].iter().all(|t| dev.iter().any(|d| t.starts_with(d)) || t.contains("webdéveloppeur")), "{titles:?}");
    for p in programmes.as_array().unwrap() {
        assert!(p["contact"]["email"].as_str().is_some_and(|e| e.contains('@')), "{p}");
        assert!(p["school"]["name"].as_str().is_some(), "{p}");
        assert!(p["score"].as_f64().unwrap() > 0.0);
    }
    let first = &programmes[0]["why"];
    assert!(first["occupations"].as_array().unwrap().iter().any(|o| o["relation"] == "same"), "{first}");
    assert!(first["semantic"]["rank"].as_u64().is_some(), "{first}");
    // Filters: only Belgian programmes.
    let (_, be) = server.post("/api/match/offer-to-programmes", &json!({"text": OFFER, "filters": {"country": "BE"}}));
    assert!(!be["programmes"].as_array().unwrap().is_empty(), "{be}");
    assert!(be["programmes"].as_array().unwrap().iter().all(|p| p["country"] == "BE"), "{be}");

    // A wish -> offers in Wallonie, internships only, with companies and recruiters.
    let wish = "je cherche un stage pour tester la sécurité des réseaux, genre pentest";
    let body = json!({"text": wish, "limit": 5, "filters": {"region": "Wallonie", "contract_type": "internship"}});
    let (status, a) = server.post("/api/match/student-to-offers", &body);
    assert_eq!(status, 200, "{a}");
    let offers = a["offers"].as_array().unwrap();
    assert!(!offers.is_empty(), "{a}");
    assert!(offers.iter().all(|o| o["region"] == "Wallonie" && o["contract_type"] == "internship"), "{a}");
    // The pentest internship is first by meaning; the QA testing internship can pass it on the
    // words ("tester", "tests") and its occupation (ROME titles are not read in the text yet).
    assert!(strings(&a["offers"], "title")[..2].contains(&"Stage de fin d'études – tests d'intrusion"), "{a}");
    assert!(offers.iter().all(|o| o["open"].is_boolean() && o["contact"]["email"].is_string()), "{a}");
    let companies = strings(&a["companies"], "name");
    assert!(companies.contains(&"Rempart Cyber"), "{companies:?}");
    let rempart = a["companies"].as_array().unwrap().iter().find(|c| c["name"] == "Rempart Cyber").unwrap();
    assert!(rempart["similar_offers"].as_u64().unwrap() >= 1 && rempart["website"].is_string(), "{rempart}");
    let emails = strings(&a["contacts"], "email");
    assert!(emails.contains(&"damien.lefevre@rempart-cyber.be"), "{emails:?}");
    // Dates: posted after a day, open on a day.
    let (_, a) = server.post("/api/match/student-to-offers", &json!({"text": wish, "limit": 20, "filters": {"posted_after": "2026-06-01"}}));
    let offers = a["offers"].as_array().unwrap();
    assert!(!offers.is_empty() && offers.iter().all(|o| o["date_posted"].as_str().unwrap() >= "2026-06-01"), "{a}");
    let (_, a) = server.post("/api/match/student-to-offers", &json!({"text": wish, "limit": 20, "filters": {"open_only": true, "as_of": "2026-03-01"}}));
    let offers = a["offers"].as_array().unwrap();
    assert!(!offers.is_empty(), "{a}");
    for o in offers {
        assert_eq!(o["open"], true, "{o}");
        assert!(o["date_posted"].as_str().unwrap() <= "2026-03-01" && o["valid_through"].as_str().unwrap() >= "2026-03-01", "{o}");
    }

    // A wish -> programmes.
    let (status, a) = server.post("/api/match/student-to-programmes", &json!({"text": "je voudrais soigner les gens à l'hôpital, devenir infirmière", "limit": 3}));
    assert_eq!(status, 200, "{a}");
    let titles = strings(&a["programmes"], "title");
    assert!(titles[0].contains("infirmier") || titles[0].contains("verpleegkunde"), "{titles:?}");

    // Bad requests: clear 4xx, JSON errors.
    let cases: Vec<(&str, String, &str)> = vec![
        ("/api/match/offer-to-programmes", json!({"text": "  "}).to_string(), "empty"),
        ("/api/match/offer-to-programmes", json!({"text": "dev ".repeat(6000)}).to_string(), "at most 20000"),
        ("/api/match/offer-to-programmes", json!({"text": "dev", "filters": {"contract_type": "internship"}}).to_string(), "unknown filter `contract_type`"),
        ("/api/match/student-to-offers", json!({"text": "dev", "filters": {"colour": "blue"}}).to_string(), "accepted: region"),
        ("/api/match/student-to-offers", json!({"text": "dev", "filters": {"posted_after": "yesterday"}}).to_string(), "YYYY-MM-DD"),
        ("/api/match/student-to-offers", json!({"text": "dev", "limit": 0}).to_string(), "from 1 to 50"),
        ("/api/match/student-to-offers", json!({"text": "dev", "limti": 3}).to_string(), "unknown field `limti`"),
        ("/api/match/student-to-programmes", "{\"text\": ".to_string(), "not the expected JSON"),
        ("/api/match/student-to-programmes", String::new(), "empty body"),
    ];
    for (path, body, expected) in cases {
        let (status, text) = server.post_raw(path, body.clone());
        assert_eq!(status, 400, "{path} {body:.80}: {text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{path}: {message}");
    }
    let (status, _) = server.post_raw("/api/match/offer-to-programmes", "x".repeat(300 * 1024));
    assert_eq!(status, 413);
    let (status, json) = server.get("/api/match/offer-to-programmes");
    assert_eq!(status, 405);
    assert!(json["error"]["message"].as_str().unwrap().contains("use POST"), "{json}");
    drop(server);

    // The CLI: a file -> a table; a wish -> JSON; mistakes -> a message and a failure.
    let offer_file = data.join("offer.txt");
    std::fs::write(&offer_file, OFFER).unwrap();
    let out = run_ok(&["match", "offer", offer_file.to_str().unwrap(), "--data", d, "--model-dir", model, "--limit", "3"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("occupations: M1805"), "{table}");
    assert!(table.lines().any(|l| l.trim_start().starts_with("1  ") && l.contains('@')), "{table}");
    let out = run_ok(&["match", "student", wish, "--data", d, "--model-dir", model, "--json", "--filter", "region=Wallonie", "--filter", "region=Flandre"]);
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(a["offers"].as_array().unwrap().iter().all(|o| o["region"] == "Wallonie" || o["region"] == "Flandre"), "{a}");
    let out = run_ok(&["match", "student", "je veux devenir infirmière", "--programmes", "--data", d, "--model-dir", model, "--json"]);
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(a["programmes"].as_array().is_some_and(|p| !p.is_empty()), "{a}");

    let latin1 = data.join("latin1.txt");
    std::fs::write(&latin1, b"D\xe9veloppeur Java").unwrap();
    for (args, expected) in [
        (vec!["match", "offer", latin1.to_str().unwrap()], "not UTF-8"),
        (vec!["match", "student", "dev", "--filter", "colour=blue"], "unknown filter `colour`"),
        (vec!["match", "student", "dev", "--filter", "region"], "FIELD=VALUE"),
        (vec!["match", "student", "dev", "--limit", "500"], "from 1 to 50"),
    ] {
        let out = bin().args(&args).args(["--data", d, "--no-model"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(expected), "{args:?}: {stderr}");
    }
}
