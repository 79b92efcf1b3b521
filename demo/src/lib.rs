//! `passerelle demo`: the newcomer's first command. Serves the fixture websites on loopback
//! (school directories, school sites, a job board built by JavaScript, company career pages, a
//! programme catalogue), crawls them into the data directory, imports the quiz questions (no
//! website publishes them), builds an index generation, and serves the API and the web page
//! with `passerelle-server`. It tells what it does on standard output, line by line; the last
//! line before serving is `open http://ADDR/ ...`.
//!
//! The fixture sites keep the same addresses from one run to the next (one port on 127.0.1.x),
//! so a second run re-crawls with conditional requests instead of adding copies. Pages that need
//! the browser are rendered by Chromium through chromedriver when Debian's `chromium` and
//! `chromium-driver` are installed; without them the crawl reads those pages without their
//! scripts and the summary lists them with why.
//!
//! What it does not do: crawl anything but the fixture sites, or serve anything the server does
//! not (it calls [`server::serve_on`] with the defaults). It wires the crates together; crawling,
//! indexing and serving are theirs.

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use embed::{Embedder, QUERY_CACHE_SIZE, QUERY_TIMEOUT, QueryEncoder};
use store::{OnError, RecordStore};

use server::{ServeConfig, ServeError};

/// The quiz questions, compiled in: no fixture site publishes them.
pub const QUESTIONS: (&str, &str) = ("fixtures/data/questions.jsonl", include_str!("../../fixtures/data/questions.jsonl"));

/// The fixture sites' folder of this source tree (used when `--sites` is not given and
/// `./fixtures/sites` does not exist).
pub const BUILT_IN_SITES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/sites");

/// The port every fixture host listens on (each on its own 127.0.1.x address).
pub const SITES_PORT: u16 = 7901;

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The records store of the data directory failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Building the index generation failed.
    #[error(transparent)]
    Index(#[from] indexer::IndexError),
    /// The server could not start or stopped (or the data directory cannot be written).
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The crawl failed.
    #[error(transparent)]
    Crawl(#[from] crawler::CrawlError),
    /// The fixture sites could not be read or served.
    #[error("fixture sites: {0}")]
    Sites(#[from] sitefixtures::FixtureError),
    /// A compiled-in fixture file has lines the store refuses.
    #[error("fixture {file} has bad lines: {errors}")]
    BadFixture {
        /// The fixture file.
        file: String,
        /// What was wrong, line by line.
        errors: String,
    },
}

/// Where the fixture sites are: `--sites`, else `./fixtures/sites`, else this source tree's.
pub fn sites_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let here = PathBuf::from("fixtures/sites");
        if here.join("hosts.toml").is_file() { here } else { PathBuf::from(BUILT_IN_SITES) }
    })
}

/// Starts the fixture sites on their usual addresses (on free ports when those are taken).
pub async fn start_sites(dir: &Path) -> Result<sitefixtures::FixtureSites, DemoError> {
    match sitefixtures::FixtureSites::start_at(dir, SITES_PORT).await {
        Ok(sites) => Ok(sites),
        Err(e) => {
            println!(
                "passerelle demo: port {SITES_PORT} is taken ({e}); the sites get other ports, so records of an earlier demo in the same data directory are not updated but added"
            );
            Ok(sitefixtures::FixtureSites::start(dir).await?)
        }
    }
}

/// Crawls every fixture site into `data_dir` (the browser where pages need it) and imports the
/// questions. Returns the crawl summary and how many questions were imported.
pub async fn crawl_fixtures(sites: &sitefixtures::FixtureSites, data_dir: &Path, progress: bool) -> Result<(crawler::CrawlSummary, usize), DemoError> {
    std::fs::create_dir_all(data_dir).map_err(|e| ServeError::Io(std::io::Error::other(format!("{}: {e}", data_dir.display()))))?;
    let text = sites.render_file("demo.toml")?;
    let path = data_dir.join("demo-crawl.toml");
    std::fs::write(&path, &text).map_err(|e| ServeError::Io(std::io::Error::other(format!("{}: {e}", path.display()))))?;
    let config = crawler::CrawlConfig::parse(&text, &path)?;
    let summary = crawler::crawl(&config, "demo-crawl.toml", data_dir, progress).await?;
    let dir = data_dir.to_path_buf();
    let questions = tokio::task::spawn_blocking(move || import_questions(&dir)).await.map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    Ok((summary, questions))
}

