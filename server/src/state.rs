use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use indexer::SearchIndex;
use indexer::semantic::QueryEncoder;

/// What every request shares: the data directory, the served index generation and the query
/// encoder of the semantic leg (absent without a model: keyword search only).
pub struct AppState {
    pub data_dir: PathBuf,
    index: RwLock<Option<Arc<SearchIndex>>>,
    pub encoder: Option<Arc<QueryEncoder>>,
}

impl AppState {
    pub fn new(data_dir: PathBuf) -> Self {
        Self { data_dir, index: RwLock::new(None), encoder: None }
    }

    pub fn with_encoder(data_dir: PathBuf, encoder: Option<Arc<QueryEncoder>>) -> Self {
        Self { data_dir, index: RwLock::new(None), encoder }
    }

    /// The generation being served, if one is published.
    pub fn index(&self) -> Option<Arc<SearchIndex>> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens the published generation when it differs from the served one. A generation that
    /// fails to open is logged and the old one kept.
    pub fn reload_if_changed(&self) {
        let current = match indexer::current_generation(&self.data_dir) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("cannot read the index pointer: {e}");
                return;
            }
        };
        let Some(name) = current else { return };
        if self.index().is_some_and(|i| i.name() == name) {
            return;
        }
        match SearchIndex::open(&self.data_dir, &name) {
            Ok(index) => {
                tracing::info!(generation = %name, documents = index.num_docs(), "serving index generation");
                *self.index.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(index));
            }
            Err(e) => tracing::error!("cannot open index generation {name}, keeping the served one: {e}"),
        }
    }
}

/// Checks the generation pointer every `every` and swaps in a newly published generation.
pub async fn watch_generations(state: Arc<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = state.clone();
        // Opening an index reads files: keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
    }
}
