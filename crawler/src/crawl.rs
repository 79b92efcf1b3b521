//! The crawl loop: per-host queues, one request in flight per host, a governor limiter per
//! host, a global cap on requests in flight, robots.txt first, and every finished page written
//! to the records store in one transaction with the URLs it revealed.
//!
//! Sources run in two phases: directories first, then the school websites they found. A run
//! interrupted at any point (even by SIGKILL) is resumed by the next `crawl` with the same
//! config: finished pages are not fetched again and no discovered URL is lost. A new run after
//! a finished one sends conditional requests, and a `304` replays the cached page.

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

use crate::config::{CrawlConfig, Source, SourceKind, source_country};
use crate::extract::directory::{DirectoryEntry, DirectorySelectors};
use crate::extract::links::{Link, links, looks_like_contact};
use crate::extract::{ContactExtractor, FoundContact};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::politeness::robots::agent_token;
use crate::politeness::{HostLimiter, RobotsRules};
use crate::url_norm::{canonical, host_key};
use crate::CrawlError;

const ROLE_LIST: &str = "list";
const ROLE_DETAIL: &str = "detail";
const ROLE_SITE: &str = "site";
const DEFAULT_DIRECTORY_DEPTH: u32 = 100;
const DEFAULT_SITE_DEPTH: u32 = 2;

/// What the crawl did, for the end-of-crawl summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlSummary {
    pub run: i64,
    pub resumed: bool,
    /// Pages fetched (200) and pages confirmed unchanged (304) in this session.
    pub fetched: u64,
    pub not_modified: u64,
    /// URLs given up, by reason (over the whole run).
    pub failed: BTreeMap<String, u64>,
    /// URLs not fetched on purpose (robots.txt, not HTML, too large, budgets), by reason.
    pub skipped: BTreeMap<String, u64>,
    pub retries: u64,
    pub schools: u64,
    pub contacts_added: u64,
    pub hosts: usize,
    pub budget_exhausted: bool,
    pub duration_secs: f64,
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "crawl run {}{}: {:.1}s", self.run, if self.resumed { " (resumed)" } else { "" }, self.duration_secs)?;
        writeln!(f, "  fetched {} pages, {} unchanged (304), {} retries, {} hosts", self.fetched, self.not_modified, self.retries, self.hosts)?;
        writeln!(f, "  schools written {}, contacts added {}", self.schools, self.contacts_added)?;
        for (title, map) in [("failed", &self.failed), ("skipped", &self.skipped)] {
            if !map.is_empty() {
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{v} {k}")).collect();
                writeln!(f, "  {title}: {}", parts.join(", "))?;
            }
        }
        if self.budget_exhausted {
            writeln!(f, "  the page budget (max_pages) was reached: some URLs were not visited")?;
        }
        Ok(())
    }
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
}

/// What a fetch task read from a page.
enum Extracted {
    List { lists: Vec<Url>, details: Vec<Url> },
    Detail(DirectoryEntry),
    Site { contacts: Vec<FoundContact>, links: Vec<Link>, title: Option<String> },
}

