//! The crawl loop: per-host queues, one request in flight per host, a governor limiter per
//! host, a global cap on requests in flight, robots.txt first, and every finished page written
//! to the records store in one transaction with the URLs it revealed.
//!
//! Sources run in two phases: directories (with the `offers` and `programmes` sources, which
//! depend on nothing) first, then the school websites the directories found. A run
//! interrupted at any point (even by SIGKILL) is resumed by the next `crawl` with the same
//! config: finished pages are not fetched again and no discovered URL is lost. A new run after
//! a finished one sends conditional requests, and a `304` replays the cached page.
//!
//! Rendering: every page is fetched statically first. With `render = "browser"`, or with
//! `render = "auto"` when the page needs it (see [`needs_browser`]), the page goes back to the
//! front of its host's queue marked for the browser, so the second request waits for the host's
//! limiter like any other; the browser's result replaces the static one. Without a browser the
//! static result is kept and the page is listed in the summary as not rendered, with why.
//!
//! A panic while fetching or reading a page (a bug, never the page's fault) fails that URL with
//! `panicked: <message>` and lists it in the summary; the crawl goes on.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use schemas::{Contact, ContactKind, Provenance, Record, RecordKind, School};
use scraper::Html;
use serde::{Deserialize, Serialize};
use store::{CachedPage, FrontierEntry, PageCommit, RecordStore, UrlState};
use tokio::sync::mpsc;
use url::Url;

use crate::CrawlError;
use crate::browser::{BrowserConfig, BrowserPool, BrowserStats, RenderError};
use crate::config::{CrawlConfig, Render, Source, SourceKind, source_country};
use crate::extract::affinity::{self, DIRECTORY_FIELD};
use crate::extract::directory::{DirectoryEntry, DirectorySelectors};
use crate::extract::items::{BrowserRule, ItemPage, ItemSelectors, needs_browser};
use crate::extract::links::{Link, base_url, links, looks_like_contact, meta_refresh};
use crate::extract::{ContactExtractor, FoundContact, PageContacts};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::politeness::robots::agent_token;
use crate::politeness::{HostLimiter, RobotsRules};
use crate::url_norm::{canonical, host_key};

const ROLE_LIST: &str = "list";
const ROLE_DETAIL: &str = "detail";
const ROLE_SITE: &str = "site";
/// A page of an `offers` or `programmes` source (list or item: both are read the same way).
const ROLE_ITEMS: &str = "items";
const DEFAULT_DIRECTORY_DEPTH: u32 = 100;
const DEFAULT_SITE_DEPTH: u32 = 2;
const DEFAULT_ITEMS_DEPTH: u32 = 20;
static TITLE: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| scraper::Selector::parse("title").expect("static selector"));

/// Pages listed one by one in the summary when they could not be rendered.
const NOT_RENDERED_LISTED: usize = 50;
/// Pages listed one by one in the summary when reading them panicked.
const PANICKED_LISTED: usize = 50;

/// What the crawl did, for the end-of-crawl summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlSummary {
    /// The crawl run in the records store.
    pub run: i64,
    /// Whether this session went on with an interrupted run.
    pub resumed: bool,
    /// Pages fetched (200; those the browser rendered after are counted here too) and pages
    /// confirmed unchanged (304) in this session.
    pub fetched: u64,
    /// Pages the server said were unchanged (304): their cached copy was read again.
    pub not_modified: u64,
    /// URLs given up, by reason (over the whole run).
    pub failed: BTreeMap<String, u64>,
    /// URLs not fetched on purpose (robots.txt, not HTML, too large, budgets), by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Requests tried again (408, 429, 5xx, network errors).
    pub retries: u64,
    /// School records written (from directory detail pages).
    pub schools: u64,
    /// Contacts new to their school, from directories and school websites.
    pub contacts_added: u64,
    /// Contacts read on the schools' pages and left out of their records, by reason (third
    /// parties, placeholders, traps), over every school of the store at the end of the crawl.
    pub left_out: BTreeMap<String, u64>,
    /// The directories' own contacts (header, footer) read around the schools' fields and left
    /// out, each counted once per directory in this session.
    pub directory_own: u64,
    /// Hosts the crawl talked to.
    pub hosts: usize,
    /// Whether `max_pages` stopped the crawl before its frontier was empty.
    pub budget_exhausted: bool,
    /// Wall-clock time of this session.
    pub duration_secs: f64,
    /// Offers and programmes written, companies written with them, and offers already past
    /// their `validThrough` (kept, marked by their date, left out of matches by default).
    pub offers: u64,
    /// Offers whose `validThrough` is past.
    pub offers_expired: u64,
    /// Programmes written.
    pub programmes: u64,
    /// Companies written (each counted once per session).
    pub companies: u64,
    /// Item pages read through JSON-LD or through the CSS selectors.
    pub items_by_method: BTreeMap<String, u64>,
    /// JSON-LD scripts that did not parse (the CSS selectors were tried instead).
    pub broken_json_ld: u64,
    /// Pages fetched statically that needed the browser, by reason; how many were rendered.
    pub needed_browser: BTreeMap<String, u64>,
    /// Pages the browser rendered.
    pub rendered: u64,
    /// Why no browser could be used, when pages needed one.
    pub browser_unavailable: Option<String>,
    /// Pages that needed the browser and were read statically instead: (URL, why).
    pub not_rendered: Vec<(String, String)>,
    /// All the pages read without their scripts, listed or not.
    pub not_rendered_total: u64,
    /// Pages whose fetching or reading panicked (a bug in the crawler, not in the page): (URL,
    /// `panicked: <message>`), listed up to 50; each is also a failed URL.
    pub panicked: Vec<(String, String)>,
    /// All the pages that panicked, listed or not.
    pub panicked_total: u64,
    /// What the browser pool went through, when it was started.
    pub browser: Option<BrowserStats>,
}

