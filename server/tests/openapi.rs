//! The API reference: `/api/openapi.json` is an OpenAPI 3.1 document that lists every route the
//! router serves, with the methods it serves and the scope the key check wants, validates with
//! the PyPI package openapi-spec-validator, and describes what the routes answer; `/api/docs`
//! is a page that loads only its own scripts.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use fixtures::build_index;
use passerelle_server::auth::{Guard, required_scope};
use passerelle_server::config::{DEFAULT_PUBLIC_SCOPES, Limits};
use passerelle_server::{AppState, openapi};
use serde_json::{Value, json};
use tower::ServiceExt;

const MASTER: &str = "master-key-of-the-openapi-test";
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn router(data: &Path) -> axum::Router {
    let public = DEFAULT_PUBLIC_SCOPES.iter().map(|s| s.to_string());
    let state = AppState::with_guard(data.to_path_buf(), None, Guard::new(public, Some(MASTER), Limits::default()));
    passerelle_server::router(Arc::new(state), Duration::from_secs(10))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

async fn call(app: &axum::Router, method: &str, path: &str, body: Option<Value>) -> Answer {
    let mut request = Request::builder().method(method.to_uppercase().as_str()).uri(path).header("authorization", format!("Bearer {MASTER}"));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(body.map_or(Body::empty(), |b| Body::from(b.to_string()))).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
    Answer { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// The document's operations: path template -> methods.
fn documented(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| (path.clone(), METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_string()).collect()))
        .collect()
}

/// A path template with its parameters filled in.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("openapi-test");
            }
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `$ref` under `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// The router serves every documented method of every documented path, and no other method
/// there (405, with the documented methods in `Allow`); the registration in lib.rs goes through
/// `routes!` only, so no route is served that the document does not list.
#[tokio::test]
async fn the_document_lists_every_route_with_its_methods_and_scope() {
    let doc = openapi::document();
    assert!(doc["openapi"].as_str().unwrap_or_default().starts_with("3.1"), "openapi is {}", doc["openapi"]);

    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for bypass in [".route(", ".route_service(", ".nest(", ".nest_service(", "axum::routing::"] {
        assert!(!lib.contains(bypass), "src/lib.rs registers a route with `{bypass}`, which the document does not see: use `.routes(routes!(handler))`");
    }

    let dir = tempfile::tempdir().unwrap();
    let app = router(dir.path());
    let paths = documented(doc);
    assert!(paths.len() >= 25, "only {} paths: {:?}", paths.len(), paths.keys());
    let mut operations = 0;
    for (template, methods) in &paths {
        assert!(!methods.is_empty(), "{template} has no operation");
        let path = concrete(template);
        for method in METHODS {
            let answer = call(&app, method, &path, None).await;
            if methods.contains(method) {
                operations += 1;
                assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {template} is documented but not served: {}", answer.text);
                assert!(!answer.text.contains("no route for"), "{method} {template} is documented but not served: {}", answer.text);
            } else {
                assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {template} is served but not documented: {}", answer.text);
                let allow = answer.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_lowercase();
                let allowed: BTreeSet<String> = allow.split(',').map(str::trim).filter(|m| !m.is_empty() && *m != "head").map(str::to_string).collect();
                assert_eq!(&allowed, methods, "{template}: the router allows {allow}, the document lists {methods:?}");
            }
        }
    }
    println!("{} paths, {operations} operations documented and served", paths.len());

    // Security: what the key check wants, and nothing under /api without a scope but the reference.
    let mut ids = BTreeSet::new();
    for (template, methods) in &paths {
        for method in methods {
            let operation = &doc["paths"][template][method];
            let scope = required_scope(&Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), template);
            let expected = match scope {
                None => json!([{}]),
                Some(s) if DEFAULT_PUBLIC_SCOPES.contains(&s) => json!([{}, {"bearer": []}]),
                Some(_) => json!([{"bearer": []}]),
            };
            assert_eq!(operation["security"], expected, "{method} {template}");
            assert_eq!(operation.get("x-scope").and_then(Value::as_str), scope, "{method} {template}");
            if template.starts_with("/api/") && !template.starts_with("/api/docs") && template != "/api/openapi.json" {
                assert!(scope.is_some(), "{method} {template} has no scope in auth::required_scope: it would be open to everyone");
            }
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(description.contains("Scope:"), "{method} {template}: {description}");
            assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {template} has no summary");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {template} has no tag");
            let id = operation["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let reference = response["$ref"].as_str().unwrap_or_else(|| panic!("{method} {template} {status} is not a shared error response"));
                    let shared = resolve(doc, reference).unwrap_or_else(|| panic!("{reference}"));
                    assert_eq!(shared["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody", "{reference}");
                }
            }
            if let Some(scope) = scope {
                assert!(operation["responses"]["401"].is_object() && operation["responses"]["429"].is_object(), "{method} {template}");
                assert_eq!(operation["responses"]["429"]["$ref"], "#/components/responses/RateLimited", "{scope}");
            }
        }
    }
    assert!(doc["components"]["responses"]["RateLimited"]["headers"]["Retry-After"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");

    let mut all = Vec::new();
    refs(doc, &mut all);
    for reference in all {
        assert!(resolve(doc, reference).is_some(), "{reference} does not resolve");
    }

    // What /api/openapi.json serves is this document.
    let served = call(&app, "get", "/api/openapi.json", None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&served.text).unwrap(), *doc);
}

fn python_has(module: &str) -> bool {
    Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
}

/// The document validates as OpenAPI 3.1 (openapi-spec-validator, from PyPI).
#[test]
fn the_document_validates_as_openapi_3_1() {
    assert!(
        python_has("openapi_spec_validator"),
        "this test needs Python's openapi-spec-validator, which is missing. Run the test command, scripts/test, which installs it, \
         or: python3 -m pip install --user openapi-spec-validator"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, openapi::json()).unwrap();
    let out = Command::new("python3").args(["-m", "openapi_spec_validator", "--schema", "3.1"]).arg(&file).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "openapi-spec-validator refuses the document:\n{said}");
    assert!(said.contains("OK"), "{said}");
}

/// `/api/docs` is HTML that loads only same-origin scripts, under a policy that allows no other.
#[tokio::test]
async fn the_reference_page_loads_only_its_own_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(dir.path());
    let page = call(&app, "get", "/api/docs", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let header = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(header("content-type").starts_with("text/html"), "{}", header("content-type"));
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    let html = page.text.to_lowercase();
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names another origin");
    let mut scripts = 0;
    for tag in html.split("<script").skip(1) {
        let (attributes, rest) = tag.split_once('>').unwrap();
        let src = attributes.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script without src (inline)");
        assert!(src.starts_with('/') && !src.starts_with("//"), "script {src} is not same-origin");
        assert!(rest.trim_start().starts_with("</script>"), "a script with inline code");
        let script = call(&app, "get", src, None).await;
        assert_eq!(script.status, StatusCode::OK, "{src}");
        assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
        assert!(script.text.contains("/api/openapi.json"), "{src} does not read the document");
        assert!(!script.text.contains("innerHTML"), "{src} writes HTML");
        scripts += 1;
    }
    assert!(scripts >= 1, "the page loads no script");
}

/// One answer to check against the document: the operation, the status and the JSON body.
struct Sample {
    method: &'static str,
    template: &'static str,
    status: StatusCode,
    body: Value,
}

/// Calls `method path` and keeps the answer, checked against `template`'s documented answer.
async fn sample(app: &axum::Router, samples: &mut Vec<Sample>, method: &'static str, template: &'static str, path: &str, body: Option<Value>) -> Value {
    let answer = call(app, method, path, body).await;
    let body: Value = serde_json::from_str(&answer.text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", answer.text));
    samples.push(Sample { method, template, status: answer.status, body: body.clone() });
    body
}

/// What the routes answer, 2xx and errors, is what the document says they answer: each JSON
/// body validates against the schema of its operation's response for its status.
#[tokio::test]
async fn the_answers_are_what_the_document_describes() {
    assert!(python_has("openapi_schema_validator"), "this test needs Python's openapi-spec-validator: run scripts/test, which installs it");
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let public = DEFAULT_PUBLIC_SCOPES.iter().map(|s| s.to_string());
    let state = Arc::new(AppState::with_guard(dir.path().to_path_buf(), None, Guard::new(public, Some(MASTER), Limits::default())));
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.reload_if_changed()).await.unwrap();
    assert!(state.index().is_some(), "no generation served");
    let app = passerelle_server::router(state, Duration::from_secs(30));
    let mut samples = Vec::new();
    let s = &mut samples;

    sample(&app, s, "get", "/healthz", "/healthz", None).await;
    sample(&app, s, "get", "/readyz", "/readyz", None).await;
    let found = sample(&app, s, "get", "/api/search", "/api/search?q=d%C3%A9veloppeur&explain=true&limit=50", None).await;
    sample(&app, s, "get", "/api/search", "/api/search?limit=many", None).await;
    sample(&app, s, "get", "/api/search", "/api/search?kind=question&q=java", None).await;
    sample(&app, s, "get", "/api/stats", "/api/stats?from=2020-01-01", None).await;
    let wish = json!({"text": "Je cherche un stage de développeur web en PHP", "limit": 5});
    let programmes = sample(&app, s, "post", "/api/match/student-to-programmes", "/api/match/student-to-programmes", Some(wish.clone())).await;
    sample(
        &app,
        s,
        "post",
        "/api/match/student-to-offers",
        "/api/match/student-to-offers",
        Some(json!({"text": "stage développeur", "filters": {"open_only": false}})),
    )
    .await;
    sample(&app, s, "post", "/api/match/offer-to-programmes", "/api/match/offer-to-programmes", Some(json!({"text": "Stage développeur Java / Spring Boot"})))
        .await;
    sample(&app, s, "post", "/api/match/offer-to-programmes", "/api/match/offer-to-programmes", Some(json!({"txt": "typo"}))).await;
    sample(
        &app,
        s,
        "post",
        "/api/questions/similar",
        "/api/questions/similar",
        Some(json!({"text": "Que affiche System.out.println(1 + 1) ?", "options": ["2", "11"]})),
    )
    .await;

    let first = |kind: &str| {
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["kind"] == kind)
            .map(|h| h["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {kind} hit"))
    };
    let offer = first("offer");
    let programme = programmes["programmes"][0]["id"].as_str().expect("a programme").to_string();
    sample(&app, s, "get", "/api/offers/{id}", &format!("/api/offers/{offer}"), None).await;
    sample(&app, s, "get", "/api/programmes/{id}", &format!("/api/programmes/{programme}"), None).await;
    sample(&app, s, "get", "/api/offers/{id}", "/api/offers/offer-none", None).await;

    let new_offer =
        json!({"source_key": "openapi-1", "title": "Stage développeur Rust", "contract_type": "internship", "description": "Un stage.", "city": "Namur"});
    let written = sample(&app, s, "post", "/api/offers", "/api/offers", Some(new_offer.clone())).await;
    let id = written["written"][0]["id"].as_str().unwrap().to_string();
    sample(&app, s, "post", "/api/offers", "/api/offers", Some(json!([new_offer]))).await;
    sample(
        &app,
        s,
        "put",
        "/api/offers/{id}",
        &format!("/api/offers/{id}"),
        Some(json!({"title": "Stage développeur Rust et Go", "contract_type": "internship"})),
    )
    .await;
    sample(
        &app,
        s,
        "post",
        "/api/offers/{id}/forward",
        &format!("/api/offers/{id}/forward"),
        Some(json!({"programmes": [programme], "message": "Pour vos étudiants"})),
    )
    .await;
    sample(&app, s, "get", "/api/transmissions", "/api/transmissions", None).await;
    sample(&app, s, "delete", "/api/offers/{id}", &format!("/api/offers/{id}"), None).await;
    let question = json!({"text": "Que vaut 2 ** 3 en Python ?", "options": ["6", "8"], "answer": 1, "tag": "Python"});
    let q = sample(&app, s, "post", "/api/questions", "/api/questions", Some(question)).await;
    let q = q["written"][0]["id"].as_str().unwrap().to_string();
    sample(&app, s, "get", "/api/questions/{id}", &format!("/api/questions/{q}"), None).await;

    let key = json!({"name": "openapi-test", "scopes": ["search", "export"], "expires_in": "30d"});
    sample(&app, s, "post", "/api/keys", "/api/keys", Some(key)).await;
    sample(&app, s, "get", "/api/keys", "/api/keys", None).await;
    sample(&app, s, "delete", "/api/keys/{name}", "/api/keys/openapi-test", None).await;
    sample(&app, s, "post", "/api/contacts/suppressions", "/api/contacts/suppressions", Some(json!({"value": "@example.be", "reason": "test"}))).await;
    sample(&app, s, "get", "/api/contacts/suppressions", "/api/contacts/suppressions", None).await;
    sample(&app, s, "delete", "/api/contacts/suppressions/{value}", "/api/contacts/suppressions/@example.be", None).await;
    let csv = call(&app, "get", "/api/export/contacts.csv?region=Wallonie", None).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    sample(&app, s, "get", "/api/exports", "/api/exports", None).await;

    let statuses: BTreeSet<u16> = samples.iter().map(|s| s.status.as_u16()).collect();
    assert!(statuses.contains(&200) && statuses.contains(&201) && statuses.contains(&400) && statuses.contains(&404), "{statuses:?}");
    let cases: Vec<Value> =
        samples.iter().map(|s| json!({"method": s.method, "path": s.template, "status": s.status.as_u16().to_string(), "body": s.body})).collect();
    let dir = tempfile::tempdir().unwrap();
    let (doc_file, cases_file) = (dir.path().join("openapi.json"), dir.path().join("answers.json"));
    std::fs::write(&doc_file, openapi::json()).unwrap();
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let out = Command::new("python3").arg("-c").arg(VALIDATE_ANSWERS).arg(&doc_file).arg(&cases_file).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "answers that the document does not describe:\n{said}");
    assert!(said.contains(&format!("{} answers valid", cases.len())), "{said}");
}

/// Validates each answer against its documented response schema (OpenAPI 3.1's dialect).
const VALIDATE_ANSWERS: &str = r##"
import json, sys
from openapi_schema_validator import OAS31Validator
doc = json.load(open(sys.argv[1]))
cases = json.load(open(sys.argv[2]))
failed = []
for case in cases:
    response = doc["paths"][case["path"]][case["method"]]["responses"].get(case["status"])
    where = f'{case["method"].upper()} {case["path"]} {case["status"]}'
    if response is None:
        failed.append(f"{where}: status not documented")
        continue
    while "$ref" in response:
        target = doc
        for part in response["$ref"].lstrip("#/").split("/"):
            target = target[part]
        response = target
    schema = response["content"]["application/json"]["schema"]
    root = dict(schema)
    root["components"] = doc["components"]
    errors = sorted(OAS31Validator(root).iter_errors(case["body"]), key=lambda e: list(e.absolute_path))
    for e in errors[:5]:
        failed.append(f"{where}: at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}")
if failed:
    print("\n".join(failed))
    sys.exit(1)
print(f"{len(cases)} answers valid")
"##;
