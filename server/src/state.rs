use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use embed::QueryEncoder;
use features::Features;
use indexer::{Applied, LiveChange, SearchIndex};
use store::RecordStore;

use crate::ApiError;
use crate::auth::Guard;
use crate::config::Limits;
use crate::metrics::Metrics;

/// What every request shares: the data directory, the served index generation, the query
/// encoder of the semantic leg (absent without a model: keyword search only), the records store,
/// the keys and limits, the metrics.
pub struct AppState {
    /// The data directory the generations are read from.
    pub data_dir: PathBuf,
    index: RwLock<Option<Arc<Features>>>,
    /// The query encoder of the semantic leg; `None`: keyword search only.
    pub encoder: Option<Arc<QueryEncoder>>,
    /// The connection live writes go through. It is held from the commit to the generation's
    /// update, and while a new generation catches up, so the served generation sees the writes in
    /// the store's order and none falls between two generations.
    writes: Mutex<Option<RecordStore>>,
    /// The connection of reads (keys, records by id, transmissions), never held across a write.
    reads: Mutex<Option<RecordStore>>,
    /// Keys, public scopes and rate limits.
    pub guard: Guard,
    /// The counters of `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Wakes the mail outbox when a transmission is queued.
    pub(crate) outbox: tokio::sync::Notify,
    /// Mails transmissions; `None`: they are stored only.
    pub mailer: Option<crate::mail::Mailer>,
}

impl AppState {
    /// Nothing served yet, no model, the default public scopes and limits, no master key.
    pub fn new(data_dir: PathBuf) -> Self {
        Self::with_encoder(data_dir, None)
    }

    /// Nothing served yet, with this encoder (or none).
    pub fn with_encoder(data_dir: PathBuf, encoder: Option<Arc<QueryEncoder>>) -> Self {
        let public = crate::config::DEFAULT_PUBLIC_SCOPES.iter().map(|s| s.to_string());
        Self::with_guard(data_dir, encoder, Guard::new(public, None, Limits::default()))
    }

    /// Nothing served yet, with this encoder and these keys and limits.
    pub fn with_guard(data_dir: PathBuf, encoder: Option<Arc<QueryEncoder>>, guard: Guard) -> Self {
        Self {
            data_dir,
            index: RwLock::new(None),
            encoder,
            writes: Mutex::new(None),
            reads: Mutex::new(None),
            guard,
            metrics: Arc::new(Metrics::new()),
            outbox: tokio::sync::Notify::new(),
            mailer: None,
        }
    }

    /// The same state, mailing transmissions with `mailer`.
    pub fn with_mailer(mut self, mailer: Option<crate::mail::Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The generation being served, if one is published.
    pub fn index(&self) -> Option<Arc<Features>> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` on the reads connection of the records store (opened on first use). Blocking:
    /// call it from a blocking task.
    pub fn with_reads<T>(&self, f: impl FnOnce(&mut RecordStore) -> Result<T, store::StoreError>) -> Result<T, ApiError> {
        with_store(&self.reads, &self.data_dir, f)
    }

    /// Commits a live write with `commit` (on the writes connection), then serves its changes
    /// in the generation at once. `Ok((value, None))` when no generation is served yet: the
    /// records are stored and the next `passerelle index` serves them. Blocking.
    pub fn write<T>(&self, commit: impl FnOnce(&mut RecordStore) -> Result<(T, Vec<LiveChange>), ApiError>) -> Result<(T, Option<Applied>), ApiError> {
        let mut slot = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let store = open_slot(&mut slot, &self.data_dir)?;
        let (value, changes) = commit(store)?;
        let Some(features) = self.index() else { return Ok((value, None)) };
        let embedder = self.encoder.as_ref().map(|e| e.embedder());
        let applied = features.apply(&changes, embedder, Some(store)).map_err(|e| {
            // The records are committed: they are served after a restart or the next index.
            ApiError::internal(format!("the write is stored but could not be served yet: {e}"))
        })?;
        // The matchers' vocabulary and the trends are read again from the changed generation.
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(features.refreshed()));
        Ok((value, Some(applied)))
    }

    /// Opens the published generation when it differs from the served one, replays the live
    /// writes it was built before, and serves it. A generation that fails to open is logged
    /// and the old one kept.
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
        let index = match SearchIndex::open(&self.data_dir, &name) {
            Ok(index) => index,
            Err(e) => {
                tracing::error!("cannot open index generation {name}, keeping the served one: {e}");
                return;
            }
        };
        // Writes wait while the new generation catches up, then go to it.
        let mut slot = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let caught_up = open_slot(&mut slot, &self.data_dir)
            .map_err(|e| e.message)
            .and_then(|store| index.catch_up(store, self.encoder.as_ref().map(|e| e.embedder())).map_err(|e| e.to_string()));
        match caught_up {
            Ok(applied) => {
                if applied.upserted + applied.deleted > 0 {
                    tracing::info!(generation = %name, upserted = applied.upserted, deleted = applied.deleted, "replayed live writes");
                }
            }
            Err(e) => tracing::error!(generation = %name, "live writes could not be replayed; served without them until they are: {e}"),
        }
        tracing::info!(generation = %name, documents = index.num_docs(), "serving index generation");
        self.metrics.set_generation(&name, None);
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Features::new(index)));
    }
}

fn open_slot<'a>(slot: &'a mut Option<RecordStore>, data_dir: &std::path::Path) -> Result<&'a mut RecordStore, ApiError> {
    if slot.is_none() {
        *slot = Some(RecordStore::open_dir(data_dir).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Ok(slot.as_mut().expect("opened above"))
}

fn with_store<T>(
    connection: &Mutex<Option<RecordStore>>,
    data_dir: &std::path::Path,
    f: impl FnOnce(&mut RecordStore) -> Result<T, store::StoreError>,
) -> Result<T, ApiError> {
    let mut slot = connection.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_slot(&mut slot, data_dir)?;
    f(store).map_err(ApiError::from)
}

/// Checks the generation pointer every `every` and swaps in a newly published generation; now
/// and then, forgets the rate limiters' idle clients.
pub async fn watch_generations(state: Arc<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        tick.tick().await;
        let s = state.clone();
        // Opening an index reads files: keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
        ticks += 1;
        if ticks.is_multiple_of(120) {
            state.guard.forget_idle();
        }
    }
}
