//! The one retriever: every ranking of the service goes through [`SearchIndex::retrieve`].
//!
//! The search box, the three matchers, the similar-questions check and `passerelle eval` each
//! describe what they want as a [`Retrieval`] (the text and how to read its words, the text the
//! semantic leg compares, the filters, the weight of the semantic leg, the fusion, how deep each
//! leg goes) and get [`Candidates`] back: records with their place in each leg and the fused
//! score. What they do with them (a page of highlighted hits, an occupation credit, a verdict)
//! is theirs; how documents are found and fused is written once, here.
//!
//! A ranking fix made here reaches every feature and is measured by `passerelle eval`.

use std::collections::{BTreeMap, HashMap};

use schemas::Record;
use serde::Serialize;
use tantivy::Searcher;
use tantivy::collector::{Count, TopDocs};

use crate::analysis::Analyzers;
use crate::error::IndexError;
use crate::facets::{FacetCounts, top_values};
use crate::geo::{Gazetteer, Near};
use crate::highlight;
use crate::hybrid::{Fusion, LegHit, LegPosition, fuse};
use crate::query::{MAX_QUERY_WORDS, MAX_TEXT_QUERY_WORDS, QueryPlan};
use crate::schema::{FacetField, record_lang, searchable_text};
use crate::search::SearchIndex;
use embed::QueryEncoder;
use embed::TextRole;

use crate::search::VectorsGuard;

/// A query with more words than this is read as a text (every word may match, BM25 ranks)
/// rather than as typed words (every word required). Meilisearch stops reading a query at
/// 10 words; past that, requiring every word finds nothing and letting the last ones go
/// would rank by the first words alone.
pub const LONG_QUERY_WORDS: usize = 10;

/// Values listed per facet.
const MAX_FACET_VALUES: usize = 50;

/// Meilisearch's rule: the semantic leg is skipped when every keyword hit of the page scores at
/// least this once weighted by the keyword share `1 - semantic_ratio`.
pub const GOOD_ENOUGH_SCORE: f32 = 0.45;

/// How the words of the text are read by the keyword leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// Typed in a search box: every word must match; when nothing matches them all, the last
    /// ones are let go one at a time; `prefix`: the last word may be unfinished.
    Typed {
        /// The last word is matched as a prefix too (search-as-you-type).
        prefix: bool,
    },
    /// A text (an offer, a wish, a question): every word may match, BM25 ranks.
    Text,
}

impl Words {
    /// How the search box reads `q`: typed words, unless it is long enough to be a text.
    pub fn for_query(analyzers: &mut Analyzers, q: &str, prefix: bool) -> Words {
        if analyzers.words(q).len() > LONG_QUERY_WORDS { Words::Text } else { Words::Typed { prefix } }
    }
}

/// Why the semantic leg did not run, in words a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum SemanticSkip {
    /// The request weighs the semantic leg 0.
    RatioZero,
    /// Nothing to compare by meaning.
    EmptyText,
    /// The generation was built without a model.
    NoVectors,
    /// The generation's vectors could not be read.
    VectorsUnreadable(String),
    /// No model is loaded in this process.
    NoModel,
    /// The loaded model is not the one that built the vectors.
    OtherModel {
        /// The model loaded.
        loaded: String,
        /// The model that built the vectors.
        built: String,
    },
    /// The keyword hits already hold every word of the query in their title.
    KeywordsStrong,
    /// The model failed or was too slow.
    Failed(String),
}

impl SemanticSkip {
    /// A short, stable name of the reason (`no_model`, `keywords_strong`...), for programs and
    /// metrics; `degraded` when the model failed or was too slow.
    pub fn code(&self) -> &'static str {
        match self {
            SemanticSkip::RatioZero => "ratio_zero",
            SemanticSkip::EmptyText => "empty_text",
            SemanticSkip::NoVectors => "no_vectors",
            SemanticSkip::VectorsUnreadable(_) => "vectors_unreadable",
            SemanticSkip::NoModel => "no_model",
            SemanticSkip::OtherModel { .. } => "other_model",
            SemanticSkip::KeywordsStrong => "keywords_strong",
            SemanticSkip::Failed(_) => "degraded",
        }
    }
}

