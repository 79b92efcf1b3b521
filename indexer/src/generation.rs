//! Index generations: each `passerelle index` writes a whole new index beside the served one,
//! then publishes it by atomically replacing the `CURRENT` pointer. A build that crashes or is
//! killed leaves the served generation untouched; its half-written folder is removed by the next
//! build.
//!
//! ```text
//! data/index/CURRENT            name of the served generation
//! data/index/g0001732400000123/ tantivy files + generation.json (written last, before publishing)
//! data/index/.build.lock        held while a build runs
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use schemas::RecordKind;
use serde::{Deserialize, Serialize};
use store::RecordStore;
use tantivy::{Index, IndexWriter};

use crate::analysis;
use crate::error::{IndexError, io};
use crate::schema::IndexFields;
use crate::semantic::{GenerationVectors, VECTORS_DIR, VectorsManifest};
use embed::Embedder;

/// Folder of the data directory holding the generations.
pub const INDEX_DIR: &str = "index";
/// File of [`INDEX_DIR`] naming the served generation.
pub const CURRENT_FILE: &str = "CURRENT";
const MANIFEST_FILE: &str = "generation.json";
const LOCK_FILE: &str = ".build.lock";
/// Memory for tantivy's indexing buffers.
const WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;

/// What a generation holds; written into it as `generation.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GenerationManifest {
    /// The generation's folder name.
    pub name: String,
    /// When the build finished, RFC 3339.
    pub created_at: String,
    /// Documents indexed.
    pub documents: u64,
    /// Documents per record kind (every kind listed, 0 included).
    pub by_kind: BTreeMap<String, u64>,
    /// The semantic leg, when a model was available to the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorsManifest>,
    /// The last live write of the store the build had seen when it began reading
    /// ([`store::RecordStore::live_seq`]): the writes after it are replayed on opening.
    #[serde(default)]
    pub live_seq: i64,
    /// Documents with a town the gazetteer knows (they have coordinates: "near a place" finds
    /// them), and the records with a town it does not know.
    #[serde(default)]
    pub places: PlacesReport,
}

/// How many records got coordinates from their town ([`crate::geo`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PlacesReport {
    /// Records located.
    pub located: u64,
    /// Records with a town that the gazetteer does not know.
    pub unknown: u64,
    /// Up to 20 of those towns, with their country, most frequent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_towns: Vec<String>,
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// What the new generation holds.
    pub manifest: GenerationManifest,
    /// Its folder.
    pub path: PathBuf,
    /// How long the build took.
    pub elapsed: Duration,
    /// Generation folders removed (older ones and leftovers of crashed builds).
    pub removed: Vec<String>,
}

/// The folder of `data_dir` holding the generations.
pub fn index_root(data_dir: &Path) -> PathBuf {
    data_dir.join(INDEX_DIR)
}

