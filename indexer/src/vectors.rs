//! The vector leg: one HNSW graph (hnsw_rs) over L2-normalised embeddings, searched with the
//! dot product, with the bookkeeping hnsw_rs does not do.
//!
//! - Document ids are mapped to the graph's numeric ids.
//! - hnsw_rs cannot delete: deleted documents become tombstones, skipped during the search,
//!   until the next rebuild.
//! - An exact map from normalised-text hash to documents sits beside the graph: a parallel
//!   insert under CPU contention can leave a point unreachable, and an exact duplicate must
//!   never be missed.
//! - Saving writes to a temporary folder, syncs every file and renames it into place (hnsw_rs's
//!   dump does neither). A reloaded graph borrows its loader, so the loader is kept alive for
//!   the life of the process (it holds only paths and options: the graph is read into memory).

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use hnsw_rs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{IndexError, io};

/// Links per node (M).
pub const MAX_CONNECTIONS: usize = 16;
/// hnsw_rs's dump only works with this many layers.
const MAX_LAYER: usize = 16;
/// Candidates explored per insert while building (higher: better graph, slower build).
pub const EF_CONSTRUCTION: usize = 200;
/// Candidates explored per search, at least k.
pub const EF_SEARCH: usize = 64;

const GRAPH_NAME: &str = "graph";
/// Graphs smaller than this are built with serial inserts.
const SERIAL_BELOW: usize = 5_000;
const SIDECAR: &str = "vectors.json";

#[derive(Serialize, Deserialize, Default)]
struct Sidecar {
    dim: usize,
    ids: Vec<String>,
    tombstones: Vec<usize>,
    exact: Vec<(u64, usize)>,
}

/// One kind's vectors.
pub struct VectorIndex {
    hnsw: Hnsw<'static, f32, DistDot>,
    dim: usize,
    ids: Vec<String>,
    by_id: HashMap<String, usize>,
    tombstones: HashSet<usize>,
    exact: HashMap<u64, Vec<usize>>,
}

/// A neighbour: the document and its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The document's id.
    pub id: String,
    /// Cosine similarity to the query (the dot product of unit vectors).
    pub similarity: f32,
}

fn graph(capacity: usize) -> Hnsw<'static, f32, DistDot> {
    Hnsw::new(MAX_CONNECTIONS, capacity.max(16), MAX_LAYER, EF_CONSTRUCTION, DistDot {})
}

impl VectorIndex {
    /// An empty index of `dim`-dimensional vectors (live writes add to it).
    pub fn new(dim: usize) -> VectorIndex {
        VectorIndex { hnsw: graph(1024), dim, ids: Vec::new(), by_id: HashMap::new(), tombstones: HashSet::new(), exact: HashMap::new() }
    }

    /// Builds the graph from (document id, normalised vector, normalised-text hash), inserting
    /// in parallel.
    pub fn build(dim: usize, items: Vec<(String, Vec<f32>, u64)>) -> Result<VectorIndex, IndexError> {
        let mut index = VectorIndex { hnsw: graph(items.len()), ..VectorIndex::new(dim) };
        let mut data = Vec::with_capacity(items.len());
        for (id, vector, hash) in items {
            index.check_dim(&vector)?;
            let n = index.ids.len();
            index.by_id.insert(id.clone(), n);
            index.ids.push(id);
            index.exact.entry(hash).or_default().push(n);
            data.push((vector, n));
        }
        if data.len() < SERIAL_BELOW {
            // Small graphs are built one point at a time: parallel inserts can leave a point
            // unreachable, which a small kind (a few hundred offers) would feel at once.
            for (v, n) in &data {
                index.hnsw.insert_slice((v.as_slice(), *n));
            }
        } else {
            let refs: Vec<(&Vec<f32>, usize)> = data.iter().map(|(v, n)| (v, *n)).collect();
            index.hnsw.parallel_insert(&refs);
        }
        Ok(index)
    }

    fn check_dim(&self, vector: &[f32]) -> Result<(), IndexError> {
        if vector.len() != self.dim {
            return Err(IndexError::Dimension { got: vector.len(), want: self.dim });
        }
        Ok(())
    }

    /// Adds (or replaces) one document.
    pub fn insert(&mut self, id: &str, vector: &[f32], hash: u64) -> Result<(), IndexError> {
        self.check_dim(vector)?;
        self.delete(id);
        let n = self.ids.len();
        self.hnsw.insert_slice((vector, n));
        self.by_id.insert(id.to_string(), n);
        self.ids.push(id.to_string());
        self.exact.entry(hash).or_default().push(n);
        Ok(())
    }

