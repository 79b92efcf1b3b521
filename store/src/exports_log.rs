//! The export log: who exported contacts, when, in which format, with which filters, and how
//! many rows. Contacts are personal data; the log answers "who has a copy?".

use rusqlite::params;
use serde::Serialize;

use crate::store::{RecordStore, StoreError};

/// One export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportLogEntry {
    /// When, RFC 3339.
    pub at: String,
    /// Who: an API key's name, or `command line`.
    pub who: String,
    /// What was exported (`contacts`).
    pub what: String,
    /// `csv` or `jsonl`.
    pub format: String,
    /// The filters, as JSON text (`{"region":"Wallonie","kind":null}`).
    pub filters: String,
    /// How many rows were written.
    pub rows: u64,
}

impl RecordStore {
    /// Appends `e` to the export log.
    pub fn log_export(&mut self, e: &ExportLogEntry) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO export_log (at, who, what, format, filters, rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.at, e.who, e.what, e.format, e.filters, i64::try_from(e.rows).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    /// The last `limit` exports, newest first.
    pub fn export_log(&self, limit: usize) -> Result<Vec<ExportLogEntry>, StoreError> {
        let mut stmt = self.conn().prepare("SELECT at, who, what, format, filters, rows FROM export_log ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            let rows: i64 = row.get(5)?;
            Ok(ExportLogEntry {
                at: row.get(0)?,
                who: row.get(1)?,
                what: row.get(2)?,
                format: row.get(3)?,
                filters: row.get(4)?,
                rows: u64::try_from(rows).unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, who: &str, rows: u64) -> ExportLogEntry {
        ExportLogEntry { at: at.into(), who: who.into(), what: "contacts".into(), format: "csv".into(), filters: r#"{"region":"Wallonie"}"#.into(), rows }
    }

    #[test]
    fn exports_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        assert!(store.export_log(10).unwrap().is_empty());
        store.log_export(&entry("2026-11-01T09:00:00Z", "command line", 12)).unwrap();
        store.log_export(&entry("2026-11-02T09:00:00Z", "marketing", 40)).unwrap();
        store.log_export(&entry("2026-11-03T09:00:00Z", "marketing", 0)).unwrap();
        let log = store.export_log(10).unwrap();
        assert_eq!(log.iter().map(|e| e.rows).collect::<Vec<_>>(), vec![0, 40, 12]);
        assert_eq!(log[2], entry("2026-11-01T09:00:00Z", "command line", 12));
        assert_eq!(store.export_log(2).unwrap().len(), 2);
        assert!(store.export_log(0).unwrap().is_empty());
    }
}
