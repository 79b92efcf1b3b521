//! The crawl configuration (TOML). A bad line is reported with the file, the line and the key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::CrawlError;

/// `[crawl]`: politeness and budgets for the whole crawl.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrawlSettings {
    /// Sent with every request; its product token (before the `/`) is the robots.txt agent.
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Requests per second per host (robots.txt Crawl-delay can only slow it down).
    #[serde(default = "default_rps")]
    pub per_host_rps: f64,
    /// Pages in flight across hosts.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Longest a request may take, connection and body included.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Bodies larger than this are not read (the URL is skipped as too large).
    #[serde(default = "default_max_page_bytes")]
    pub max_page_bytes: usize,
    /// Whole-crawl budget.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// Read and obey robots.txt (turn off only for sites you own).
    #[serde(default = "default_true")]
    pub respect_robots: bool,
    /// Attempts per URL on 408/429/5xx and network errors.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Redirects followed per request.
    #[serde(default = "default_redirects")]
    pub max_redirects: usize,
    /// Pages per host (traps such as endless calendars stop here).
    #[serde(default = "default_max_pages_per_host")]
    pub max_pages_per_host: usize,
    /// An external WebDriver (e.g. `http://127.0.0.1:9515`); without it the crawler starts
    /// chromedriver itself when a page needs the browser.
    pub webdriver_url: Option<String>,
    /// The chromedriver the crawler starts.
    #[serde(default = "default_chromedriver")]
    pub chromedriver: String,
    /// The Chromium that chromedriver runs.
    #[serde(default = "default_chromium")]
    pub chromium: String,
    /// Browser sessions (Chromium processes) at most.
    #[serde(default = "default_browser_sessions")]
    pub browser_sessions: usize,
    /// Longest a page may take to load in the browser.
    #[serde(default = "default_page_load_timeout")]
    pub page_load_timeout_secs: u64,
    /// How long the page must stay unchanged after loading before it is read (its scripts are done).
    #[serde(default = "default_render_settle_ms")]
    pub render_settle_ms: u64,
}

fn default_chromedriver() -> String {
    crate::browser::DEFAULT_CHROMEDRIVER.into()
}
fn default_chromium() -> String {
    crate::browser::DEFAULT_CHROMIUM.into()
}
fn default_browser_sessions() -> usize {
    2
}
fn default_page_load_timeout() -> u64 {
    20
}
fn default_render_settle_ms() -> u64 {
    300
}

fn default_user_agent() -> String {
    "passerelle/0.1 (+https://example.org/bot)".into()
}
fn default_rps() -> f64 {
    1.0
}
fn default_concurrency() -> usize {
    8
}
fn default_timeout() -> u64 {
    20
}
fn default_max_page_bytes() -> usize {
    5_000_000
}
fn default_max_pages() -> usize {
    20_000
}
fn default_true() -> bool {
    true
}
fn default_retries() -> u32 {
    3
}
fn default_redirects() -> usize {
    5
}
fn default_max_pages_per_host() -> usize {
    200
}

impl Default for CrawlSettings {
    fn default() -> Self {
        toml::from_str("").expect("every setting has a default")
    }
}

/// What a source crawls.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// List pages leading to detail pages, one school each, read through CSS selectors.
    SchoolDirectory,
    /// The schools' own websites: home and contact-like pages, for emails and phones.
    SchoolSites,
    /// Job and internship boards or career pages (JSON-LD `JobPosting`, else CSS).
    Offers,
    /// Programme pages (JSON-LD `EducationalOccupationalProgram` or `Course`, else CSS).
    Programmes,
}

/// How a source's pages are read: `render = "static" | "browser" | "auto"`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Render {
    /// The HTML as served, scripts not run.
    #[default]
    Static,
    /// Every page rendered in headless Chromium.
    Browser,
    /// Static first; rendered when the page seems to need its scripts.
    Auto,
}