enum TaskResult {
    Robots { host: String, rules: RobotsRules },
    Page { entry: FrontierEntry, outcome: Result<(Fetched, Option<Extracted>), FetchError> },
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
                    source: s.clone(),
                };
                (s.name.clone(), rt)
            })
            .collect(),
    );
    let progress = if show_progress { ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {pos}/{len} pages · {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut crawler = Crawler {
        config,
        sources,
        fetcher,
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

    // Phase 1: the directories.
    let directories: Vec<&Source> = config.sources.iter().filter(|s| s.kind == SourceKind::SchoolDirectory).collect();
    let mut seeds = Vec::new();
    for s in &directories {
        for u in &s.start_urls {
            if let Some(url) = Url::parse(u).ok().and_then(|u| canonical(&u)) {
                seeds.push(entry(&url, &s.name, 0, ROLE_LIST, EntryContext::default()));
            }
        }
    }
    store.add_to_frontier(run, &seeds)?;
    crawler.run_phase(&mut store, |e| directories.iter().any(|s| s.name == e.source)).await?;

    // Phase 2: the school websites the directories found (or listed in the config).
    let site_sources: Vec<&Source> = config.sources.iter().filter(|s| s.kind == SourceKind::SchoolSites).collect();
    if !crawler.summary.budget_exhausted && !site_sources.is_empty() {
        let mut seeds = Vec::new();
        for s in &site_sources {
            seeds.extend(site_seeds(&mut store, s)?);
        }
        store.add_to_frontier(run, &seeds)?;
        crawler.run_phase(&mut store, |e| site_sources.iter().any(|s| s.name == e.source)).await?;
    }

    store.finish_run(run)?;
    crawler.progress.finish_and_clear();
    let mut summary = crawler.summary;
    for (state, reason, n) in store.run_outcomes(run)? {
        let map = if state == "failed" { &mut summary.failed } else { &mut summary.skipped };
        *map.entry(reason).or_default() += n;
    }
    summary.hosts = crawler.hosts.len();
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
        let context =
            EntryContext { school_id: Some(id), site_host: Some(host_key(&url)), redirects: 0, country: source.country.clone() };
        seeds.push(entry(&url, &source.name, 0, ROLE_SITE, context));
    }
    Ok(seeds)
}

struct Crawler<'a> {
    config: &'a CrawlConfig,
    sources: Arc<HashMap<String, SourceRuntime>>,
    fetcher: Fetcher,
    run: i64,
    hosts: HashMap<String, HostState>,
    in_flight: usize,
    summary: CrawlSummary,
    progress: ProgressBar,
    dispatched: usize,
    agent: String,
}