impl std::fmt::Display for SemanticSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SemanticSkip::RatioZero => write!(f, "semantic_ratio is 0: keyword search only"),
            SemanticSkip::EmptyText => write!(f, "empty query: nothing to compare by meaning"),
            SemanticSkip::NoVectors => write!(
                f,
                "keyword search only: this index generation has no vectors (it was built without an embedding model; `passerelle index` with one adds them)"
            ),
            SemanticSkip::VectorsUnreadable(e) => {
                write!(f, "keyword search only: this index generation's vectors are unreadable ({e}); rebuild with `passerelle index`")
            }
            SemanticSkip::NoModel => write!(f, "keyword search only: no embedding model is loaded (run `passerelle model fetch`, then restart)"),
            SemanticSkip::OtherModel { loaded, built } => {
                write!(f, "keyword search only: the loaded model ({loaded}) is not the one that built this index ({built}); rebuild with `passerelle index`")
            }
            SemanticSkip::KeywordsStrong => write!(f, "skipped: the keyword hits already hold every word of the query in their title"),
            SemanticSkip::Failed(why) => write!(f, "keyword search only: {why}"),
        }
    }
}

/// What the semantic leg did for an answer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SemanticStatus {
    /// The weight of the semantic leg asked for.
    pub ratio: f32,
    /// The vector leg ran and its hits are fused in.
    pub used: bool,
    /// Why it did not run, in words a person can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why it did not run, as a stable code ([`SemanticSkip::code`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl SemanticStatus {
    /// The status of a leg that ran (`skip` is `None`) or did not.
    pub fn new(ratio: f32, skip: Option<&SemanticSkip>) -> SemanticStatus {
        SemanticStatus { ratio, used: skip.is_none(), note: skip.map(ToString::to_string), skipped: skip.map(|s| s.code().to_string()) }
    }
}

/// The text the semantic leg compares, and as which side of a pair it is embedded.
#[derive(Debug, Clone, Copy)]
pub struct SemanticText<'a> {
    /// The text embedded.
    pub text: &'a str,
    /// A search query is a `Query`; a new question compared with questions is a `Passage`.
    pub role: TextRole,
}

/// What to retrieve.
#[derive(Clone, Copy)]
pub struct Retrieval<'a> {
    /// The text of the keyword leg.
    pub text: &'a str,
    /// How its words are read.
    pub words: Words,
    /// The text of the semantic leg; `None`: `text`, embedded as a query.
    pub semantic_text: Option<SemanticText<'a>>,
    /// Each field's accepted values (any of them matches); fields are combined with AND. Both
    /// legs apply them while searching.
    pub filters: &'a [(FacetField, Vec<String>)],
    /// Weight of the semantic leg, 0 (keyword only) to 1 (meaning only).
    pub semantic_ratio: f32,
    /// How the legs are fused.
    pub fusion: Fusion,
    /// Candidates each leg gives the fusion.
    pub depth: usize,
    /// The first `page` candidates are what the caller shows: the keyword leg alone reads only
    /// those, and Meilisearch's skip rule judges them. `None`: no skip rule, `depth` is read.
    pub page: Option<usize>,
    /// Documents allowed, by id, checked during each leg's search (held-out documents).
    pub keep_id: Option<&'a dyn Fn(&str) -> bool>,
    /// Documents allowed, by record, checked on each leg's candidates (dates).
    pub keep_record: Option<&'a dyn Fn(&Record) -> bool>,
    /// Count the matching documents' facet values.
    pub facets: bool,
    /// Only the documents inside this circle (both legs); each candidate gets its distance.
    pub near: Option<&'a Near>,
}

