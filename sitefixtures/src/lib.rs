//! Serves the fixture websites of `fixtures/sites/` on loopback, for the crawler's tests and the
//! demo. Each host of `hosts.toml` gets its own address (127.0.1.N, a free port), so per-host
//! politeness can be observed; in every served file `{{host:NAME}}` becomes that host's
//! `IP:PORT`. Routes can misbehave on purpose (status codes, `Retry-After`, delays, redirects,
//! charsets, oversized pages, an endless calendar). Every request is logged with its time, so
//! tests can check what the crawler fetched and how fast.
//!
//! It listens on loopback only and serves nothing but the fixture folder; it is a test double,
//! not a web server to expose.
//!
//! ```no_run
//! # async fn demo() -> Result<(), passerelle_sitefixtures::FixtureError> {
//! let sites = passerelle_sitefixtures::FixtureSites::start("fixtures/sites".as_ref()).await?;
//! let config = sites.render_file("crawl.toml")?; // the crawl config, pointing at the live hosts
//! // ... run the crawler on `config`, then look at what it fetched, and when:
//! for r in sites.requests() {
//!     println!("{} {} -> {}", r.host, r.path, r.status);
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, Uri, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Why the fixture sites could not start or a fixture file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file could not be read or an address could not be bound.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned (`hosts.toml` for a bind failure).
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// `hosts.toml` is not valid.
    #[error("{path}: {message}")]
    Config {
        /// The `hosts.toml` file.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostsFile {
    host: Vec<HostConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostConfig {
    name: String,
    dir: String,
    #[serde(default)]
    route: Vec<RouteConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteConfig {
    path: Option<String>,
    path_prefix: Option<String>,
    status: Option<u16>,
    retry_after: Option<u64>,
    times: Option<u32>,
    delay_ms: Option<u64>,
    redirect: Option<String>,
    charset: Option<String>,
    generate_bytes: Option<usize>,
    trap: Option<String>,
}

/// One request as the fixture server saw it.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// The host's name in `hosts.toml`.
    pub host: String,
    /// The path and query requested.
    pub path: String,
    /// When the request arrived.
    pub at: Instant,
    /// The status code served.
    pub status: u16,
    /// The `User-Agent` header, if sent.
    pub user_agent: Option<String>,
}

struct HostState {
    name: String,
    dir: PathBuf,
    routes: Vec<(RouteConfig, AtomicU32)>,
    hosts: Arc<Mutex<HashMap<String, SocketAddr>>>,
    log: Arc<Mutex<Vec<RequestLog>>>,
}

/// The running fixture sites; they stop when this is dropped.
pub struct FixtureSites {
    hosts: HashMap<String, SocketAddr>,
    log: Arc<Mutex<Vec<RequestLog>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    root: PathBuf,
}

impl Drop for FixtureSites {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FixtureSites {
    /// Starts every host of `root/hosts.toml`, each on a free port. Must run inside a tokio runtime.
    pub async fn start(root: &Path) -> Result<FixtureSites, FixtureError> {
        Self::start_at(root, 0).await
    }

    /// Starts every host on the same `port` of its own address (0: a free port each), so the
    /// sites keep their addresses from one run to the next (the demo's records stay the same).
    pub async fn start_at(root: &Path, port: u16) -> Result<FixtureSites, FixtureError> {
        let hosts_path = root.join("hosts.toml");
        let text = std::fs::read_to_string(&hosts_path).map_err(|source| FixtureError::Io { path: hosts_path.clone(), source })?;
        let file: HostsFile = toml::from_str(&text).map_err(|e| FixtureError::Config { path: hosts_path.clone(), message: e.to_string() })?;
        let addresses: Arc<Mutex<HashMap<String, SocketAddr>>> = Arc::default();
        let log: Arc<Mutex<Vec<RequestLog>>> = Arc::default();
        let mut listeners = Vec::new();
        for (i, host) in file.host.iter().enumerate() {
            // 127.0.1.1, 127.0.1.2, ...: distinct loopback hosts.
            let n = i + 1;
            let ip = Ipv4Addr::new(127, 0, 1 + (n / 250) as u8, (n % 250) as u8 + 1);
            let listener = tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(ip), port))
                .await
                .map_err(|source| FixtureError::Io { path: hosts_path.clone(), source })?;
            let addr = listener.local_addr().map_err(|source| FixtureError::Io { path: hosts_path.clone(), source })?;
            addresses.lock().unwrap().insert(host.name.clone(), addr);
            listeners.push((host.clone(), listener));
        }
        let mut tasks = Vec::new();
        for (host, listener) in listeners {
            let state = Arc::new(HostState {
                name: host.name.clone(),
                dir: root.join(&host.dir),
                routes: host.route.into_iter().map(|r| (r, AtomicU32::new(0))).collect(),
                hosts: addresses.clone(),
                log: log.clone(),
            });
            let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                let state = state.clone();
                async move { respond(&state, uri, headers).await }
            });
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }));
        }
        let hosts = addresses.lock().unwrap().clone();
        Ok(FixtureSites { hosts, log, tasks, root: root.to_path_buf() })
    }

    /// The address of a host.
    pub fn addr(&self, host: &str) -> Option<SocketAddr> {
        self.hosts.get(host).copied()
    }

    /// Every host's name and address.
    pub fn hosts(&self) -> &HashMap<String, SocketAddr> {
        &self.hosts
    }

    /// Replaces every `{{host:NAME}}` in `text` by that host's address.
    pub fn render(&self, text: &str) -> String {
        String::from_utf8_lossy(&render_bytes(text.as_bytes(), &self.hosts)).into_owned()
    }

    /// Reads a file of the fixture folder with the host placeholders replaced.
    pub fn render_file(&self, relative: &str) -> Result<String, FixtureError> {
        let path = self.root.join(relative);
        let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Io { path, source })?;
        Ok(self.render(&text))
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.log.lock().unwrap().clone()
    }
}