/// The served generation's name, if any.
pub fn current_generation(data_dir: &Path) -> Result<Option<String>, IndexError> {
    let path = index_root(data_dir).join(CURRENT_FILE);
    match fs::read_to_string(&path) {
        Ok(name) => Ok(Some(name.trim().to_string()).filter(|n| !n.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(IndexError::Io { path, source: e }),
    }
}

/// Reads a generation's manifest; `None` for a build that never finished.
pub fn read_manifest(generation_dir: &Path) -> Option<GenerationManifest> {
    let text = fs::read_to_string(generation_dir.join(MANIFEST_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Builds a new generation from every record of the store and publishes it, keyword leg only.
///
/// `progress` is called with the number of records indexed so far.
pub fn build_generation(data_dir: &Path, store: &mut RecordStore, mut progress: impl FnMut(u64)) -> Result<BuildReport, IndexError> {
    build_generation_with(data_dir, store, None, |phase, n, _| {
        if phase == Phase::Indexing {
            progress(n)
        }
    })
}

/// A step of a build, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Records written into tantivy.
    Indexing,
    /// Records embedded (or read from the embedding cache).
    Embedding,
    /// HNSW graphs built.
    Graphs,
}

/// Builds a new generation and publishes it; with an embedder, the generation also holds one
/// HNSW graph per kind (vectors read from the embedding cache of the store when there, and
/// cached when computed). `progress` gets (phase, done, total).
pub fn build_generation_with(
    data_dir: &Path,
    store: &mut RecordStore,
    embedder: Option<&dyn Embedder>,
    progress: impl FnMut(Phase, u64, u64),
) -> Result<BuildReport, IndexError> {
    build_generation_cached(data_dir, store, embedder, None, progress)
}

/// [`build_generation_with`], with the embedding cache read from and written to `cache`
/// instead of `store` (the evaluation indexes a corpus in a temporary store and reuses the
/// data directory's cache).
pub fn build_generation_cached(
    data_dir: &Path,
    store: &mut RecordStore,
    embedder: Option<&dyn Embedder>,
    cache: Option<&mut RecordStore>,
    mut progress: impl FnMut(Phase, u64, u64),
) -> Result<BuildReport, IndexError> {
    // Read before the records: a write landing in between is in both, and replaying it is harmless.
    let live_seq = store.live_seq()?;
    let total = store.count(None)?;
    let started = Instant::now();
    let root = index_root(data_dir);
    fs::create_dir_all(&root).map_err(io(&root))?;
    let lock_path = root.join(LOCK_FILE);
    let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
    if lock.try_lock().is_err() {
        return Err(IndexError::Busy(root));
    }
    let previous = current_generation(data_dir)?;
    let name = new_generation_name(&root);
    let dir = root.join(&name);
    fs::create_dir(&dir).map_err(io(&dir))?;

    let fields = IndexFields::build();
    let index = Index::create_in_dir(&dir, fields.schema.clone()).map_err(|source| IndexError::Generation { name: name.clone(), source })?;
    analysis::register(&index);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, WRITER_HEAP_BYTES)?;
    let mut by_kind: BTreeMap<String, u64> = RecordKind::ALL.iter().map(|k| (k.as_str().to_string(), 0)).collect();
    let mut documents = 0u64;
    let mut records = Vec::new();
    let mut places = PlacesReport::default();
    let mut unknown_towns: BTreeMap<String, u64> = BTreeMap::new();
    store.for_each(None, |record| {
        let document = fields.document(&record);
        // Located when the document got coordinates (the gazetteer is asked once, there).
        match (document.get_first(fields.lat).is_some(), town(&record)) {
            (true, _) => places.located += 1,
            (false, Some(town)) => {
                places.unknown += 1;
                *unknown_towns.entry(town).or_default() += 1;
            }
            (false, None) => {}
        }
        writer.add_document(document).map_err(|e| store::StoreError::Io { path: dir.clone(), source: std::io::Error::other(e.to_string()) })?;
        *by_kind.entry(record.kind().as_str().to_string()).or_default() += 1;
        documents += 1;
        if documents.is_multiple_of(1000) {
            progress(Phase::Indexing, documents, total);
        }
        if embedder.is_some() {
            records.push(record);
        }
        Ok(())
    })?;
    writer.commit()?;
    writer.wait_merging_threads()?;
    progress(Phase::Indexing, documents, total);

    let vectors = match embedder {
        None => None,
        Some(embedder) => {
            let n = records.len() as u64;
            let cache = match cache {
                Some(cache) => cache,
                None => store,
            };
            let built = GenerationVectors::build(&records, embedder, Some(cache), |done| progress(Phase::Embedding, done as u64, n))?;
            progress(Phase::Graphs, n, n);
            built.save(&dir.join(VECTORS_DIR))?;
            Some(built.manifest)
        }
    };
    drop(records);

    let mut towns: Vec<(String, u64)> = unknown_towns.into_iter().collect();
    towns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    places.unknown_towns = towns.into_iter().take(20).map(|(t, _)| t).collect();
    let manifest = GenerationManifest { name: name.clone(), created_at: schemas::now_rfc3339(), documents, by_kind, vectors, live_seq, places };
    write_durably(&dir.join(MANIFEST_FILE), serde_json::to_string_pretty(&manifest).expect("serialises").as_bytes())?;
    sync_dir(&dir)?;
    // Publish: the rename is the commit point.
    write_durably(&root.join(CURRENT_FILE), name.as_bytes())?;

    let removed = remove_old_generations(&root, &name, previous.as_deref());
    drop(lock);
    Ok(BuildReport { manifest, path: dir, elapsed: started.elapsed(), removed })
}

/// A record's town and country (`Nivelles (BE)`), when it names one (its place facets).
fn town(record: &schemas::Record) -> Option<String> {
    use crate::schema::FacetField;
    // Shown in the build's output: control characters of crawled text are dropped, long names cut.
    let shown = |v: String, n: usize| v.chars().filter(|c| !c.is_control()).take(n).collect::<String>();
    let city = shown(FacetField::City.value(record)?, 60);
    Some(match FacetField::Country.value(record).map(|c| shown(c, 8)) {
        Some(c) => format!("{city} ({c})"),
        None => city,
    })
}

/// Writes `bytes` durably over `path` through the store's one durable write (a synced `.partial`
/// file renamed over it, then the folder synced).
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    store::write_atomically(path, |out| out.write_all(bytes).map_err(|source| IndexError::Io { path: path.to_path_buf(), source }))
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn new_generation_name(root: &Path) -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut n = millis;
    loop {
        let name = format!("g{n:016}");
        if !root.join(&name).exists() {
            return name;
        }
        n += 1;
    }
}

/// Keeps the new generation and the one it replaces (a server may still be reading it);
/// removes every other generation folder, finished or not.
fn remove_old_generations(root: &Path, current: &str, previous: Option<&str>) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(root) else { return removed };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with('g') || name == current || Some(name.as_str()) == previous || !entry.path().is_dir() {
            continue;
        }
        match fs::remove_dir_all(entry.path()) {
            Ok(()) => removed.push(name),
            Err(e) => tracing::warn!("could not remove old index generation {name}: {e}"),
        }
    }
    removed.sort();
    removed
}
