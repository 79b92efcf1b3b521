//! Live writes: records written through the API, served at once by the generation in service.
//!
//! The server commits a record to the store first (with a line of the live writes log, see
//! [`store::RecordStore::upsert_live`]), then calls [`SearchIndex::apply`]: the keyword leg gets
//! the new version (the id's old document deleted, the new one added, one tantivy commit for the
//! whole batch, the reader reloaded) and the semantic leg its vector (embedded through the store's
//! embedding cache, inserted in the kind's graph; a deleted record's vector becomes a tombstone).
//! The next search sees them.
//!
//! The tantivy commit is on disk when `apply` returns; the graphs are in memory only. Opening a
//! generation therefore replays the log's writes since its build ([`SearchIndex::catch_up`]):
//! after a crash, and for the writes made while `passerelle index` was building it. Replaying
//! is idempotent (a record is served in its current version, or not at all).

use std::collections::HashMap;

use schemas::Record;
use serde::Serialize;
use store::RecordStore;
use tantivy::{IndexWriter, Term};

use crate::error::IndexError;
use crate::search::SearchIndex;
use crate::semantic::embedding_text;
use embed::{Embedder, TextRole, embed_cached};

/// Memory of the live writer's indexing buffer (tantivy wants at least 15 MB per thread).
const WRITER_HEAP_BYTES: usize = 32 * 1024 * 1024;

/// One change to serve.
#[derive(Debug, Clone)]
pub enum LiveChange {
    /// Serve this version of the record (its id set, as the store returns it).
    Upsert(Box<Record>),
    /// Serve the record with this id no more.
    Delete(String),
}

/// What [`SearchIndex::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applied {
    /// Records added or replaced.
    pub upserted: usize,
    /// Records removed.
    pub deleted: usize,
    /// Vectors computed by the model (the others came from the embedding cache).
    pub embedded: usize,
    /// Why the semantic leg does not hold the written records, when it does not (they are found
    /// by their words until a `passerelle index` with the generation's model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vectors_not_updated: Option<String>,
}

impl SearchIndex {
    /// Serves `changes` at once (see the module documentation). The vectors of upserted records
    /// are read from `cache` or computed by `embedder` (and cached); without the generation's
    /// model they are not updated, the stale ones are hidden, and the answer says why.
    pub fn apply(&self, changes: &[LiveChange], embedder: Option<&dyn Embedder>, cache: Option<&mut RecordStore>) -> Result<Applied, IndexError> {
        let mut applied = Applied::default();
        if changes.is_empty() {
            return Ok(applied);
        }
        let mut upserts: Vec<Record> = Vec::new();
        let mut place: HashMap<String, usize> = HashMap::new();
        let mut deletes: Vec<String> = Vec::new();
        for change in changes {
            match change {
                LiveChange::Upsert(record) => {
                    let mut record = record.as_ref().clone();
                    if record.id().is_empty() {
                        record.assign_id();
                    }
                    // Two versions of one record in a batch: the last is the one stored, and
                    // one document per id is served.
                    match place.get(record.id()) {
                        Some(&i) => upserts[i] = record,
                        None => {
                            place.insert(record.id().to_string(), upserts.len());
                            upserts.push(record);
                        }
                    }
                }
                LiveChange::Delete(id) => deletes.push(id.clone()),
            }
        }

        // The model runs before any lock is taken: searches go on meanwhile.
        let vectors: Result<Vec<Vec<f32>>, String> = match (self.vectors_manifest().map(|m| m.model_id), embedder) {
            _ if upserts.is_empty() => Ok(Vec::new()),
            (None, _) => Err("this generation has no vectors".to_string()),
            (Some(built), None) => Err(format!("no model is loaded (the generation's vectors were made with {built})")),
            (Some(built), Some(e)) if e.model_id() != built => {
                Err(format!("the model loaded is {}, the generation's vectors were made with {built}", e.model_id()))
            }
            (Some(_), Some(e)) => {
                let texts: Vec<String> = upserts.iter().map(embedding_text).collect();
                match embed_cached(e, TextRole::Passage, &texts, cache, |_| {}) {
                    Ok((vectors, embedded)) => {
                        applied.embedded = embedded;
                        Ok(vectors)
                    }
                    Err(embed::EmbedError::Store(e)) => return Err(IndexError::Store(e)),
                    Err(e) => Err(format!("the model failed: {e}")),
                }
            }
        };

        // The keyword leg: one commit for the batch, then a reader that sees it.
        {
            let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                let writer: IndexWriter = self.index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
                *slot = Some(writer);
            }
            let writer = slot.as_mut().expect("opened above");
            for id in deletes.iter().map(String::as_str).chain(upserts.iter().map(Record::id)) {
                writer.delete_term(Term::from_field_text(self.fields.id, id));
            }
            for record in &upserts {
                writer.add_document(self.fields.document(record))?;
            }
            if let Err(e) = writer.commit() {
                // Nothing of the batch is served; the next batch starts from the last commit.
                let _ = writer.rollback();
                return Err(e.into());
            }
        }
        self.reader.reload()?;
        self.facets.warm(&self.reader.searcher())?;
        applied.upserted = upserts.len();
        applied.deleted = deletes.len();

        // The semantic leg.
        let mut guard = self.vectors.write().unwrap_or_else(|e| e.into_inner());
        if let Some(graphs) = guard.as_mut() {
            for id in &deletes {
                graphs.delete(id);
            }
            match &vectors {
                Ok(vectors) => {
                    for (record, vector) in upserts.iter().zip(vectors) {
                        graphs.delete(record.id());
                        graphs.upsert(record, vector)?;
                    }
                }
                Err(_) => {
                    // A vector of an older version would find the record by what it no longer says.
                    for record in &upserts {
                        graphs.delete(record.id());
                    }
                }
            }
        }
        applied.vectors_not_updated = vectors.err().filter(|_| guard.is_some());
        Ok(applied)
    }

    /// Replays the store's live writes made since this generation's build began (its manifest's
    /// `live_seq`): each record written since is served in its current version, each deleted one
    /// is hidden. Called when a generation is opened for serving.
    pub fn catch_up(&self, store: &mut RecordStore, embedder: Option<&dyn Embedder>) -> Result<Applied, IndexError> {
        let since = self.manifest().map_or(0, |m| m.live_seq);
        let writes = store.live_writes_since(since)?;
        // The last write of each record decides; the order of first appearance is kept.
        let mut order: Vec<String> = Vec::new();
        let mut seen: HashMap<String, ()> = HashMap::new();
        for w in writes {
            if seen.insert(w.record_id.clone(), ()).is_none() {
                order.push(w.record_id);
            }
        }
        let mut changes = Vec::with_capacity(order.len());
        for id in order {
            changes.push(match store.get(&id)? {
                Some(record) => LiveChange::Upsert(Box::new(record)),
                None => LiveChange::Delete(id),
            });
        }
        self.apply(&changes, embedder, Some(store))
    }
}