fn render_bytes(bytes: &[u8], hosts: &HashMap<String, SocketAddr>) -> Vec<u8> {
    const OPEN: &[u8] = b"{{host:";
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(OPEN)
            && let Some(end) = bytes[i + OPEN.len()..].windows(2).position(|w| w == b"}}")
        {
            let name = String::from_utf8_lossy(&bytes[i + OPEN.len()..i + OPEN.len() + end]);
            match hosts.get(name.as_ref()) {
                Some(addr) => out.extend_from_slice(addr.to_string().as_bytes()),
                None => out.extend_from_slice(format!("unknown-host-{name}.invalid").as_bytes()),
            }
            i += OPEN.len() + end + 2;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn content_type(path: &Path, charset: Option<&str>) -> String {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let base = match ext.as_str() {
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    if !base.starts_with("text/") && base != "application/xml" {
        return base.to_string();
    }
    match charset {
        Some("none") => base.to_string(),
        Some(cs) => format!("{base}; charset={cs}"),
        None => format!("{base}; charset=utf-8"),
    }
}

fn response(status: u16, headers: &[(header::HeaderName, String)], body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(name.clone(), v);
        }
    }
    r
}

async fn respond(state: &HostState, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let path = uri.path().to_string();
    // The arrival time: what politeness is measured on.
    let at = Instant::now();
    let resp = build(state, &uri, &headers).await;
    state.log.lock().unwrap().push(RequestLog {
        host: state.name.clone(),
        path: uri.path_and_query().map_or(path, |p| p.to_string()),
        at,
        status: resp.status().as_u16(),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
    });
    resp
}

async fn build(state: &HostState, uri: &Uri, headers: &HeaderMap) -> Response<Body> {
    let path = uri.path();
    let route = state.routes.iter().find(|(r, _)| r.path.as_deref() == Some(path) || r.path_prefix.as_deref().is_some_and(|p| path.starts_with(p)));
    let mut charset = None;
    if let Some((r, hits)) = route {
        let n = hits.fetch_add(1, Ordering::SeqCst);
        if let Some(ms) = r.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(status) = r.status
            && r.times.is_none_or(|t| n < t)
        {
            let mut h = Vec::new();
            if let Some(s) = r.retry_after {
                h.push((header::RETRY_AFTER, s.to_string()));
            }
            return response(status, &h, format!("<html><body><h1>{status}</h1></body></html>").into_bytes());
        }
        if let Some(to) = &r.redirect {
            let hosts = state.hosts.lock().unwrap().clone();
            let to = String::from_utf8_lossy(&render_bytes(to.as_bytes(), &hosts)).into_owned();
            return response(301, &[(header::LOCATION, to)], Vec::new());
        }
        if let Some(size) = r.generate_bytes {
            let mut body = b"<!doctype html><html><head><title>Archives</title></head><body>".to_vec();
            let filler = b"<p>Archives des actualit\xc3\xa9s de l'\xc3\xa9cole, ann\xc3\xa9e apr\xc3\xa8s ann\xc3\xa9e.</p>\n";
            while body.len() < size {
                body.extend_from_slice(filler);
            }
            body.extend_from_slice(b"</body></html>");
            return response(200, &[(header::CONTENT_TYPE, "text/html; charset=utf-8".into())], body);
        }
        if r.trap.as_deref() == Some("calendar") {
            return calendar(path, r.path_prefix.as_deref().unwrap_or("/agenda/"));
        }
        charset = r.charset.clone();
    }
    // A file of the host's folder, never outside it.
    let mut file = state.dir.clone();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) => file.push(p),
            _ => return response(404, &[], b"not found".to_vec()),
        }
    }
    if path.ends_with('/') || file.is_dir() {
        file.push("index.html");
    }
    // `/index.php?page=contact` is served from `index.php__page=contact.html` when that file
    // exists (sites whose pages differ by their query), else from the path's own file.
    if let Some(query) = uri.query().filter(|q| !q.is_empty() && !q.contains(['/', '\\'])) {
        let mut with_query = file.clone().into_os_string();
        with_query.push(format!("__{query}.html"));
        let with_query = std::path::PathBuf::from(with_query);
        if with_query.is_file() {
            file = with_query;
        }
    }
    let Ok(bytes) = tokio::fs::read(&file).await else {
        return response(404, &[(header::CONTENT_TYPE, "text/html".into())], b"<html><body>Page introuvable</body></html>".to_vec());
    };
    let hosts = state.hosts.lock().unwrap().clone();
    let body = render_bytes(&bytes, &hosts);
    let etag = format!("\"{}\"", Sha256::digest(&body)[..8].iter().map(|b| format!("{b:02x}")).collect::<String>());
    let last_modified = "Mon, 02 Nov 2026 08:00:00 GMT".to_string();
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return response(304, &[(header::ETAG, etag)], Vec::new());
    }
    response(200, &[(header::CONTENT_TYPE, content_type(&file, charset.as_deref())), (header::ETAG, etag), (header::LAST_MODIFIED, last_modified)], body)
}