impl CrawlSummary {
    /// Counts and lists a page whose task panicked; returns the outcome stored with its URL.
    fn page_panicked(&mut self, url: &str, message: &str) -> String {
        let outcome = format!("panicked: {message}");
        self.panicked_total += 1;
        if self.panicked.len() < PANICKED_LISTED {
            self.panicked.push((url.to_string(), outcome.clone()));
        }
        outcome
    }
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "crawl run {}{}: {:.1}s", self.run, if self.resumed { " (resumed)" } else { "" }, self.duration_secs)?;
        writeln!(f, "  fetched {} pages, {} unchanged (304), {} retries, {} hosts", self.fetched, self.not_modified, self.retries, self.hosts)?;
        writeln!(f, "  schools written {}, contacts added {}", self.schools, self.contacts_added)?;
        if !self.left_out.is_empty() || self.directory_own > 0 {
            writeln!(f, "  left out: {}", left_out_text(&self.left_out, self.directory_own))?;
        }
        for (title, map) in [("failed", &self.failed), ("skipped", &self.skipped)] {
            if !map.is_empty() {
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{v} {k}")).collect();
                writeln!(f, "  {title}: {}", parts.join(", "))?;
            }
        }
        if self.offers + self.programmes > 0 {
            let methods: Vec<String> = self.items_by_method.iter().map(|(k, v)| format!("{v} by {k}")).collect();
            writeln!(
                f,
                "  offers {} ({} expired), programmes {}, companies {}; item pages read {}{}",
                self.offers,
                self.offers_expired,
                self.programmes,
                self.companies,
                methods.join(", "),
                if self.broken_json_ld > 0 { format!("; {} broken JSON-LD scripts (CSS used instead)", self.broken_json_ld) } else { String::new() }
            )?;
        }
        let needed: u64 = self.needed_browser.values().sum();
        if needed > 0 {
            let reasons: Vec<String> = self.needed_browser.iter().map(|(k, v)| format!("{v} {k}")).collect();
            writeln!(f, "  {needed} pages needed the browser ({}); {} rendered", reasons.join(", "), self.rendered)?;
        }
        if let Some(b) = &self.browser {
            if b.sessions_lost + b.driver_restarts + b.timeouts > 0 {
                writeln!(
                    f,
                    "  browser: {} sessions started, {} lost and replaced, {} chromedriver restarts, {} page-load timeouts",
                    b.sessions_started, b.sessions_lost, b.driver_restarts, b.timeouts
                )?;
            }
        }
        if self.not_rendered_total > 0 {
            writeln!(
                f,
                "  {} pages were read without their scripts: {}",
                self.not_rendered_total,
                self.browser_unavailable.as_deref().unwrap_or("the browser failed on them")
            )?;
            for (url, why) in &self.not_rendered {
                writeln!(f, "    {url} ({why})")?;
            }
            if self.not_rendered_total as usize > self.not_rendered.len() {
                writeln!(f, "    ... and {} more", self.not_rendered_total as usize - self.not_rendered.len())?;
            }
        }
        if self.panicked_total > 0 {
            writeln!(f, "  {} pages failed on a crawler bug (please report it):", self.panicked_total)?;
            for (url, why) in &self.panicked {
                writeln!(f, "    {url} ({why})")?;
            }
            if self.panicked_total as usize > self.panicked.len() {
                writeln!(f, "    ... and {} more", self.panicked_total as usize - self.panicked.len())?;
            }
        }
        if self.budget_exhausted {
            writeln!(f, "  the page budget (max_pages) was reached: some URLs were not visited")?;
        }
        Ok(())
    }
}

/// "9 third-party (5 partner, 3 web agency credit, 1 directory), 2 placeholders, 4 traps (3
/// hidden, 1 premium-rate number); the directories' own contacts: 4".
fn left_out_text(by_reason: &BTreeMap<String, u64>, directory_own: u64) -> String {
    let mut groups: Vec<String> = Vec::new();
    for (group, one, many) in [("third_party", "third-party", "third-party"), ("placeholder", "placeholder", "placeholders"), ("trap", "trap", "traps")] {
        let parts: Vec<(&str, u64)> =
            by_reason.iter().filter(|(r, _)| r.split(':').next() == Some(group)).map(|(r, n)| (r.split_once(':').map_or("", |(_, d)| d.trim()), *n)).collect();
        let total: u64 = parts.iter().map(|(_, n)| n).sum();
        if total == 0 {
            continue;
        }
        let details: Vec<String> = parts.iter().filter(|(d, _)| !d.is_empty()).map(|(d, n)| format!("{n} {d}")).collect();
        let name = if total == 1 { one } else { many };
        groups.push(if details.is_empty() { format!("{total} {name}") } else { format!("{total} {name} ({})", details.join(", ")) });
    }
    let mut text = if groups.is_empty() { "nothing from the schools' pages".to_string() } else { groups.join(", ") };
    if directory_own > 0 {
        text.push_str(&format!("; the directories' own contacts: {directory_own}"));
    }
    text
}

/// Where a URL came from, carried in the frontier.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EntryContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    school_id: Option<String>,
    /// The host a school-site crawl stays on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site_host: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    redirects: u32,
    /// The school's country: national phone numbers on its site are read in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    /// Set when the page is to be rendered by the browser: why it needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    render: Option<String>,
    /// The browser gave up on this page: it is read statically, without asking again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    browser_failed: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl EntryContext {
    fn of(entry: &FrontierEntry) -> EntryContext {
        entry.context.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default()
    }

    fn encode(&self) -> Option<String> {
        Some(serde_json::to_string(self).expect("context serialises"))
    }
}

/// A source's parsed settings, shared with fetch tasks.
struct SourceRuntime {
    source: Source,
    extractor: ContactExtractor,
    selectors: DirectorySelectors,
    items: ItemSelectors,
}

/// What a fetch task read from a page.
enum Extracted {
    List {
        lists: Vec<Url>,
        details: Vec<Url>,
    },
    /// A directory's detail page, and the directory's own contacts read around the fields.
    Detail(DirectoryEntry, Vec<String>),
    Site {
        contacts: PageContacts,
        links: Vec<Link>,
        title: Option<String>,
        /// The domains the page names as its own (`<link rel="canonical">`, `og:url`).
        domains: Vec<String>,
        /// Where a `<meta http-equiv="refresh">` sends the reader.
        refresh: Option<Url>,
    },
    Items(ItemPage),
    /// The static page needs the browser; what it gave statically is kept for when none can run.
    NeedsBrowser {
        reason: &'static str,
        statically: Box<Extracted>,
    },
}

/// What a task sends back to the crawl loop.
#[expect(clippy::large_enum_variant, reason = "nearly every message is a page: boxing it would allocate once per page for nothing")]
enum TaskResult {
    Robots { host: String, rules: RobotsRules },
    Page { entry: FrontierEntry, outcome: Result<(Fetched, Option<Extracted>), PageFailure>, rendered: bool },
}

/// Why a page task gave no page.
enum PageFailure {
    Fetch(FetchError),
    /// The task panicked (its message): the page is failed and listed in the summary, and
    /// the crawl goes on.
    Panicked(String),
}

impl From<FetchError> for PageFailure {
    fn from(e: FetchError) -> Self {
        PageFailure::Fetch(e)
    }
}

/// Runs `work` as its own task, so that a panic in it comes back as a [`PageFailure`] instead
/// of ending the task silently (and leaving the crawl waiting for an answer forever).
async fn catch_panic<T: Send + 'static>(work: impl Future<Output = Result<T, PageFailure>> + Send + 'static) -> Result<T, PageFailure> {
    tokio::spawn(work).await.unwrap_or_else(|e| Err(PageFailure::Panicked(task_failure(e))))
}

/// Runs CPU work off the async workers; a panic in it comes back as a [`PageFailure`].
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, PageFailure> {
    tokio::task::spawn_blocking(work).await.map_err(|e| PageFailure::Panicked(task_failure(e)))
}

/// What a task that did not finish says: its panic message, or that it was cancelled.
fn task_failure(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => panic_message(payload.as_ref()),
        Err(error) => error.to_string(),
    }
}

/// The message of a panic (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}

enum RobotsState {
    Unknown,
    Ready(RobotsRules),
}

struct HostState {
    queue: VecDeque<FrontierEntry>,
    robots: RobotsState,
    limiter: Option<HostLimiter>,
    busy: bool,
    not_before: Option<Instant>,
    pages: usize,
}

