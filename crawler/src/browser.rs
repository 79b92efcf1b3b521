//! Headless Chromium through chromedriver (fantoccini), for the pages that only exist once their
//! JavaScript has run.
//!
//! The pool starts chromedriver itself on a free loopback port (or talks to an external WebDriver
//! URL from the config), and keeps a few sessions, each a Chromium with its own fresh profile.
//! Nothing starts until the first page that needs a browser: a crawl of static pages never
//! launches Chromium. A page load has a timeout; a session whose browser died (crashed, killed,
//! chromedriver gone) is thrown away, chromedriver is restarted when it is the one that died, and
//! the page is tried again on a new session, so a dead browser loses no page.
//!
//! The talk to chromedriver is plain HTTP on loopback (no TLS stack involved).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// Where Debian's `chromium-driver` puts chromedriver.
pub const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `chromium` puts the browser.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// Flags Chromium needs to run headless in a sandboxed container with no internet: no GPU, no
/// background connections (refused here, many at a time), no first-run or sync.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--blink-settings=imagesEnabled=false",
];

/// Waits until the page's DOM has been quiet for `arguments[0]` ms (scripts that fetch data and
/// build the page are done), or `arguments[1]` ms have passed.
const SETTLE_SCRIPT: &str = r#"
const quiet = arguments[0], max = arguments[1], done = arguments[arguments.length - 1];
const start = Date.now(); let last = start;
const seen = new MutationObserver(() => { last = Date.now(); });
seen.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
(function tick() {
  const now = Date.now();
  if ((now - last >= quiet && document.readyState === 'complete') || now - start >= max) { seen.disconnect(); done(true); }
  else setTimeout(tick, 25);
})();
"#;

/// Marks what a person does not see, by the computed styles, before the DOM is read:
/// `data-passerelle-hidden` on elements that are not displayed, invisible, or placed off the
/// screen (honeypot addresses), `data-passerelle-reversed` on text that CSS draws backwards
/// (`unicode-bidi: bidi-override; direction: rtl`). The page's reader honours both.
const MARK_SCRIPT: &str = r#"
const all = document.body ? document.body.getElementsByTagName('*') : [];
for (const el of all) {
  const s = getComputedStyle(el);
  if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse') { el.setAttribute('data-passerelle-hidden', ''); continue; }
  const r = el.getBoundingClientRect();
  if ((s.position === 'absolute' || s.position === 'fixed') && (r.right < -100 || r.bottom < -100)) { el.setAttribute('data-passerelle-hidden', ''); continue; }
  if (s.unicodeBidi === 'bidi-override' && s.direction === 'rtl') el.setAttribute('data-passerelle-reversed', '');
}
return true;
"#;

/// How the pool reaches a browser.
#[derive(Debug, Clone)]
pub struct BrowserConfig {
    /// An external WebDriver (e.g. a chromedriver container); the pool starts none itself.
    pub webdriver_url: Option<String>,
    /// The chromedriver the pool starts (without `webdriver_url`).
    pub chromedriver: PathBuf,
    /// The Chromium that chromedriver runs.
    pub chromium: PathBuf,
    /// Sessions (Chromium processes) at most.
    pub sessions: usize,
    /// Longest a page may take to load.
    pub page_load_timeout: Duration,
    /// The DOM must be quiet this long before the page is read.
    pub settle: Duration,
    /// Longest wait for the DOM to settle after the load.
    pub settle_max: Duration,
    /// Sent by the browser too, so robots.txt rules and server logs see one crawler.
    pub user_agent: String,
}

impl BrowserConfig {
    /// Why no browser can be used, or `None` when one can.
    pub fn unavailable(&self) -> Option<String> {
        if self.webdriver_url.is_some() {
            return None;
        }
        for (what, path, package) in [("chromedriver", &self.chromedriver, "chromium-driver"), ("Chromium", &self.chromium, "chromium")] {
            if !path.is_file() {
                return Some(format!("{what} not found at {} (Debian: apt-get install {package})", path.display()));
            }
        }
        None
    }
}

