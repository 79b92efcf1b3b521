//! The crawler of passerelle: it reads school directories and school websites, politely, and
//! writes schools with checked, de-duplicated contacts (each with where and how it was found),
//! offers (with their companies) and programmes into the records store.
//!
//! - [`config`]: the TOML crawl config; a bad line names its file, line and key.
//! - [`fetch`]: one request, with a timeout, a size cap, conditional GET and charset decoding.
//! - [`politeness`]: robots.txt (with Crawl-delay) and a governor limiter per host.
//! - [`extract`]: contacts (de-obfuscation, email validation, phone numbers with
//!   libphonenumber's metadata), links, directory fields through CSS selectors.
//! - [`crawl()`]: the loop; resumable after a kill, conditional on recrawl.
//! - [`export`]: the marketing team's contacts export (CSV or JSON Lines).
//!
//! - [`browser`]: headless Chromium through chromedriver (fantoccini), for pages built by
//!   JavaScript (`render = "browser"`, or `"auto"` when a page needs it).
//! - `offers` and `programmes` sources: schema.org JSON-LD first, CSS selectors second
//!   ([`extract::items`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), passerelle_crawler::CrawlError> {
//! let path = std::path::Path::new("crawl.toml");
//! let config = passerelle_crawler::CrawlConfig::load(path)?;
//! let summary = passerelle_crawler::crawl(&config, "crawl.toml", std::path::Path::new("data"), true).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

pub mod browser;
pub mod config;
mod crawl;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod politeness;
pub mod url_norm;

use std::path::PathBuf;

pub use config::CrawlConfig;
pub use crawl::{CrawlSummary, crawl};

/// Everything that can stop a crawl or an export.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config { path: PathBuf, line: Option<usize>, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("export: {0}")]
    Export(String),
}