impl HostState {
    fn new() -> Self {
        HostState { queue: VecDeque::new(), robots: RobotsState::Unknown, limiter: None, busy: false, not_before: None, pages: 0 }
    }
}

/// Runs (or resumes) the crawl of `config` into the records store of `data_dir`.
/// `config_name` identifies the config across runs (its path).
pub async fn crawl(config: &CrawlConfig, config_name: &str, data_dir: &Path, show_progress: bool) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let mut store = RecordStore::open_dir(data_dir)?;
    let (run, resumed) = match store.unfinished_run(config_name)? {
        Some(run) => (run, true),
        None => (store.start_run(config_name)?, false),
    };
    let settings = &config.crawl;
    let fetcher = Fetcher::new(&settings.user_agent, Duration::from_secs(settings.timeout_secs), settings.max_page_bytes)
        .map_err(|e| CrawlError::Client(e.to_string()))?;
    let sources: Arc<HashMap<String, SourceRuntime>> = Arc::new(
        config
            .sources
            .iter()
            .map(|s| {
                let rt = SourceRuntime {
                    extractor: ContactExtractor::new(source_country(s)),
                    selectors: DirectorySelectors::new(&s.select),
                    items: ItemSelectors::new(&s.select, s.follow.as_deref()),
                    source: s.clone(),
                };
                (s.name.clone(), rt)
            })
            .collect(),
    );
    let progress = if show_progress { ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()) } else { ProgressBar::hidden() };
    progress
        .set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {pos}/{len} pages · {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    // The browser, started on the first page that needs it (never for an all-static config).
    let wants_browser = config.sources.iter().any(|s| s.render != Render::Static);
    let browser_config = BrowserConfig {
        webdriver_url: settings.webdriver_url.clone(),
        chromedriver: settings.chromedriver.clone().into(),
        chromium: settings.chromium.clone().into(),
        sessions: settings.browser_sessions,
        page_load_timeout: Duration::from_secs(settings.page_load_timeout_secs),
        settle: Duration::from_millis(settings.render_settle_ms),
        settle_max: Duration::from_secs(5),
        user_agent: settings.user_agent.clone(),
    };
    let mut browser_unavailable = None;
    let browser = if wants_browser {
        match browser_config.unavailable() {
            Some(why) => {
                browser_unavailable = Some(why);
                None
            }
            None => match BrowserPool::new(browser_config) {
                Ok(pool) => Some(Arc::new(pool)),
                Err(e) => {
                    browser_unavailable = Some(format!("no folder for browser profiles: {e}"));
                    None
                }
            },
        }
    } else {
        None
    };
    let mut crawler = Crawler {
        config,
        sources,
        fetcher,
        browser,
        browser_unavailable,
        companies_seen: Default::default(),
        directory_own_seen: Default::default(),
        run,
        hosts: HashMap::new(),
        in_flight: 0,
        summary: CrawlSummary { run, resumed, ..Default::default() },
        progress,
        dispatched: 0,
        agent: agent_token(&settings.user_agent).to_string(),
    };
    let done_before = store.run_counts(run)?;
    crawler.dispatched = (done_before.done + done_before.failed) as usize;

    // Phase 1: the directories, offers and programmes.
    let directories: Vec<&Source> = config.sources.iter().filter(|s| s.kind != SourceKind::SchoolSites).collect();
    let mut seeds = Vec::new();
    for s in &directories {
        let role = if s.kind == SourceKind::SchoolDirectory { ROLE_LIST } else { ROLE_ITEMS };
        for u in &s.start_urls {
            if let Some(url) = Url::parse(u).ok().and_then(|u| canonical(&u)) {
                seeds.push(entry(&url, &s.name, 0, role, EntryContext::default()));
            }
        }
    }
    store.add_to_frontier(run, &seeds)?;
    let phase_one = crawler.run_phase(&mut store, |e| directories.iter().any(|s| s.name == e.source)).await;
    if let Err(e) = phase_one {
        crawler.stop_browser().await;
        return Err(e);
    }

    // Phase 2: the school websites the directories found (or listed in the config).
    let site_sources: Vec<&Source> = config.sources.iter().filter(|s| s.kind == SourceKind::SchoolSites).collect();
    if !crawler.summary.budget_exhausted && !site_sources.is_empty() {
        let mut seeds = Vec::new();
        for s in &site_sources {
            seeds.extend(site_seeds(&mut store, s)?);
        }
        store.add_to_frontier(run, &seeds)?;
        let phase_two = crawler.run_phase(&mut store, |e| site_sources.iter().any(|s| s.name == e.source)).await;
        if let Err(e) = phase_two {
            crawler.stop_browser().await;
            return Err(e);
        }
    }
    crawler.stop_browser().await;

    store.finish_run(run)?;
    crawler.progress.finish_and_clear();
    let mut summary = crawler.summary;
    for (state, reason, n) in store.run_outcomes(run)? {
        let map = if state == "failed" { &mut summary.failed } else { &mut summary.skipped };
        *map.entry(reason).or_default() += n;
    }
    store.for_each(Some(RecordKind::School), |record| {
        if let Record::School(school) = record {
            for c in &school.left_out {
                *summary.left_out.entry(c.provenance.reason.clone().unwrap_or_default()).or_default() += 1;
            }
        }
        Ok(())
    })?;
    summary.hosts = crawler.hosts.len();
    summary.browser = crawler.browser.as_ref().map(|b| b.stats());
    if summary.not_rendered_total > 0 || !summary.needed_browser.is_empty() {
        summary.browser_unavailable = crawler.browser_unavailable.clone();
    }
    summary.duration_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn entry(url: &Url, source: &str, depth: u32, role: &str, context: EntryContext) -> FrontierEntry {
    FrontierEntry {
        url: url.to_string(),
        source: source.to_string(),
        host: host_key(url),
        depth,
        role: role.to_string(),
        context: context.encode(),
        attempts: 0,
    }
}

/// Start pages of a `school_sites` source: the websites of the schools its directories found.
fn site_seeds(store: &mut RecordStore, source: &Source) -> Result<Vec<FrontierEntry>, CrawlError> {
    let from = source.from.as_ref().map(|f| f.names()).unwrap_or_default();
    let mut seeds = Vec::new();
    for record in store.list(Some(RecordKind::School))? {
        let Record::School(school) = record else { continue };
        if !from.contains(&school.source) {
            continue;
        }
        let Some(url) = school.website.as_deref().and_then(|w| Url::parse(w).ok()).and_then(|u| canonical(&u)) else { continue };
        let context = EntryContext {
            school_id: Some(school.id.clone()),
            site_host: Some(host_key(&url)),
            redirects: 0,
            country: school.country.clone().or_else(|| source.country.clone()),
            ..Default::default()
        };
        seeds.push(entry(&url, &source.name, 0, ROLE_SITE, context));
    }
    for u in &source.urls {
        let Some(url) = Url::parse(u).ok().and_then(|u| canonical(&u)) else { continue };
        let school = School {
            source: source.name.clone(),
            source_key: url.to_string(),
            name: url.host_str().unwrap_or("").to_string(),
            website: Some(url.to_string()),
            country: source.country.clone(),
            region: source.region.clone(),
            ..Default::default()
        };
        let id = store.upsert(Record::School(school))?.id;
        let context = EntryContext { school_id: Some(id), site_host: Some(host_key(&url)), country: source.country.clone(), ..Default::default() };
        seeds.push(entry(&url, &source.name, 0, ROLE_SITE, context));
    }
    Ok(seeds)
}

struct Crawler<'a> {
    config: &'a CrawlConfig,
    sources: Arc<HashMap<String, SourceRuntime>>,
    fetcher: Fetcher,
    browser: Option<Arc<BrowserPool>>,
    browser_unavailable: Option<String>,
    /// (source, key) of the companies written in this session, to count each once.
    companies_seen: std::collections::HashSet<(String, String)>,
    /// (directory source, value) of the directories' own contacts counted in this session.
    directory_own_seen: std::collections::HashSet<(String, String)>,
    run: i64,
    hosts: HashMap<String, HostState>,
    in_flight: usize,
    summary: CrawlSummary,
    progress: ProgressBar,
    dispatched: usize,
    agent: String,
}

