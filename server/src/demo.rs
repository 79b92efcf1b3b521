//! `passerelle demo`: the newcomer's first command. Loads the fixtures shipped in the binary
//! into the data directory, builds an index generation, and serves.

use std::net::SocketAddr;
use std::path::PathBuf;

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

/// Imports the fixtures and builds an index; returns (records imported, generation name).
pub fn prepare(data_dir: &std::path::Path) -> Result<(usize, String), DemoError> {
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
    let report = indexer::build_generation(data_dir, &store, |_| {})?;
    Ok((imported, report.manifest.name))
}

/// Prepares the data directory, then serves until Ctrl-C.
pub async fn run(data_dir: PathBuf, addr: SocketAddr) -> Result<(), DemoError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let dir = data_dir.clone();
    let (records, generation) = tokio::task::spawn_blocking(move || prepare(&dir))
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    let local = listener.local_addr().map_err(ServeError::Io)?;
    println!("passerelle demo: {records} fixture records imported into {}, index generation {generation}", data_dir.display());
    println!("open http://{local}/  (API: http://{local}/api/search?q=informatique)  Ctrl-C to stop");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::serve_on(listener, ServeConfig::new(data_dir, local), shutdown).await?;
    Ok(())
}
