//! Keyword search over one index generation: the search box of the website.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use schemas::Record;
use serde::Serialize;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analysis::{self, Analyzers};
use crate::error::IndexError;
use crate::facets::{FacetCache, FacetCounts, top_values};
use crate::generation::{self, GenerationManifest};
use crate::geo::{self, Gazetteer, Near, round_km};
use crate::highlight;
use crate::hybrid::{Fusion, LegPosition};
use crate::query::{MAX_QUERY_CHARS, QueryPlan};
use crate::retrieve::{Retrieval, SemanticStatus, Words};
use crate::schema::{FacetField, IndexFields, record_lang, searchable_text};
use crate::semantic::{GenerationVectors, VECTORS_DIR, VectorsManifest};
use embed::QueryEncoder;

/// Most hits one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Deepest page reachable (offset + limit).
pub const MAX_DEPTH: usize = 10_000;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 180;
/// Candidates each leg gives the fusion (at least the page asked for).
pub const HYBRID_CANDIDATES: usize = 100;
/// Weight of the semantic leg when a request does not say.
pub const DEFAULT_SEMANTIC_RATIO: f32 = 0.5;

/// A search as the API receives it, already split into its parts.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The text typed in the search box (at most [`MAX_QUERY_CHARS`] characters).
    pub q: String,
    /// Each field's accepted values (any of them matches); fields are combined with AND.
    pub filters: Vec<(FacetField, Vec<String>)>,
    /// Hits on the page (at most [`MAX_LIMIT`]).
    pub limit: usize,
    /// Hits skipped before the page (`offset + limit` at most [`MAX_DEPTH`]).
    pub offset: usize,
    /// Match the last word as a prefix (search-as-you-type). On by default in the API.
    pub prefix: bool,
    /// Weight of the semantic leg in [`SearchIndex::search_hybrid`] (0 keyword only, 1 meaning
    /// only); `None` for 0.5, both legs weighed equally.
    pub semantic_ratio: Option<f32>,
    /// Give each hit its rank and score in each leg and fused.
    pub explain: bool,
    /// How the legs are fused; `None` for reciprocal rank fusion (k = 60).
    pub fusion: Option<Fusion>,
    /// The order of the page: by relevance (the default), by distance from `near`, or,
    /// without words, by posting date.
    pub sort: Sort,
    /// Only the documents within this circle ("near Namur, 30 km"); each hit gets its distance.
    /// Without words, the nearest come first.
    pub near: Option<Near>,
}

/// The order of a page of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (the words, the meaning).
    #[default]
    Relevance,
    /// Most recently posted offer first, then the documents without a posting date, in the
    /// order of their ids. For browsing: a query with words is refused (relevance orders it).
    Recent,
    /// Nearest to the centre of `near` first (required), equal distances by relevance: the
    /// candidates of each leg (the best 100 matches, or as many as the page needs), sorted by
    /// how far they are.
    Distance,
}

/// Why a hit is where it is: its place in each leg (absent when that leg did not return it)
/// and its fused score. `keyword.score` is BM25; `semantic.score` is the cosine similarity.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explain {
    /// Rank and BM25 score in the keyword leg.
    pub keyword: Option<LegPosition>,
    /// Rank and cosine similarity in the semantic leg.
    pub semantic: Option<LegPosition>,
    /// The score the hit is ranked by.
    pub fused: f32,
    /// keyword: fraction of the query's words found in the title (Meilisearch's skip rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_words: Option<f32>,
}

