//! Embeddings cached by (model, text) in the records store, so that re-indexing unchanged
//! documents costs no inference.

use std::collections::HashMap;

use crate::{EmbedError, Embedder, TextRole};

/// Vectors of `texts` (prefixed for `role`), read from `cache` when there, computed and cached
/// otherwise. `progress` gets the number of texts done. Returns the vectors and how many were
/// computed (not found in the cache).
pub fn embed_cached(
    embedder: &dyn Embedder,
    role: TextRole,
    texts: &[String],
    mut cache: Option<&mut store::RecordStore>,
    mut progress: impl FnMut(usize),
) -> Result<(Vec<Vec<f32>>, usize), EmbedError> {
    let prefixed: Vec<String> = texts.iter().map(|t| format!("{}{t}", role.prefix())).collect();
    let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
    let mut computed_total = 0;
    const CHUNK: usize = 256;
    for (c, chunk) in prefixed.chunks(CHUNK).enumerate() {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let cached = match cache.as_deref() {
            Some(store) => store.cached_embeddings(embedder.model_id(), &refs)?,
            None => HashMap::new(),
        };
        let mut missing: Vec<&str> = refs.iter().copied().filter(|t| !cached.contains_key(*t)).collect();
        missing.sort_unstable();
        missing.dedup();
        let computed = if missing.is_empty() { Vec::new() } else { embedder.embed(&missing)? };
        computed_total += missing.len();
        if let Some(store) = cache.as_deref_mut() {
            let items: Vec<(&str, &[f32])> = missing.iter().copied().zip(computed.iter().map(Vec::as_slice)).collect();
            store.cache_embeddings(embedder.model_id(), &items)?;
        }
        let fresh: HashMap<&str, &Vec<f32>> = missing.iter().copied().zip(&computed).collect();
        for (i, t) in refs.iter().enumerate() {
            out[c * CHUNK + i] = cached.get(*t).cloned().or_else(|| fresh.get(t).map(|v| (*v).clone()));
        }
        progress((c * CHUNK + chunk.len()).min(texts.len()));
    }
    Ok((out.into_iter().map(Option::unwrap_or_default).collect(), computed_total))
}
