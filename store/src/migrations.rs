//! Schema versions of the store. Each step runs once, in order, inside one transaction; the
//! version reached is kept in SQLite's `user_version`.

use rusqlite::Connection;

/// Step `i` brings the schema from version `i` to `i + 1`.
pub(crate) const STEPS: &[&str] = &[
    // 1: records keyed by stable id, the JSON body as the record's truth.
    "CREATE TABLE records (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        source_key TEXT NOT NULL,
        body TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX records_by_kind ON records(kind, id);",
    // 2: the crawler's state: runs, frontier (which is also the seen set), HTTP cache.
    "CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        config_name TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE frontier (
        run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        host TEXT NOT NULL,
        depth INTEGER NOT NULL,
        role TEXT NOT NULL,
        context TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        outcome TEXT,
        discovered_at TEXT NOT NULL,
        finished_at TEXT,
        PRIMARY KEY (run_id, url)
    );
    CREATE INDEX frontier_by_state ON frontier(run_id, state);
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        status INTEGER NOT NULL,
        content_type TEXT,
        final_url TEXT,
        body BLOB,
        fetched_at TEXT NOT NULL
    );",
    // 3: the embedding cache: re-indexing an unchanged text runs no inference.
    "CREATE TABLE embeddings (
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, text_hash)
    );",
    // 4: the live writes of the API, in order: what a served generation built before them must
    // replay when it is opened (the records themselves are in `records`).
    "CREATE TABLE live_writes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        record_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
        origin TEXT NOT NULL,
        at TEXT NOT NULL
    );",
    // 5: API keys (only a hash of each secret), the suppression list (the right to object), the
    // log of contact exports, and the offers forwarded to programme managers.
    "CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        hash BLOB NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        company_id TEXT,
        programme_ids TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE UNIQUE INDEX api_keys_unrevoked_name ON api_keys(name) WHERE revoked_at IS NULL;
    CREATE TABLE suppressions (
        value TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('email', 'domain', 'phone')),
        reason TEXT,
        added_at TEXT NOT NULL
    );
    CREATE TABLE export_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        what TEXT NOT NULL,
        format TEXT NOT NULL,
        filters TEXT NOT NULL,
        rows INTEGER NOT NULL
    );
    CREATE TABLE transmissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        offer_id TEXT NOT NULL,
        programme_id TEXT NOT NULL,
        recipient TEXT,
        recipient_name TEXT,
        message TEXT,
        sender TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'no_address')),
        attempts INTEGER NOT NULL DEFAULT 0,
        sent_at TEXT,
        last_error TEXT,
        UNIQUE (offer_id, programme_id)
    );
    CREATE INDEX transmissions_by_status ON transmissions(status, id);
    CREATE INDEX transmissions_by_programme ON transmissions(programme_id, id);",
];

/// The version this build writes.
pub const CURRENT_VERSION: i64 = STEPS.len() as i64;

/// Applies the missing steps and returns the version found before. Fails on a store written by
/// a newer build rather than guessing.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrationError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > CURRENT_VERSION {
        return Err(MigrationError::TooNew { found, supported: CURRENT_VERSION });
    }
    for (i, step) in STEPS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(found)
}

/// Why the schema could not be brought to [`CURRENT_VERSION`].
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer build; migrating it back could lose data.
    #[error("the store has schema version {found}, newer than this build supports ({supported}): upgrade passerelle")]
    TooNew {
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// SQLite failed while reading the version or running a step.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewKey, RecordStore, STORE_FILE, Suppression};

    #[test]
    fn a_store_at_version_4_migrates_to_keys_suppressions_exports_and_transmissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        {
            // A store as the build before step 5 left it, with a record in it.
            let conn = Connection::open(&path).unwrap();
            for step in &STEPS[..4] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute(
                "INSERT INTO records (id, kind, source, source_key, body, content_hash, created_at, updated_at)
                 VALUES ('company:x', 'company', 't', 'x', '{\"kind\":\"company\",\"id\":\"company:x\",\"source\":\"t\",\"source_key\":\"x\",\"name\":\"Ardennes Logiciels\"}', 'h', 'now', 'now')",
                [],
            )
            .unwrap();
        }
        let mut store = RecordStore::open(&path).unwrap();
        let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!((version, CURRENT_VERSION), (5, 5));
        assert_eq!(store.count(None).unwrap(), 1, "the records are kept");
        store.create_key(&NewKey { name: "k".into(), scopes: vec!["search".into()], ..Default::default() }).unwrap();
        assert!(store.suppress(&Suppression::parse("@example.be").unwrap(), None).unwrap());
        assert_eq!(store.keys().unwrap().len(), 1);
        assert!(store.transmissions(None, None).unwrap().is_empty());
        assert!(store.export_log(5).unwrap().is_empty());
        drop(store);
        // Opening again runs no step twice.
        let store = RecordStore::open(&path).unwrap();
        assert_eq!(store.keys().unwrap().len(), 1);
    }
}
