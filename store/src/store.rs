use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use schemas::{Record, RecordKind, ValidationError};
use sha2::{Digest, Sha256};

use crate::migrations::{self, MigrationError};

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "records.sqlite";

/// What can go wrong with the store; each message names the file or record concerned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file could not be opened or configured.
    #[error("cannot open the records store {path}: {source}")]
    Open {
        /// The store file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        /// The data directory.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The schema could not be migrated (a store from a newer build, or a failed step).
    #[error("records store schema: {0}")]
    Migration(#[from] MigrationError),
    /// A query failed.
    #[error("records store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored body no longer parses as a record.
    #[error("record {id} in the store is unreadable ({source}); export and re-import it")]
    Corrupt {
        /// The record's id.
        id: String,
        /// Why its body does not parse.
        source: serde_json::Error,
    },
    /// A record failed validation and was not written.
    #[error("invalid {kind} record: {source}")]
    Invalid {
        /// The record's kind.
        kind: RecordKind,
        /// The field at fault.
        source: ValidationError,
    },
    /// An API key could not be created (bad name, unknown scope, name in use...); the message
    /// says which field and why.
    #[error("{0}")]
    Key(String),
    /// A suppression list entry that does not read as an e-mail, a domain or a phone.
    #[error("{0}")]
    Suppression(String),
    /// A transmission that cannot be recorded (missing field, unknown id, not pending).
    #[error("{0}")]
    Transmission(String),
    /// Reading an import or writing an export failed.
    #[error("{path}: {source}")]
    Io {
        /// The file (or reader name) concerned.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// No record had this id: it was added.
    Inserted,
    /// A different version was replaced.
    Updated,
    /// The stored version was identical; nothing was written.
    Unchanged,
}

/// The id a record was stored under and what the upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// The record's stable id.
    pub id: String,
    /// Inserted, updated or unchanged.
    pub action: Upsert,
}

/// The records store (see the crate documentation).
pub struct RecordStore {
    conn: Connection,
    path: PathBuf,
}

impl RecordStore {
    /// Opens (creating it if needed) `records.sqlite` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir { path: data_dir.to_path_buf(), source })?;
        Self::open(&data_dir.join(STORE_FILE))
    }

    /// Opens (creating it if needed) the store at `path` and migrates its schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
        // WAL + FULL: a committed transaction is on disk before commit returns.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrations::migrate(&mut conn)?;
        Ok(Self { conn, path: path.to_path_buf() })
    }

    /// The SQLite file this store opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`). A deferred one
    /// that reads first and writes then fails at once with "database is locked" when another
    /// connection (the server's other one, a crawl, an import) wrote in between, without waiting
    /// for the busy timeout; an immediate one waits its turn.
    fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
        self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// Inserts or replaces one record (its id assigned from its keys), durably.
    pub fn upsert(&mut self, record: Record) -> Result<UpsertOutcome, StoreError> {
        let tx = self.write_transaction()?;
        let outcome = upsert_in(&tx, record)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Inserts or replaces many records in one transaction: all or none.
    pub fn upsert_many(&mut self, records: impl IntoIterator<Item = Record>) -> Result<Vec<UpsertOutcome>, StoreError> {
        let tx = self.write_transaction()?;
        let mut outcomes = Vec::new();
        for record in records {
            outcomes.push(upsert_in(&tx, record)?);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Runs `f` inside one transaction; nothing it wrote stays if it fails or asks to roll back.
    pub(crate) fn with_transaction<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, bool), StoreError>) -> Result<T, StoreError> {
        let tx = self.write_transaction()?;
        let (value, commit) = f(&tx)?;
        if commit {
            tx.commit()?;
        } else {
            tx.rollback()?;
        }
        Ok(value)
    }

    /// The record with this id, if any.
    pub fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let body: Option<String> = self.conn.query_row("SELECT body FROM records WHERE id = ?1", [id], |row| row.get(0)).optional()?;
        body.map(|b| decode(id, &b)).transpose()
    }

    /// Deletes a record; `false` when there was none with that id.
    pub fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM records WHERE id = ?1", [id])? > 0)
    }

    /// Every record of `kind` (or of every kind), ordered by kind then id.
    pub fn list(&self, kind: Option<RecordKind>) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        self.for_each(kind, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Streams records of `kind` (or all) in (kind, id) order without loading them all.
    pub fn for_each(&self, kind: Option<RecordKind>, mut f: impl FnMut(Record) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, body FROM records WHERE (?1 IS NULL OR kind = ?1) ORDER BY kind, id")?;
        let mut rows = stmt.query(params![kind.map(|k| k.as_str())])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let body: String = row.get(1)?;
            f(decode(&id, &body)?)?;
        }
        Ok(())
    }

    /// Number of records of `kind` (or of every kind).
    pub fn count(&self, kind: Option<RecordKind>) -> Result<u64, StoreError> {
        let n: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM records WHERE (?1 IS NULL OR kind = ?1)", params![kind.map(|k| k.as_str())], |row| row.get(0))?;
        Ok(n as u64)
    }

    /// Number of records of each kind present.
    pub fn counts(&self) -> Result<BTreeMap<RecordKind, u64>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT kind, COUNT(*) FROM records GROUP BY kind")?;
        let mut rows = stmt.query([])?;
        let mut out = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let n: i64 = row.get(1)?;
            if let Some(k) = RecordKind::parse(&kind) {
                out.insert(k, n as u64);
            }
        }
        Ok(out)
    }
}