/// `from = "a"` or `from = ["a", "b"]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `from = "a"`.
    One(String),
    /// `from = ["a", "b"]`.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names, one or many.
    pub fn names(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// `[[source]]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Unique in the config; written on every record the source finds.
    pub name: String,
    /// What the source crawls.
    pub kind: SourceKind,
    /// Where a directory, offers or programmes source starts.
    #[serde(default)]
    pub start_urls: Vec<String>,
    /// For `school_sites`: the directory sources whose schools' websites are visited.
    pub from: Option<OneOrMany>,
    /// For `school_sites`: websites given directly.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Static, browser or auto.
    #[serde(default)]
    pub render: Render,
    /// Default region for phone numbers (`BE`, `FR`).
    pub country: Option<String>,
    /// Region written on the records when the page does not say.
    pub region: Option<String>,
    /// Links followed from a start page at most (defaults: 100 for directories, 2 for
    /// school sites, 20 for offers and programmes).
    pub max_depth: Option<u32>,
    /// For `offers` / `programmes`: links to follow from list pages to item pages (CSS).
    pub follow: Option<String>,
    /// CSS selectors.
    #[serde(default)]
    pub select: BTreeMap<String, String>,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrawlConfig {
    /// `[crawl]`.
    #[serde(default)]
    pub crawl: CrawlSettings,
    /// The `[[source]]`s, in file order.
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
}

pub use crate::extract::items::{OFFER_SELECTORS, PROGRAMME_SELECTORS};

/// Selector names a `school_directory` source understands.
pub const DIRECTORY_SELECTORS: &[&str] =
    &["list_link", "region_link", "school_link", "next_page", "name", "address", "phone", "email", "website", "region", "kind", "fax", "postal_code", "city"];

impl CrawlConfig {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<CrawlConfig, CrawlError> {
        let text = std::fs::read_to_string(path).map_err(|source| CrawlError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses config text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<CrawlConfig, CrawlError> {
        let config: CrawlConfig = toml::from_str(text).map_err(|e| {
            // Counted in bytes: the parser's offset need not fall on a character boundary.
            let line = e.span().map(|s| text.bytes().take(s.start).filter(|b| *b == b'\n').count() + 1);
            CrawlError::Config { path: path.to_path_buf(), line, message: e.message().trim().to_string() }
        })?;
        config.check(text, path)?;
        Ok(config)
    }

    fn check(&self, text: &str, path: &Path) -> Result<(), CrawlError> {
        // The line of `key` in the block of source `source` (or anywhere for None).
        let fail = |source: Option<&str>, key: &str, message: String| {
            let lines: Vec<&str> = text.lines().collect();
            let start =
                source.and_then(|name| lines.iter().position(|l| l.trim_start().starts_with("name") && l.contains(&format!("\"{name}\"")))).unwrap_or(0);
            // Past the source's own `name` line, unless that is the key asked for.
            let from = if key == "name" { start } else { (start + 1).min(lines.len()) };
            let line = lines[from..].iter().position(|l| l.trim_start().starts_with(key)).map(|i| from + i + 1).or((source.is_some()).then_some(start + 1));
            Err(CrawlError::Config { path: path.to_path_buf(), line, message })
        };
        let c = &self.crawl;
        if !(c.per_host_rps > 0.0 && c.per_host_rps.is_finite()) {
            return fail(None, "per_host_rps", format!("`per_host_rps` must be a positive number, got {}", c.per_host_rps));
        }
        if c.concurrency == 0 {
            return fail(None, "concurrency", "`concurrency` must be at least 1".into());
        }
        // Sent as the User-Agent header: visible ASCII and spaces only (a tab or a control
        // character, such as TOML's `\b`, would make every request fail).
        if c.user_agent.trim().is_empty() || !c.user_agent.chars().all(|ch| ch == ' ' || ch.is_ascii_graphic()) {
            return fail(None, "user_agent", format!("`user_agent` must be printable ASCII (it is sent as a header), got {:?}", c.user_agent));
        }
        if c.max_page_bytes == 0 || c.max_pages == 0 || c.timeout_secs == 0 {
            return fail(None, "[crawl]", "`max_page_bytes`, `max_pages` and `timeout_secs` must be positive".into());
        }
        if c.browser_sessions == 0 || c.browser_sessions > 16 {
            return fail(None, "browser_sessions", format!("`browser_sessions` must be between 1 and 16, got {}", c.browser_sessions));
        }
        if c.page_load_timeout_secs == 0 {
            return fail(None, "page_load_timeout_secs", "`page_load_timeout_secs` must be positive".into());
        }
        if c.render_settle_ms > 10_000 {
            return fail(None, "render_settle_ms", format!("`render_settle_ms` must be at most 10000, got {}", c.render_settle_ms));
        }
        if let Some(w) = &c.webdriver_url {
            if !matches!(url::Url::parse(w), Ok(u) if u.scheme() == "http" || u.scheme() == "https") {
                return fail(None, "webdriver_url", format!("`webdriver_url` = `{w}` is not an http(s) URL"));
            }
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.sources {
            let at = Some(s.name.as_str());
            if !names.insert(s.name.as_str()) {
                return fail(at, "name", format!("two sources are named `{}`", s.name));
            }
            for url in s.start_urls.iter().chain(&s.urls) {
                if let Err(e) = url::Url::parse(url) {
                    return fail(
                        at,
                        if s.start_urls.contains(url) { "start_urls" } else { "urls" },
                        format!("source `{}`: `{url}` is not a URL ({e})", s.name),
                    );
                }
            }
            if let Some(country) = &s.country {
                if parse_country(country).is_none() {
                    return fail(at, "country", format!("source `{}`: unknown country `{country}` (use BE, FR, NL...)", s.name));
                }
            }
            for (key, selector) in &s.select {
                if let Err(e) = scraper::Selector::parse(selector) {
                    return fail(at, &format!("{key} "), format!("source `{}`: selector `{key}` = `{selector}` is not valid CSS ({e})", s.name));
                }
                let known = match s.kind {
                    SourceKind::SchoolDirectory => DIRECTORY_SELECTORS,
                    SourceKind::Offers => OFFER_SELECTORS,
                    SourceKind::Programmes => PROGRAMME_SELECTORS,
                    SourceKind::SchoolSites => &[],
                };
                if !known.contains(&key.as_str()) {
                    let known = if known.is_empty() { "none (school_sites read contacts on their own)".to_string() } else { known.join(", ") };
                    return fail(at, &format!("{key} "), format!("source `{}`: unknown selector `{key}`; known: {known}", s.name));
                }
            }
            if let Some(follow) = &s.follow {
                if let Err(e) = scraper::Selector::parse(follow) {
                    return fail(at, "follow", format!("source `{}`: `follow` = `{follow}` is not valid CSS ({e})", s.name));
                }
                if !matches!(s.kind, SourceKind::Offers | SourceKind::Programmes) {
                    return fail(at, "follow", format!("source `{}`: `follow` is for `offers` and `programmes` sources", s.name));
                }
            }
            match s.kind {
                SourceKind::SchoolDirectory => {
                    if s.start_urls.is_empty() {
                        return fail(at, "kind", format!("source `{}` needs `start_urls`", s.name));
                    }
                    for needed in ["name"] {
                        if !s.select.contains_key(needed) {
                            return fail(at, "[source.select]", format!("source `{}` needs the selector `{needed}` in [source.select]", s.name));
                        }
                    }
                }
                SourceKind::SchoolSites => {
                    let from = s.from.as_ref().map(|f| f.names()).unwrap_or_default();
                    if from.is_empty() && s.urls.is_empty() {
                        return fail(at, "kind", format!("source `{}` needs `from` (directory sources) or `urls`", s.name));
                    }
                    for f in from {
                        let ok = self.sources.iter().any(|o| o.name == f && o.kind == SourceKind::SchoolDirectory);
                        if !ok {
                            return fail(at, "from", format!("source `{}`: `from` names `{f}`, which is not a school_directory source", s.name));
                        }
                    }
                }
                SourceKind::Offers | SourceKind::Programmes => {
                    if s.start_urls.is_empty() {
                        return fail(at, "kind", format!("source `{}` needs `start_urls` (list pages or item pages)", s.name));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The country a source's phone numbers default to.
pub fn source_country(source: &Source) -> Option<phonenumber::country::Id> {
    source.country.as_deref().and_then(parse_country)
}

/// An ISO country code (`BE`, `fr`) as libphonenumber's region, `None` when unknown.
pub fn parse_country(code: &str) -> Option<phonenumber::country::Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CrawlConfig, CrawlError> {
        CrawlConfig::parse(text, Path::new("crawl.toml"))
    }

    const GOOD: &str = r#"
[crawl]
per_host_rps = 2.0

[[source]]
name = "annuaire"
kind = "school_directory"
start_urls = ["http://127.0.0.1:8900/annuaire/index.html"]
country = "BE"
[source.select]
school_link = "a.school"
name = "h1"

[[source]]
name = "sites"
kind = "school_sites"
from = "annuaire"
max_depth = 2
render = "auto"
"#;

    #[test]
    fn a_user_agent_that_cannot_be_a_header_is_refused_on_its_line() {
        // Found by the mutated-config property: TOML's `\b` made every request fail later.
        let text = GOOD.replace("per_host_rps = 2.0", "per_host_rps = 2.0\nuser_agent = \"passerelle\\b/0.1\"");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.starts_with("crawl.toml:4:") && e.contains("user_agent"), "{e}");
        assert!(parse(&GOOD.replace("per_host_rps = 2.0", "per_host_rps = 2.0\nuser_agent = \"passerelle/0.1 (+https://x.test)\"")).is_ok());
    }

    #[test]
    fn reads_the_documented_shape() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.crawl.per_host_rps, 2.0);
        assert_eq!(c.crawl.concurrency, 8);
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.sources[1].from.as_ref().unwrap().names(), vec!["annuaire"]);
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let bad = GOOD.replace("per_host_rps = 2.0", "per_host_rps = 2.0\nper_hots_rps = 1");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.starts_with("crawl.toml:4:"), "{e}");
        assert!(e.contains("per_hots_rps"), "{e}");

        let bad = GOOD.replace("name = \"h1\"", "name = \"h1[\"");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("crawl.toml:12") && e.contains("not valid CSS"), "{e}");

        let bad = GOOD.replace("from = \"annuaire\"", "from = \"annuair\"");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("annuair") && e.contains(":17:"), "{e}");

        let bad = GOOD.replace("kind = \"school_sites\"", "kind = \"school_site\"");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains(":16:") && e.contains("school_site"), "{e}");

        let bad = GOOD.replace("country = \"BE\"", "country = \"Belgique\"");
        assert!(parse(&bad).unwrap_err().to_string().contains("unknown country"));
    }

    #[test]
    fn offers_and_programmes_sources_with_the_browser() {
        let offers = format!(
            "{GOOD}\n[[source]]\nname = \"jobs\"\nkind = \"offers\"\nstart_urls = [\"http://127.0.0.1:8900/jobs/\"]\nfollow = \"a.offer\"\nrender = \"browser\"\n[source.select]\ntitle = \"h1\"\nnext_page = \"a.next\"\n"
        );
        let c = parse(&offers).unwrap();
        assert_eq!(c.sources[2].kind, SourceKind::Offers);
        assert_eq!(c.sources[2].render, Render::Browser);
        assert_eq!(c.crawl.browser_sessions, 2);
        let e = parse(&offers.replace("title = \"h1\"", "name = \"h1\"")).unwrap_err().to_string();
        assert!(e.contains("unknown selector `name`") && e.contains("valid_through"), "{e}");
        let e = parse(&offers.replace("follow = \"a.offer\"", "follow = \"a[\"")).unwrap_err().to_string();
        assert!(e.contains(":25:") && e.contains("`follow`"), "{e}");
        let e = parse(&offers.replace("start_urls = [\"http://127.0.0.1:8900/jobs/\"]\n", "")).unwrap_err().to_string();
        assert!(e.contains("needs `start_urls`"), "{e}");
        let e = parse(&offers.replace("per_host_rps = 2.0", "per_host_rps = 2.0\nwebdriver_url = \"localhost:9515\"")).unwrap_err().to_string();
        assert!(e.contains(":4:") && e.contains("webdriver_url"), "{e}");
        let e = parse(&offers.replace("per_host_rps = 2.0", "per_host_rps = 2.0\nbrowser_sessions = 0")).unwrap_err().to_string();
        assert!(e.contains("browser_sessions"), "{e}");
    }
}
