//! The embedding cache: vectors keyed by (model, hash of the exact text embedded, prefix
//! included), stored as little-endian f32. Re-indexing unchanged documents, or evaluating the
//! same corpus twice, runs no inference.

use std::collections::HashMap;

use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::store::{RecordStore, StoreError};

/// The cache key of a text.
pub fn text_hash(text: &str) -> String {
    schemas::hex(&Sha256::digest(text.as_bytes())[..16])
}

fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl RecordStore {
    /// The cached vectors of `texts` for `model` (text -> vector), for those that are cached.
    pub fn cached_embeddings(&self, model: &str, texts: &[&str]) -> Result<HashMap<String, Vec<f32>>, StoreError> {
        let mut stmt = self.conn().prepare_cached("SELECT vector FROM embeddings WHERE model = ?1 AND text_hash = ?2")?;
        let mut out = HashMap::new();
        for text in texts {
            let mut rows = stmt.query(params![model, text_hash(text)])?;
            if let Some(row) = rows.next()? {
                let bytes: Vec<u8> = row.get(0)?;
                out.insert(text.to_string(), from_bytes(&bytes));
            }
        }
        Ok(out)
    }

    /// Stores vectors of `model` for texts, in one transaction.
    pub fn cache_embeddings(&mut self, model: &str, items: &[(&str, &[f32])]) -> Result<(), StoreError> {
        self.with_transaction(|tx| {
            let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO embeddings (model, text_hash, dim, vector) VALUES (?1, ?2, ?3, ?4)")?;
            for (text, vector) in items {
                stmt.execute(params![model, text_hash(text), vector.len() as i64, to_bytes(vector)])?;
            }
            Ok(((), true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_per_model() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let v = [0.25f32, -1.5, 3.0];
        store.cache_embeddings("e5-small", &[("query: stage", &v[..])]).unwrap();
        let got = store.cached_embeddings("e5-small", &["query: stage", "query: autre"]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["query: stage"], v.to_vec());
        assert!(store.cached_embeddings("other-model", &["query: stage"]).unwrap().is_empty());
    }
}