impl Crawler<'_> {
    async fn stop_browser(&self) {
        if let Some(b) = &self.browser {
            b.shutdown().await;
        }
    }

    async fn run_phase(&mut self, store: &mut RecordStore, in_phase: impl Fn(&FrontierEntry) -> bool) -> Result<(), CrawlError> {
        let mut orphans = 0usize;
        for e in store.pending(self.run)?.into_iter().filter(|e| in_phase(e)) {
            // A resumed run whose config lost a source: its URLs stay pending in the store (they
            // resume if the source comes back) but are not fetched without their selectors.
            if !self.sources.contains_key(&e.source) {
                orphans += 1;
                continue;
            }
            self.hosts.entry(e.host.clone()).or_insert_with(HostState::new).queue.push_back(e);
        }
        if orphans > 0 {
            tracing::warn!("{orphans} pending URLs belong to sources no longer in the config; left pending");
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<TaskResult>();
        loop {
            let queued: usize = self.hosts.values().map(|h| h.queue.len()).sum();
            self.progress.set_length((self.dispatched + queued + self.in_flight) as u64);
            self.progress.set_position(self.dispatched.saturating_sub(self.in_flight) as u64);
            self.progress.set_message(format!("{} hosts busy · {} contacts added", self.in_flight, self.summary.contacts_added));
            let wake = self.dispatch(store, &tx)?;
            if self.in_flight == 0 && self.hosts.values().all(|h| h.queue.is_empty()) {
                break;
            }
            let message = match wake {
                Some(at) if self.in_flight == 0 => {
                    tokio::time::sleep_until(at.into()).await;
                    continue;
                }
                Some(at) => tokio::select! {
                    m = rx.recv() => m,
                    _ = tokio::time::sleep_until(at.into()) => continue,
                },
                None => rx.recv().await,
            };
            let Some(message) = message else { break };
            self.in_flight -= 1;
            self.handle(store, message)?;
        }
        Ok(())
    }

    /// Starts every request that may start now; returns when the next host becomes ready.
    fn dispatch(&mut self, store: &mut RecordStore, tx: &mpsc::UnboundedSender<TaskResult>) -> Result<Option<Instant>, CrawlError> {
        let settings = &self.config.crawl;
        let now = Instant::now();
        let mut wake: Option<Instant> = None;
        let mut keys: Vec<String> = self.hosts.keys().cloned().collect();
        keys.sort();
        for key in keys {
            if self.in_flight >= settings.concurrency {
                break;
            }
            let host = self.hosts.get_mut(&key).expect("key from the map");
            if host.busy || host.queue.is_empty() {
                continue;
            }
            if let Some(t) = host.not_before {
                if t > now {
                    wake = Some(wake.map_or(t, |w| w.min(t)));
                    continue;
                }
            }
            if matches!(host.robots, RobotsState::Unknown) && !settings.respect_robots {
                host.robots = RobotsState::Ready(RobotsRules::AllowAll);
                host.limiter = Some(HostLimiter::new(settings.per_host_rps, None));
            }
            // Requests that need no network are settled first.
            if let RobotsState::Ready(rules) = &host.robots {
                let front = host.queue.front().expect("queue is not empty");
                let skip = if !rules.allowed(&front.url) {
                    Some(match rules {
                        RobotsRules::DisallowAll(why) => format!("robots.txt unavailable ({why})"),
                        _ => "disallowed by robots.txt".to_string(),
                    })
                } else if host.pages >= settings.max_pages_per_host {
                    Some("host page budget reached".to_string())
                } else {
                    None
                };
                if let Some(reason) = skip {
                    let e = host.queue.pop_front().expect("queue is not empty");
                    store.commit_page(self.run, PageCommit { url: e.url, state: Some(UrlState::Skipped), outcome: reason, ..Default::default() })?;
                    wake = Some(now);
                    continue;
                }
            }
            if self.dispatched >= settings.max_pages {
                self.summary.budget_exhausted = true;
                host.queue.clear();
                continue;
            }
            let limiter = host.limiter.get_or_insert_with(|| HostLimiter::new(settings.per_host_rps, None));
            if let Err(at) = limiter.ready() {
                host.not_before = Some(at);
                wake = Some(wake.map_or(at, |w| w.min(at)));
                continue;
            }
            host.busy = true;
            host.not_before = None;
            self.in_flight += 1;
            let tx = tx.clone();
            let fetcher = self.fetcher.clone();
            if matches!(host.robots, RobotsState::Unknown) {
                let front = host.queue.front().expect("queue is not empty");
                let agent = self.agent.clone();
                let robots_url = Url::parse(&front.url).ok().and_then(|u| u.join("/robots.txt").ok());
                tokio::spawn(async move {
                    let rules = catch_panic(async move {
                        Ok(match robots_url {
                            None => RobotsRules::AllowAll,
                            Some(url) => match fetcher.fetch(&url, &Validators::default(), true).await {
                                Ok(Fetched::Page(page)) => RobotsRules::parse(&agent, &page.raw),
                                Ok(_) => RobotsRules::AllowAll,
                                Err(FetchError::Permanent { .. }) => RobotsRules::AllowAll,
                                Err(FetchError::Retryable { reason, .. }) => RobotsRules::DisallowAll(reason),
                            },
                        })
                    })
                    .await;
                    // A robots.txt that could not be read (here, because reading it panicked)
                    // keeps the host's pages out; they are skipped with that reason.
                    let rules = rules.unwrap_or_else(|failure| {
                        let why = match failure {
                            PageFailure::Panicked(message) => format!("reading it panicked: {message}"),
                            PageFailure::Fetch(e) => e.reason().to_string(),
                        };
                        tracing::error!(host = %key, %why, "robots.txt");
                        RobotsRules::DisallowAll(why)
                    });
                    let _ = tx.send(TaskResult::Robots { host: key, rules });
                });
                continue;
            }
            let e = host.queue.pop_front().expect("queue is not empty");
            host.pages += 1;
            self.dispatched += 1;
            let cached = store.cached_page(&e.url)?;
            let sources = self.sources.clone();
            let browser = self.browser.clone();
            let render = EntryContext::of(&e).render.is_some();
            let rendered = render && browser.is_some();
            let entry = e.clone();
            tokio::spawn(async move {
                let outcome = catch_panic(async move {
                    match (&browser, render) {
                        (Some(b), true) => render_and_extract(b, &sources, &e).await,
                        _ => fetch_and_extract(&fetcher, &sources, &e, cached.as_ref()).await,
                    }
                })
                .await;
                let _ = tx.send(TaskResult::Page { entry, outcome, rendered });
            });
        }
        Ok(wake)
    }

    fn handle(&mut self, store: &mut RecordStore, message: TaskResult) -> Result<(), CrawlError> {
        let settings = &self.config.crawl;
        match message {
            TaskResult::Robots { host, rules } => {
                let h = self.hosts.get_mut(&host).expect("robots for a known host");
                h.busy = false;
                h.limiter = Some(HostLimiter::new(settings.per_host_rps, rules.crawl_delay()));
                // The robots.txt request used this period's permit.
                let _ = h.limiter.as_ref().map(HostLimiter::ready);
                h.robots = RobotsState::Ready(rules);
            }
            TaskResult::Page { entry, outcome, rendered } => {
                let host = entry.host.clone();
                let commit = match outcome {
                    Ok((_, Some(Extracted::NeedsBrowser { reason, .. }))) if self.browser.is_some() => {
                        // Back to the front of the host's queue, for the browser: the second
                        // request to the host waits for its limiter like any other.
                        self.summary.fetched += 1;
                        *self.summary.needed_browser.entry(reason.to_string()).or_default() += 1;
                        self.requeue_front(entry, |ctx| ctx.render = Some(reason.to_string()));
                        return Ok(());
                    }
                    Ok((fetched, Some(Extracted::NeedsBrowser { reason, statically }))) => {
                        *self.summary.needed_browser.entry(reason.to_string()).or_default() += 1;
                        self.not_rendered(&entry.url, format!("needed the browser: {reason}"));
                        let mut commit = self.page_commit(store, &entry, fetched, Some(*statically), false)?;
                        commit.outcome = format!("{}; read without scripts ({reason}, no browser)", commit.outcome);
                        commit
                    }
                    Ok((fetched, extracted)) => self.page_commit(store, &entry, fetched, extracted, rendered)?,
                    Err(PageFailure::Panicked(message)) => {
                        let outcome = self.summary.page_panicked(&entry.url, &message);
                        tracing::error!(url = %entry.url, %outcome, "page not read");
                        PageCommit { url: entry.url.clone(), state: Some(UrlState::Failed), outcome, ..Default::default() }
                    }
                    Err(PageFailure::Fetch(FetchError::Retryable { reason, retry_after })) if entry.attempts + 1 < settings.max_retries => {
                        self.summary.retries += 1;
                        tracing::debug!(url = %entry.url, %reason, "will retry");
                        store.count_attempt(self.run, &entry.url)?;
                        let backoff = Duration::from_millis(500 * 2u64.pow(entry.attempts.min(6)));
                        let h = self.hosts.get_mut(&host).expect("known host");
                        h.not_before = Some(Instant::now() + retry_after.unwrap_or(backoff).max(backoff));
                        h.pages -= 1;
                        self.dispatched -= 1;
                        let mut e = entry;
                        e.attempts += 1;
                        h.queue.push_back(e);
                        h.busy = false;
                        return Ok(());
                    }
                    Err(PageFailure::Fetch(error)) if rendered => {
                        // The browser gave up on it (on fresh sessions, after the retries): the
                        // static reading is done again, without the browser.
                        let reason = format!("the browser failed: {}", error.reason());
                        tracing::warn!(url = %entry.url, %reason, "reading the page without its scripts");
                        self.not_rendered(&entry.url, reason);
                        self.requeue_front(entry, |ctx| {
                            ctx.render = None;
                            ctx.browser_failed = true;
                        });
                        return Ok(());
                    }
                    Err(PageFailure::Fetch(error)) => {
                        let state = if matches!(&error, FetchError::Permanent { reason } if reason.starts_with("not html") || reason == "too large") {
                            UrlState::Skipped
                        } else {
                            UrlState::Failed
                        };
                        let reason = match &error {
                            FetchError::Permanent { reason } if reason.starts_with("not html") => "not html".to_string(),
                            other => other.reason().to_string(),
                        };
                        tracing::info!(url = %entry.url, %reason, "page not crawled");
                        PageCommit { url: entry.url.clone(), state: Some(state), outcome: reason, ..Default::default() }
                    }
                };
                let (_, added) = store.commit_page(self.run, commit)?;
                let h = self.hosts.get_mut(&host).expect("known host");
                h.busy = false;
                // URLs seen for the first time are queued in memory too (already durable in the frontier).
                for d in added {
                    self.hosts.entry(d.host.clone()).or_insert_with(HostState::new).queue.push_back(d);
                }
            }
        }
        Ok(())
    }

    /// A page read without its scripts although it needed them: counted, and listed up to
    /// NOT_RENDERED_LISTED.
    fn not_rendered(&mut self, url: &str, why: String) {
        self.summary.not_rendered_total += 1;
        if self.summary.not_rendered.len() < NOT_RENDERED_LISTED {
            self.summary.not_rendered.push((url.to_string(), why));
        }
    }

    /// Puts a page back at the front of its host's queue with its context changed (for the
    /// browser, or back to a static reading): it does not count twice against the budgets and
    /// still waits for the host's limiter.
    fn requeue_front(&mut self, mut entry: FrontierEntry, change: impl FnOnce(&mut EntryContext)) {
        let mut ctx = EntryContext::of(&entry);
        change(&mut ctx);
        entry.context = ctx.encode();
        let h = self.hosts.entry(entry.host.clone()).or_insert_with(HostState::new);
        h.pages = h.pages.saturating_sub(1);
        self.dispatched = self.dispatched.saturating_sub(1);
        h.busy = false;
        h.queue.push_front(entry);
    }

    fn page_commit(
        &mut self,
        store: &mut RecordStore,
        entry: &FrontierEntry,
        fetched: Fetched,
        extracted: Option<Extracted>,
        rendered: bool,
    ) -> Result<PageCommit, CrawlError> {
        let settings = &self.config.crawl;
        let mut commit = PageCommit { url: entry.url.clone(), state: Some(UrlState::Done), ..Default::default() };
        let ctx = EntryContext::of(entry);
        let sources = self.sources.clone();
        let Some(rt) = sources.get(&entry.source) else {
            commit.state = Some(UrlState::Skipped);
            commit.outcome = format!("source `{}` is not in the config", entry.source);
            return Ok(commit);
        };
        match fetched {
            Fetched::Redirect(to) => {
                commit.outcome = "redirect".into();
                let Some(to) = canonical(&to) else {
                    commit.state = Some(UrlState::Skipped);
                    commit.outcome = "redirect to a non-web URL".into();
                    return Ok(commit);
                };
                if ctx.redirects + 1 > settings.max_redirects as u32 {
                    commit.state = Some(UrlState::Failed);
                    commit.outcome = "too many redirects".into();
                    return Ok(commit);
                }
                let mut next = ctx.clone();
                next.redirects += 1;
                let same_host = host_key(&to) == entry.host;
                let allowed = same_host || (entry.role == ROLE_SITE && entry.depth == 0);
                if !allowed {
                    commit.state = Some(UrlState::Skipped);
                    commit.outcome = "redirect off site".into();
                    return Ok(commit);
                }
                if entry.role == ROLE_SITE && !same_host {
                    next.site_host = Some(host_key(&to));
                }
                commit.discovered.push(self::entry(&to, &entry.source, entry.depth, &entry.role, next));
                return Ok(commit);
            }
            Fetched::NotModified => {
                self.summary.not_modified += 1;
                commit.outcome = "not modified".into();
            }
            Fetched::Page(_) if rendered => {
                // The static copy stays the cached one (its validators are the server's).
                self.summary.rendered += 1;
                commit.outcome = format!("rendered ({})", ctx.render.as_deref().unwrap_or("browser"));
            }
            Fetched::Page(page) => {
                self.summary.fetched += 1;
                commit.outcome = format!("http {}", page.status);
                commit.cache = Some(CachedPage {
                    url: entry.url.clone(),
                    etag: page.etag.clone(),
                    last_modified: page.last_modified.clone(),
                    status: page.status,
                    content_type: page.content_type.clone(),
                    final_url: Some(page.url.to_string()),
                    body: Some(page.raw.clone()),
                });
            }
        }
        let Some(extracted) = extracted else { return Ok(commit) };
        let page_url = Url::parse(&entry.url).map_err(|e| CrawlError::Client(e.to_string()))?;
        let found_at = schemas::now_rfc3339();
        let extracted = match extracted {
            Extracted::NeedsBrowser { statically, .. } => *statically,
            other => other,
        };
        match extracted {
            Extracted::NeedsBrowser { .. } => unreachable!("unwrapped above"),
            Extracted::Items(page) => self.items_commit(&mut commit, entry, rt, page, &page_url),
            Extracted::List { lists, details } => {
                let max_depth = rt.source.max_depth.unwrap_or(DEFAULT_DIRECTORY_DEPTH);
                if entry.depth < max_depth {
                    for (urls, role) in [(lists, ROLE_LIST), (details, ROLE_DETAIL)] {
                        for u in urls.iter().filter_map(canonical) {
                            if host_key(&u) == entry.host {
                                commit.discovered.push(self::entry(&u, &entry.source, entry.depth + 1, role, EntryContext::default()));
                            }
                        }
                    }
                }
            }
            Extracted::Detail(d, own) => {
                for value in own {
                    if self.directory_own_seen.insert((entry.source.clone(), value)) {
                        self.summary.directory_own += 1;
                    }
                }
                let Some(name) = d.name.clone() else {
                    commit.outcome = "detail page without a school name".into();
                    return Ok(commit);
                };
                let contacts: Vec<Contact> = d.contacts.iter().map(|c| to_contact(c, &entry.url, &found_at, DIRECTORY_FIELD)).collect();
                self.summary.contacts_added += contacts.len() as u64;
                let mut school = School {
                    source: entry.source.clone(),
                    source_key: entry.url.clone(),
                    name,
                    school_type: d.kind.clone(),
                    street: d.address.clone(),
                    postal_code: d.postal_code.clone(),
                    city: d.city.clone(),
                    region: d.region.clone().or_else(|| rt.source.region.clone()),
                    country: rt.source.country.as_ref().map(|c| c.to_ascii_uppercase()),
                    website: d.website.as_ref().map(|u| u.to_string()),
                    ..Default::default()
                };
                merge_contacts(&mut school, contacts);
                // Keep what the school's own website added on earlier runs (after the
                // directory's own contacts, as on the first run).
                if let Some(Record::School(previous)) = store.get(&school_id_of(&school))? {
                    let from_elsewhere = previous.contacts.into_iter().filter(|c| c.provenance.url.as_deref() != Some(&entry.url));
                    merge_contacts(&mut school, from_elsewhere.collect());
                }
                self.summary.schools += 1;
                commit.records.push(Record::School(school));
            }
            Extracted::Site { contacts, links, title, domains, refresh } => {
                let Some(school_id) = ctx.school_id.clone() else { return Ok(commit) };
                if let Some(Record::School(mut school)) = store.get(&school_id)? {
                    let before = school.contacts.len();
                    let domains = school_domains(&school, domains);
                    let school_names = vec![school.name.clone()];
                    let mut kept = Vec::new();
                    let mut left = Vec::new();
                    for c in &contacts.found {
                        match affinity::decide(c, &domains, &school_names) {
                            Ok(why) => kept.push(to_contact(c, &entry.url, &found_at, why)),
                            Err(why) => left.push(to_contact(c, &entry.url, &found_at, why)),
                        }
                    }
                    left.extend(contacts.refused.iter().map(|c| to_contact(c, &entry.url, &found_at, c.refused.unwrap_or("refused"))));
                    merge_contacts(&mut school, kept);
                    merge_left_out(&mut school, left);
                    self.summary.contacts_added += (school.contacts.len() - before) as u64;
                    if school.name == page_url.host_str().unwrap_or("") {
                        if let Some(t) = title {
                            school.name = t;
                        }
                    }
                    commit.records.push(Record::School(school));
                }
                let max_depth = rt.source.max_depth.unwrap_or(DEFAULT_SITE_DEPTH);
                let site_host = ctx.site_host.clone().unwrap_or_else(|| entry.host.clone());
                // A meta refresh is followed like a redirect: at the same depth, on the site.
                if let Some(to) = refresh.as_ref().and_then(canonical) {
                    if host_key(&to) == site_host && to.as_str() != entry.url && looks_like_page(&to) {
                        let next = EntryContext { redirects: 0, render: None, browser_failed: false, ..ctx.clone() };
                        commit.discovered.push(self::entry(&to, &entry.source, entry.depth, ROLE_SITE, next));
                    }
                }
                if entry.depth < max_depth {
                    // Every page of the site within the depth, contact-like pages first: school
                    // sites are small, and staff contacts sit on programme and team pages too.
                    let (contact_like, others): (Vec<&Link>, Vec<&Link>) = links.iter().partition(|l| looks_like_contact(l));
                    for link in contact_like.into_iter().chain(others) {
                        let Some(u) = canonical(&link.url) else { continue };
                        if host_key(&u) != site_host || u.as_str() == entry.url || !looks_like_page(&u) {
                            continue;
                        }
                        let next = EntryContext { redirects: 0, render: None, browser_failed: false, ..ctx.clone() };
                        commit.discovered.push(self::entry(&u, &entry.source, entry.depth + 1, ROLE_SITE, next));
                    }
                }
            }
        }
        Ok(commit)
    }
}