/// Why a page was not rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// The page did not load in time.
    Timeout,
    /// The browser failed on this page, even on a fresh session.
    Failed(String),
    /// No browser can be started (chromedriver missing, refused to start).
    Unavailable(String),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::Timeout => write!(f, "browser: page load timeout"),
            RenderError::Failed(why) => write!(f, "browser: {why}"),
            RenderError::Unavailable(why) => write!(f, "no browser: {why}"),
        }
    }
}

/// A page as the browser shows it after its scripts ran.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The DOM serialised once the scripts settled.
    pub html: String,
    /// Where the browser ended up (after redirects), when it could tell.
    pub final_url: Option<url::Url>,
}

struct Session {
    client: Client,
    profile: Option<PathBuf>,
}

struct Driver {
    child: Option<tokio::process::Child>,
    url: String,
}

#[derive(Default)]
struct PoolState {
    driver: Option<Driver>,
    idle: Vec<Session>,
    next_profile: u64,
}

/// Counters of a pool's life, for the crawl summary and the benchmarks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BrowserStats {
    /// Pages rendered.
    pub rendered: u64,
    /// Sessions (Chromium processes) started, replacements included.
    pub sessions_started: u64,
    /// Sessions thrown away because their browser died.
    pub sessions_lost: u64,
    /// Times chromedriver itself died and was started again.
    pub driver_restarts: u64,
    /// Page loads that ran out of time.
    pub timeouts: u64,
    /// Time spent loading and reading pages in the browser (all sessions added up), seconds.
    pub render_secs: f64,
}

/// A small pool of browser sessions.
pub struct BrowserPool {
    config: BrowserConfig,
    state: tokio::sync::Mutex<PoolState>,
    permits: Semaphore,
    profiles: tempfile::TempDir,
    rendered: AtomicU64,
    /// Microseconds spent in [`BrowserPool::load`], all sessions.
    render_micros: AtomicU64,
    sessions_started: AtomicU64,
    sessions_lost: AtomicU64,
    driver_restarts: AtomicU64,
    timeouts: AtomicU64,
    /// Profile folders of live sessions (for the memory figures).
    live_profiles: Mutex<Vec<PathBuf>>,
}

impl BrowserPool {
    /// A pool; nothing is started yet. Fails only when the profiles folder cannot be made.
    pub fn new(config: BrowserConfig) -> std::io::Result<BrowserPool> {
        // The process id in the name lets a test (or an operator) find this pool's Chromiums.
        let profiles = tempfile::Builder::new().prefix(&format!("passerelle-chromium-{}-", std::process::id())).tempdir()?;
        let sessions = config.sessions.max(1);
        Ok(BrowserPool {
            config,
            state: tokio::sync::Mutex::new(PoolState::default()),
            permits: Semaphore::new(sessions),
            profiles,
            rendered: AtomicU64::new(0),
            render_micros: AtomicU64::new(0),
            sessions_started: AtomicU64::new(0),
            sessions_lost: AtomicU64::new(0),
            driver_restarts: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            live_profiles: Mutex::new(Vec::new()),
        })
    }

    /// The folder under which every session's Chromium profile lives.
    pub fn profiles_dir(&self) -> &Path {
        self.profiles.path()
    }

