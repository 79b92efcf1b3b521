//! Files that are either whole or absent: exports and other files people or scripts pick up.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::store::StoreError;

/// Writes a file durably and all at once: `write` fills `<path>.partial`, which is flushed,
/// synced to disk and renamed to `path`, then the folder is synced so the rename survives a
/// power cut. Returns what `write` returned (e.g. how many rows it wrote).
///
/// A reader of `path` sees the previous file or the new one, never half of one. When `write`
/// fails, or the partial file cannot be written, synced or renamed, the partial file is removed
/// and `path` is left as it was (absent, or the previous file). `write`'s own error comes back
/// as it was; the file system's as [`StoreError::Io`] naming the file concerned.
///
/// ```
/// use passerelle_store::{RecordStore, export_jsonl, write_atomically};
/// use schemas::{Company, Record};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = RecordStore::open_dir(dir.path()).unwrap();
/// store.upsert(Record::Company(Company { source: "demo".into(), source_key: "c1".into(), name: "Ardennes Logiciels".into(), ..Default::default() })).unwrap();
/// let path = dir.path().join("records.jsonl");
/// let n = write_atomically(&path, |out| export_jsonl(&store, None, out)).unwrap();
/// assert_eq!(n, 1);
/// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
/// ```
pub fn write_atomically<T, E>(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<T, E>) -> Result<T, E>
where
    E: From<StoreError>,
{
    let partial = partial_path(path);
    let file = File::create(&partial).map_err(io_error(&partial))?;
    let result = write_then_publish(file, &partial, path, write);
    if result.is_err() {
        // Nothing half-written stays behind; the error that matters is the one above.
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn write_then_publish<T, E>(file: File, partial: &Path, path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<T, E>) -> Result<T, E>
where
    E: From<StoreError>,
{
    let mut out = BufWriter::new(file);
    let value = write(&mut out)?;
    let file = out.into_inner().map_err(|e| io_error(partial)(e.into_error()))?;
    file.sync_all().map_err(io_error(partial))?;
    drop(file);
    std::fs::rename(partial, path).map_err(io_error(path))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder).and_then(|d| d.sync_all()).map_err(io_error(folder))?;
    Ok(value)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// `<path>.partial`: the whole name kept, so `a.csv` and `a.jsonl` never share a partial file.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".partial");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a caller's `write` may fail with: its own errors and the store's.
    type AnyError = Box<dyn std::error::Error + Send + Sync>;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_good_write_leaves_exactly_the_content_under_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let n = write_atomically(&path, |out| {
            out.write_all(b"{\"kind\":\"company\"}\n{\"kind\":\"school\"}\n")?;
            Ok::<_, AnyError>(2)
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"kind\":\"company\"}\n{\"kind\":\"school\"}\n");
        assert_eq!(names_in(dir.path()), ["records.jsonl"]);
    }

    #[test]
    fn a_failed_write_leaves_no_file_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.csv");
        let err = write_atomically(&path, |out| {
            out.write_all(b"name,email\nhalf a row")?;
            Err::<usize, AnyError>("the store went away".into())
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the store went away", "write's own error comes back as it was");
        assert_eq!(names_in(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.csv");
        std::fs::write(&path, "the export of yesterday\n").unwrap();
        let result = write_atomically(&path, |out| {
            out.write_all(b"the export of today, cut short")?;
            Err::<usize, AnyError>("disk full".into())
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the export of yesterday\n");
        assert_eq!(names_in(dir.path()), ["contacts.csv"]);
    }

    #[test]
    fn a_folder_that_does_not_exist_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.csv");
        let err = write_atomically(&path, |_| Ok::<_, StoreError>(0)).unwrap_err();
        assert!(matches!(&err, StoreError::Io { path: p, .. } if p.ends_with("missing/out.csv.partial")), "{err}");
    }
}
