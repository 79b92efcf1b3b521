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
use crate::query::{MAX_QUERY_CHARS, QueryPlan};
use crate::schema::{FacetField, IndexFields, record_lang, searchable_text};

/// Most hits one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Deepest page reachable (offset + limit).
pub const MAX_DEPTH: usize = 10_000;
/// Values listed per facet.
const MAX_FACET_VALUES: usize = 50;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 180;

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
}

/// An opened index generation, ready to search.
pub struct SearchIndex {
    name: String,
    path: PathBuf,
    manifest: Option<GenerationManifest>,
    reader: IndexReader,
    fields: IndexFields,
    analyzers: Analyzers,
    facets: FacetCache,
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
        Ok(SearchIndex {
            facets,
            name: name.to_string(),
            manifest: generation::read_manifest(&path),
            path,
            reader,
            fields: IndexFields::build(),
            analyzers: Analyzers::default(),
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

    /// Runs a search. Errors only on a bad request or a broken index.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        if request.q.chars().count() > MAX_QUERY_CHARS {
            return Err(IndexError::BadRequest(format!("query is longer than {MAX_QUERY_CHARS} characters")));
        }
        if request.limit > MAX_LIMIT {
            return Err(IndexError::BadRequest(format!("limit is {}, at most {MAX_LIMIT}", request.limit)));
        }
        if request.offset + request.limit > MAX_DEPTH {
            return Err(IndexError::BadRequest(format!("offset + limit may not exceed {MAX_DEPTH}")));
        }
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers.clone();
        let plan = QueryPlan::new(&mut analyzers, &request.q, request.prefix);
        let filter = self.filter_query(&mut analyzers, &request.filters);

        // One pass collects the page, the count and the facets. Only when nothing matches every
        // word are the last words let go, one at a time.
        let page_size = request.limit.max(1);
        let collector = (
            TopDocs::with_limit(page_size).and_offset(request.offset).order_by_score(),
            Count,
            FacetCounts::new(&self.facets),
        );
        let mut required = plan.required_words();
        let (mut top_docs, total, counts) = loop {
            let query = self.combine(&plan, &searcher, required, filter.as_ref().map(|f| f.box_clone()));
            let found = searcher.search(&query, &collector)?;
            if found.1 > 0 || required <= 1 {
                break found;
            }
            required -= 1;
        };
        if request.limit == 0 {
            top_docs.clear();
        }
        let facets = top_values(counts, MAX_FACET_VALUES)
            .into_iter()
            .map(|(field, values)| (field, values.into_iter().collect()))
            .collect();
        let mut hits = Vec::with_capacity(top_docs.len());
        for (score, address) in top_docs {
            hits.push(self.hit(&searcher, &plan, &mut analyzers, score, address)?);
        }
        Ok(SearchResponse {
            hits,
            total,
            facets,
            words_matched: if plan.is_empty() { 0 } else { required.min(plan.required_words()) },
            words_typed: plan.required_words(),
            generation: self.name.clone(),
        })
    }

    fn combine(&self, plan: &QueryPlan, searcher: &Searcher, required: usize, filter: Option<Box<dyn Query>>) -> Box<dyn Query> {
        let text: Box<dyn Query> = if plan.is_empty() { Box::new(AllQuery) } else { plan.to_query(&self.fields, searcher, required) };
        match filter {
            None => text,
            Some(filter) => Box::new(BooleanQuery::new(vec![(Occur::Must, text), (Occur::Must, filter)])),
        }
    }

    fn filter_query(&self, analyzers: &mut Analyzers, filters: &[(FacetField, Vec<String>)]) -> Option<Box<dyn Query>> {
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
        Ok(Hit {
            id,
            kind,
            title_html: highlight::mark_all(&title, &title_matches),
            title,
            snippet,
            score: (score * 1000.0).round() / 1000.0,
            record: value,
        })
    }
}