    /// The counters so far.
    pub fn stats(&self) -> BrowserStats {
        BrowserStats {
            rendered: self.rendered.load(Ordering::Relaxed),
            sessions_started: self.sessions_started.load(Ordering::Relaxed),
            sessions_lost: self.sessions_lost.load(Ordering::Relaxed),
            driver_restarts: self.driver_restarts.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            render_secs: self.render_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    /// Loads `url`, waits for its scripts to settle, and returns the resulting HTML. A session
    /// that fails is replaced and the page tried once more on the new one.
    pub async fn render(&self, url: &url::Url) -> Result<Rendered, RenderError> {
        let _permit = self.permits.acquire().await.map_err(|_| RenderError::Unavailable("the pool is closed".into()))?;
        let mut last_error = String::new();
        for _attempt in 0..2 {
            let session = self.take_session().await?;
            // A browser that hangs instead of failing is treated as dead too.
            // Saturating: `page_load_timeout_secs` comes from the config, unbounded.
            let limit = self.config.page_load_timeout.saturating_add(self.config.settle_max).saturating_add(Duration::from_secs(15));
            let started = Instant::now();
            let outcome = tokio::time::timeout(limit, self.load(&session.client, url)).await;
            self.render_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            let outcome = match outcome {
                Ok(outcome) => outcome.map_err(|e| (e.is_timeout(), e.to_string())),
                Err(_) => Err((false, format!("no answer from the browser in {} s", limit.as_secs()))),
            };
            match outcome {
                Ok(rendered) => {
                    self.rendered.fetch_add(1, Ordering::Relaxed);
                    self.state.lock().await.idle.push(session);
                    return Ok(rendered);
                }
                Err((true, _)) => {
                    self.timeouts.fetch_add(1, Ordering::Relaxed);
                    // A page still loading would spoil the next one: stop it, keep the session
                    // only if it answers.
                    match tokio::time::timeout(Duration::from_secs(5), session.client.goto("about:blank")).await {
                        Ok(Ok(())) => self.state.lock().await.idle.push(session),
                        _ => self.discard(session).await,
                    }
                    return Err(RenderError::Timeout);
                }
                Err((false, e)) => {
                    last_error = e;
                    tracing::warn!(%url, error = %last_error, "browser session failed; starting a new one");
                    self.sessions_lost.fetch_add(1, Ordering::Relaxed);
                    self.discard(session).await;
                }
            }
        }
        Err(RenderError::Failed(last_error))
    }

    async fn load(&self, client: &Client, url: &url::Url) -> Result<Rendered, fantoccini::error::CmdError> {
        client.goto(url.as_str()).await?;
        let quiet = self.config.settle.as_millis() as u64;
        let max = self.config.settle_max.as_millis() as u64;
        client.execute_async(SETTLE_SCRIPT, vec![json!(quiet), json!(max)]).await?;
        client.execute(MARK_SCRIPT, vec![]).await?;
        let html = client.source().await?;
        let final_url = client.current_url().await.ok();
        Ok(Rendered { html, final_url })
    }

    /// An idle session, or a new one (starting or restarting chromedriver when needed).
    async fn take_session(&self) -> Result<Session, RenderError> {
        let mut state = self.state.lock().await;
        if let Some(s) = state.idle.pop() {
            return Ok(s);
        }
        let mut last = String::new();
        for _ in 0..2 {
            let url = self.driver_url(&mut state).await?;
            let profile = if self.config.webdriver_url.is_none() {
                state.next_profile += 1;
                Some(self.profiles.path().join(format!("session-{}", state.next_profile)))
            } else {
                None
            };
            let started = Instant::now();
            let mut builder = ClientBuilder::new(HttpConnector::new());
            builder.capabilities(self.capabilities(profile.as_deref()));
            match tokio::time::timeout(Duration::from_secs(30), builder.connect(&url)).await {
                Ok(Ok(client)) => {
                    self.sessions_started.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(ms = started.elapsed().as_millis() as u64, "browser session started");
                    if let Some(p) = &profile {
                        self.live_profiles.lock().unwrap_or_else(|e| e.into_inner()).push(p.clone());
                    }
                    return Ok(Session { client, profile });
                }
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "no session after 30 s".into(),
            }
            // The driver may be the one that died: start a new one for the second try.
            if self.config.webdriver_url.is_none() {
                if let Some(mut d) = state.driver.take() {
                    if let Some(child) = d.child.as_mut() {
                        let _ = child.kill().await;
                    }
                }
            }
        }
        Err(RenderError::Unavailable(format!("could not start a browser session: {last}")))
    }

    /// The WebDriver URL, starting chromedriver when the pool owns it and it is not running.
    async fn driver_url(&self, state: &mut PoolState) -> Result<String, RenderError> {
        if let Some(url) = &self.config.webdriver_url {
            return Ok(url.clone());
        }
        if let Some(d) = state.driver.as_mut() {
            let alive = d.child.as_mut().is_none_or(|c| matches!(c.try_wait(), Ok(None)));
            if alive {
                return Ok(d.url.clone());
            }
            tracing::warn!("chromedriver exited; restarting it");
            self.driver_restarts.fetch_add(1, Ordering::Relaxed);
            // Its sessions went with it.
            state.idle.clear();
        }
        if let Some(why) = self.config.unavailable() {
            return Err(RenderError::Unavailable(why));
        }
        let driver = start_chromedriver(&self.config.chromedriver).await.map_err(RenderError::Unavailable)?;
        let url = driver.url.clone();
        state.driver = Some(driver);
        Ok(url)
    }

    fn capabilities(&self, profile: Option<&Path>) -> serde_json::Map<String, Value> {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-agent={}", self.config.user_agent));
        if let Some(p) = profile {
            args.push(format!("--user-data-dir={}", p.display()));
        }
        let mut chrome = json!({ "args": args });
        if profile.is_some() {
            chrome["binary"] = json!(self.config.chromium.display().to_string());
        }
        let timeouts = json!({
            "pageLoad": self.config.page_load_timeout.as_millis() as u64,
            "script": self.config.settle_max.saturating_add(Duration::from_secs(5)).as_millis() as u64,
        });
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), chrome);
        caps.insert("timeouts".into(), timeouts);
        caps.insert("pageLoadStrategy".into(), json!("normal"));
        caps
    }