impl Crawler<'_> {
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
                    let rules = match robots_url {
                        None => RobotsRules::AllowAll,
                        Some(url) => match fetcher.fetch(&url, &Validators::default(), true).await {
                            Ok(Fetched::Page(page)) => RobotsRules::parse(&agent, &page.raw),
                            Ok(_) => RobotsRules::AllowAll,
                            Err(FetchError::Permanent { reason }) if reason.starts_with("http 4") => RobotsRules::AllowAll,
                            Err(FetchError::Permanent { .. }) => RobotsRules::AllowAll,
                            Err(FetchError::Retryable { reason, .. }) => RobotsRules::DisallowAll(reason),
                        },
                    };
                    let _ = tx.send(TaskResult::Robots { host: key, rules });
                });
                continue;
            }
            let e = host.queue.pop_front().expect("queue is not empty");
            host.pages += 1;
            self.dispatched += 1;
            let cached = store.cached_page(&e.url)?;
            let sources = self.sources.clone();
            tokio::spawn(async move {
                let outcome = fetch_and_extract(&fetcher, &sources, &e, cached.as_ref()).await;
                let _ = tx.send(TaskResult::Page { entry: e, outcome });
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
            TaskResult::Page { entry, outcome } => {
                let host = entry.host.clone();
                let commit = match outcome {
                    Ok((fetched, extracted)) => self.page_commit(store, &entry, fetched, extracted)?,
                    Err(FetchError::Retryable { reason, retry_after }) if entry.attempts + 1 < settings.max_retries => {
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
                    Err(error) => {
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

    fn page_commit(
        &mut self,
        store: &mut RecordStore,
        entry: &FrontierEntry,
        fetched: Fetched,
        extracted: Option<Extracted>,
    ) -> Result<PageCommit, CrawlError> {
        let settings = &self.config.crawl;
        let mut commit = PageCommit { url: entry.url.clone(), state: Some(UrlState::Done), ..Default::default() };
        let ctx = EntryContext::of(entry);
        let Some(rt) = self.sources.get(&entry.source) else {
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
        match extracted {
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
            Extracted::Detail(d) => {
                let Some(name) = d.name.clone() else {
                    commit.outcome = "detail page without a school name".into();
                    return Ok(commit);
                };
                let contacts: Vec<Contact> = d.contacts.iter().map(|c| to_contact(c, &entry.url, &found_at)).collect();
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
            Extracted::Site { contacts, links, title } => {
                let Some(school_id) = ctx.school_id.clone() else { return Ok(commit) };
                if let Some(Record::School(mut school)) = store.get(&school_id)? {
                    let before = school.contacts.len();
                    merge_contacts(&mut school, contacts.iter().map(|c| to_contact(c, &entry.url, &found_at)).collect());
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
                if entry.depth < max_depth {
                    // Every page of the site within the depth, contact-like pages first: school
                    // sites are small, and staff contacts sit on programme and team pages too.
                    let (contact_like, others): (Vec<&Link>, Vec<&Link>) = links.iter().partition(|l| looks_like_contact(l));
                    for link in contact_like.into_iter().chain(others) {
                        let Some(u) = canonical(&link.url) else { continue };
                        if host_key(&u) != site_host || u.as_str() == entry.url || !looks_like_page(&u) {
                            continue;
                        }
                        let next = EntryContext { redirects: 0, ..ctx.clone() };
                        commit.discovered.push(self::entry(&u, &entry.source, entry.depth + 1, ROLE_SITE, next));
                    }
                }
            }
        }
        Ok(commit)
    }
}

/// Links to files that are not pages (images, documents, archives) are not followed.
fn looks_like_page(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    let ext = path.rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e).unwrap_or("");
    !matches!(
        ext,
        "pdf" | "doc" | "docx" | "xls" | "xlsx" | "ppt" | "pptx" | "odt" | "zip" | "rar" | "jpg" | "jpeg" | "png" | "gif"
            | "svg" | "webp" | "mp3" | "mp4" | "avi" | "mov" | "css" | "js" | "ics" | "xml" | "json"
    )
}

fn school_id_of(school: &School) -> String {
    let mut r = Record::School(school.clone());
    r.assign_id();
    r.id().to_string()
}


fn to_contact(c: &FoundContact, url: &str, found_at: &str) -> Contact {
    Contact {
        kind: c.kind,
        value: c.value.clone(),
        display: c.display.clone(),
        label: c.label.clone(),
        flags: c.flags.clone(),
        provenance: Provenance { url: Some(url.to_string()), method: c.method.to_string(), found_at: found_at.to_string() },
    }
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
    school.phones = school
        .contacts
        .iter()
        .filter(|c| c.kind == ContactKind::Phone)
        .map(|c| c.display.clone().unwrap_or_else(|| c.value.clone()))
        .collect();
}

async fn fetch_and_extract(
    fetcher: &Fetcher,
    sources: &Arc<HashMap<String, SourceRuntime>>,
    entry: &FrontierEntry,
    cached: Option<&CachedPage>,
) -> Result<(Fetched, Option<Extracted>), FetchError> {
    let url = Url::parse(&entry.url).map_err(|e| FetchError::Permanent { reason: format!("bad url: {e}") })?;
    let validators = cached
        .filter(|c| c.body.is_some())
        .map(|c| Validators { etag: c.etag.clone(), last_modified: c.last_modified.clone() })
        .unwrap_or_default();
    let fetched = fetcher.fetch(&url, &validators, false).await?;
    let text = match &fetched {
        Fetched::Page(page) => Some(page.text.clone()),
        Fetched::NotModified => cached
            .and_then(|c| c.body.as_ref().map(|b| crate::fetch::charset::decode(b, c.content_type.as_deref()).0)),
        Fetched::Redirect(_) => None,
    };
    let Some(text) = text else { return Ok((fetched, None)) };
    let sources = sources.clone();
    let role = entry.role.clone();
    let source = entry.source.clone();
    let country = EntryContext::of(entry).country.as_deref().and_then(crate::config::parse_country);
    // Parsing HTML is CPU work: off the async workers.
    let extracted = tokio::task::spawn_blocking(move || {
        let rt = sources.get(&source)?;
        let html = Html::parse_document(&text);
        Some(match role.as_str() {
            ROLE_LIST => {
                let l = rt.selectors.list_links(&html, &url);
                Extracted::List { lists: l.lists, details: l.details }
            }
            ROLE_DETAIL => Extracted::Detail(rt.selectors.entry(&html, &url, &rt.extractor)),
            _ => {
                let title = html
                    .select(&scraper::Selector::parse("title").expect("static selector"))
                    .next()
                    .map(|t| crate::extract::text::squash(&t.text().collect::<String>()))
                    .filter(|t| !t.is_empty());
                let extractor = country.map_or(rt.extractor, |c| ContactExtractor::new(Some(c)));
                Extracted::Site { contacts: extractor.from_html(&html), links: links(&html, &url), title }
            }
        })
    })
    .await
    .ok()
    .flatten();
    Ok((fetched, extracted))
}
