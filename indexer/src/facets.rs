//! Facet counts over every document a query matches (not only the page shown).

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentReader};

/// Counts, for each named fast text field, how many matching documents hold each value.
pub struct FacetCounts {
    fields: Vec<String>,
}

impl FacetCounts {
    pub fn new(fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { fields: fields.into_iter().map(Into::into).collect() }
    }
}

/// field -> value -> count.
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

pub struct SegmentFacetCounts {
    columns: Vec<(String, Option<StrColumn>, Vec<u64>)>,
}

impl Collector for FacetCounts {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(&self, _id: u32, reader: &SegmentReader) -> tantivy::Result<SegmentFacetCounts> {
        let mut columns = Vec::with_capacity(self.fields.len());
        for name in &self.fields {
            let column = reader.fast_fields().str(name)?;
            let n = column.as_ref().map_or(0, |c| c.num_terms());
            columns.push((name.clone(), column, vec![0; n]));
        }
        Ok(SegmentFacetCounts { columns })
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
        for (_, column, counts) in &mut self.columns {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    counts[ord as usize] += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        let mut out = Counts::new();
        for (field, column, counts) in self.columns {
            let values = out.entry(field).or_default();
            let Some(column) = column else { continue };
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

