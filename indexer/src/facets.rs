//! Facet counts over every document a query matches (not only the page shown).
//!
//! Counting reads one value per matching document and facet field. Read from tantivy's
//! columns that cost half of a broad query's time, so each segment's values are decoded once,
//! when the generation is opened, into a dense array of dictionary ordinals (4 bytes per
//! document and field); counting is then an array lookup.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentReader};

/// field -> value -> count.
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

const NO_VALUE: u32 = u32::MAX;

/// One field of one segment: each document's value ordinal, and the dictionary.
struct FieldOrdinals {
    name: String,
    ordinals: Vec<u32>,
    column: Option<StrColumn>,
}

/// The decoded facet values of one segment.
pub struct SegmentFacets {
    fields: Vec<FieldOrdinals>,
}

impl SegmentFacets {
    fn load(reader: &SegmentReader, names: &[String]) -> tantivy::Result<SegmentFacets> {
        let max_doc = reader.max_doc();
        let mut fields = Vec::with_capacity(names.len());
        for name in names {
            let column = reader.fast_fields().str(name)?;
            let mut ordinals = vec![NO_VALUE; max_doc as usize];
            if let Some(column) = &column {
                for (doc, slot) in ordinals.iter_mut().enumerate() {
                    if let Some(ord) = column.ords().first(doc as DocId) {
                        *slot = ord as u32;
                    }
                }
            }
            fields.push(FieldOrdinals { name: name.clone(), ordinals, column });
        }
        Ok(SegmentFacets { fields })
    }
}

/// Decoded facet values per segment, shared by every search of a generation.
pub struct FacetCache {
    names: Vec<String>,
    segments: RwLock<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetCache {
    /// A cache of the fast fields `names`, empty until [`FacetCache::warm`].
    pub fn new(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { names: names.into_iter().map(Into::into).collect(), segments: RwLock::new(HashMap::new()) }
    }

    /// Decodes the segments of `searcher` not decoded yet (at open time, and after live writes).
    /// Segments merged away since are forgotten.
    pub fn warm(&self, searcher: &tantivy::Searcher) -> tantivy::Result<()> {
        for reader in searcher.segment_readers() {
            self.segment(reader)?;
        }
        let live: std::collections::HashSet<SegmentId> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        self.segments.write().unwrap_or_else(|e| e.into_inner()).retain(|id, _| live.contains(id));
        Ok(())
    }

    fn segment(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentFacets>> {
        let id = reader.segment_id();
        if let Some(found) = self.segments.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(found.clone());
        }
        let loaded = Arc::new(SegmentFacets::load(reader, &self.names)?);
        self.segments.write().unwrap_or_else(|e| e.into_inner()).insert(id, loaded.clone());
        Ok(loaded)
    }
}

/// Counts, for each facet field, how many matching documents hold each value.
pub struct FacetCounts<'a> {
    cache: &'a FacetCache,
}

impl<'a> FacetCounts<'a> {
    /// A collector reading the values decoded in `cache`.
    pub fn new(cache: &'a FacetCache) -> Self {
        Self { cache }
    }
}

/// [`FacetCounts`] within one segment.
pub struct SegmentFacetCounts {
    facets: Arc<SegmentFacets>,
    counts: Vec<Vec<u64>>,
}

impl Collector for FacetCounts<'_> {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(&self, _id: u32, reader: &SegmentReader) -> tantivy::Result<SegmentFacetCounts> {
        let facets = self.cache.segment(reader)?;
        let counts = facets.fields.iter().map(|f| vec![0; f.column.as_ref().map_or(0, |c| c.num_terms())]).collect();
        Ok(SegmentFacetCounts { facets, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut out = Counts::new();
        for fruit in fruits {
            for (field, values) in fruit {
                let entry = out.entry(field).or_default();
                for (value, n) in values {
                    *entry.entry(value).or_default() += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (field, counts) in self.facets.fields.iter().zip(&mut self.counts) {
            let ord = field.ordinals[doc as usize];
            if ord != NO_VALUE {
                counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> Counts {
        let mut out = Counts::new();
        for (field, counts) in self.facets.fields.iter().zip(self.counts) {
            let values = out.entry(field.name.clone()).or_default();
            let Some(column) = &field.column else { continue };
            let mut text = String::new();
            for (ord, n) in counts.into_iter().enumerate() {
                if n == 0 {
                    continue;
                }
                text.clear();
                if column.ord_to_str(ord as u64, &mut text).unwrap_or(false) {
                    *values.entry(text.clone()).or_default() += n;
                }
            }
        }
        out
    }
}

/// Keeps the `max` most frequent values of each field (ties by value), dropping empty fields.
pub fn top_values(counts: Counts, max: usize) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut out = BTreeMap::new();
    for (field, values) in counts {
        if values.is_empty() {
            continue;
        }
        let mut v: Vec<(String, u64)> = values.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(max);
        out.insert(field, v);
    }
    out
}
