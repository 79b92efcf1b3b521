//! Schema versions of the store. Each step runs once, in order, inside one transaction; the
//! version reached is kept in SQLite's `user_version`.

use rusqlite::Connection;

/// Step `i` brings the schema from version `i` to `i + 1`.
const STEPS: &[&str] = &[
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
];

/// The version this build writes.
pub const CURRENT_VERSION: i64 = STEPS.len() as i64;

/// Applies the missing steps. Fails on a store written by a newer build rather than guessing.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrationError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > CURRENT_VERSION {
        return Err(MigrationError::TooNew { found, supported: CURRENT_VERSION });
    }
    for (i, step) in STEPS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(found)
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("the store has schema version {found}, newer than this build supports ({supported}): upgrade passerelle")]
    TooNew { found: i64, supported: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}
