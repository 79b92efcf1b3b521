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
//! The same file keeps the crawler's durable state (runs, the frontier, the HTTP cache: see
//! [`RecordStore::commit_page`]) so an interrupted crawl resumes, and the embedding cache (see
//! [`RecordStore::cached_embeddings`]) so unchanged texts are not embedded twice.
//!
//! Access and the contacts' lawful use live here too: API keys, of which only a hash is kept
//! ([`RecordStore::create_key`], [`verify_secret`]); the suppression list of addresses, domains
//! and phones whose owners objected, never exported again ([`RecordStore::suppress`],
//! [`SuppressionList`]); the log of who exported contacts ([`RecordStore::log_export`]); and
//! the offers forwarded to programme managers ([`RecordStore::add_transmission`]).
//!
//! Exports and other files that people or scripts pick up are written with [`write_atomically`]:
//! whole or not at all, and on disk before it returns.
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

#![warn(missing_docs)]

mod atomic_write;
mod crawl_state;
mod embedding_cache;
mod exports_log;
mod jsonl;
mod keys;
mod live;
mod migrations;
#[cfg(feature = "openapi")]
mod openapi;
mod store;
mod suppressions;
mod transmissions;

pub use atomic_write::write_atomically;
pub use crawl_state::{CachedPage, FrontierEntry, PageCommit, RunCounts, UrlState};
pub use embedding_cache::text_hash;
pub use exports_log::ExportLogEntry;
pub use jsonl::{ImportReport, LineError, OnError, export_jsonl, import_jsonl, import_reader};
pub use keys::{ApiKey, KeyStatus, MAX_NAME_CHARS, NewKey, SCOPES, SECRET_PREFIX, key_hash, parse_duration_days, verify_secret};
pub use live::{LiveOp, LiveWrite};
pub use store::{RecordStore, STORE_FILE, StoreError, Upsert, UpsertOutcome};
pub use suppressions::{Suppression, SuppressionEntry, SuppressionList};
pub use transmissions::{NewTransmission, Transmission, TransmissionStatus};
