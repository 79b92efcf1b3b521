//! Keyword search over one index generation: the search box of the website.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemas::Record;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{self, Analyzers};
use crate::error::IndexError;
use crate::facets::{FacetCache, FacetCounts, top_values};
use crate::generation::{self, GenerationManifest};
use crate::highlight;
use crate::hybrid::{Fusion, LegHit, LegPosition, fuse};
use crate::query::{MAX_QUERY_CHARS, QueryPlan};
use crate::schema::{FacetField, IndexFields, record_lang, searchable_text};
use crate::semantic::{GenerationVectors, QueryEncoder, VECTORS_DIR, VectorsManifest};

/// Most hits one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Deepest page reachable (offset + limit).
pub const MAX_DEPTH: usize = 10_000;
/// Values listed per facet.
const MAX_FACET_VALUES: usize = 50;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 180;
/// Candidates each leg gives the fusion (at least the page asked for).
pub const HYBRID_CANDIDATES: usize = 100;
/// Weight of the semantic leg when a request does not say.
pub const DEFAULT_SEMANTIC_RATIO: f32 = 0.5;
/// Meilisearch's rule: the semantic leg is skipped when every keyword hit of the page scores at
/// least this once weighted by the keyword share `1 - semantic_ratio`.
pub const GOOD_ENOUGH_SCORE: f32 = 0.45;

/// A search as the API receives it, already split into its parts.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// Each field's accepted values (any of them matches); fields are combined with AND.
    pub filters: Vec<(FacetField, Vec<String>)>,
    pub limit: usize,
    pub offset: usize,
    /// Match the last word as a prefix (search-as-you-type). On by default in the API.
    pub prefix: bool,
    /// Weight of the semantic leg in [`SearchIndex::search_hybrid`] (0 keyword only, 1 meaning
    /// only); `None` for [`DEFAULT_SEMANTIC_RATIO`].
    pub semantic_ratio: Option<f32>,
    /// Give each hit its rank and score in each leg and fused.
    pub explain: bool,
    /// How the legs are fused; `None` for reciprocal rank fusion (k = 60).
    pub fusion: Option<Fusion>,
}

/// Why a hit is where it is: its place in each leg (absent when that leg did not return it)
/// and its fused score. `keyword.score` is BM25; `semantic.score` is the cosine similarity.
#[derive(Debug, Clone, Serialize)]
pub struct Explain {
    pub keyword: Option<LegPosition>,
    pub semantic: Option<LegPosition>,
    pub fused: f32,
    /// keyword: fraction of the query's words found in the title (Meilisearch's skip rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_words: Option<f32>,
}

/// What the semantic leg did for this answer.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticStatus {
    pub ratio: f32,
    /// The vector leg ran and its hits are fused in.
    pub used: bool,
    /// Why it did not run, in words a person can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One hit. `snippet` and `title_html` are HTML: escaped text with `<mark>` around matches;
/// every other string is plain text and must be escaped by whoever shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub title_html: String,
    pub snippet: String,
    pub score: f32,
    /// The record, without its long description.
    pub record: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub hits: Vec<Hit>,
    /// Documents matching the query and filters.
    pub total: usize,
    /// For each filterable field, how many matching documents hold each value.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// How many of the query's words every hit contains (fewer than typed when nothing
    /// matched them all and the last ones were let go, as Meilisearch does).
    pub words_matched: usize,
    pub words_typed: usize,
    pub generation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<SemanticStatus>,
}

/// The keyword leg's candidates, before hits are made of them.
struct KeywordLeg {
    plan: QueryPlan,
    analyzers: Analyzers,
    top: Vec<(f32, DocAddress)>,
    total: usize,
    facets: BTreeMap<String, BTreeMap<String, u64>>,
    words_matched: usize,
}