/// One hit. `snippet` and `title_html` are HTML: escaped text with `<mark>` around matches;
/// every other string is plain text and must be escaped by whoever shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    /// The record's id.
    pub id: String,
    /// The record's kind (`offer`, `programme`, `school`, `company`, `question`).
    pub kind: String,
    /// The title, plain text.
    pub title: String,
    /// The title, escaped, matches marked.
    pub title_html: String,
    /// About 180 characters of the body, around its densest matches, escaped, matches marked.
    pub snippet: String,
    /// BM25 for a keyword-only answer, the fused score otherwise (rounded).
    pub score: f32,
    /// The record, without its long description.
    pub record: serde_json::Value,
    /// Why the hit is where it is, when the request asked (`explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
    /// How far the record's town is from the centre of the request's `near`, in km (one decimal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// One page of a search, with the counts around it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// The page, best first.
    pub hits: Vec<Hit>,
    /// Documents matching the query and filters (with the words let go to fill the page, see
    /// `words_matched`).
    pub total: usize,
    /// For each filterable field, how many matching documents hold each value.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// How many of the query's words the first hits contain. As Meilisearch's `last` matching
    /// strategy: the documents holding every typed word come first; while they do not fill the
    /// candidates, the last words are let go one at a time and the documents found that way
    /// follow (fewer than typed here when no document holds them all).
    pub words_matched: usize,
    /// The query's words that had to match before any was let go.
    pub words_typed: usize,
    /// The generation that answered.
    pub generation: String,
    /// What the semantic leg did (hybrid search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<SemanticStatus>,
    /// The circle the hits were kept in, when the request had one (with the place as the
    /// gazetteer names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near: Option<Near>,
}

/// An opened index generation, ready to search.
pub struct SearchIndex {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) manifest: Option<GenerationManifest>,
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: IndexFields,
    pub(crate) analyzers: Analyzers,
    pub(crate) facets: FacetCache,
    /// Behind a lock: live writes add and hide vectors while searches read them.
    pub(crate) vectors: RwLock<Option<GenerationVectors>>,
    /// Why the generation's vectors could not be read, if they could not.
    pub(crate) vectors_error: Option<String>,
    /// The generation's tantivy writer, opened by the first live write.
    pub(crate) writer: Mutex<Option<IndexWriter>>,
}

/// The vectors of a generation, read-locked: live writes wait until it is dropped, so keep it
/// for one search, not across a model call.
pub struct VectorsGuard<'a>(RwLockReadGuard<'a, Option<GenerationVectors>>);

impl std::ops::Deref for VectorsGuard<'_> {
    type Target = GenerationVectors;

    fn deref(&self) -> &GenerationVectors {
        // Built only by `SearchIndex::vectors`, which checked that there are vectors.
        self.0.as_ref().expect("a VectorsGuard holds vectors")
    }
}

impl SearchIndex {
    /// Opens the generation `CURRENT` points to.
    pub fn open_current(data_dir: &Path) -> Result<SearchIndex, IndexError> {
        let name = generation::current_generation(data_dir)?.ok_or_else(|| IndexError::NoIndex(generation::index_root(data_dir)))?;
        Self::open(data_dir, &name)
    }

