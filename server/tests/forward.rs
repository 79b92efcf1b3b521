//! A recruiter forwards an offer to the managers of the programmes the matcher found: one mail
//! per manager reaches a real SMTP server on loopback (aiosmtpd), never twice for the same offer
//! and programme; each manager's key reads only its own programmes' transmissions.

#[path = "support/fixtures.rs"]
mod fixtures;

#[path = "support/sink.rs"]
mod sink;

use std::time::{Duration, Instant};

use fixtures::build_index;
use passerelle_server::config::{Security, SmtpConfig};
use passerelle_server::{ServeConfig, serve_on};
use serde_json::{Value, json};
use sink::{Sink, header};

const MASTER: &str = "master-key-of-the-forward-test";

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
    }

    async fn key(&self, name: &str, scopes: &[&str], extra: Value) -> String {
        let mut body = json!({"name": name, "scopes": scopes});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, answer) = self.call(reqwest::Method::POST, "/api/keys", Some(MASTER), Some(body)).await;
        assert_eq!(status, 201, "{answer}");
        answer["key"].as_str().unwrap().to_string()
    }
}

async fn wait_for_mails(sink: &Sink, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let mails = sink.mails();
        if mails.len() >= n || started.elapsed() > Duration::from_secs(15) {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_mails_each_manager_once() {
    let sink = Sink::start(None);
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServeConfig::new(dir.path().to_path_buf(), addr);
    config.master_key = Some(MASTER.into());
    config.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port,
        from: "passerelle <no-reply@passerelle.example>".into(),
        security: Security::None,
        ..Default::default()
    });
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, config, async move {
        let _ = stopped.await;
    }));
    let api = Api { base: format!("http://{addr}"), client: reqwest::Client::new() };
    while api.call(reqwest::Method::GET, "/readyz", None, None).await.0 != 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    use reqwest::Method;

    // The recruiter posts an offer and asks which programmes train for it.
    let recruiter = api.key("recruteur", &["offers.write"], json!({})).await;
    let text = "Stage développeur web : application Symfony, API REST, base de données SQL, tests unitaires et Git.";
    let (status, posted) = api
        .call(
            Method::POST,
            "/api/offers",
            Some(&recruiter),
            Some(json!({"title": "Stage développeur web PHP", "contract_type": "internship", "description": text})),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    let offer = posted["written"][0]["id"].as_str().unwrap().to_string();
    let (_, matched) = api.call(Method::POST, "/api/match/offer-to-programmes", None, Some(json!({"text": text, "limit": 3}))).await;
    let programmes: Vec<Value> = matched["programmes"].as_array().unwrap().clone();
    assert!(programmes.len() >= 3, "{matched}");
    let ids: Vec<String> = programmes.iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();

    // Forwarded to two of them: two transmissions, two mails.
    let body = json!({"programmes": [ids[0], ids[1]], "message": "Bonjour, cette offre peut intéresser vos étudiants de deuxième année."});
    let (status, forwarded) = api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&recruiter), Some(body.clone())).await;
    assert_eq!(status, 201, "{forwarded}");
    assert_eq!(forwarded["mailed"], true);
    assert_eq!(forwarded["transmissions"].as_array().unwrap().len(), 2);
    let mails = wait_for_mails(&sink, 2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let stored: Vec<Value> = {
        let store = store::RecordStore::open_dir(dir.path()).unwrap();
        ids.iter().map(|id| serde_json::to_value(store.get(id).unwrap().unwrap()).unwrap()).collect()
    };
    for (mail, programme) in mails.iter().zip(&stored) {
        let to = programme["contact"]["email"].as_str().unwrap();
        assert!(mail["rcpt_tos"].as_array().unwrap().iter().any(|r| r == to), "{mail}");
        let subject = header(mail, "subject").join(" ");
        assert!(
            subject.contains(programme["title"].as_str().unwrap()) || mail["body"].as_str().unwrap().contains(programme["title"].as_str().unwrap()),
            "{mail}"
        );
        let body = mail["body"].as_str().unwrap();
        assert!(body.contains("Stage développeur web PHP") && body.contains("deuxième année"), "{body}");
        assert!(header(mail, "message-id")[0].contains(&offer), "{mail}");
    }

    // Forwarded again, and once more with a third programme: only the third is new.
    let (status, again) = api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&recruiter), Some(body)).await;
    assert_eq!(status, 200, "{again}");
    assert!(again["transmissions"].as_array().unwrap().iter().all(|t| t["already_forwarded"] == true));
    let (status, third) =
        api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&recruiter), Some(json!({"programmes": [ids[1], ids[2]]}))).await;
    assert_eq!(status, 201, "{third}");
    let mails = wait_for_mails(&sink, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 3, "never twice for the same offer and programme: {mails:?}");

    // A manager's key reads its programme's transmissions only.
    let manager = api.key("gestionnaire", &["transmissions"], json!({"programmes": [ids[0]]})).await;
    assert_eq!(api.call(Method::GET, "/api/transmissions", None, None).await.0, 401);
    let (status, seen) = api.call(Method::GET, "/api/transmissions", Some(&manager), None).await;
    assert_eq!(status, 200, "{seen}");
    let seen = seen["transmissions"].as_array().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["programme_id"], ids[0].as_str());
    assert_eq!(seen[0]["status"], "sent");
    assert_eq!(api.call(Method::GET, &format!("/api/transmissions?programme={}", ids[1]), Some(&manager), None).await.0, 403);
    let (_, all) = api.call(Method::GET, &format!("/api/transmissions?offer={offer}"), Some(MASTER), None).await;
    assert_eq!(all["transmissions"].as_array().unwrap().len(), 3);

    // Mistakes: an unknown programme, another company's offer with a bound key, no scope.
    let (status, bad) =
        api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&recruiter), Some(json!({"programmes": ["programme-nope"]}))).await;
    assert_eq!((status, bad["error"]["field"].as_str()), (400, Some("programmes[0]")), "{bad}");
    let company = schemas::stable_id(schemas::RecordKind::Company, "fixtures", "comp-001");
    let bound = api.key("recruteur-lie", &["offers.write"], json!({"company": company})).await;
    assert_eq!(api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&bound), Some(json!({"programmes": [ids[0]]}))).await.0, 403);
    assert_eq!(api.call(Method::POST, &format!("/api/offers/{offer}/forward"), Some(&manager), Some(json!({"programmes": [ids[0]]}))).await.0, 403);
}