    /// Hides a document until the next rebuild; `false` when it was not there.
    pub fn delete(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(n) => self.tombstones.insert(n),
            None => false,
        }
    }

    /// Live documents (tombstones not counted).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no live document is left.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The `k` nearest live documents; `keep` filters during the traversal (by document id).
    pub fn search(&self, query: &[f32], k: usize, ef: usize, keep: Option<&dyn Fn(&str) -> bool>) -> Vec<Neighbour> {
        if query.len() != self.dim || k == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        let filter = |n: &usize| !self.tombstones.contains(n) && keep.is_none_or(|f| self.ids.get(*n).is_some_and(|id| f(id)));
        let found = self.hnsw.search_filter(query, k, ef.max(k), Some(&filter));
        found.into_iter().filter_map(|n| Some(Neighbour { id: self.ids.get(n.d_id)?.clone(), similarity: 1.0 - n.distance })).collect()
    }

    /// Live documents whose normalised text has this hash.
    pub fn same_text(&self, hash: u64) -> Vec<String> {
        self.exact
            .get(&hash)
            .map(|ns| ns.iter().filter(|n| !self.tombstones.contains(n)).filter_map(|n| self.ids.get(*n).cloned()).collect())
            .unwrap_or_default()
    }

    /// Writes the graph and its sidecar into `dir` (replaced atomically).
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        let tmp = dir.with_extension("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        if !self.ids.is_empty() {
            self.hnsw.file_dump(&tmp, GRAPH_NAME).map_err(|e| IndexError::Io { path: tmp.clone(), source: std::io::Error::other(e.to_string()) })?;
        }
        let sidecar = Sidecar {
            dim: self.dim,
            ids: self.ids.clone(),
            tombstones: self.tombstones.iter().copied().collect(),
            exact: self.exact.iter().flat_map(|(h, ns)| ns.iter().map(move |n| (*h, *n))).collect(),
        };
        let side = tmp.join(SIDECAR);
        fs::write(&side, serde_json::to_vec(&sidecar).expect("sidecar serialises")).map_err(io(&side))?;
        for entry in fs::read_dir(&tmp).map_err(io(&tmp))?.flatten() {
            File::open(entry.path()).and_then(|f| f.sync_all()).map_err(io(entry.path()))?;
        }
        File::open(&tmp).and_then(|d| d.sync_all()).map_err(io(&tmp))?;
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        fs::rename(&tmp, dir).map_err(io(dir))?;
        if let Some(parent) = dir.parent() {
            File::open(parent).and_then(|d| d.sync_all()).map_err(io(parent))?;
        }
        Ok(())
    }

    /// Reads what [`VectorIndex::save`] wrote.
    pub fn load(dir: &Path) -> Result<VectorIndex, IndexError> {
        let side = dir.join(SIDECAR);
        let text = fs::read(&side).map_err(io(&side))?;
        let sidecar: Sidecar =
            serde_json::from_slice(&text).map_err(|e| IndexError::Io { path: side.clone(), source: std::io::Error::other(e.to_string()) })?;
        let hnsw = if sidecar.ids.is_empty() {
            graph(16)
        } else {
            // The graph borrows its loader; the loader only holds paths and options.
            let loader: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, GRAPH_NAME)));
            loader.load_hnsw::<f32, DistDot>().map_err(|e| IndexError::Io { path: PathBuf::from(dir), source: std::io::Error::other(e.to_string()) })?
        };
        let tombstones: HashSet<usize> = sidecar.tombstones.into_iter().collect();
        let by_id = sidecar.ids.iter().enumerate().filter(|(n, _)| !tombstones.contains(n)).map(|(n, id)| (id.clone(), n)).collect();
        let mut exact: HashMap<u64, Vec<usize>> = HashMap::new();
        for (h, n) in sidecar.exact {
            exact.entry(h).or_default().push(n);
        }
        Ok(VectorIndex { hnsw, dim: sidecar.dim, ids: sidecar.ids, by_id, tombstones, exact })
    }
}

/// Scales a vector to length 1 (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The exact nearest neighbours by dot product (the reference HNSW recall is measured against).
pub fn exact_search(vectors: &[(String, Vec<f32>)], query: &[f32], k: usize) -> Vec<Neighbour> {
    let mut all: Vec<Neighbour> =
        vectors.iter().map(|(id, v)| Neighbour { id: id.clone(), similarity: v.iter().zip(query).map(|(a, b)| a * b).sum() }).collect();
    all.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    all.truncate(k);
    all
}

