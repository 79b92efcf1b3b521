//! The query encoder of the service: an LRU cache of recent query vectors and a time limit,
//! past which a search goes on with its keyword leg alone.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::{Embedder, TextRole};

/// Turns search-box queries into vectors for the semantic leg: an LRU cache of recent queries,
/// and a time limit after which the search goes on with the keyword leg alone.
pub struct QueryEncoder {
    embedder: Arc<dyn Embedder>,
    cache: Mutex<lru::LruCache<String, Arc<Vec<f32>>>>,
    timeout: Duration,
}

impl std::fmt::Debug for QueryEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryEncoder").field("model", &self.embedder.model_id()).field("timeout", &self.timeout).finish()
    }
}

/// Queries remembered by default.
pub const QUERY_CACHE_SIZE: usize = 4096;
/// Default time limit of one query embedding.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(1500);

impl QueryEncoder {
    /// An encoder over `embedder` that remembers up to `cache_size` texts (at least 1) and waits
    /// at most `timeout` for the model.
    pub fn new(embedder: Arc<dyn Embedder>, cache_size: usize, timeout: Duration) -> QueryEncoder {
        let size = NonZeroUsize::new(cache_size.max(1)).expect("at least 1");
        QueryEncoder { embedder, cache: Mutex::new(lru::LruCache::new(size)), timeout }
    }

    /// The id of the model behind it (a generation's vectors are only searched with the model
    /// that built them).
    pub fn model_id(&self) -> &str {
        self.embedder.model_id()
    }

    /// The model itself, for texts embedded in batches through the embedding cache (live writes).
    pub fn embedder(&self) -> &dyn Embedder {
        self.embedder.as_ref()
    }

    /// The query's vector, or why there is none (the model failed or took too long).
    pub fn encode(&self, query: &str) -> Result<Arc<Vec<f32>>, String> {
        self.encode_as(TextRole::Query, query)
    }

    /// Puts a vector computed elsewhere (a batch through the embedding cache) in the cache, so
    /// that [`QueryEncoder::encode_as`] answers it at once.
    pub fn remember(&self, role: TextRole, text: &str, vector: Vec<f32>) {
        let key = format!("{}{}", role.prefix(), text.trim());
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).put(key, Arc::new(vector));
    }

    /// The vector of a text read as `role` (a new question is compared as a passage with the
    /// passages it may duplicate), cached like queries.
    pub fn encode_as(&self, role: TextRole, text: &str) -> Result<Arc<Vec<f32>>, String> {
        let key = format!("{}{}", role.prefix(), text.trim());
        if let Some(v) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(v.clone());
        }
        let (tx, rx) = mpsc::channel();
        let embedder = self.embedder.clone();
        let text = text.trim().to_string();
        // The model cannot be interrupted: past the limit the search goes on without it, and
        // the late vector still lands in the cache for the next keystroke.
        std::thread::spawn(move || {
            let _ = tx.send(embedder.embed_as(role, &[text.as_str()]));
        });
        match rx.recv_timeout(self.timeout) {
            Ok(Ok(mut vs)) if !vs.is_empty() => {
                let v = Arc::new(vs.swap_remove(0));
                self.cache.lock().unwrap_or_else(|p| p.into_inner()).put(key, v.clone());
                Ok(v)
            }
            Ok(Ok(_)) => Err("the model returned no vector".into()),
            Ok(Err(e)) => Err(format!("the embedding model failed: {e}")),
            Err(_) => Err(format!("the embedding model took longer than {} ms", self.timeout.as_millis())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmbedError;

    /// Every text gets the same vector, after `slow`.
    struct Constant {
        slow: Duration,
    }

    impl Embedder for Constant {
        fn model_id(&self) -> &str {
            "constant"
        }
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            std::thread::sleep(self.slow);
            Ok(texts.iter().map(|_| vec![1.0, 0.0]).collect())
        }
    }

    #[test]
    fn the_query_encoder_caches_and_gives_up_past_its_time_limit() {
        let fast = QueryEncoder::new(Arc::new(Constant { slow: Duration::ZERO }), 8, Duration::from_secs(5));
        let a = fast.encode("stage web").unwrap();
        let b = fast.encode(" stage web ").unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the second call is served from the cache");
        let slow = QueryEncoder::new(Arc::new(Constant { slow: Duration::from_millis(300) }), 8, Duration::from_millis(20));
        let err = slow.encode("stage").unwrap_err();
        assert!(err.contains("longer than 20 ms"), "{err}");
        // A vector remembered from a batch is answered at once, even by a slow model.
        slow.remember(TextRole::Query, "stage", vec![0.0, 1.0]);
        assert_eq!(*slow.encode(" stage").unwrap(), vec![0.0, 1.0]);
    }
}
