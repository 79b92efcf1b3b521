//! JSON Lines import and export of records.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use schemas::{Record, RecordKind};

use crate::store::{RecordStore, StoreError, Upsert, upsert_in};

/// What to do with a bad line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Import the good lines, report the bad ones.
    Skip,
    /// Import nothing from a file that has a bad line; report every bad line.
    Reject,
}

/// A line that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The file (or reader name) the line was read from.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with the line.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records new to the store.
    pub inserted: usize,
    /// Records that replaced a different version.
    pub updated: usize,
    /// Records identical to the stored version.
    pub unchanged: usize,
    /// Bad lines: skipped (`OnError::Skip`) or the reason the file was rejected.
    pub errors: Vec<LineError>,
    /// True when the file was rejected whole and nothing was written.
    pub rejected: bool,
}

impl ImportReport {
    /// Records accepted: inserted, updated or unchanged.
    pub fn written(&self) -> usize {
        self.inserted + self.updated + self.unchanged
    }
}

/// Largest line accepted: a record is small; a larger line is reported, not loaded.
const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Imports one JSON Lines file in one transaction.
pub fn import_jsonl(store: &mut RecordStore, path: &Path, on_error: OnError) -> Result<ImportReport, StoreError> {
    let file = std::fs::File::open(path).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
    import_reader(store, file, &path.display().to_string(), on_error)
}

/// Imports JSON Lines from any reader; `name` is used in error messages.
pub fn import_reader(store: &mut RecordStore, reader: impl Read, name: &str, on_error: OnError) -> Result<ImportReport, StoreError> {
    let mut reader = BufReader::new(reader);
    store.with_transaction(|tx| {
        let mut report = ImportReport::default();
        let mut buf = Vec::new();
        let mut line_no = 0;
        loop {
            buf.clear();
            let n = (&mut reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf).map_err(|source| StoreError::Io { path: name.into(), source })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            macro_rules! bad {
                ($msg:expr) => {
                    report_error(&mut report, name, line_no, $msg)
                };
            }
            if buf.len() > MAX_LINE_BYTES && !buf.ends_with(b"\n") {
                bad!(format!("line longer than {MAX_LINE_BYTES} bytes"));
                // Skip the rest of the oversized line.
                let mut rest = Vec::new();
                reader.read_until(b'\n', &mut rest).map_err(|source| StoreError::Io { path: name.into(), source })?;
                continue;
            }
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim(),
                Err(e) => {
                    bad!(format!("not UTF-8 (byte {}): convert the file to UTF-8", e.valid_up_to()));
                    continue;
                }
            };
            if text.is_empty() {
                continue;
            }
            let record: Record = match serde_json::from_str(text) {
                Ok(r) => r,
                Err(e) => {
                    bad!(describe_json_error(text, &e));
                    continue;
                }
            };
            if on_error == OnError::Reject && !report.errors.is_empty() {
                // Keep checking the rest so the user sees every problem at once.
                let mut r = record;
                r.assign_id();
                if let Err(e) = r.validate() {
                    bad!(format!("invalid {} record: {e}", r.kind()));
                }
                continue;
            }
            match upsert_in(tx, record) {
                Ok(outcome) => match outcome.action {
                    Upsert::Inserted => report.inserted += 1,
                    Upsert::Updated => report.updated += 1,
                    Upsert::Unchanged => report.unchanged += 1,
                },
                Err(StoreError::Invalid { kind, source }) => bad!(format!("invalid {kind} record: {source}")),
                Err(e) => return Err(e),
            }
        }
        let commit = on_error == OnError::Skip || report.errors.is_empty();
        if !commit {
            report.rejected = true;
            report.inserted = 0;
            report.updated = 0;
            report.unchanged = 0;
        }
        Ok((report, commit))
    })
}

fn report_error(report: &mut ImportReport, file: &str, line: usize, message: String) {
    report.errors.push(LineError { file: file.to_string(), line, message });
}

