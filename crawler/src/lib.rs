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

#![warn(missing_docs)]

pub mod browser;
pub mod config;
pub mod contact_eval;
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
    /// A config that does not parse or does not hold together.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        /// The config file.
        path: PathBuf,
        /// Its line at fault, when one can be told.
        line: Option<usize>,
        /// What is wrong, and with which key.
        message: String,
    },
    /// A file that could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The records store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The HTTP client could not be built (or a stored URL no longer parses).
    #[error("HTTP client: {0}")]
    Client(String),
    /// The contacts export could not be written.
    #[error("export: {0}")]
    Export(String),
}
