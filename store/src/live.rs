//! The live writes of the API: records written (or deleted) while a generation is served.
//!
//! A write of the API commits the record and a line of `live_writes` in one transaction, before
//! the server answers. A generation remembers the last line it was built after
//! ([`RecordStore::live_seq`] when its build began); opening it replays the lines after that one
//! ([`RecordStore::live_writes_since`]), so a write acknowledged just before a crash, or during a
//! build, is served again without waiting for the next `passerelle index`.

use rusqlite::params;
use schemas::Record;

use crate::store::{RecordStore, StoreError, Upsert, UpsertOutcome, upsert_in};

/// What a live write did to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveOp {
    /// The record was added or changed: serve its current version.
    Upsert,
    /// The record was deleted: serve it no more.
    Delete,
}

/// One line of the live writes log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveWrite {
    /// Its place in the log (increasing, never reused).
    pub seq: i64,
    /// The record written or deleted.
    pub record_id: String,
    /// Written or deleted.
    pub op: LiveOp,
    /// Who wrote it (an API key's name).
    pub origin: String,
    /// When, RFC 3339.
    pub at: String,
}

impl RecordStore {
    /// Upserts `records` in one transaction (all or none) and logs each one that changed as a
    /// live write by `origin`.
    pub fn upsert_live(&mut self, records: Vec<Record>, origin: &str) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.with_transaction(|tx| {
            let now = schemas::now_rfc3339();
            let mut outcomes = Vec::with_capacity(records.len());
            for record in records {
                let outcome = upsert_in(tx, record)?;
                if outcome.action != Upsert::Unchanged {
                    tx.execute("INSERT INTO live_writes (record_id, op, origin, at) VALUES (?1, 'upsert', ?2, ?3)", params![outcome.id, origin, now])?;
                }
                outcomes.push(outcome);
            }
            Ok((outcomes, true))
        })
    }

    /// Deletes the record `id` and logs it as a live write by `origin`; `false` (nothing
    /// written) when there was no such record.
    pub fn delete_live(&mut self, id: &str, origin: &str) -> Result<bool, StoreError> {
        self.with_transaction(|tx| {
            let found = tx.execute("DELETE FROM records WHERE id = ?1", [id])? > 0;
            if found {
                tx.execute("INSERT INTO live_writes (record_id, op, origin, at) VALUES (?1, 'delete', ?2, ?3)", params![id, origin, schemas::now_rfc3339()])?;
            }
            Ok((found, found))
        })
    }

    /// The last line of the live writes log (0 when there is none).
    pub fn live_seq(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row("SELECT COALESCE(MAX(seq), 0) FROM live_writes", [], |row| row.get(0))?)
    }

    /// The lines after `seq`, in order.
    pub fn live_writes_since(&self, seq: i64) -> Result<Vec<LiveWrite>, StoreError> {
        let mut stmt = self.conn().prepare("SELECT seq, record_id, op, origin, at FROM live_writes WHERE seq > ?1 ORDER BY seq")?;
        let rows = stmt.query_map([seq], |row| {
            let op: String = row.get(2)?;
            Ok(LiveWrite {
                seq: row.get(0)?,
                record_id: row.get(1)?,
                op: if op == "delete" { LiveOp::Delete } else { LiveOp::Upsert },
                origin: row.get(3)?,
                at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(key: &str, title: &str) -> Record {
        let line = serde_json::json!({"kind": "offer", "source": "api", "source_key": key, "title": title, "contract_type": "internship", "description": "Stage de six mois."});
        serde_json::from_value(line).unwrap()
    }

    #[test]
    fn live_writes_are_logged_with_their_records_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        assert_eq!(store.live_seq().unwrap(), 0);
        let written = store.upsert_live(vec![offer("a", "Stage comptable"), offer("b", "Stage web")], "recruteur").unwrap();
        // Unchanged records are not logged again.
        store.upsert_live(vec![offer("a", "Stage comptable")], "recruteur").unwrap();
        assert!(store.delete_live(&written[1].id, "recruteur").unwrap());
        assert!(!store.delete_live(&written[1].id, "recruteur").unwrap(), "a second delete finds nothing and logs nothing");
        let log = store.live_writes_since(0).unwrap();
        let ops: Vec<(&str, LiveOp)> = log.iter().map(|w| (w.record_id.as_str(), w.op)).collect();
        assert_eq!(ops, vec![(written[0].id.as_str(), LiveOp::Upsert), (written[1].id.as_str(), LiveOp::Upsert), (written[1].id.as_str(), LiveOp::Delete)]);
        assert_eq!(store.live_seq().unwrap(), log[2].seq);
        assert_eq!(store.live_writes_since(log[1].seq).unwrap().len(), 1);
        assert!(store.get(&written[1].id).unwrap().is_none());
    }

    #[test]
    fn an_invalid_record_writes_nothing_and_logs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        assert!(store.upsert_live(vec![offer("a", "Stage comptable"), offer("b", "")], "recruteur").is_err());
        assert_eq!(store.count(None).unwrap(), 0);
        assert_eq!(store.live_seq().unwrap(), 0);
    }
}