impl Crawler<'_> {
    /// The offers, companies and programmes of an item page, and the pages it leads to.
    fn items_commit(&mut self, commit: &mut PageCommit, entry: &FrontierEntry, rt: &SourceRuntime, page: ItemPage, page_url: &Url) {
        let source = &rt.source;
        let today = today();
        self.summary.broken_json_ld += page.broken_json_ld as u64;
        for why in &page.refused {
            tracing::info!(url = %entry.url, %why, "item refused");
        }
        if let Some(m) = page.method {
            *self.summary.items_by_method.entry(m.as_str().to_string()).or_default() += 1;
        }
        let country = source.country.as_ref().map(|c| c.to_ascii_uppercase());
        for mut company in page.companies {
            company.country = company.country.or_else(|| country.clone());
            if self.companies_seen.insert((source.name.clone(), company.source_key.clone())) {
                self.summary.companies += 1;
            }
            commit.records.push(Record::Company(company));
        }
        for mut offer in page.offers {
            offer.country = offer.country.or_else(|| country.clone());
            offer.region = offer.region.or_else(|| source.region.clone());
            if offer.valid_through.as_deref().is_some_and(|d| d < today.as_str()) {
                self.summary.offers_expired += 1;
            }
            self.summary.offers += 1;
            commit.records.push(Record::Offer(offer));
        }
        for mut programme in page.programmes {
            programme.country = programme.country.or_else(|| country.clone());
            programme.region = programme.region.or_else(|| source.region.clone());
            self.summary.programmes += 1;
            commit.records.push(Record::Programme(programme));
        }
        let max_depth = source.max_depth.unwrap_or(DEFAULT_ITEMS_DEPTH);
        if entry.depth >= max_depth {
            return;
        }
        for u in page.next.iter().chain(&page.follow).filter_map(canonical) {
            if host_key(&u) == entry.host && u != *page_url && looks_like_page(&u) {
                commit.discovered.push(self::entry(&u, &entry.source, entry.depth + 1, ROLE_ITEMS, EntryContext::default()));
            }
        }
    }
}

