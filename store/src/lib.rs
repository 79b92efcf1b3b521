//! The records store: the source of truth of passerelle.
//!
//! One SQLite file (`records.sqlite` in the data directory) holds every record (schools,
//! programmes, offers, companies, questions) keyed by its stable id. It runs in WAL mode with
//! `synchronous = FULL`: once [`RecordStore::upsert`] or an import returns, the records survive a
//! crash or a power cut. The schema carries a version and migrates itself forward on open.
//!
//! JSON Lines is the exchange format: [`import_jsonl`] reads a file (every bad line reported with
//! its file and line number, then skipped or the whole file rejected, as asked) and
//! [`export_jsonl`] writes records back out.
//!
//! This crate does not crawl, index or serve; the crawler, the indexer and the server use it.
//!
//! ```
//! use passerelle_store::RecordStore;
//! use schemas::{Company, Record};
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = RecordStore::open_dir(dir.path()).unwrap();
//! let company = Company { source: "demo".into(), source_key: "c1".into(), name: "Ardennes Logiciels".into(), ..Default::default() };
//! let outcome = store.upsert(Record::Company(company)).unwrap();
//! assert_eq!(store.count(None).unwrap(), 1);
//! assert!(store.get(&outcome.id).unwrap().is_some());
//! ```

mod crawl_state;
mod embedding_cache;
mod jsonl;
mod migrations;
mod store;

pub use embedding_cache::text_hash;
pub use crawl_state::{CachedPage, FrontierEntry, PageCommit, RunCounts, UrlState};
pub use jsonl::{ImportReport, LineError, OnError, export_jsonl, import_jsonl, import_reader};
pub use store::{RecordStore, StoreError, Upsert, UpsertOutcome, STORE_FILE};