/// An endless calendar: every month links to the one before and the one after.
fn calendar(path: &str, prefix: &str) -> Response<Body> {
    let rest = path.strip_prefix(prefix).unwrap_or("").trim_end_matches(".html");
    let (mut year, mut month) = rest.split_once('-').and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<i32>().ok()?))).unwrap_or((2026, 11));
    month = month.clamp(1, 12);
    // Saturating: the year comes from the URL, and `i32::MAX` must not overflow.
    let (py, pm) = if month == 1 { (year.saturating_sub(1), 12) } else { (year, month - 1) };
    let (ny, nm) = if month == 12 { (year.saturating_add(1), 1) } else { (year, month + 1) };
    year = year.clamp(-9999, 9999);
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Agenda {year}-{month:02}</title></head><body>\
         <h1>Agenda — {month:02}/{year}</h1><p>Aucun événement ce mois-ci.</p>\
         <a href=\"{prefix}{py}-{pm:02}.html\">Mois précédent</a> <a href=\"{prefix}{ny}-{nm:02}.html\">Mois suivant</a></body></html>"
    );
    response(200, &[(header::CONTENT_TYPE, "text/html; charset=utf-8".into())], body.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_addresses() {
        let mut hosts = HashMap::new();
        hosts.insert("a".to_string(), "127.0.1.2:8080".parse().unwrap());
        let out = render_bytes(b"<a href=\"http://{{host:a}}/x\">{{host:zz}} {{host:", &hosts);
        assert_eq!(String::from_utf8(out).unwrap(), "<a href=\"http://127.0.1.2:8080/x\">unknown-host-zz.invalid {{host:");
    }

    #[test]
    fn placeholders_beside_and_inside_multibyte_text() {
        let mut hosts = HashMap::new();
        hosts.insert("école".to_string(), "127.0.1.3:80".parse().unwrap());
        let out = render_bytes("é{{host:école}}→{{host:ñ}}€{{host:é".as_bytes(), &hosts);
        assert_eq!(String::from_utf8(out).unwrap(), "é127.0.1.3:80→unknown-host-ñ.invalid€{{host:é");
    }

    #[test]
    fn calendar_survives_extreme_years() {
        for path in ["/agenda/2147483647-12.html", "/agenda/2147483647-01.html", "/agenda/-2147483648-01.html", "/agenda/é-ü.html"] {
            assert_eq!(calendar(path, "/agenda/").status(), StatusCode::OK, "{path}");
        }
    }
}