/// Unit vectors shaped like sentence embeddings (tests and benchmarks): points of a
/// low-dimensional latent space (24 dimensions, grouped in `clusters` topics) projected into
/// `dim` dimensions, plus a little isotropic noise. Real embeddings have such a low intrinsic
/// dimension; uniform noise in 384 dimensions would not look like them at all.
pub fn synthetic_vectors(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
    const LATENT: usize = 24;
    let mut state = seed.max(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    // The projection is the same for every seed: queries and documents share one space.
    let mut proj_state = 0x5DEECE66Du64;
    let mut proj_next = move || {
        proj_state ^= proj_state << 13;
        proj_state ^= proj_state >> 7;
        proj_state ^= proj_state << 17;
        (proj_state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    let projection: Vec<Vec<f32>> = (0..LATENT).map(|_| (0..dim).map(|_| proj_next()).collect()).collect();
    let mut centre_state = 0x2545F4914F6CDD1Du64;
    let centres: Vec<Vec<f32>> = (0..clusters.max(1))
        .map(|_| {
            (0..LATENT)
                .map(|_| {
                    centre_state ^= centre_state << 13;
                    centre_state ^= centre_state >> 7;
                    centre_state ^= centre_state << 17;
                    (centre_state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
                })
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % centres.len()];
            let latent: Vec<f32> = c.iter().map(|x| x + 0.6 * next()).collect();
            let mut v: Vec<f32> = (0..dim).map(|d| latent.iter().zip(&projection).map(|(z, row)| z * row[d]).sum::<f32>() + 0.03 * next()).collect();
            normalise(&mut v);
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(vectors: &[Vec<f32>]) -> Vec<(String, Vec<f32>, u64)> {
        vectors.iter().enumerate().map(|(i, v)| (format!("d{i}"), v.clone(), i as u64 % 500)).collect()
    }

    #[test]
    fn recall_against_exact_search_and_reload_gives_the_same_answers() {
        let vectors = synthetic_vectors(3000, 48, 30, 7);
        let index = VectorIndex::build(48, items(&vectors)).unwrap();
        let named: Vec<(String, Vec<f32>)> = vectors.iter().enumerate().map(|(i, v)| (format!("d{i}"), v.clone())).collect();
        let queries = synthetic_vectors(100, 48, 30, 99);
        let mut found = 0;
        for q in &queries {
            let truth: HashSet<String> = exact_search(&named, q, 10).into_iter().map(|n| n.id).collect();
            found += index.search(q, 10, EF_SEARCH, None).into_iter().filter(|n| truth.contains(&n.id)).count();
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.98, "recall@10 {recall}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors-offer");
        index.save(&path).unwrap();
        let reloaded = VectorIndex::load(&path).unwrap();
        for q in &queries[..20] {
            assert_eq!(index.search(q, 10, EF_SEARCH, None), reloaded.search(q, 10, EF_SEARCH, None));
        }
    }

    #[test]
    fn tombstones_filters_and_exact_text() {
        let vectors = synthetic_vectors(200, 16, 4, 3);
        let mut index = VectorIndex::build(16, items(&vectors)).unwrap();
        let first = index.search(&vectors[5], 1, EF_SEARCH, None);
        assert_eq!(first[0].id, "d5");
        assert!((first[0].similarity - 1.0).abs() < 1e-4);
        assert!(index.delete("d5"));
        assert!(index.search(&vectors[5], 5, EF_SEARCH, None).iter().all(|n| n.id != "d5"));
        let only_even = |id: &str| id[1..].parse::<usize>().unwrap() % 2 == 0;
        assert!(index.search(&vectors[7], 5, EF_SEARCH, Some(&only_even)).iter().all(|n| only_even(&n.id)));
        assert_eq!(index.same_text(6), vec!["d6".to_string()]);
        index.insert("new", &vectors[9], 6).unwrap();
        assert_eq!(index.same_text(6), vec!["d6".to_string(), "new".to_string()]);
        assert!(index.insert("bad", &[1.0, 0.0], 1).is_err());
        assert_eq!(index.len(), 200);
        let dir = tempfile::tempdir().unwrap();
        index.save(&dir.path().join("v")).unwrap();
        let back = VectorIndex::load(&dir.path().join("v")).unwrap();
        assert_eq!(back.len(), 200);
        assert!(back.search(&vectors[5], 5, EF_SEARCH, None).iter().all(|n| n.id != "d5"));
    }
}