impl<'a> Retrieval<'a> {
    /// A retrieval of `text` read as `words`, RRF-fused at ratio 0.5, 100 deep, no filter.
    pub fn new(text: &'a str, words: Words) -> Retrieval<'a> {
        Retrieval {
            text,
            words,
            semantic_text: None,
            filters: &[],
            semantic_ratio: 0.5,
            fusion: Fusion::default(),
            depth: 100,
            page: None,
            keep_id: None,
            keep_record: None,
            facets: false,
            near: None,
        }
    }
}

/// One retrieved document: its record, where each leg put it, and its fused score.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The record's id.
    pub id: String,
    /// The record.
    pub record: Record,
    /// Rank and BM25 score in the keyword leg, when it found the document.
    pub keyword: Option<LegPosition>,
    /// Rank and cosine similarity in the semantic leg, when it found the document.
    pub semantic: Option<LegPosition>,
    /// The fused score (the keyword score alone when the semantic leg did not run).
    pub fused: f32,
    /// Share of the query's words found in the title, for the keyword candidates the skip
    /// rule judged.
    pub title_words: Option<f32>,
    /// Distance from the centre of the retrieval's circle, in km (when it has one).
    pub distance_km: Option<f64>,
}

/// What [`SearchIndex::retrieve`] found, best first.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// The documents, best first.
    pub candidates: Vec<Candidate>,
    /// Documents the keyword leg matched, plus those only the semantic leg found.
    pub total: usize,
    /// For each filterable field, how many keyword matches hold each value (when asked).
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// How many of the typed words the best keyword hits contain (fewer than typed when no
    /// document holds them all); later hits may hold fewer.
    pub words_matched: usize,
    /// The words that had to match before any was let go.
    pub words_typed: usize,
    /// The analysed text, for highlighting and explanations.
    pub plan: QueryPlan,
    /// Why the semantic leg did not run; `None` when it ran.
    pub semantic_skip: Option<SemanticSkip>,
}

impl Candidates {
    /// What the semantic leg did, at the ratio asked.
    pub fn semantic_status(&self, ratio: f32) -> SemanticStatus {
        SemanticStatus::new(ratio, self.semantic_skip.as_ref())
    }
}

