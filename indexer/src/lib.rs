//! passerelle's search engine: from the records store to ranked, explained documents.
//!
//! - [`analysis`] cuts text into terms: French, Dutch and English stemming, folded words for
//!   names, prefixes and typos, whole folded values for filters.
//! - [`schema`] lays out the tantivy fields and fills them from a record.
//! - [`generation`]: `passerelle index` calls [`build_generation`] (with a model,
//!   [`build_generation_with`]), which writes a whole new index generation beside the served one
//!   and publishes it atomically; [`SearchIndex`] opens one.
//! - [`semantic`] and [`vectors`]: a generation built with an embedding model also holds one HNSW
//!   graph per record kind, with the facet values its filters need.
//! - [`retrieve`] holds the one retriever, [`SearchIndex::retrieve`]: the search box
//!   ([`SearchIndex::search`], [`SearchIndex::search_hybrid`]), the matchers, the
//!   similar-questions check and the evaluation all describe what they want as a [`Retrieval`]
//!   and get [`Candidates`] back. It runs the keyword leg ([`query`]: every typed word, the last
//!   one as a prefix, typos), the semantic leg when it can help, and fuses them ([`hybrid`]:
//!   reciprocal rank fusion by default), keeping each document's place in each leg.
//! - [`live`]: records written through the API are served at once ([`SearchIndex::apply`]),
//!   and replayed when a generation is opened ([`SearchIndex::catch_up`]).
//! - [`geo`]: the gazetteer that gives records coordinates at index time from their town, and
//!   the circle ("near Namur, 30 km") searches are filtered and sorted by.
//! - [`highlight`] turns a text and a query into HTML-escaped snippets with the matches marked.
//!
//! What this crate does not do: HTTP (the `server` crate turns requests into calls here and
//! picks the status of each [`IndexError`]), product features (matchers, similar questions,
//! trends and evaluation are in the `features` crate, on top of [`SearchIndex::retrieve`]), and
//! model code (embedding, the query encoder and fetching the model are in the `embed` crate).
//!
//! ```no_run
//! use passerelle_indexer::{SearchIndex, SearchRequest};
//! let index = SearchIndex::open_current(std::path::Path::new("data")).unwrap();
//! // A typo: "infromatique" still finds "informatique".
//! let found = index.search(&SearchRequest { q: "infromatique".into(), limit: 10, prefix: true, ..Default::default() }).unwrap();
//! for hit in found.hits { println!("{} {} {}", hit.score, hit.kind, hit.title); }
//! ```

#![warn(missing_docs)]

pub mod analysis;
mod error;
mod facets;
pub mod generation;
pub mod geo;
pub mod highlight;
pub mod hybrid;
pub mod live;
pub mod query;
pub mod retrieve;
pub mod schema;
mod search;
pub mod semantic;
pub mod vectors;

pub use error::IndexError;
pub use generation::{BuildReport, GenerationManifest, Phase, build_generation, build_generation_cached, build_generation_with, current_generation};
pub use live::{Applied, LiveChange};
pub use retrieve::{Candidate, Candidates, Retrieval, SemanticSkip, SemanticStatus, SemanticText, Words};
pub use schema::FacetField;
pub use search::{Hit, MAX_DEPTH, MAX_LIMIT, SearchIndex, SearchRequest, SearchResponse, Sort, VectorsGuard};
