//! Every answer that is not 2xx is `{"error": {"code", "message"}}` with an `x-request-id`
//! header: bad requests naming their field, unknown paths and methods, bodies over the limit
//! (sent whole, streamed, or announced by a lying `Content-Length`), the timeout, no index yet,
//! and an internal error, which answers its request id and nothing of its cause.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use fixtures::build_index;
use passerelle_server::{MAX_BODY_BYTES, ServeConfig, serve_on};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server on a free loopback port, stopped when dropped.
struct Server {
    addr: SocketAddr,
    base: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn start(data: &Path, request_timeout: Duration) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = ServeConfig::new(data.to_path_buf(), addr);
        config.request_timeout = request_timeout;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_on(listener, config, async move {
            let _ = stopped.await;
        }));
        Server { addr, base: format!("http://{addr}"), client: reqwest::Client::new(), _stop: stop }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
        let (request_id, allow, content_type) = (header("x-request-id"), header("allow"), header("content-type"));
        let text = response.text().await.unwrap();
        Answer { status, request_id, allow, content_type, text }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body)).await
    }

    /// Writes `head` then `body` on a raw connection (for what an HTTP client will not send:
    /// a lying `Content-Length`, a body that stops coming), waiting `pause` in between, and
    /// reads the answer until the server closes or `read_for` passes.
    async fn raw(&self, head: &str, body: &[u8], pause: Duration) -> Answer {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(pause).await;
        // The server may answer (and close) before it reads all of the body.
        let _ = stream.write_all(body).await;
        let mut bytes = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream, &mut bytes)).await;
        parse_raw(&String::from_utf8_lossy(&bytes))
    }
}

/// Reads until the end of one answer with a `Content-Length` (or until the server closes).
async fn read_answer(stream: &mut TcpStream, into: &mut Vec<u8>) {
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => into.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(into);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()));
            if length.is_some_and(|n| body.len() >= n) {
                return;
            }
        }
    }
}

fn parse_raw(text: &str) -> Answer {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let header =
        |name: &str| head.lines().skip(1).find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()));
    Answer { status, request_id: header("x-request-id"), allow: header("allow"), content_type: header("content-type"), text: body.to_string() }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    request_id: Option<String>,
    allow: Option<String>,
    content_type: Option<String>,
    text: String,
}

impl Answer {
    /// Checks the envelope and the request id; returns the `error` object.
    fn error(&self, status: u16, code: &str) -> serde_json::Map<String, Value> {
        assert_eq!(self.status, status, "{self:?}");
        assert!(self.request_id.as_deref().is_some_and(|id| !id.is_empty()), "no x-request-id: {self:?}");
        assert_eq!(self.content_type.as_deref(), Some("application/json"), "{self:?}");
        let json: Value = serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"));
        let object = json.as_object().unwrap();
        assert_eq!(object.keys().collect::<Vec<_>>(), ["error"], "{json}");
        let error = json["error"].as_object().unwrap().clone();
        assert_eq!(error["code"], code, "{json}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{json}");
        for key in error.keys() {
            assert!(["code", "message", "field", "request_id"].contains(&key.as_str()), "unexpected `{key}`: {json}");
        }
        error
    }

    /// A 400 `invalid_request` naming `field`, in the message too.
    fn invalid(&self, field: &str) {
        let error = self.error(400, "invalid_request");
        assert_eq!(error.get("field").and_then(Value::as_str), Some(field), "{self:?}");
        assert!(error["message"].as_str().unwrap().contains(&format!("`{field}`")), "{self:?}");
    }
}

#[tokio::test]
async fn every_error_is_the_envelope_with_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), Duration::from_secs(10)).await;

    // A success carries the id too, and two answers have two ids.
    let ok = server.get("/healthz").await;
    let again = server.get("/healthz").await;
    assert_eq!(ok.status, 200);
    assert!(ok.request_id.is_some() && ok.request_id != again.request_id, "{ok:?} {again:?}");

    // 400: the query string, the JSON body's types and names, the engine's bounds.
    server.get("/api/search?q=java&limit=many").await.invalid("limit");
    server.get("/api/search?q=java&regoin=Wallonie").await.invalid("regoin");
    server.get("/api/stats?from=2026-13-01").await.invalid("from");
    server.post("/api/match/student-to-offers", json!({"text": "dev", "limit": "ten"}).to_string()).await.invalid("limit");
    server.post("/api/match/student-to-offers", json!({"text": "dev", "limti": 3}).to_string()).await.invalid("limti");
    server.post("/api/match/student-to-offers", json!({"limit": 3}).to_string()).await.invalid("text");
    server
        .post("/api/match/student-to-offers", json!({"text": "dev", "filters": {"posted_after": "yesterday"}}).to_string())
        .await
        .invalid("filters.posted_after");
    server.post("/api/match/student-to-offers", json!({"text": "dev", "limit": 0}).to_string()).await.invalid("limit");
    server.post("/api/questions/similar", json!({"text": 3}).to_string()).await.invalid("text");
    let broken = server.post("/api/match/offer-to-programmes", "{\"text\": ").await.error(400, "bad_request");
    assert!(broken.get("field").is_none(), "{broken:?}");
    server.post("/api/questions/similar", "").await.error(400, "bad_request");

    // 404 and 405, which says the method to use.
    let missing = server.get("/api/nothing-here").await.error(404, "not_found");
    assert!(missing["message"].as_str().unwrap().contains("/api/search"), "{missing:?}");
    let wrong = server.get("/api/match/offer-to-programmes").await;
    assert!(wrong.error(405, "method_not_allowed")["message"].as_str().unwrap().contains("use POST"), "{wrong:?}");
    assert_eq!(wrong.allow.as_deref(), Some("POST"), "{wrong:?}");
    let wrong = server.send(server.client.delete(format!("{}/api/search", server.base))).await;
    assert!(wrong.error(405, "method_not_allowed")["message"].as_str().unwrap().contains("use GET"), "{wrong:?}");

    // 413: a body over the limit, a streamed one (no length said), and a lying Content-Length.
    let big = json!({"text": "dev ".repeat(MAX_BODY_BYTES / 4 + 10)}).to_string();
    let too_big = server.post("/api/match/offer-to-programmes", big.clone()).await.error(413, "payload_too_large");
    assert!(too_big["message"].as_str().unwrap().contains(&MAX_BODY_BYTES.to_string()), "{too_big:?}");
    let mut chunked = String::new();
    for chunk in big.as_bytes().chunks(16 * 1024) {
        chunked.push_str(&format!("{:x}\r\n{}\r\n", chunk.len(), String::from_utf8_lossy(chunk)));
    }
    chunked.push_str("0\r\n\r\n");
    let head = "POST /api/match/offer-to-programmes HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    server.raw(head, chunked.as_bytes(), Duration::ZERO).await.error(413, "payload_too_large");
    let head = format!(
        "POST /api/match/offer-to-programmes HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        MAX_BODY_BYTES * 40
    );
    server.raw(&head, br#"{"text": "dev"}"#, Duration::ZERO).await.error(413, "payload_too_large");
}

