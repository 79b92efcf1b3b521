//! The crawler's durable state: crawl runs, the frontier (every URL found, which is also the
//! seen set), and the HTTP cache (validators and the last body, so a `304 Not Modified` can be
//! replayed). A page's results are written in one transaction with the frontier update, so a
//! crawl killed at any instant resumes without fetching a finished page again or losing a URL.

use rusqlite::{OptionalExtension, params};
use schemas::Record;

use crate::store::{RecordStore, StoreError, UpsertOutcome, upsert_in};

/// Where a URL stands in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlState {
    /// Found, not yet visited (or to be retried).
    Pending,
    /// Fetched and its results written.
    Done,
    /// Gave up on it (fetch error, too many redirects...); the outcome says why.
    Failed,
    /// Not crawled on purpose (robots.txt, not HTML, page budget, redirect off site...); the
    /// outcome says why.
    Skipped,
}

impl UrlState {
    fn as_str(self) -> &'static str {
        match self {
            UrlState::Pending => "pending",
            UrlState::Done => "done",
            UrlState::Failed => "failed",
            UrlState::Skipped => "skipped",
        }
    }
}

/// A URL to visit, with why it is visited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierEntry {
    /// The URL to fetch; unique within a run.
    pub url: String,
    /// The config source it belongs to (its records get this `source`).
    pub source: String,
    /// The host it is fetched from, the unit of politeness.
    pub host: String,
    /// Links followed from a start page to reach it (0: a start page).
    pub depth: u32,
    /// What the page is for the crawler (`list`, `detail`, `site`...).
    pub role: String,
    /// Free-form JSON the crawler attaches (e.g. the school a site belongs to).
    pub context: Option<String>,
    /// Fetches tried so far (see [`RecordStore::count_attempt`]).
    pub attempts: u32,
}

/// The validators and body of the last fetch of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    /// The URL that was requested (the cache key).
    pub url: String,
    /// The `ETag` header, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` header, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// The HTTP status of that fetch.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// Where redirects ended, when not at `url`.
    pub final_url: Option<String>,
    /// The body, replayed on a `304 Not Modified`.
    pub body: Option<Vec<u8>>,
}

/// Everything a finished page changes, written at once.
#[derive(Debug, Default)]
pub struct PageCommit {
    /// The frontier URL that was processed.
    pub url: String,
    /// Its new state; `None` leaves the frontier row as it is.
    pub state: Option<UrlState>,
    /// A short reason kept with the state (status code, why it failed or was skipped).
    pub outcome: String,
    /// Records extracted from the page, upserted.
    pub records: Vec<Record>,
    /// Links found on the page; those not yet in the run's frontier are added.
    pub discovered: Vec<FrontierEntry>,
    /// The cache entry to store for the URL.
    pub cache: Option<CachedPage>,
}

/// Counts of a run's URLs by state.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunCounts {
    /// URLs still to visit.
    pub pending: u64,
    /// URLs visited.
    pub done: u64,
    /// URLs given up on.
    pub failed: u64,
    /// URLs not fetched on purpose.
    pub skipped: u64,
}

