//! What the people of passerelle ask for, built on the engine's public API
//! ([`indexer::SearchIndex::retrieve`] and the record look-ups): the matchers ([`matching`]:
//! an offer -> programmes, a wish -> offers with companies and recruiters, a wish ->
//! programmes), the similar-questions check ([`questions`]), the trends ([`stats`]) and the
//! relevance evaluation ([`eval`]). The ROME occupation table ([`occupations`]) is theirs too.
//!
//! This crate finds nothing by itself: every ranking comes from the engine's one retriever, and
//! [`Features`] holds the served generation plus what the features read from it once. It knows
//! nothing of HTTP; the server turns its typed answers into JSON.
//!
//! ```no_run
//! use passerelle_features::Features;
//! use passerelle_features::matching::MatchRequest;
//! let served = Features::new(indexer::SearchIndex::open_current(std::path::Path::new("data")).unwrap());
//! let request = MatchRequest { text: "Stage développeur web, React".into(), limit: 5, filters: Default::default() };
//! for offer in served.match_offers(&request, None).unwrap().offers {
//!     println!("{} {}", offer.score, offer.title);
//! }
//! ```

#![warn(missing_docs)]

pub mod eval;
pub mod matching;
pub mod occupations;
pub mod questions;
pub mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use indexer::SearchIndex;

/// A served index generation and what the features read from it once (the skill vocabulary of
/// the matchers, the facts of the trends). Derefs to the [`SearchIndex`], so search is at hand.
pub struct Features {
    index: Arc<SearchIndex>,
    vocabulary: OnceLock<matching::Vocabulary>,
    stats_facts: OnceLock<stats::StatsFacts>,
    /// The programme the matcher ranks first for each stored offer asked about (the trends).
    firsts: Mutex<HashMap<String, Option<String>>>,
}

impl Features {
    /// The features over `index`; nothing is read until a feature needs it.
    pub fn new(index: SearchIndex) -> Features {
        Features::shared(Arc::new(index))
    }

    /// The features over a generation shared with others (the server keeps one per live write).
    pub fn shared(index: Arc<SearchIndex>) -> Features {
        Features { index, vocabulary: OnceLock::new(), stats_facts: OnceLock::new(), firsts: Mutex::new(HashMap::new()) }
    }

    /// The same generation with its caches emptied: what a live write changed (the skill
    /// vocabulary, the trends' facts, the programme each offer ranks first) is read again when
    /// next needed.
    pub fn refreshed(&self) -> Features {
        Features::shared(self.index.clone())
    }

    /// The generation these features read.
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }
}

impl std::ops::Deref for Features {
    type Target = SearchIndex;

    fn deref(&self) -> &SearchIndex {
        &self.index
    }
}
