//! `passerelle demo` as a newcomer runs it: it serves the fixture sites, crawls them (the job
//! board through the browser), and the search box and the matchers answer on what it crawled.
//! Needs Debian's chromium and chromium-driver (`./scripts/test` installs them when missing).

mod common;

use common::Server;
use serde_json::{Value, json};

fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array().unwrap().iter().filter_map(|v| v[field].as_str()).collect()
}

#[test]
fn the_demo_crawls_the_fixture_sites_and_the_matchers_answer_on_them() {
    let data = tempfile::tempdir().unwrap();
    let (server, printed) = Server::start_demo(data.path());
    // The crawl summary: every fixture offer and programme, the board rendered by the browser,
    // the schools of both directories; no page left unrendered.
    assert!(printed.contains("offers 120 ("), "{printed}");
    assert!(printed.contains("programmes 56, companies 34"), "{printed}");
    assert!(printed.contains("schools written 68"), "{printed}");
    assert!(printed.contains("rendered"), "{printed}");
    assert!(!printed.contains("read without their scripts"), "Chromium is installed here: {printed}");
    assert!(printed.contains("182 quiz questions imported"), "{printed}");

    // The search box finds crawled programmes and offers.
    let (_, a) = server.get("/api/search?q=informatique&limit=10");
    assert!(a["hits"].as_array().unwrap().iter().any(|h| h["kind"] == "programme"), "{a}");
    let (_, a) = server.get("/api/search?q=stage%20java%20spring&limit=5");
    let first = &a["hits"][0];
    assert_eq!(first["kind"], "offer", "{a}");
    assert!(first["record"]["url"].as_str().unwrap().starts_with("http://127.0.1."), "a crawled page: {first}");

    // Student -> offers (from the board, crawled through the browser), the companies, the recruiters.
    let wish = json!({"text": "stage développeur Java Spring Boot, API REST", "limit": 5, "filters": {"open_only": false}});
    let (status, a) = server.post("/api/match/student-to-offers", &wish);
    assert_eq!(status, 200, "{a}");
    let titles = strings(&a["offers"], "title");
    assert!(titles.contains(&"Stage développeur Java / Spring Boot"), "{titles:?}");
    assert!(strings(&a["companies"], "name").contains(&"Nivelys Numérique"), "{a}");
    // The recruiter's address was assembled by JavaScript on the board's page.
    assert!(strings(&a["contacts"], "email").contains(&"julien.marchal@nivelys.be"), "{a}");
    // By default the expired ones are left out and counted.
    let (_, open) = server.post("/api/match/student-to-offers", &json!({"text": "stage développeur Java Spring Boot", "limit": 50}));
    assert!(open["expired_left_out"].as_u64().unwrap() >= 1, "{open}");
    assert!(open["offers"].as_array().unwrap().iter().all(|o| o["open"] == true), "{open}");

    // Offer -> programmes with their contacts (from the catalogue's JSON-LD).
    let offer = json!({"text": "Stage développeur Java / Spring Boot : API REST, PostgreSQL, tests JUnit, Git", "limit": 5});
    let (status, a) = server.post("/api/match/offer-to-programmes", &offer);
    assert_eq!(status, 200, "{a}");
    let programmes = a["programmes"].as_array().unwrap();
    assert!(!programmes.is_empty(), "{a}");
    assert!(programmes.iter().any(|p| p["contact"]["email"].is_string()), "{a}");
    assert!(programmes.iter().any(|p| p["title"].as_str().unwrap().contains("BTS")), "{a}");
}