    /// Opens the generation `name` of `data_dir` (and its vectors, when it has readable ones).
    pub fn open(data_dir: &Path, name: &str) -> Result<SearchIndex, IndexError> {
        let path = generation::index_root(data_dir).join(name);
        let bad = |source| IndexError::Generation { name: name.to_string(), source };
        let index = Index::open_in_dir(&path).map_err(bad)?;
        let fields = IndexFields::build();
        if index.schema() != fields.schema {
            return Err(IndexError::OldSchema(name.to_string()));
        }
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
            index,
            vectors: RwLock::new(vectors),
            vectors_error,
            writer: Mutex::new(None),
            facets,
            name: name.to_string(),
            manifest: generation::read_manifest(&path),
            path,
            reader,
            fields,
            analyzers: Analyzers::default(),
        })
    }

    /// The generation's folder name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The generation's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the generation holds; `None` when its `generation.json` is missing or unreadable.
    pub fn manifest(&self) -> Option<&GenerationManifest> {
        self.manifest.as_ref()
    }

    /// Documents in the generation.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Documents of each record kind served now (live writes included), every kind listed.
    pub fn document_counts(&self) -> BTreeMap<String, u64> {
        let searcher = self.reader.searcher();
        schemas::RecordKind::ALL
            .iter()
            .map(|k| {
                let term = Term::from_field_text(self.fields.facet(FacetField::Kind), k.as_str());
                let n = searcher.search(&TermQuery::new(term, IndexRecordOption::Basic), &tantivy::collector::Count).unwrap_or(0);
                (k.as_str().to_string(), n as u64)
            })
            .collect()
    }

    /// The semantic leg of this generation, if it was built with a model (read-locked: see
    /// [`VectorsGuard`]).
    pub fn vectors(&self) -> Option<VectorsGuard<'_>> {
        let guard = self.vectors.read().unwrap_or_else(|e| e.into_inner());
        guard.is_some().then(|| VectorsGuard(guard))
    }

    /// What the generation's vectors were made with (and hold now), if it has vectors.
    pub fn vectors_manifest(&self) -> Option<VectorsManifest> {
        self.vectors().map(|v| v.manifest.clone())
    }

    fn check(request: &SearchRequest) -> Result<(), IndexError> {
        let chars = request.q.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(IndexError::invalid("q", format!("has {chars} characters, at most {MAX_QUERY_CHARS}")));
        }
        if request.limit > MAX_LIMIT {
            return Err(IndexError::invalid("limit", format!("is {}, at most {MAX_LIMIT}", request.limit)));
        }
        if request.offset.saturating_add(request.limit) > MAX_DEPTH {
            return Err(IndexError::invalid("offset", format!("offset + limit may not exceed {MAX_DEPTH}")));
        }
        if let Some(r) = request.semantic_ratio
            && !(0.0..=1.0).contains(&r)
        {
            return Err(IndexError::invalid("semantic_ratio", format!("is {r}; it goes from 0 (keyword only) to 1 (meaning only)")));
        }
        Ok(())
    }

    /// Runs a keyword search (the semantic leg never runs; the answer has no `semantic`).
    /// Errors only on a bad request or a broken index.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        let mut response = self.answer(request, None, 0.0)?;
        response.semantic = None;
        Ok(response)
    }

    /// Hybrid search: the keyword leg and, when it can help, the semantic leg, fused by
    /// reciprocal rank fusion weighted by the semantic ratio ([`SearchIndex::retrieve`]).
    ///
    /// The semantic leg is left out, and the response says why
    /// ([`SemanticSkip`](crate::retrieve::SemanticSkip)), when: the ratio is 0; the query is
    /// empty; this generation has no vectors; no model (or another model than the one that built
    /// the vectors) is loaded; the model fails or is too slow; or the keyword hits are already
    /// strong (Meilisearch's rule, see [`GOOD_ENOUGH_SCORE`](crate::retrieve::GOOD_ENOUGH_SCORE)).
    /// `total` then counts keyword matches plus documents only the semantic leg found; the
    /// facets count the keyword matches.
    pub fn search_hybrid(&self, request: &SearchRequest, encoder: Option<&QueryEncoder>) -> Result<SearchResponse, IndexError> {
        self.answer(request, encoder, request.semantic_ratio.unwrap_or(DEFAULT_SEMANTIC_RATIO))
    }

    /// The search box's retrieval of `request` at semantic weight `ratio`: the query read as
    /// typed words (or as a text when long), prefix on the last word when asked, the page
    /// judged by the skip rule.
    pub fn search_retrieval<'a>(&self, request: &'a SearchRequest, ratio: f32) -> Retrieval<'a> {
        let mut analyzers = self.analyzers.clone();
        let wanted = request.offset.saturating_add(request.limit);
        Retrieval {
            filters: &request.filters,
            semantic_ratio: ratio,
            fusion: request.fusion.unwrap_or_default(),
            depth: wanted.clamp(HYBRID_CANDIDATES, MAX_DEPTH),
            page: Some(wanted),
            facets: true,
            near: request.near.as_ref(),
            ..Retrieval::new(&request.q, Words::for_query(&mut analyzers, &request.q, request.prefix))
        }
    }

    fn answer(&self, request: &SearchRequest, encoder: Option<&QueryEncoder>, ratio: f32) -> Result<SearchResponse, IndexError> {
        Self::check(request)?;
        if request.sort == Sort::Distance && request.near.is_none() {
            return Err(IndexError::invalid("sort", "`distance` needs a place: `near` (a town) or `lat` and `lon`"));
        }
        if request.sort == Sort::Recent {
            return self.browse_recent(request);
        }
        if request.near.is_some() && request.q.trim().is_empty() {
            return self.browse_near(request);
        }
        let mut found = self.retrieve(&self.search_retrieval(request, ratio), encoder)?;
        if request.sort == Sort::Distance {
            // Stable: equal distances (the same town) keep their order by relevance.
            found.candidates.sort_by(|a, b| a.distance_km.unwrap_or(f64::MAX).total_cmp(&b.distance_km.unwrap_or(f64::MAX)));
        }
        let used = found.semantic_skip.is_none();
        let mut analyzers = self.analyzers.clone();
        let hits = found
            .candidates
            .iter()
            .enumerate()
            .skip(request.offset)
            .take(request.limit)
            .map(|(i, c)| {
                // Keyword only: the BM25 score; fused: the fused score.
                let score = if used { (c.fused * 1_000_000.0).round() / 1_000_000.0 } else { c.keyword.map_or(0.0, |k| (k.score * 1000.0).round() / 1000.0) };
                let mut hit = self.hit_from_record(&c.record, &found.plan, &mut analyzers, score);
                hit.distance_km = c.distance_km.map(round_km);
                if request.explain {
                    let keyword = if used { c.keyword } else { Some(LegPosition { rank: i + 1, score: hit.score }) };
                    let fused = if used { c.fused } else { hit.score };
                    hit.explain = Some(Explain { keyword, semantic: c.semantic, fused, title_words: c.title_words.filter(|_| used) });
                }
                hit
            })
            .collect();
        Ok(SearchResponse {
            hits,
            total: found.total,
            facets: found.facets.clone(),
            words_matched: found.words_matched,
            words_typed: found.words_typed,
            generation: self.name.clone(),
            semantic: Some(found.semantic_status(ratio)),
            near: request.near.clone(),
        })
    }

    /// Every record of these kinds in the generation, in index order (documents that cannot be
    /// read are skipped).
    pub fn records_of_kinds(&self, kinds: &[&str]) -> Vec<Record> {
        let searcher = &self.reader.searcher();
        let mut out = Vec::new();
        for kind in kinds {
            let term = Term::from_field_text(self.fields.facet(FacetField::Kind), kind);
            let Ok(docs) = searcher.search(&TermQuery::new(term, IndexRecordOption::Basic), &DocSetCollector) else {
                continue;
            };
            out.extend(docs.into_iter().filter_map(|address| self.record_at(searcher, address)));
        }
        out
    }

    /// A page of the documents the filters keep, newest posting date first ([`Sort::Recent`]):
    /// no words, no semantic leg; `total` and the facets count every document kept.
    fn browse_recent(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        if !request.q.trim().is_empty() {
            return Err(IndexError::invalid("sort", "`recent` orders a page without words; with words, results are ordered by relevance"));
        }
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers.clone();
        let query: Box<dyn Query> = self.filter_query_near(&mut analyzers, &request.filters, request.near.as_ref()).unwrap_or_else(|| Box::new(AllQuery));
        let wanted = request.offset.saturating_add(request.limit).max(1);
        let collector = (
            TopDocs::with_limit(wanted).order_by_fast_field::<i64>("posted_day", tantivy::Order::Desc),
            tantivy::collector::Count,
            FacetCounts::new(&self.facets),
        );
        let (top, total, counts) = searcher.search(&query, &collector)?;
        let plan = QueryPlan::new(&mut analyzers, "", false);
        let mut dated: Vec<(Option<i64>, Record)> = top.into_iter().filter_map(|(day, address)| self.record_at(&searcher, address).map(|r| (day, r))).collect();
        // Equal dates (and no date) in the order of their ids, whatever the index order.
        dated.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id().cmp(b.1.id())));
        let hits = dated
            .iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|(_, r)| {
                let mut hit = self.hit_from_record(r, &plan, &mut analyzers, 0.0);
                hit.distance_km = request.near.as_ref().and_then(|n| Gazetteer::shared().locate_record(r).map(|p| round_km(n.distance_km(p.lat, p.lon))));
                hit
            })
            .collect();
        Ok(SearchResponse {
            hits,
            total,
            facets: top_values(counts, 50).into_iter().map(|(field, values)| (field, values.into_iter().collect())).collect(),
            words_matched: 0,
            words_typed: 0,
            generation: self.name.clone(),
            semantic: None,
            near: request.near.clone(),
        })
    }

    /// A page of the documents inside the request's circle that the filters keep, nearest
    /// first (equal distances, the documents of one town, in the index's order): no words, no
    /// semantic leg; `total` and the facets count every document kept. Distances come from the
    /// coordinates' fast fields; only the page's stored records are read.
    fn browse_near(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        let near = request.near.as_ref().ok_or_else(|| IndexError::invalid("near", "a place is needed"))?;
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers.clone();
        let query = self.filter_query_near(&mut analyzers, &request.filters, Some(near)).unwrap_or_else(|| Box::new(AllQuery));
        let (docs, counts) = searcher.search(&query, &(DocSetCollector, FacetCounts::new(&self.facets)))?;
        let mut columns = HashMap::new();
        let mut placed: Vec<(f64, DocAddress)> = Vec::with_capacity(docs.len());
        for address in docs {
            let (lat, lon) = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                    e.insert((fast.column_opt::<f64>(geo::LAT_FIELD)?, fast.column_opt::<f64>(geo::LON_FIELD)?))
                }
            };
            let at = lat.as_ref().and_then(|c| c.first(address.doc_id)).zip(lon.as_ref().and_then(|c| c.first(address.doc_id)));
            if let Some((a, b)) = at {
                placed.push((near.distance_km(a, b), address));
            }
        }
        placed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let plan = QueryPlan::new(&mut analyzers, "", false);
        let mut hits = Vec::new();
        for (km, address) in placed.iter().skip(request.offset).take(request.limit) {
            if let Some(record) = self.record_at(&searcher, *address) {
                let mut hit = self.hit_from_record(&record, &plan, &mut analyzers, 0.0);
                hit.distance_km = Some(round_km(*km));
                hits.push(hit);
            }
        }
        Ok(SearchResponse {
            hits,
            total: placed.len(),
            facets: top_values(counts, 50).into_iter().map(|(field, values)| (field, values.into_iter().collect())).collect(),
            words_matched: 0,
            words_typed: 0,
            generation: self.name.clone(),
            semantic: None,
            near: Some(near.clone()),
        })
    }

    /// The record stored in a document, if it can be read.
    pub(crate) fn record_at(&self, searcher: &Searcher, address: tantivy::DocAddress) -> Option<Record> {
        let doc: TantivyDocument = searcher.doc(address).ok()?;
        let json = doc.get_first(self.fields.stored_record)?.as_str()?.to_string();
        serde_json::from_str(&json).ok()
    }

    pub(crate) fn record_by_id(&self, searcher: &Searcher, id: &str) -> Result<Option<Record>, IndexError> {
        Ok(self.address_of(searcher, id)?.and_then(|a| self.record_at(searcher, a)))
    }

    /// The record of the document `id`, if the generation holds it.
    pub fn record(&self, id: &str) -> Result<Option<Record>, IndexError> {
        self.record_by_id(&self.reader.searcher(), id)
    }

    /// A fresh copy of the generation's analyzers (French, Dutch, English), for callers that
    /// analyse texts the way the index does (explanations, highlighting).
    pub fn analyzers(&self) -> Analyzers {
        self.analyzers.clone()
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

    /// [`SearchIndex::filter_query`], and inside the circle when there is one.
    pub(crate) fn filter_query_near(&self, analyzers: &mut Analyzers, filters: &[(FacetField, Vec<String>)], near: Option<&Near>) -> Option<Box<dyn Query>> {
        let facets = self.filter_query(analyzers, filters);
        let Some(near) = near else { return facets };
        let circle: Box<dyn Query> = Box::new(geo::within_query(near));
        Some(match facets {
            None => circle,
            Some(f) => Box::new(BooleanQuery::new(vec![(Occur::Must, f), (Occur::Must, circle)])),
        })
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

    fn hit_from_record(&self, record: &Record, plan: &QueryPlan, analyzers: &mut Analyzers, score: f32) -> Hit {
        let (title, body) = searchable_text(record);
        let lang = record_lang(record);
        let title_matches = highlight::matches(plan, analyzers, lang, &title);
        let body_matches = highlight::matches(plan, analyzers, lang, &body);
        let snippet = if body_matches.is_empty() && !title_matches.is_empty() {
            highlight::snippet(&body, &[], SNIPPET_CHARS)
        } else {
            highlight::snippet(&body, &body_matches, SNIPPET_CHARS)
        };
        let kind = record.kind().as_str().to_string();
        let mut value = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = value.as_object_mut() {
            obj.remove("description");
        }
        Hit {
            id: record.id().to_string(),
            kind,
            title_html: highlight::mark_all(&title, &title_matches),
            title,
            snippet,
            score,
            record: value,
            explain: None,
            distance_km: None,
        }
    }
}