impl RecordStore {
    /// The unfinished run of this config, if a crawl was interrupted.
    pub fn unfinished_run(&self, config_name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM crawl_runs WHERE config_name = ?1 AND finished_at IS NULL ORDER BY id DESC LIMIT 1", [config_name], |r| r.get(0))
            .optional()?)
    }

    /// Records the start of a crawl run of this config; returns the run's id.
    pub fn start_run(&mut self, config_name: &str) -> Result<i64, StoreError> {
        self.conn().execute("INSERT INTO crawl_runs (config_name, started_at) VALUES (?1, ?2)", params![config_name, schemas::now_rfc3339()])?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Marks a run finished, so [`RecordStore::unfinished_run`] no longer resumes it.
    pub fn finish_run(&mut self, run: i64) -> Result<(), StoreError> {
        self.conn().execute("UPDATE crawl_runs SET finished_at = ?2 WHERE id = ?1", params![run, schemas::now_rfc3339()])?;
        Ok(())
    }

    /// Adds URLs not seen in this run yet; returns how many were new.
    pub fn add_to_frontier(&mut self, run: i64, entries: &[FrontierEntry]) -> Result<usize, StoreError> {
        self.with_transaction(|tx| Ok((insert_entries(tx, run, entries)?, true)))
    }

    /// The run's URLs still to visit.
    pub fn pending(&self, run: i64) -> Result<Vec<FrontierEntry>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT url, source, host, depth, role, context, attempts FROM frontier
             WHERE run_id = ?1 AND state = 'pending' ORDER BY depth, rowid",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok(FrontierEntry { url: r.get(0)?, source: r.get(1)?, host: r.get(2)?, depth: r.get(3)?, role: r.get(4)?, context: r.get(5)?, attempts: r.get(6)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many of the run's URLs are in each state.
    pub fn run_counts(&self, run: i64) -> Result<RunCounts, StoreError> {
        let mut stmt = self.conn().prepare("SELECT state, COUNT(*) FROM frontier WHERE run_id = ?1 GROUP BY state")?;
        let mut rows = stmt.query([run])?;
        let mut c = RunCounts::default();
        while let Some(row) = rows.next()? {
            let state: String = row.get(0)?;
            let n: i64 = row.get(1)?;
            match state.as_str() {
                "pending" => c.pending = n as u64,
                "done" => c.done = n as u64,
                "failed" => c.failed = n as u64,
                _ => c.skipped = n as u64,
            }
        }
        Ok(c)
    }

    /// Outcomes of failed and skipped URLs, counted (for the crawl summary): (state, outcome,
    /// count), most frequent first.
    pub fn run_outcomes(&self, run: i64) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT state, COALESCE(outcome, ''), COUNT(*) FROM frontier WHERE run_id = ?1 AND state IN ('failed', 'skipped')
             GROUP BY state, outcome ORDER BY 3 DESC",
        )?;
        let rows = stmt.query_map([run], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts a retry of a URL (kept pending).
    pub fn count_attempt(&mut self, run: i64, url: &str) -> Result<(), StoreError> {
        self.conn().execute("UPDATE frontier SET attempts = attempts + 1 WHERE run_id = ?1 AND url = ?2", params![run, url])?;
        Ok(())
    }

    /// The last fetch of `url` (any run), for a conditional request.
    pub fn cached_page(&self, url: &str) -> Result<Option<CachedPage>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT url, etag, last_modified, status, content_type, final_url, body FROM http_cache WHERE url = ?1", [url], |r| {
                Ok(CachedPage {
                    url: r.get(0)?,
                    etag: r.get(1)?,
                    last_modified: r.get(2)?,
                    status: r.get(3)?,
                    content_type: r.get(4)?,
                    final_url: r.get(5)?,
                    body: r.get(6)?,
                })
            })
            .optional()?)
    }

    /// Writes a finished page: its records, the URLs it revealed, its cache entry and its
    /// state, in one transaction. Returns the records' outcomes and the URLs that were new.
    pub fn commit_page(&mut self, run: i64, commit: PageCommit) -> Result<(Vec<UpsertOutcome>, Vec<FrontierEntry>), StoreError> {
        self.with_transaction(|tx| {
            let mut outcomes = Vec::new();
            for record in commit.records {
                outcomes.push(upsert_in(tx, record)?);
            }
            let added = new_entries(tx, run, commit.discovered)?;
            if let Some(c) = &commit.cache {
                tx.execute(
                    "INSERT INTO http_cache (url, etag, last_modified, status, content_type, final_url, body, fetched_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                       status = excluded.status, content_type = excluded.content_type, final_url = excluded.final_url,
                       body = excluded.body, fetched_at = excluded.fetched_at",
                    params![c.url, c.etag, c.last_modified, c.status, c.content_type, c.final_url, c.body, schemas::now_rfc3339()],
                )?;
            }
            if let Some(state) = commit.state {
                tx.execute(
                    "UPDATE frontier SET state = ?3, outcome = ?4, finished_at = ?5 WHERE run_id = ?1 AND url = ?2",
                    params![run, commit.url, state.as_str(), commit.outcome, schemas::now_rfc3339()],
                )?;
            }
            Ok(((outcomes, added), true))
        })
    }
}

fn new_entries(tx: &rusqlite::Transaction<'_>, run: i64, entries: Vec<FrontierEntry>) -> Result<Vec<FrontierEntry>, StoreError> {
    let mut added = Vec::new();
    for e in entries {
        if insert_entries(tx, run, std::slice::from_ref(&e))? == 1 {
            added.push(e);
        }
    }
    Ok(added)
}

fn insert_entries(tx: &rusqlite::Transaction<'_>, run: i64, entries: &[FrontierEntry]) -> Result<usize, StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO frontier (run_id, url, source, host, depth, role, context, state, attempts, discovered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8)",
    )?;
    let at = schemas::now_rfc3339();
    let mut added = 0;
    for e in entries {
        added += stmt.execute(params![run, e.url, e.source, e.host, e.depth, e.role, e.context, at])?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str) -> FrontierEntry {
        FrontierEntry { url: url.into(), source: "s".into(), host: "h".into(), depth: 0, role: "list".into(), context: None, attempts: 0 }
    }

    #[test]
    fn frontier_is_a_seen_set_and_pages_commit_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        assert_eq!(store.unfinished_run("c").unwrap(), None);
        let run = store.start_run("c").unwrap();
        assert_eq!(store.add_to_frontier(run, &[entry("http://a/"), entry("http://a/")]).unwrap(), 1);
        assert_eq!(store.add_to_frontier(run, &[entry("http://a/")]).unwrap(), 0);
        store
            .commit_page(
                run,
                PageCommit {
                    url: "http://a/".into(),
                    state: Some(UrlState::Done),
                    outcome: "200".into(),
                    discovered: vec![entry("http://a/2"), entry("http://a/")],
                    cache: Some(CachedPage {
                        url: "http://a/".into(),
                        etag: Some("\"x\"".into()),
                        last_modified: None,
                        status: 200,
                        content_type: Some("text/html".into()),
                        final_url: None,
                        body: Some(b"<p>hi</p>".to_vec()),
                    }),
                    ..Default::default()
                },
            )
            .unwrap();
        let pending: Vec<String> = store.pending(run).unwrap().into_iter().map(|e| e.url).collect();
        assert_eq!(pending, vec!["http://a/2"]);
        assert_eq!(store.run_counts(run).unwrap(), RunCounts { pending: 1, done: 1, failed: 0, skipped: 0 });
        assert_eq!(store.cached_page("http://a/").unwrap().unwrap().etag.as_deref(), Some("\"x\""));
        assert_eq!(store.unfinished_run("c").unwrap(), Some(run));
        store.finish_run(run).unwrap();
        assert_eq!(store.unfinished_run("c").unwrap(), None);
    }
}