#[tokio::test]
async fn a_request_over_the_timeout_answers_the_timeout_envelope() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), Duration::from_millis(200)).await;
    // A client that announces its body and sends it late: the answer does not wait for it.
    let body = br#"{"text": "developpeur web"}"#;
    let head = format!("POST /api/match/student-to-offers HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    let started = std::time::Instant::now();
    let answer = server.raw(&head, body, Duration::from_millis(1500)).await;
    let error = answer.error(503, "timeout");
    assert!(started.elapsed() >= Duration::from_millis(200), "{answer:?}");
    assert!(error["message"].as_str().unwrap().contains("200ms"), "{answer:?}");
    // A request within the time is answered as usual.
    assert_eq!(server.get("/api/search?q=java").await.status, 200);
}

#[tokio::test]
async fn before_any_index_the_api_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), Duration::from_secs(10)).await;
    let data = dir.path().to_str().unwrap();
    for answer in [
        server.get("/api/search?q=java").await,
        server.get("/readyz").await,
        server.get("/api/stats").await,
        server.post("/api/match/student-to-offers", json!({"text": "dev"}).to_string()).await,
    ] {
        let error = answer.error(503, "not_ready");
        assert!(error["message"].as_str().unwrap().contains("passerelle index"), "{answer:?}");
        assert!(!answer.text.contains(data), "{answer:?}");
    }
    // Bad requests are still told first: they would be bad with an index too.
    server.get("/api/search?limit=many").await.invalid("limit");
}

#[tokio::test]
async fn an_internal_error_answers_its_request_id_and_nothing_of_its_cause() {
    // The test's runtime runs on this thread, where the envelope logs: capture its log.
    let log = Log::default();
    let _logging = tracing::subscriber::set_default(tracing_subscriber::fmt().with_ansi(false).with_writer(log.clone()).finish());
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let server = Server::start(dir.path(), Duration::from_secs(10)).await;
    assert_eq!(server.get("/readyz").await.status, 200, "the generation is served");
    assert_eq!(server.get("/api/search?q=informatique").await.status, 200);

    // The served generation's stored documents are overwritten in place (same length, so the
    // mapped files stay readable): reading a hit now fails inside the engine (tantivy panics on
    // the corrupted block index; the answer must be the same as for an error it returns).
    let mut corrupted = 0;
    for entry in walk(&indexer::generation::index_root(dir.path())) {
        if entry.extension().is_some_and(|e| e == "store") {
            // Not `fs::write`: truncating a mapped file would crash the reader, not fail it.
            let length = std::fs::metadata(&entry).unwrap().len() as usize;
            let mut file = std::fs::OpenOptions::new().write(true).open(&entry).unwrap();
            std::io::Write::write_all(&mut file, &vec![0xA5u8; length]).unwrap();
            corrupted += 1;
        }
    }
    assert!(corrupted > 0, "no stored-documents file in the generation");

    let answer = server.get("/api/search?q=informatique").await;
    let error = answer.error(500, "internal");
    let id = answer.request_id.clone().unwrap();
    assert_eq!(error["request_id"], id.as_str(), "{answer:?}");
    assert_eq!(error["message"], format!("internal error, request id {id}"), "{answer:?}");
    let data = dir.path().to_str().unwrap();
    assert!(!answer.text.contains(data) && !answer.text.contains("/tmp") && !answer.text.contains(".store"), "{answer:?}");
    // The log has what the client was not told, under the same id.
    let logged = log.text();
    // (The request's own line, INFO, names the id too: the cause is on the ERROR one.)
    let line = logged.lines().find(|l| l.contains(&id) && l.contains("ERROR")).unwrap_or_else(|| panic!("no error line with {id}:\n{logged}"));
    assert!(line.contains("ERROR") && line.contains("/api/search") && line.len() > id.len() + 60, "{line}");
}

/// A log kept in memory.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
    type Writer = Log;

    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}