/// An opened index generation, ready to search.
pub struct SearchIndex {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) manifest: Option<GenerationManifest>,
    pub(crate) reader: IndexReader,
    pub(crate) fields: IndexFields,
    pub(crate) analyzers: Analyzers,
    pub(crate) facets: FacetCache,
    pub(crate) vectors: Option<GenerationVectors>,
    /// Why the generation's vectors could not be read, if they could not.
    pub(crate) vectors_error: Option<String>,
    /// Skill phrases of the generation's programmes and offers, read on first use by the matchers.
    pub(crate) vocabulary: std::sync::OnceLock<crate::matching::Vocabulary>,
    pub(crate) stats_facts: std::sync::OnceLock<crate::stats::StatsFacts>,
}

impl SearchIndex {
    /// Opens the generation `CURRENT` points to.
    pub fn open_current(data_dir: &Path) -> Result<SearchIndex, IndexError> {
        let name = generation::current_generation(data_dir)?
            .ok_or_else(|| IndexError::NoIndex(generation::index_root(data_dir)))?;
        Self::open(data_dir, &name)
    }

    pub fn open(data_dir: &Path, name: &str) -> Result<SearchIndex, IndexError> {
        let path = generation::index_root(data_dir).join(name);
        let bad = |source| IndexError::Generation { name: name.to_string(), source };
        let index = Index::open_in_dir(&path).map_err(bad)?;
        analysis::register(&index);
        let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(bad)?;
        let facets = FacetCache::new(FacetField::ALL.iter().map(|f| f.name()));
        facets.warm(&reader.searcher()).map_err(bad)?;
        let (vectors, vectors_error) = match GenerationVectors::load(&path.join(VECTORS_DIR)) {
            Ok(v) => (v, None),
            Err(e) => {
                tracing::warn!("index generation {name}: vectors unreadable, keyword search only: {e}");
                (None, Some(e.to_string()))
            }
        };
        Ok(SearchIndex {
            vectors,
            vectors_error,
            facets,
            name: name.to_string(),
            manifest: generation::read_manifest(&path),
            path,
            reader,
            fields: IndexFields::build(),
            analyzers: Analyzers::default(),
            vocabulary: std::sync::OnceLock::new(),
            stats_facts: std::sync::OnceLock::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn manifest(&self) -> Option<&GenerationManifest> {
        self.manifest.as_ref()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The semantic leg of this generation, if it was built with a model.
    pub fn vectors(&self) -> Option<&GenerationVectors> {
        self.vectors.as_ref()
    }

    pub fn vectors_manifest(&self) -> Option<&VectorsManifest> {
        self.vectors.as_ref().map(|v| &v.manifest)
    }

    fn check(request: &SearchRequest) -> Result<(), IndexError> {
        if request.q.chars().count() > MAX_QUERY_CHARS {
            return Err(IndexError::BadRequest(format!("query is longer than {MAX_QUERY_CHARS} characters")));
        }
        if request.limit > MAX_LIMIT {
            return Err(IndexError::BadRequest(format!("limit is {}, at most {MAX_LIMIT}", request.limit)));
        }
        if request.offset + request.limit > MAX_DEPTH {
            return Err(IndexError::BadRequest(format!("offset + limit may not exceed {MAX_DEPTH}")));
        }
        if let Some(r) = request.semantic_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err(IndexError::BadRequest(format!("semantic_ratio is {r}; it goes from 0 (keyword only) to 1 (meaning only)")));
            }
        }
        Ok(())
    }

    /// The keyword leg: the best `n` documents from `offset`, the count and the facets.
    fn keyword_leg(&self, searcher: &Searcher, request: &SearchRequest, n: usize, offset: usize) -> Result<KeywordLeg, IndexError> {
        let mut analyzers = self.analyzers.clone();
        let plan = QueryPlan::new(&mut analyzers, &request.q, request.prefix);
        let filter = self.filter_query(&mut analyzers, &request.filters);
        // One pass collects the page, the count and the facets. Only when nothing matches every
        // word are the last words let go, one at a time.
        let collector = (TopDocs::with_limit(n.max(1)).and_offset(offset).order_by_score(), Count, FacetCounts::new(&self.facets));
        let mut required = plan.required_words();
        let (mut top, total, counts) = loop {
            let query = self.combine(&plan, searcher, required, filter.as_ref().map(|f| f.box_clone()));
            let found = searcher.search(&query, &collector)?;
            if found.1 > 0 || required <= 1 {
                break found;
            }
            required -= 1;
        };
        if n == 0 {
            top.clear();
        }
        let facets = top_values(counts, MAX_FACET_VALUES).into_iter().map(|(field, values)| (field, values.into_iter().collect())).collect();
        let words_matched = if plan.is_empty() { 0 } else { required.min(plan.required_words()) };
        Ok(KeywordLeg { plan, analyzers, top, total, facets, words_matched })
    }

    /// Runs a keyword search. Errors only on a bad request or a broken index.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        Self::check(request)?;
        let searcher = self.reader.searcher();
        let mut leg = self.keyword_leg(&searcher, request, request.limit, request.offset)?;
        let mut hits = Vec::with_capacity(leg.top.len());
        for (i, (score, address)) in leg.top.iter().enumerate() {
            let mut hit = self.hit(&searcher, &leg.plan, &mut leg.analyzers, *score, *address)?;
            if request.explain {
                let position = LegPosition { rank: request.offset + i + 1, score: hit.score };
                hit.explain = Some(Explain { keyword: Some(position), semantic: None, fused: hit.score, title_words: None });
            }
            hits.push(hit);
        }
        Ok(SearchResponse {
            hits,
            total: leg.total,
            facets: leg.facets,
            words_matched: leg.words_matched,
            words_typed: leg.plan.required_words(),
            generation: self.name.clone(),
            semantic: None,
        })
    }

    /// Hybrid search: the keyword leg and, when it can help, the semantic leg, fused by
    /// reciprocal rank fusion weighted by the semantic ratio.
    ///
    /// The semantic leg is left out, and the response says why, when: the ratio is 0; the query
    /// is empty; this generation has no vectors; no model (or another model than the one that
    /// built the vectors) is loaded; the model fails or is too slow; or the keyword hits are
    /// already strong (Meilisearch's rule: a full page of hits each holding the query's words
    /// in its title, weighted by `1 - ratio`, scores at least [`GOOD_ENOUGH_SCORE`]).
    /// `total` then counts keyword matches plus documents only the semantic leg found; the
    /// facets count the keyword matches.
    pub fn search_hybrid(&self, request: &SearchRequest, encoder: Option<&QueryEncoder>) -> Result<SearchResponse, IndexError> {
        Self::check(request)?;
        let ratio = request.semantic_ratio.unwrap_or(DEFAULT_SEMANTIC_RATIO);
        let keyword_only = |note: String| -> Result<SearchResponse, IndexError> {
            let mut response = self.search(request)?;
            response.semantic = Some(SemanticStatus { ratio, used: false, note: Some(note) });
            Ok(response)
        };
        if ratio == 0.0 {
            return keyword_only("semantic_ratio is 0: keyword search only".into());
        }
        if request.q.trim().is_empty() {
            return keyword_only("empty query: nothing to compare by meaning".into());
        }
        let Some(vectors) = &self.vectors else {
            return keyword_only(match &self.vectors_error {
                Some(e) => format!("keyword search only: this index generation's vectors are unreadable ({e}); rebuild with `passerelle index`"),
                None => "keyword search only: this index generation has no vectors (it was built without an embedding model; `passerelle index` with one adds them)".into(),
            });
        };
        let Some(encoder) = encoder else {
            return keyword_only("keyword search only: no embedding model is loaded (run `passerelle model fetch`, then restart)".into());
        };
        if encoder.model_id() != vectors.manifest.model_id {
            return keyword_only(format!(
                "keyword search only: the loaded model ({}) is not the one that built this index ({}); rebuild with `passerelle index`",
                encoder.model_id(),
                vectors.manifest.model_id
            ));
        }

        let searcher = self.reader.searcher();
        let wanted = request.offset + request.limit;
        let depth = wanted.max(HYBRID_CANDIDATES).min(MAX_DEPTH);
        let mut leg = self.keyword_leg(&searcher, request, depth, 0)?;
        // Each keyword candidate's stored document is read once: for the skip rule, for its id
        // in the fusion, and for its hit.
        let docs = leg.top.iter().map(|(_, address)| searcher.doc::<TantivyDocument>(*address)).collect::<Result<Vec<_>, _>>()?;

        // Meilisearch's skip rule, with "every typed word in the title" as the keyword score.
        let mut title_words: Vec<f32> = Vec::with_capacity(wanted.min(docs.len()));
        let typed = leg.plan.required_words().max(1) as f32;
        for doc in docs.iter().take(wanted) {
            let record: Option<Record> = doc.get_first(self.fields.stored_record).and_then(|v| v.as_str()).and_then(|j| serde_json::from_str(j).ok());
            let found = record.as_ref().map_or(0, |r| {
                highlight::words_found(&leg.plan, &mut leg.analyzers, record_lang(r), &searchable_text(r).0)
            });
            title_words.push(found as f32 / typed);
        }
        if ratio < 1.0 && wanted > 0 && leg.top.len() >= wanted && title_words.iter().all(|s| s * (1.0 - ratio) >= GOOD_ENOUGH_SCORE) {
            let mut response = self.page(&searcher, request, &mut leg, &docs, None, &title_words)?;
            response.semantic = Some(SemanticStatus {
                ratio,
                used: false,
                note: Some("skipped: the keyword hits already hold every word of the query in their title".into()),
            });
            return Ok(response);
        }
        let query = match encoder.encode(&request.q) {
            Ok(v) => v,
            Err(why) => {
                let mut response = self.page(&searcher, request, &mut leg, &docs, None, &title_words)?;
                response.semantic = Some(SemanticStatus { ratio, used: false, note: Some(format!("keyword search only: {why}")) });
                return Ok(response);
            }
        };
        let filter = vectors.filter(&request.filters);
        let semantic: Vec<LegHit> =
            vectors.search(&query, depth, &filter).into_iter().map(|n| LegHit { id: n.id, score: n.similarity }).collect();
        let mut response = self.page(&searcher, request, &mut leg, &docs, Some((&semantic, ratio)), &title_words)?;
        response.semantic = Some(SemanticStatus { ratio, used: true, note: None });
        Ok(response)
    }

    /// Makes the requested page of hits: the keyword leg alone, or fused with `semantic`.
    /// `docs` are the stored documents of the keyword candidates, in `leg.top` order.
    fn page(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        leg: &mut KeywordLeg,
        docs: &[TantivyDocument],
        semantic: Option<(&[LegHit], f32)>,
        title_words: &[f32],
    ) -> Result<SearchResponse, IndexError> {
        let mut by_id: std::collections::HashMap<String, &TantivyDocument> = std::collections::HashMap::new();
        let mut keyword = Vec::with_capacity(leg.top.len());
        for ((score, _), doc) in leg.top.iter().zip(docs) {
            let id = doc.get_first(self.fields.id).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            by_id.insert(id.clone(), doc);
            keyword.push(LegHit { id, score: *score });
        }
        let (fused, extra) = match semantic {
            Some((sem, ratio)) => {
                let fused = fuse(&keyword, sem, ratio, request.fusion.unwrap_or_default());
                let extra = fused.iter().filter(|h| h.keyword.is_none()).count();
                (fused, extra)
            }
            None => (fuse(&keyword, &[], 0.0, Fusion::default()), 0),
        };
        let mut hits = Vec::with_capacity(request.limit);
        for f in fused.iter().skip(request.offset).take(request.limit) {
            let score = f.keyword.map_or(0.0, |k| k.score);
            let mut hit = match by_id.get(&f.id) {
                Some(doc) => self.hit_from_doc(doc, &leg.plan, &mut leg.analyzers, score),
                None => match self.address_of(searcher, &f.id)? {
                    Some(address) => self.hit(searcher, &leg.plan, &mut leg.analyzers, score, address)?,
                    None => continue, // a vector whose document is gone (a tombstone not yet seen)
                },
            };
            hit.score = (f.fused * 1_000_000.0).round() / 1_000_000.0;
            if request.explain {
                let title = f.keyword.and_then(|k| title_words.get(k.rank - 1).copied());
                hit.explain = Some(Explain { keyword: f.keyword, semantic: f.semantic, fused: f.fused, title_words: title });
            }
            hits.push(hit);
        }
        Ok(SearchResponse {
            hits,
            total: leg.total + extra,
            facets: std::mem::take(&mut leg.facets),
            words_matched: leg.words_matched,
            words_typed: leg.plan.required_words(),
            generation: self.name.clone(),
            semantic: None,
        })
    }

    pub(crate) fn address_of(&self, searcher: &Searcher, id: &str) -> Result<Option<DocAddress>, IndexError> {
        let term = Term::from_field_text(self.fields.id, id);
        let found = searcher.search(&TermQuery::new(term, IndexRecordOption::Basic), &TopDocs::with_limit(1).order_by_score())?;
        Ok(found.first().map(|(_, a)| *a))
    }

    pub(crate) fn combine(&self, plan: &QueryPlan, searcher: &Searcher, required: usize, filter: Option<Box<dyn Query>>) -> Box<dyn Query> {
        let text: Box<dyn Query> = if plan.is_empty() { Box::new(AllQuery) } else { plan.to_query(&self.fields, searcher, required) };
        match filter {
            None => text,
            Some(filter) => Box::new(BooleanQuery::new(vec![(Occur::Must, text), (Occur::Must, filter)])),
        }
    }

    pub(crate) fn filter_query(&self, analyzers: &mut Analyzers, filters: &[(FacetField, Vec<String>)]) -> Option<Box<dyn Query>> {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (facet, values) in filters {
            let field = self.fields.facet(*facet);
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    let term = Term::from_field_text(field, &analyzers.keyword(v));
                    (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
                })
                .collect();
            if !any.is_empty() {
                must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        (!must.is_empty()).then(|| Box::new(BooleanQuery::new(must)) as Box<dyn Query>)
    }

    fn hit(
        &self,
        searcher: &Searcher,
        plan: &QueryPlan,
        analyzers: &mut Analyzers,
        score: f32,
        address: DocAddress,
    ) -> Result<Hit, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        Ok(self.hit_from_doc(&doc, plan, analyzers, score))
    }

    fn hit_from_doc(&self, doc: &TantivyDocument, plan: &QueryPlan, analyzers: &mut Analyzers, score: f32) -> Hit {
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let id = text(self.fields.id);
        let record_json = text(self.fields.stored_record);
        let record: Option<Record> = serde_json::from_str(&record_json).ok();
        let (title, body) = record.as_ref().map(searchable_text).unwrap_or_default();
        let lang = record.as_ref().map_or(analysis::Lang::Fr, record_lang);
        let title_matches = highlight::matches(plan, analyzers, lang, &title);
        let body_matches = highlight::matches(plan, analyzers, lang, &body);
        let snippet = if body_matches.is_empty() && !title_matches.is_empty() {
            highlight::snippet(&body, &[], SNIPPET_CHARS)
        } else {
            highlight::snippet(&body, &body_matches, SNIPPET_CHARS)
        };
        let kind = record.as_ref().map(|r| r.kind().as_str().to_string()).unwrap_or_default();
        let mut value = serde_json::from_str::<serde_json::Value>(&record_json).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = value.as_object_mut() {
            obj.remove("description");
        }
        Hit {
            id,
            kind,
            title_html: highlight::mark_all(&title, &title_matches),
            title,
            snippet,
            score: (score * 1000.0).round() / 1000.0,
            record: value,
            explain: None,
        }
    }
}