fn import_questions(data_dir: &Path) -> Result<usize, DemoError> {
    let mut store = RecordStore::open_dir(data_dir)?;
    let (name, text) = QUESTIONS;
    let report = store::import_reader(&mut store, text.as_bytes(), name, OnError::Reject)?;
    if !report.errors.is_empty() {
        let errors = report.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(DemoError::BadFixture { file: name.to_string(), errors });
    }
    Ok(report.written())
}

/// Builds an index generation (with vectors when `embedder` is given); returns its name.
pub fn build(data_dir: &Path, embedder: Option<&dyn Embedder>) -> Result<String, DemoError> {
    let mut store = RecordStore::open_dir(data_dir)?;
    let mut announced = false;
    let report = indexer::build_generation_with(data_dir, &mut store, embedder, |phase, done, total| {
        if phase == indexer::Phase::Embedding && !announced && done < total {
            announced = true;
            println!("passerelle demo: embedding {total} records for the semantic leg (vectors are cached: later runs skip this)");
        }
    })?;
    Ok(report.manifest.name)
}

/// Serves the fixture sites, crawls them, indexes, then serves until Ctrl-C. Without
/// `embedder`, keyword search only.
///
/// The keyword index is built first and served at once; with a model, the generation with
/// vectors is built next, in the background, and swapped in when published (the first run
/// embeds every record; later runs read the embedding cache).
pub async fn run(data_dir: PathBuf, addr: SocketAddr, sites_dir: PathBuf, embedder: Option<Arc<dyn Embedder>>) -> Result<(), DemoError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let sites = start_sites(&sites_dir).await?;
    let some = sites.addr("annuaire-be").map(|a| a.to_string()).unwrap_or_default();
    println!(
        "passerelle demo: {} fixture sites served on loopback (e.g. the Belgian directory at http://{some}/), crawling them into {}",
        sites.hosts().len(),
        data_dir.display()
    );
    let (summary, questions) = crawl_fixtures(&sites, &data_dir, true).await?;
    print!("{summary}");
    println!("passerelle demo: {questions} quiz questions imported (no site publishes them)");
    let dir = data_dir.clone();
    let generation = tokio::task::spawn_blocking(move || build(&dir, None)).await.map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    let local = listener.local_addr().map_err(ServeError::Io)?;
    println!("passerelle demo: index generation {generation}");
    match &embedder {
        Some(e) => {
            println!("passerelle demo: keyword search now; the semantic leg ({}) follows in the background", e.model_id());
            let (dir, e) = (data_dir.clone(), e.clone());
            tokio::task::spawn_blocking(move || match build(&dir, Some(e.as_ref())) {
                Ok(name) => println!("passerelle demo: semantic leg ready, index generation {name} (hybrid search)"),
                Err(err) => eprintln!("passerelle demo: the semantic leg failed, keyword search only: {err}"),
            });
        }
        None => println!("passerelle demo: no embedding model, keyword search only (`passerelle model fetch` adds the semantic leg)"),
    }
    println!("open http://{local}/  (API: http://{local}/api/search?q=informatique)  Ctrl-C to stop");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut config = ServeConfig::new(data_dir, local);
    config.encoder = embedder.map(|e| Arc::new(QueryEncoder::new(e, QUERY_CACHE_SIZE, QUERY_TIMEOUT)));
    // The sites stay up while the demo serves: the records' links point at them.
    server::serve_on(listener, config, shutdown).await?;
    drop(sites);
    Ok(())
}