/// Today, `YYYY-MM-DD` (UTC).
fn today() -> String {
    schemas::now_rfc3339().chars().take(10).collect()
}

/// Links to files that are not pages (images, documents, archives) are not followed.
fn looks_like_page(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    let ext = path.rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e).unwrap_or("");
    !matches!(
        ext,
        "pdf"
            | "doc"
            | "docx"
            | "xls"
            | "xlsx"
            | "ppt"
            | "pptx"
            | "odt"
            | "zip"
            | "rar"
            | "jpg"
            | "jpeg"
            | "png"
            | "gif"
            | "svg"
            | "webp"
            | "mp3"
            | "mp4"
            | "avi"
            | "mov"
            | "css"
            | "js"
            | "ics"
            | "xml"
            | "json"
    )
}

/// The domains a page names as its own: its canonical URL and `og:url` hosts.
fn page_domains(html: &Html) -> Vec<String> {
    static CANONICAL: std::sync::LazyLock<scraper::Selector> =
        std::sync::LazyLock::new(|| scraper::Selector::parse(r#"link[rel~="canonical"][href], meta[property="og:url"][content]"#).expect("static selector"));
    let mut out: Vec<String> = html
        .select(&CANONICAL)
        .filter_map(|e| e.value().attr("href").or_else(|| e.value().attr("content")))
        .filter_map(|u| Url::parse(u.trim()).ok())
        .filter_map(|u| u.host_str().and_then(affinity::domain_of_host))
        .collect();
    out.dedup();
    out
}

fn school_id_of(school: &School) -> String {
    let mut r = Record::School(school.clone());
    r.assign_id();
    r.id().to_string()
}

fn to_contact(c: &FoundContact, url: &str, found_at: &str, reason: &str) -> Contact {
    Contact {
        kind: c.kind,
        value: c.value.clone(),
        display: c.display.clone(),
        label: c.label.clone(),
        flags: c.flags.clone(),
        provenance: Provenance { url: Some(url.to_string()), method: c.method.to_string(), found_at: found_at.to_string(), reason: Some(reason.to_string()) },
    }
}

/// The school's own domains: its website's host, the hosts its page names as canonical, and
/// the domains of the addresses its directory listed (IP addresses and bare names are none).
fn school_domains(school: &School, page_domains: Vec<String>) -> Vec<String> {
    let mut out = page_domains;
    if let Some(host) = school.website.as_deref().and_then(|w| Url::parse(w).ok()).and_then(|u| u.host_str().and_then(affinity::domain_of_host)) {
        out.push(host);
    }
    for c in &school.contacts {
        if c.kind == ContactKind::Email && c.provenance.reason.as_deref() == Some(DIRECTORY_FIELD) {
            if let Some((_, d)) = c.value.rsplit_once('@') {
                out.push(d.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Adds left-out contacts not known yet; a contact the school keeps (read elsewhere as its own)
/// is not left out.
fn merge_left_out(school: &mut School, contacts: Vec<Contact>) {
    for c in contacts {
        let kept = school.contacts.iter().any(|o| o.value == c.value);
        let known = school.left_out.iter().any(|o| o.value == c.value);
        if !kept && !known {
            school.left_out.push(c);
        }
    }
    let kept: Vec<String> = school.contacts.iter().map(|c| c.value.clone()).collect();
    school.left_out.retain(|c| !kept.contains(&c.value));
}

/// Adds contacts not known yet (same kind and value) and refreshes the plain lists.
fn merge_contacts(school: &mut School, contacts: Vec<Contact>) {
    for c in contacts {
        let known = school.contacts.iter().any(|o| o.value == c.value && (o.kind == c.kind || c.kind != ContactKind::Email && o.kind != ContactKind::Email));
        if !known {
            school.contacts.push(c);
        }
    }
    school.emails = school.contacts.iter().filter(|c| c.kind == ContactKind::Email).map(|c| c.value.clone()).collect();
    school.phones = school.contacts.iter().filter(|c| c.kind == ContactKind::Phone).map(|c| c.display.clone().unwrap_or_else(|| c.value.clone())).collect();
}

async fn fetch_and_extract(
    fetcher: &Fetcher,
    sources: &Arc<HashMap<String, SourceRuntime>>,
    entry: &FrontierEntry,
    cached: Option<&CachedPage>,
) -> Result<(Fetched, Option<Extracted>), PageFailure> {
    let url = Url::parse(&entry.url).map_err(|e| FetchError::Permanent { reason: format!("bad url: {e}") })?;
    let validators =
        cached.filter(|c| c.body.is_some()).map(|c| Validators { etag: c.etag.clone(), last_modified: c.last_modified.clone() }).unwrap_or_default();
    let fetched = fetcher.fetch(&url, &validators, false).await?;
    let text = match &fetched {
        Fetched::Page(page) => Some(page.text.clone()),
        Fetched::NotModified => cached.and_then(|c| c.body.as_ref().map(|b| crate::fetch::charset::decode(b, c.content_type.as_deref()).0)),
        Fetched::Redirect(_) => None,
    };
    let Some(text) = text else { return Ok((fetched, None)) };
    let ctx = EntryContext::of(entry);
    // A page the browser failed on is read as it is, without asking for the browser again.
    let may_render = !ctx.browser_failed;
    let extracted = extract_off_thread(sources, entry, url, text, may_render).await?;
    Ok((fetched, extracted))
}

/// Renders the page in the browser and reads it like a static one (without asking again).
async fn render_and_extract(
    browser: &BrowserPool,
    sources: &Arc<HashMap<String, SourceRuntime>>,
    entry: &FrontierEntry,
) -> Result<(Fetched, Option<Extracted>), PageFailure> {
    let url = Url::parse(&entry.url).map_err(|e| FetchError::Permanent { reason: format!("bad url: {e}") })?;
    let rendered = browser.render(&url).await.map_err(|e| match e {
        RenderError::Timeout | RenderError::Failed(_) => FetchError::Retryable { reason: e.to_string(), retry_after: None },
        RenderError::Unavailable(_) => FetchError::Permanent { reason: e.to_string() },
    })?;
    let page = crate::fetch::Page {
        url: rendered.final_url.clone().unwrap_or_else(|| url.clone()),
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        etag: None,
        last_modified: None,
        raw: Vec::new(),
        text: String::new(),
        encoding: "UTF-8",
    };
    let extracted = extract_off_thread(sources, entry, url, rendered.html, false).await?;
    Ok((Fetched::Page(page), extracted))
}

/// Parsing HTML is CPU work: off the async workers. `None` when the source left the config.
async fn extract_off_thread(
    sources: &Arc<HashMap<String, SourceRuntime>>,
    entry: &FrontierEntry,
    url: Url,
    text: String,
    may_render: bool,
) -> Result<Option<Extracted>, PageFailure> {
    let sources = sources.clone();
    let role = entry.role.clone();
    let source = entry.source.clone();
    let country = EntryContext::of(entry).country.as_deref().and_then(crate::config::parse_country);
    off_thread(move || {
        let rt = sources.get(&source)?;
        let html = Html::parse_document(&text);
        Some(extract(rt, &role, &html, &url, country, may_render))
    })
    .await
}

/// Reads a page for its source and role; with `may_render`, says when the browser is needed.
fn extract(rt: &SourceRuntime, role: &str, html: &Html, url: &Url, country: Option<phonenumber::country::Id>, may_render: bool) -> Extracted {
    let (extracted, rule) = match role {
        ROLE_LIST => {
            let l = rt.selectors.list_links(html, url);
            let found_anything = !l.lists.is_empty() || !l.details.is_empty();
            (Extracted::List { lists: l.lists, details: l.details }, BrowserRule::Items { found_anything })
        }
        ROLE_DETAIL => {
            let d = rt.selectors.entry(html, url, &rt.extractor);
            let found_anything = d.name.is_some();
            // The directory's own contacts: on the page, outside the school's fields.
            let own: Vec<String> = rt.extractor.from_html(html).into_iter().map(|c| c.value).filter(|v| !d.contacts.iter().any(|f| &f.value == v)).collect();
            (Extracted::Detail(d, own), BrowserRule::Items { found_anything })
        }
        ROLE_ITEMS => {
            let page = if rt.source.kind == SourceKind::Programmes {
                rt.items.programmes(html, url, &rt.source.name)
            } else {
                rt.items.offers(html, url, &rt.source.name)
            };
            let found_anything = ItemSelectors::finds_anything(&page);
            (Extracted::Items(page), BrowserRule::Items { found_anything })
        }
        _ => {
            let title = html.select(&TITLE).next().map(|t| crate::extract::text::squash(&t.text().collect::<String>())).filter(|t| !t.is_empty());
            let extractor = country.map_or(rt.extractor, |c| ContactExtractor::new(Some(c)));
            let contacts = extractor.read_page(html);
            let contact_page = looks_like_contact(&Link { url: url.clone(), text: title.clone().unwrap_or_default() });
            let links = links(html, url);
            let site_links =
                links.iter().filter(|l| l.url.host_str() == url.host_str() && l.url.port_or_known_default() == url.port_or_known_default()).count();
            let rule = BrowserRule::SitePage { contact_page, contacts_found: !contacts.found.is_empty(), site_links };
            let refresh = meta_refresh(html, &base_url(html, url));
            (Extracted::Site { contacts, links, title, domains: page_domains(html), refresh }, rule)
        }
    };
    if !may_render {
        return extracted;
    }
    let reason = match rt.source.render {
        Render::Static => None,
        Render::Browser => Some("render = \"browser\""),
        Render::Auto => needs_browser(html, rule),
    };
    match reason {
        Some(reason) => Extracted::NeedsBrowser { reason, statically: Box::new(extracted) },
        None => extracted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_a_page_task_comes_back_with_its_message() {
        let got = off_thread(|| -> usize { panic!("byte index 3 is not a char boundary") }).await;
        assert!(matches!(got, Err(PageFailure::Panicked(m)) if m == "byte index 3 is not a char boundary"));
        let n = 7;
        let got = catch_panic(async move {
            if n > 0 {
                panic!("formatted {n}");
            }
            Ok(())
        })
        .await;
        assert!(matches!(got, Err(PageFailure::Panicked(m)) if m == "formatted 7"));
        // Nested as in the crawl: the extraction's panic surfaces through the page task.
        let got = catch_panic(async { off_thread(|| std::panic::panic_any(42u8)).await }).await;
        assert!(matches!(got, Err(PageFailure::Panicked(m)) if m == "a panic without a message"));
        assert!(matches!(catch_panic(async { off_thread(|| 5).await }).await, Ok(5)));
    }

    #[tokio::test]
    async fn a_panicked_page_is_a_failed_url_listed_in_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let run = store.start_run("test.toml").unwrap();
        let url = Url::parse("http://ecole.test/contact.html").unwrap();
        let e = entry(&url, "sites", 0, ROLE_SITE, EntryContext::default());
        store.add_to_frontier(run, std::slice::from_ref(&e)).unwrap();
        let config = CrawlConfig::parse("", Path::new("test.toml")).unwrap();
        let mut crawler = Crawler {
            config: &config,
            sources: Arc::new(HashMap::new()),
            fetcher: Fetcher::new("test", Duration::from_secs(1), 1000).unwrap(),
            browser: None,
            browser_unavailable: None,
            companies_seen: Default::default(),
            directory_own_seen: Default::default(),
            run,
            hosts: HashMap::from([(e.host.clone(), HostState::new())]),
            in_flight: 0,
            summary: CrawlSummary::default(),
            progress: ProgressBar::hidden(),
            dispatched: 1,
            agent: "test".into(),
        };
        let failure = PageFailure::Panicked("byte index 61 is not a char boundary".into());
        crawler.handle(&mut store, TaskResult::Page { entry: e, outcome: Err(failure), rendered: false }).unwrap();

        let outcome = "panicked: byte index 61 is not a char boundary";
        assert_eq!(crawler.summary.panicked, vec![(url.to_string(), outcome.to_string())]);
        assert_eq!(crawler.summary.panicked_total, 1);
        let shown = crawler.summary.to_string();
        assert!(shown.contains(&format!("{url} ({outcome})")), "{shown}");
        assert_eq!(store.run_outcomes(run).unwrap(), vec![("failed".to_string(), outcome.to_string(), 1)]);
        assert!(!crawler.hosts[&host_key(&url)].busy);
    }
}