fn describe_json_error(text: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.contains("unknown variant") && msg.contains("school") {
        return format!("unknown record kind: {msg}");
    }
    if msg.starts_with("missing field `kind`") || (!text.contains("\"kind\"") && text.starts_with('{')) {
        return "missing field `kind` (one of school, programme, offer, company, question)".to_string();
    }
    format!("not a valid record: {msg}")
}

/// Writes every record of `kind` (or all) as JSON Lines; returns how many.
pub fn export_jsonl(store: &RecordStore, kind: Option<RecordKind>, out: &mut (impl Write + ?Sized)) -> Result<usize, StoreError> {
    let mut n = 0;
    store.for_each(kind, |record| {
        let line = serde_json::to_string(&record).expect("records always serialise");
        writeln!(out, "{line}").map_err(|source| StoreError::Io { path: "output".into(), source })?;
        n += 1;
        Ok(())
    })?;
    out.flush().map_err(|source| StoreError::Io { path: "output".into(), source })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"kind":"company","source":"t","source_key":"c1","name":"Alpha"}"#;
    const GOOD2: &str = r#"{"kind":"question","source":"t","source_key":"q1","text":"Que vaut 2+2 ?"}"#;

    fn store() -> (tempfile::TempDir, RecordStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordStore::open_dir(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn bad_lines_are_reported_with_file_and_line_then_skipped() {
        let (_d, mut store) = store();
        let input =
            format!("{GOOD}\n\n{{not json\n{GOOD2}\n{{\"kind\":\"company\",\"source\":\"t\",\"name\":\"\"}}\n{{\"kind\":\"planet\",\"source\":\"t\"}}\n");
        let report = import_reader(&mut store, input.as_bytes(), "x.jsonl", OnError::Skip).unwrap();
        assert_eq!(report.inserted, 2);
        let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 6]);
        assert!(report.errors[0].to_string().starts_with("x.jsonl:3: "));
        assert!(report.errors[1].message.contains("name"), "{}", report.errors[1]);
        assert!(report.errors[2].message.contains("planet"), "{}", report.errors[2]);
        assert_eq!(store.count(None).unwrap(), 2);
    }

    #[test]
    fn reject_mode_writes_nothing_and_lists_every_bad_line() {
        let (_d, mut store) = store();
        let input = format!("{GOOD}\n{{oops\n{GOOD2}\n{{\"kind\":\"company\",\"source\":\"t\",\"name\":\" \"}}\n");
        let report = import_reader(&mut store, input.as_bytes(), "x.jsonl", OnError::Reject).unwrap();
        assert!(report.rejected);
        assert_eq!(report.errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(store.count(None).unwrap(), 0);
    }

    #[test]
    fn non_utf8_and_huge_lines_are_reported() {
        let (_d, mut store) = store();
        let mut input = b"\xff\xfe latin-1 \xe9\n".to_vec();
        input.extend(vec![b'x'; MAX_LINE_BYTES + 10]);
        input.push(b'\n');
        input.extend(GOOD.as_bytes());
        let report = import_reader(&mut store, &input[..], "y.jsonl", OnError::Skip).unwrap();
        assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
        assert!(report.errors[0].message.contains("UTF-8"));
        assert_eq!(report.errors[1].line, 2);
        assert_eq!(report.inserted, 1);
    }

    #[test]
    fn export_then_import_round_trips() {
        let (_d, mut store) = store();
        import_reader(&mut store, format!("{GOOD}\n{GOOD2}\n").as_bytes(), "x", OnError::Reject).unwrap();
        let mut out = Vec::new();
        assert_eq!(export_jsonl(&store, None, &mut out).unwrap(), 2);
        let (_d2, mut other) = self::store();
        let report = import_reader(&mut other, &out[..], "export", OnError::Reject).unwrap();
        assert_eq!(report.inserted, 2);
        assert_eq!(store.list(None).unwrap(), other.list(None).unwrap());
    }
}
