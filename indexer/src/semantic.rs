//! The semantic leg of an index generation: one HNSW graph per record kind and the facet values
//! each vector answers filters with. The model itself, and the query encoder that turns a search
//! into a vector, are the `embed` crate's.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use schemas::Record;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use embed::{Embedder, TextRole, embed_cached};

use crate::analysis::Analyzers;
use crate::error::{IndexError, io};
use crate::generation::write_durably;
use crate::geo::{Gazetteer, Near};
use crate::schema::{FacetField, searchable_text};
use crate::vectors::{EF_SEARCH, Neighbour, VectorIndex};

/// Folder of a generation holding its vectors.
pub const VECTORS_DIR: &str = "vectors";
const MANIFEST: &str = "vectors.json";
const ATTRIBUTES: &str = "attributes.json";
/// Characters of a record given to the model (it reads at most its token limit anyway).
pub const EMBED_TEXT_CHARS: usize = 1500;

/// The text of a record that is embedded: what it is about first (title, skills, domain), then
/// its description. Places and company names are left to the filters and the keyword leg: they
/// say little about meaning and would take the model's limited tokens.
pub fn embedding_text(record: &Record) -> String {
    fn join<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
        parts.into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(". ")
    }
    let text = match record {
        Record::Offer(r) => {
            let skills = r.skills.join(", ");
            join([Some(r.title.as_str()), Some(skills.as_str()), Some(r.description.as_str())])
        }
        Record::Programme(r) => {
            let skills = r.skills.join(", ");
            join([Some(r.title.as_str()), r.domain.as_deref(), Some(skills.as_str()), Some(r.description.as_str())])
        }
        Record::Question(r) => {
            // The code tells apart questions whose stem is generic ("What does this print?").
            let options = r.options.join(" · ");
            join([Some(r.text.as_str()), r.code.as_deref(), Some(options.as_str())])
        }
        Record::Company(r) => join([Some(r.name.as_str()), r.sector.as_deref(), r.description.as_deref()]),
        Record::School(_) => {
            let (title, body) = searchable_text(record);
            join([Some(title.as_str()), Some(body.as_str())])
        }
    };
    match text.char_indices().nth(EMBED_TEXT_CHARS) {
        Some((at, _)) => text[..at].to_string(),
        None => text,
    }
}

/// Hash of a text after normalisation (case, accents, spaces): exact duplicates share it.
pub fn exact_hash(text: &str) -> u64 {
    let digest = Sha256::digest(schemas::normalized_text(text).as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// What a generation's vectors were made with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VectorsManifest {
    /// The model that made them: queries must be embedded by the same one.
    pub model_id: String,
    /// Dimensions of the vectors.
    pub dim: usize,
    /// Live vectors per record kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Texts embedded while building (the rest came from the embedding cache).
    pub embedded: usize,
    /// Texts whose vector was read from the embedding cache while building.
    pub from_cache: usize,
}

/// The facet values of one document, folded like the keyword filters (one slot per
/// [`FacetField::ALL`]).
type Attributes = Vec<Option<String>>;

fn attributes(record: &Record, analyzers: &mut Analyzers) -> Attributes {
    FacetField::ALL.iter().map(|f| f.value(record).map(|v| analyzers.keyword(&v))).collect()
}

/// One kind's graph and the facet values of its documents.
pub struct KindVectors {
    /// The graph.
    pub index: VectorIndex,
    attributes: HashMap<String, Attributes>,
}

/// The vectors of a generation.
pub struct GenerationVectors {
    /// What they were made with and how many there are.
    pub manifest: VectorsManifest,
    kinds: BTreeMap<String, KindVectors>,
    analyzers: Analyzers,
}

/// Filters folded for comparison: (slot in [`FacetField::ALL`], accepted values), and a circle.
pub struct VectorFilter {
    kinds: Option<Vec<String>>,
    fields: Vec<(usize, Vec<String>)>,
    near: Option<Near>,
}

impl VectorFilter {
    /// The same filter, keeping only the documents whose town lies inside `near` (their city,
    /// country and region as the index located them, see [`crate::geo`]).
    pub fn near(mut self, near: Option<&Near>) -> VectorFilter {
        self.near = near.cloned();
        self
    }
}

/// A document's city, country and region (folded), as its attributes hold them.
type Town<'t> = (Option<&'t str>, Option<&'t str>, Option<&'t str>);

