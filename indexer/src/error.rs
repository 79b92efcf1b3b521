use std::path::PathBuf;

/// Everything that can go wrong while building, opening or searching an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("another `passerelle index` is building in {0}; wait for it to finish")]
    Busy(PathBuf),
    #[error("no index in {0} yet: run `passerelle index`")]
    NoIndex(PathBuf),
    #[error("index generation {name} is unusable: {source}")]
    Generation { name: String, source: tantivy::TantivyError },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("bad request: {0}")]
    BadRequest(String),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |source| IndexError::Io { path, source }
}
