use std::path::PathBuf;

/// Everything that can go wrong while building, opening or searching an index.
///
/// The engine knows no HTTP: [`IndexError::InvalidRequest`] names the field of the request a
/// person can fix; the server chooses the status of each variant.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A file or folder of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Another build holds the build lock.
    #[error("another `passerelle index` is building in {0}; wait for it to finish")]
    Busy(PathBuf),
    /// No generation has been published in this data directory.
    #[error("no index in {0} yet: run `passerelle index`")]
    NoIndex(PathBuf),
    /// A generation's tantivy files cannot be opened.
    #[error("index generation {name} is unusable: {source}")]
    Generation {
        /// The generation's folder name.
        name: String,
        /// What tantivy said.
        source: tantivy::TantivyError,
    },
    /// A generation built by another version of passerelle, whose fields are not today's.
    #[error("index generation {0} was built by an older passerelle (its fields differ from this version's); rebuild it with `passerelle index`")]
    OldSchema(String),
    /// tantivy failed while indexing or searching.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The records store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A request's field is out of its bounds or malformed.
    #[error("`{field}`: {reason}")]
    InvalidRequest {
        /// The request field, as the caller named it (`limit`, `text`, `filters.region`...).
        field: String,
        /// What is wrong with it and what is accepted.
        reason: String,
    },
    /// The embedding model failed.
    #[error("embedding failed: {0}")]
    Embedding(String),
    /// A vector does not have the dimension of the index it goes into.
    #[error("vector of {got} dimensions, the index holds {want}")]
    Dimension {
        /// The vector's dimension.
        got: usize,
        /// The index's dimension.
        want: usize,
    },
    /// An evaluation dataset's file is malformed.
    #[error("{path}:{line}: {message}")]
    Dataset {
        /// The file.
        path: PathBuf,
        /// Its line (from 1; 0 for the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl IndexError {
    /// An [`IndexError::InvalidRequest`] on `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> IndexError {
        IndexError::InvalidRequest { field: field.into(), reason: reason.into() }
    }
}

impl From<embed::EmbedError> for IndexError {
    fn from(e: embed::EmbedError) -> IndexError {
        match e {
            embed::EmbedError::Store(e) => IndexError::Store(e),
            other => IndexError::Embedding(other.to_string()),
        }
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |source| IndexError::Io { path, source }
}