/// Whether the town of a document with these attributes lies inside the circle; `memo` keeps
/// each town's answer for the rest of the search.
fn in_circle<'s>(memo: &std::cell::RefCell<HashMap<Town<'s>, bool>>, near: &Near, attrs: &'s Attributes, [city, country, region]: [usize; 3]) -> bool {
    let at = |slot: usize| attrs.get(slot).and_then(Option::as_deref);
    let key = (at(city), at(country), at(region));
    if let Some(known) = memo.borrow().get(&key) {
        return *known;
    }
    let found = key.0.and_then(|c| Gazetteer::shared().locate(c, key.1, key.2)).is_some_and(|p| near.contains(p.lat, p.lon));
    memo.borrow_mut().insert(key, found);
    found
}

/// The slots of the place facets in [`Attributes`].
fn place_slots() -> [usize; 3] {
    [FacetField::City, FacetField::Country, FacetField::Region].map(|f| FacetField::ALL.iter().position(|x| *x == f).expect("a facet"))
}

impl GenerationVectors {
    /// Embeds every record (through the cache) and builds one graph per kind.
    pub fn build(
        records: &[Record],
        embedder: &dyn Embedder,
        cache: Option<&mut store::RecordStore>,
        progress: impl FnMut(usize),
    ) -> Result<GenerationVectors, IndexError> {
        let texts: Vec<String> = records.iter().map(embedding_text).collect();
        let (vectors, embedded) = embed_cached(embedder, TextRole::Passage, &texts, cache, progress)?;
        let mut built = Self::assemble(records, &texts, vectors, embedder.model_id(), embedder.dim())?;
        built.manifest.embedded = embedded;
        built.manifest.from_cache = records.len() - embedded.min(records.len());
        Ok(built)
    }

    /// Builds the graphs from vectors already computed (one per record, in order, normalised)
    /// by the model `model_id`.
    pub fn from_vectors(records: &[Record], vectors: Vec<Vec<f32>>, model_id: &str, dim: usize) -> Result<GenerationVectors, IndexError> {
        let texts: Vec<String> = records.iter().map(embedding_text).collect();
        Self::assemble(records, &texts, vectors, model_id, dim)
    }

    /// The graphs of `records`, whose embedded texts are `texts` (for the exact-text map).
    fn assemble(records: &[Record], texts: &[String], vectors: Vec<Vec<f32>>, model_id: &str, dim: usize) -> Result<GenerationVectors, IndexError> {
        let mut analyzers = Analyzers::default();
        let mut items: BTreeMap<String, Vec<(String, Vec<f32>, u64)>> = BTreeMap::new();
        let mut attrs: BTreeMap<String, HashMap<String, Attributes>> = BTreeMap::new();
        for ((record, text), vector) in records.iter().zip(texts).zip(vectors) {
            let kind = record.kind().as_str().to_string();
            items.entry(kind.clone()).or_default().push((record.id().to_string(), vector, exact_hash(text)));
            attrs.entry(kind).or_default().insert(record.id().to_string(), attributes(record, &mut analyzers));
        }
        let mut kinds = BTreeMap::new();
        for (kind, list) in items {
            let index = VectorIndex::build(dim, list)?;
            kinds.insert(kind.clone(), KindVectors { index, attributes: attrs.remove(&kind).unwrap_or_default() });
        }
        let manifest = VectorsManifest {
            model_id: model_id.to_string(),
            dim,
            by_kind: kinds.iter().map(|(k, v)| (k.clone(), v.index.len())).collect(),
            embedded: 0,
            from_cache: 0,
        };
        Ok(GenerationVectors { manifest, kinds, analyzers })
    }

