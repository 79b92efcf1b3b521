//! Indexing and keyword search for passerelle.
//!
//! `passerelle index` calls [`build_generation`]: it reads every record of the records store and
//! writes a new tantivy index *generation* beside the served one, then publishes it atomically.
//! [`SearchIndex`] opens a generation and answers the search box: French, Dutch and English
//! stemming ([`analysis`]), search-as-you-type with typo tolerance ([`query`]), filters and facet
//! counts, and HTML-escaped highlighted snippets ([`highlight`]).
//!
//! With an embedding model ([`embed`]) a generation also holds one HNSW graph per kind
//! ([`semantic`], [`vectors`]) and search is hybrid ([`hybrid`]). On top of both legs: the
//! matchers ([`matching`]), the similar-questions check ([`questions`]) and the trends
//! ([`stats`]). This crate knows nothing of HTTP.
//!
//! ```no_run
//! use passerelle_indexer::{SearchIndex, SearchRequest};
//! let index = SearchIndex::open_current(std::path::Path::new("data")).unwrap();
//! let found = index.search(&SearchRequest { q: "infromatique".into(), limit: 10, prefix: true, ..Default::default() }).unwrap();
//! for hit in found.hits { println!("{} {} {}", hit.score, hit.kind, hit.title); }
//! ```

pub mod analysis;
pub mod eval;
pub mod embed;
mod error;
mod facets;
pub mod generation;
pub mod highlight;
pub mod hybrid;
pub mod matching;
pub mod occupations;
pub mod query;
pub mod questions;
pub mod schema;
pub mod semantic;
pub mod stats;
pub mod vectors;
mod search;

pub use error::IndexError;
pub use generation::{BuildReport, GenerationManifest, Phase, build_generation, build_generation_with, current_generation};
pub use schema::FacetField;
pub use search::{Hit, MAX_DEPTH, MAX_LIMIT, SearchIndex, SearchRequest, SearchResponse, SemanticStatus};