fn decode(id: &str, body: &str) -> Result<Record, StoreError> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt { id: id.to_string(), source })
}

pub(crate) fn upsert_in(tx: &rusqlite::Transaction<'_>, mut record: Record) -> Result<UpsertOutcome, StoreError> {
    record.assign_id();
    record.validate().map_err(|source| StoreError::Invalid { kind: record.kind(), source })?;
    let body = serde_json::to_string(&record).expect("records always serialise");
    let hash = schemas::hex(&Sha256::digest(body.as_bytes())[..12]);
    let id = record.id().to_string();
    let previous: Option<String> = tx.query_row("SELECT content_hash FROM records WHERE id = ?1", [&id], |row| row.get(0)).optional()?;
    let now = schemas::now_rfc3339();
    let action = match previous {
        Some(h) if h == hash => Upsert::Unchanged,
        Some(_) => {
            tx.execute("UPDATE records SET body = ?2, content_hash = ?3, updated_at = ?4 WHERE id = ?1", params![id, body, hash, now])?;
            Upsert::Updated
        }
        None => {
            tx.execute(
                "INSERT INTO records (id, kind, source, source_key, body, content_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![id, record.kind().as_str(), record.source(), record.key(), body, hash, now],
            )?;
            Upsert::Inserted
        }
    };
    Ok(UpsertOutcome { id, action })
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{Company, Question};

    fn company(key: &str, name: &str) -> Record {
        Record::Company(Company { source: "t".into(), source_key: key.into(), name: name.into(), ..Default::default() })
    }

    #[test]
    fn upsert_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let a = store.upsert(company("a", "Alpha")).unwrap();
        assert_eq!(a.action, Upsert::Inserted);
        assert_eq!(store.upsert(company("a", "Alpha")).unwrap().action, Upsert::Unchanged);
        assert_eq!(store.upsert(company("a", "Alpha SA")).unwrap().action, Upsert::Updated);
        store.upsert(Record::Question(Question { source: "t".into(), text: "Que vaut 2+2 ?".into(), ..Default::default() })).unwrap();
        assert_eq!(store.count(None).unwrap(), 2);
        assert_eq!(store.count(Some(RecordKind::Company)).unwrap(), 1);
        assert_eq!(store.get(&a.id).unwrap().unwrap().title(), "Alpha SA");
        assert_eq!(store.list(Some(RecordKind::Question)).unwrap().len(), 1);
        assert!(store.delete(&a.id).unwrap());
        assert!(!store.delete(&a.id).unwrap());
        assert_eq!(store.get(&a.id).unwrap(), None);
    }

    #[test]
    fn invalid_records_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let err = store.upsert_many(vec![company("a", "Alpha"), company("b", "")]).unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
        assert_eq!(store.count(None).unwrap(), 0);
    }

    #[test]
    fn reopening_keeps_records_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let mut store = RecordStore::open_dir(dir.path()).unwrap();
            store.upsert(company("a", "Alpha")).unwrap().id
        };
        let store = RecordStore::open_dir(dir.path()).unwrap();
        assert!(store.get(&id).unwrap().is_some());
        let version: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, crate::migrations::CURRENT_VERSION);
    }

    #[test]
    fn a_store_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = RecordStore::open(&path).err().expect("refused");
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