    /// Writes everything under `dir` (the generation's `vectors/` folder, not yet published).
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (kind, k) in &self.kinds {
            let kdir = dir.join(kind);
            k.index.save(&kdir)?;
            write_durably(&kdir.join(ATTRIBUTES), &serde_json::to_vec(&k.attributes).expect("attributes serialise"))?;
        }
        write_durably(&dir.join(MANIFEST), &serde_json::to_vec_pretty(&self.manifest).expect("manifest serialises"))
    }

    /// Reads what [`GenerationVectors::save`] wrote; `Ok(None)` when the generation has no vectors.
    pub fn load(dir: &Path) -> Result<Option<GenerationVectors>, IndexError> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Ok(None);
        }
        let bad = |path: &Path, e: serde_json::Error| IndexError::Io { path: path.to_path_buf(), source: e.into() };
        let manifest: VectorsManifest = serde_json::from_slice(&std::fs::read(&path).map_err(io(&path))?).map_err(|e| bad(&path, e))?;
        let mut kinds = BTreeMap::new();
        for kind in manifest.by_kind.keys() {
            let kdir = dir.join(kind);
            let index = VectorIndex::load(&kdir)?;
            let apath = kdir.join(ATTRIBUTES);
            let attributes = serde_json::from_slice(&std::fs::read(&apath).map_err(io(&apath))?).map_err(|e| bad(&apath, e))?;
            kinds.insert(kind.clone(), KindVectors { index, attributes });
        }
        Ok(Some(GenerationVectors { manifest, kinds, analyzers: Analyzers::default() }))
    }

    /// Folds request filters the way documents' values were folded.
    pub fn filter(&self, filters: &[(FacetField, Vec<String>)]) -> VectorFilter {
        let mut analyzers = self.analyzers.clone();
        let mut out = VectorFilter { kinds: None, fields: Vec::new(), near: None };
        for (field, values) in filters {
            let folded: Vec<String> = values.iter().map(|v| analyzers.keyword(v)).collect();
            if *field == FacetField::Kind {
                out.kinds = Some(folded);
            } else if let Some(slot) = FacetField::ALL.iter().position(|f| f == field) {
                out.fields.push((slot, folded));
            }
        }
        out
    }

    /// The `k` nearest live documents over the kinds the filter allows, filtered during each
    /// graph's traversal, most similar first.
    pub fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Vec<Neighbour> {
        self.search_where(query, k, filter, None)
    }

    /// [`GenerationVectors::search`] over the documents `keep` also accepts (by id).
    pub fn search_where(&self, query: &[f32], k: usize, filter: &VectorFilter, keep: Option<&dyn Fn(&str) -> bool>) -> Vec<Neighbour> {
        let mut all = Vec::new();
        // Each town is looked up once per search, however many of its documents are visited.
        let inside: std::cell::RefCell<HashMap<Town<'_>, bool>> = Default::default();
        let slots = place_slots();
        for (kind, kv) in &self.kinds {
            if filter.kinds.as_ref().is_some_and(|ks| !ks.iter().any(|k| k == kind)) {
                continue;
            }
            let accepts = |id: &str| {
                let Some(attrs) = kv.attributes.get(id) else { return false };
                keep.is_none_or(|k| k(id))
                    && filter.fields.iter().all(|(slot, values)| attrs.get(*slot).and_then(Option::as_ref).is_some_and(|v| values.contains(v)))
                    && filter.near.as_ref().is_none_or(|n| in_circle(&inside, n, attrs, slots))
            };
            let keep_ref: Option<&dyn Fn(&str) -> bool> =
                if filter.fields.is_empty() && keep.is_none() && filter.near.is_none() { None } else { Some(&accepts) };
            all.extend(kv.index.search(query, k, EF_SEARCH.max(k), keep_ref));
        }
        all.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        all.truncate(k);
        all
    }

    /// Live documents of `kind` whose normalised text equals `text`'s.
    pub fn same_text(&self, kind: &str, text: &str) -> Vec<String> {
        self.kinds.get(kind).map(|k| k.index.same_text(exact_hash(text))).unwrap_or_default()
    }

    /// Adds or replaces one record's vector in the served graph (a live write).
    pub fn upsert(&mut self, record: &Record, vector: &[f32]) -> Result<(), IndexError> {
        let kind = record.kind().as_str().to_string();
        let dim = self.manifest.dim;
        let attrs = attributes(record, &mut self.analyzers);
        let kv = self.kinds.entry(kind.clone()).or_insert_with(|| KindVectors { index: VectorIndex::new(dim), attributes: HashMap::new() });
        kv.index.insert(record.id(), vector, exact_hash(&embedding_text(record)))?;
        kv.attributes.insert(record.id().to_string(), attrs);
        self.manifest.by_kind.insert(kind, kv.index.len());
        Ok(())
    }

    /// Hides a document until the next rebuild (a tombstone); `false` when it was not there.
    pub fn delete(&mut self, id: &str) -> bool {
        let mut found = false;
        for (kind, kv) in self.kinds.iter_mut() {
            if kv.index.delete(id) {
                kv.attributes.remove(id);
                self.manifest.by_kind.insert(kind.clone(), kv.index.len());
                found = true;
            }
        }
        found
    }

    /// Live documents over every kind.
    pub fn len(&self) -> usize {
        self.kinds.values().map(|k| k.index.len()).sum()
    }

    /// Whether no live document has a vector.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use embed::EmbedError;

    use super::*;

    /// A bag-of-letters embedder: texts sharing letters are close; `slow` makes it sleep.
    pub(crate) struct Letters {
        pub slow: Duration,
    }

    impl Embedder for Letters {
        fn model_id(&self) -> &str {
            "letters"
        }
        fn dim(&self) -> usize {
            26
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            std::thread::sleep(self.slow);
            Ok(texts
                .iter()
                .map(|t| {
                    let body = t.split_once(": ").map_or(*t, |(_, b)| b);
                    let mut v = vec![0.01f32; 26];
                    for c in body.to_lowercase().chars().filter(|c| c.is_ascii_lowercase()) {
                        v[(c as u8 - b'a') as usize] += 1.0;
                    }
                    crate::vectors::normalise(&mut v);
                    v
                })
                .collect())
        }
    }

    fn offer(key: &str, title: &str, region: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "kind": "offer", "id": format!("offer-{key}"), "source": "test", "source_key": key,
            "title": title, "contract_type": "internship", "region": region
        }))
        .unwrap()
    }

    #[test]
    fn filters_apply_during_the_search_and_reload_gives_the_same_answers() {
        let records = vec![
            offer("1", "zzzz zzzz", "Wallonie"),
            offer("2", "zzzz zzza", "Bruxelles"),
            offer("3", "aaaa bbbb", "Wallonie"),
            serde_json::from_value(serde_json::json!({"kind": "question", "id": "question-1", "source": "test", "text": "zzzz zzzz?"})).unwrap(),
        ];
        let e = Letters { slow: Duration::ZERO };
        let built = GenerationVectors::build(&records, &e, None, |_| {}).unwrap();
        assert_eq!(built.manifest.by_kind.get("offer"), Some(&3));
        let q = e.embed_as(TextRole::Query, &["zzzz"]).unwrap().remove(0);
        let all = built.search(&q, 10, &built.filter(&[]));
        assert_eq!(all.len(), 4);
        let only_offers = built.filter(&[(FacetField::Kind, vec!["offer".into()])]);
        assert!(built.search(&q, 10, &only_offers).iter().all(|n| n.id != records[3].id()));
        let brussels = built.filter(&[(FacetField::Region, vec!["bruxelles".into()])]);
        let hits = built.search(&q, 10, &brussels);
        assert_eq!(hits.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), vec![records[1].id()]);

        let dir = tempfile::tempdir().unwrap();
        built.save(&dir.path().join(VECTORS_DIR)).unwrap();
        let loaded = GenerationVectors::load(&dir.path().join(VECTORS_DIR)).unwrap().unwrap();
        assert_eq!(loaded.manifest, built.manifest);
        for filter in [vec![], vec![(FacetField::Region, vec!["Wallonie".to_string()])]] {
            assert_eq!(loaded.search(&q, 10, &loaded.filter(&filter)), built.search(&q, 10, &built.filter(&filter)));
        }
        // Exact duplicates by normalised text (case and spaces do not count), after a reload too.
        assert_eq!(loaded.same_text("offer", "ZZZZ  zzzz"), vec!["offer-1".to_string()]);
        assert!(loaded.same_text("offer", "zzzz").is_empty());
        assert!(GenerationVectors::load(&dir.path().join("nothing")).unwrap().is_none());
    }

    #[test]
    fn live_writes_insert_and_tombstone() {
        let records = vec![offer("1", "zzzz", "Wallonie"), offer("2", "aaaa", "Wallonie")];
        let e = Letters { slow: Duration::ZERO };
        let mut v = GenerationVectors::build(&records, &e, None, |_| {}).unwrap();
        let q = e.embed_as(TextRole::Query, &["mmmm"]).unwrap().remove(0);
        let new = offer("3", "mmmm", "Flandre");
        let nv = e.embed_as(TextRole::Passage, &[embedding_text(&new).as_str()]).unwrap().remove(0);
        v.upsert(&new, &nv).unwrap();
        assert_eq!(v.search(&q, 1, &v.filter(&[]))[0].id, new.id());
        assert_eq!(v.same_text("offer", &embedding_text(&new)), vec![new.id().to_string()]);
        assert!(v.delete(new.id()));
        assert!(v.search(&q, 10, &v.filter(&[])).iter().all(|n| n.id != new.id()));
        assert!(v.same_text("offer", &embedding_text(&new)).is_empty());
        assert!(!v.delete("nope"));
    }
}