    async fn discard(&self, session: Session) {
        let _ = tokio::time::timeout(Duration::from_secs(5), session.client.close()).await;
        if let Some(p) = &session.profile {
            self.live_profiles.lock().unwrap_or_else(|e| e.into_inner()).retain(|q| q != p);
            let _ = std::fs::remove_dir_all(p);
        }
    }

    /// Proportional memory (PSS, bytes) of each live session's Chromium processes, read from
    /// `/proc` (Linux); empty elsewhere or with an external WebDriver.
    pub fn session_memory(&self) -> Vec<u64> {
        let profiles = self.live_profiles.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let processes = chromium_processes();
        profiles
            .iter()
            .map(|p| {
                let flag = format!("--user-data-dir={}", p.display());
                processes.iter().filter(|(_, cmd)| cmd.contains(&flag)).map(|(pid, _)| pss_bytes(*pid)).sum()
            })
            .collect()
    }

    /// The pids of this pool's Chromium processes.
    pub fn chromium_pids(&self) -> Vec<u32> {
        let marker = format!("--user-data-dir={}", self.profiles.path().display());
        chromium_processes().into_iter().filter(|(_, cmd)| cmd.contains(&marker)).map(|(pid, _)| pid).collect()
    }

    /// Closes every session and stops chromedriver.
    pub async fn shutdown(&self) {
        let mut state = self.state.lock().await;
        let idle: Vec<Session> = state.idle.drain(..).collect();
        for s in idle {
            self.discard(s).await;
        }
        if let Some(mut d) = state.driver.take() {
            if let Some(child) = d.child.as_mut() {
                let _ = child.kill().await;
            }
        }
        self.permits.close();
    }
}

/// Starts chromedriver on a free loopback port and waits until it answers.
async fn start_chromedriver(path: &Path) -> Result<Driver, String> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port for chromedriver: {e}"))?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let child = tokio::process::Command::new(path)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", path.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let status = format!("{url}/status");
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(&status).send().await {
            if r.status().is_success() {
                return Ok(Driver { child: Some(child), url });
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{} did not answer on port {port} within 20 s", path.display()))
}

/// (pid, command line) of every process that looks like Chromium.
fn chromium_processes() -> Vec<(u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        cmd.contains("--user-data-dir=").then_some((pid, cmd))
    })
    .collect()
}

fn pss_bytes(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { return 0 };
    text.lines().find_map(|l| l.strip_prefix("Pss:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).map_or(0, |kb| kb * 1024)
}

/// The pids of every Chromium process started by pools of this process (for tests that kill
/// the browser on purpose).
pub fn own_chromium_pids() -> Vec<u32> {
    let marker = format!("passerelle-chromium-{}-", std::process::id());
    chromium_processes().into_iter().filter(|(_, cmd)| cmd.contains(&marker)).map(|(pid, _)| pid).collect()
}
