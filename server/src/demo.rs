//! `passerelle demo`: the newcomer's first command. Loads the fixtures shipped in the binary
//! into the data directory, builds an index generation, and serves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use indexer::embed::Embedder;
use indexer::semantic::{QUERY_CACHE_SIZE, QUERY_TIMEOUT, QueryEncoder};

use store::{OnError, RecordStore};

use crate::{ServeConfig, ServeError};

/// The fixture records, compiled in so the demo runs from anywhere.
pub const FIXTURES: &[(&str, &str)] = &[
    ("fixtures/data/schools.jsonl", include_str!("../../fixtures/data/schools.jsonl")),
    ("fixtures/data/programmes.jsonl", include_str!("../../fixtures/data/programmes.jsonl")),
    ("fixtures/data/companies.jsonl", include_str!("../../fixtures/data/companies.jsonl")),
    ("fixtures/data/offers.jsonl", include_str!("../../fixtures/data/offers.jsonl")),
    ("fixtures/data/questions.jsonl", include_str!("../../fixtures/data/questions.jsonl")),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Index(#[from] indexer::IndexError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("fixture {file} has bad lines: {errors}")]
    BadFixture { file: String, errors: String },
}

/// Imports the fixtures and builds an index (with vectors when `embedder` is given); returns
/// (records imported, generation name).
pub fn prepare(data_dir: &std::path::Path, embedder: Option<&dyn Embedder>) -> Result<(usize, String), DemoError> {
    let imported = import(data_dir)?;
    let name = build(data_dir, embedder)?;
    Ok((imported, name))
}

fn import(data_dir: &std::path::Path) -> Result<usize, DemoError> {
    let mut store = RecordStore::open_dir(data_dir)?;
    let mut imported = 0;
    for (name, text) in FIXTURES {
        let report = store::import_reader(&mut store, text.as_bytes(), name, OnError::Reject)?;
        if !report.errors.is_empty() {
            let errors = report.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return Err(DemoError::BadFixture { file: name.to_string(), errors });
        }
        imported += report.written();
    }
    Ok(imported)
}

fn build(data_dir: &std::path::Path, embedder: Option<&dyn Embedder>) -> Result<String, DemoError> {
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

/// Prepares the data directory, then serves until Ctrl-C. Without `embedder`, keyword search only.
///
/// The keyword index is built first and served at once; with a model, the generation with
/// vectors is built next, in the background, and swapped in when published (the first run
/// embeds every record; later runs read the embedding cache).
pub async fn run(data_dir: PathBuf, addr: SocketAddr, embedder: Option<Arc<dyn Embedder>>) -> Result<(), DemoError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let dir = data_dir.clone();
    let (records, generation) = tokio::task::spawn_blocking(move || -> Result<(usize, String), DemoError> {
        let n = import(&dir)?;
        Ok((n, build(&dir, None)?))
    })
    .await
    .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    let local = listener.local_addr().map_err(ServeError::Io)?;
    println!("passerelle demo: {records} fixture records imported into {}, index generation {generation}", data_dir.display());
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
    crate::serve_on(listener, config, shutdown).await?;
    Ok(())
}