impl SearchIndex {
    /// The generation's vectors and the model to query them, or why the semantic leg cannot run.
    /// The vectors are read-locked while the guard lives (see [`VectorsGuard`]).
    pub fn semantic_leg<'a>(&'a self, encoder: Option<&'a QueryEncoder>) -> Result<(VectorsGuard<'a>, &'a QueryEncoder), SemanticSkip> {
        let encoder = self.semantic_model(encoder)?;
        let vectors = self.vectors().ok_or(SemanticSkip::NoVectors)?;
        Ok((vectors, encoder))
    }

    /// The model to query the generation's vectors with, or why the semantic leg cannot run;
    /// holds no lock.
    fn semantic_model<'a>(&self, encoder: Option<&'a QueryEncoder>) -> Result<&'a QueryEncoder, SemanticSkip> {
        let Some(built) = self.vectors().map(|v| v.manifest.model_id.clone()) else {
            return Err(match &self.vectors_error {
                Some(e) => SemanticSkip::VectorsUnreadable(e.clone()),
                None => SemanticSkip::NoVectors,
            });
        };
        let Some(encoder) = encoder else { return Err(SemanticSkip::NoModel) };
        if encoder.model_id() != built {
            return Err(SemanticSkip::OtherModel { loaded: encoder.model_id().to_string(), built });
        }
        Ok(encoder)
    }

    /// Runs both legs (the semantic one when it can and should help), fuses them, and returns
    /// the candidates with their explanation. Errors only on a broken index.
    pub fn retrieve(&self, r: &Retrieval<'_>, encoder: Option<&QueryEncoder>) -> Result<Candidates, IndexError> {
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers.clone();
        let ratio = r.semantic_ratio.clamp(0.0, 1.0);
        let semantic_text = r.semantic_text.unwrap_or(SemanticText { text: r.text, role: TextRole::Query });
        let leg = if ratio == 0.0 {
            Err(SemanticSkip::RatioZero)
        } else if semantic_text.text.trim().is_empty() {
            Err(SemanticSkip::EmptyText)
        } else {
            self.semantic_model(encoder)
        };
        let keyword_depth = match (&leg, r.page) {
            (Err(_), Some(page)) => page.min(r.depth),
            _ => r.depth,
        };

        // The keyword leg.
        let (plan, words_typed) = match r.words {
            Words::Typed { prefix } => {
                let plan = QueryPlan::with_max_words(&mut analyzers, r.text, prefix, MAX_QUERY_WORDS);
                let typed = plan.required_words();
                (plan, typed)
            }
            Words::Text => (QueryPlan::with_max_words(&mut analyzers, r.text, false, MAX_TEXT_QUERY_WORDS), 0),
        };
        let mut records: HashMap<String, Record> = HashMap::new();
        let mut keyword: Vec<LegHit> = Vec::new();
        let (mut total, mut facets, mut words_matched) = (0, BTreeMap::new(), 0);
        let browse = plan.is_empty() && matches!(r.words, Words::Typed { .. });
        if !plan.is_empty() || browse {
            let filter = self.filter_query_near(&mut analyzers, r.filters, r.near);
            // One pass collects the candidates, the count and the facets. Typed words, as
            // Meilisearch's `last` matching strategy: the documents holding every word come
            // first; while they do not fill the candidates, the last words are let go one at a
            // time and the documents found that way follow, down to documents holding any word.
            let collector = (TopDocs::with_limit(keyword_depth.max(1)).order_by_score(), Count, r.facets.then(|| FacetCounts::new(&self.facets)));
            let mut required = if matches!(r.words, Words::Typed { .. }) { words_typed } else { 0 };
            let mut strictest: Option<usize> = None;
            loop {
                let query = self.combine(&plan, &searcher, required, filter.as_ref().map(|f| f.box_clone()));
                let (top, count, counts) = searcher.search(&query, &collector)?;
                total = count;
                if let Some(counts) = counts {
                    facets = top_values(counts, MAX_FACET_VALUES).into_iter().map(|(field, values)| (field, values.into_iter().collect())).collect();
                }
                if count > 0 && strictest.is_none() {
                    strictest = Some(required);
                }
                if keyword_depth > 0 {
                    // Equal scores in the order of their ids, not of their place in the index,
                    // which a multi-threaded build changes from one build to the next (the
                    // fixtures' similar-questions bm25 moved between .913 and .921 by it).
                    let mut level: Vec<(f32, Record)> =
                        top.into_iter().filter_map(|(score, address)| self.record_at(&searcher, address).map(|r| (score, r))).collect();
                    level.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id().cmp(b.1.id())));
                    for (score, record) in level {
                        if keyword.len() >= keyword_depth {
                            break;
                        }
                        if records.contains_key(record.id()) || r.keep_id.is_some_and(|k| !k(record.id())) || r.keep_record.is_some_and(|k| !k(&record)) {
                            continue;
                        }
                        keyword.push(LegHit { id: record.id().to_string(), score });
                        records.insert(record.id().to_string(), record);
                    }
                }
                let filled = keyword.len() >= keyword_depth.max(1);
                if filled || required == 0 || count == total_docs(&searcher) {
                    break;
                }
                required -= 1;
            }
            words_matched = if plan.is_empty() { 0 } else { strictest.unwrap_or(0).min(words_typed) };
        }

        // Meilisearch's skip rule, with "every typed word in the title" as the keyword score.
        let mut title_words: HashMap<String, f32> = HashMap::new();
        let mut strong = false;
        if let Some(page) = r.page {
            let typed = words_typed.max(1) as f32;
            for hit in keyword.iter().take(page) {
                let record = &records[&hit.id];
                let found = highlight::words_found(&plan, &mut analyzers, record_lang(record), &searchable_text(record).0);
                title_words.insert(hit.id.clone(), found as f32 / typed);
            }
            strong = matches!(r.words, Words::Typed { .. })
                && ratio < 1.0
                && page > 0
                && keyword.len() >= page
                && keyword.iter().take(page).all(|h| title_words[&h.id] * (1.0 - ratio) >= GOOD_ENOUGH_SCORE);
        }

        // The semantic leg, unless it cannot run or the keyword hits are strong already.
        let mut semantic = Vec::new();
        let mut extra = 0;
        let skip: Option<SemanticSkip> = 'semantic: {
            let encoder = match leg {
                Ok(_) if strong => break 'semantic Some(SemanticSkip::KeywordsStrong),
                Ok(encoder) => encoder,
                Err(skip) => break 'semantic Some(skip),
            };
            let query = match encoder.encode_as(semantic_text.role, semantic_text.text) {
                Ok(v) => v,
                Err(why) => break 'semantic Some(SemanticSkip::Failed(why)),
            };
            // The vectors are locked for the graph search only, not for the model call above.
            let neighbours = match self.vectors() {
                Some(vectors) => vectors.search_where(&query, r.depth, &vectors.filter(r.filters).near(r.near), r.keep_id),
                None => break 'semantic Some(SemanticSkip::NoVectors),
            };
            for n in neighbours {
                if !records.contains_key(&n.id) {
                    // A vector whose document is gone (a tombstone not yet seen) is skipped.
                    let Some(record) = self.record_by_id(&searcher, &n.id)? else { continue };
                    if r.keep_record.is_some_and(|k| !k(&record)) {
                        continue;
                    }
                    records.insert(n.id.clone(), record);
                    if !keyword.iter().any(|k| k.id == n.id) {
                        extra += 1;
                    }
                } else if r.keep_record.is_some_and(|k| !k(&records[&n.id])) {
                    continue;
                }
                semantic.push(LegHit { id: n.id, score: n.similarity });
            }
            None
        };
        let ratio = if skip.is_some() { 0.0 } else { ratio };
        let mut found = self.fused(keyword, semantic, records, title_words, ratio, r.fusion, total + extra, facets, words_matched, words_typed, plan, skip);
        if let Some(near) = r.near {
            // The distance of the town the index located the record at (the same look-up).
            for c in &mut found.candidates {
                c.distance_km = Gazetteer::shared().locate_record(&c.record).map(|p| near.distance_km(p.lat, p.lon));
            }
            found.candidates.retain(|c| c.distance_km.is_some_and(|d| d <= near.radius_km));
        }
        Ok(found)
    }

    #[allow(clippy::too_many_arguments)]
    fn fused(
        &self,
        keyword: Vec<LegHit>,
        semantic: Vec<LegHit>,
        mut records: HashMap<String, Record>,
        title_words: HashMap<String, f32>,
        ratio: f32,
        fusion: Fusion,
        total: usize,
        facets: BTreeMap<String, BTreeMap<String, u64>>,
        words_matched: usize,
        words_typed: usize,
        plan: QueryPlan,
        semantic_skip: Option<SemanticSkip>,
    ) -> Candidates {
        // Without the semantic leg the keyword order stands; the fused score is the fusion's
        // score of that one leg (a convex fusion normalises it to [0, 1]).
        let fused = if semantic_skip.is_some() { fuse(&keyword, &[], 0.0, fusion) } else { fuse(&keyword, &semantic, ratio, fusion) };
        let candidates = fused
            .into_iter()
            .filter_map(|f| {
                let record = records.remove(&f.id)?;
                Some(Candidate {
                    title_words: title_words.get(&f.id).copied(),
                    id: f.id,
                    record,
                    keyword: f.keyword,
                    semantic: f.semantic,
                    fused: f.fused,
                    distance_km: None,
                })
            })
            .collect();
        Candidates { candidates, total, facets, words_matched, words_typed, plan, semantic_skip }
    }

    /// A searcher on the generation (a snapshot: later live writes are not seen by it).
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }
}

/// Documents of the generation: a level of relaxation that matched them all cannot find more.
fn total_docs(searcher: &Searcher) -> usize {
    usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX)
}
