//! The document types of passerelle and their JSON Schemas.
//!
//! Every record the service knows (a [`School`], a [`Programme`], an [`Offer`], a [`Company`], a
//! [`Question`]) is one variant of [`Record`], serialised as one JSON object whose `kind` field
//! names the variant. That object is the line format of `passerelle import` / `passerelle export`
//! and the body stored in the records store.
//!
//! Ids are stable: [`Record::assign_id`] derives the id from the kind, the source and the record's
//! key in that source, so the same school crawled or imported twice gets the same id.
//!
//! This crate holds types, validation and ids only; it does no I/O (see `passerelle-store`).
//!
//! ```
//! use passerelle_schemas::Record;
//! let line = r#"{"kind":"question","source":"demo","source_key":"q1","text":"What does 1 + 1 print?","language":"en","tag":"Python"}"#;
//! let mut record: Record = serde_json::from_str(line).unwrap();
//! record.assign_id();
//! assert!(record.id().starts_with("question-"));
//! assert!(record.validate().is_ok());
//! ```

#![warn(missing_docs)]

mod id;
mod record;
pub mod schema;
mod validate;

pub use id::{hex, normalized_text, now_rfc3339, stable_id};
pub use record::*;
pub use validate::ValidationError;
