//! A BERT encoder with mean pooling, on candle's CPU backend.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::{EmbedError, Embedder};

/// Settings of an embedder.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// Longest input in tokens; longer texts are cut.
    pub max_tokens: usize,
    /// Texts per forward pass (texts are sorted by length first, so a batch pads little).
    pub batch_size: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions { max_tokens: 256, batch_size: 32 }
    }
}

/// A sentence-transformers BERT directory loaded for CPU inference: mean-pooled, unit-length
/// vectors through [`Embedder`].
pub struct BertEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    model_id: String,
    options: EmbedOptions,
}

fn model_error(dir: &Path, message: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model { dir: dir.display().to_string(), message: message.to_string() }
}

impl BertEmbedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    /// `model_id` names the model in the embedding cache.
    pub fn load(dir: &Path, model_id: &str, options: EmbedOptions) -> Result<BertEmbedder, EmbedError> {
        let config_text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| model_error(dir, format!("config.json: {e}")))?;
        let config: Config = serde_json::from_str(&config_text).map_err(|e| model_error(dir, format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| model_error(dir, format!("tokenizer.json: {e}")))?;
        let max_tokens = options.max_tokens.min(config.max_position_embeddings).max(2);
        tokenizer.with_truncation(Some(TruncationParams { max_length: max_tokens, ..Default::default() })).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(model_error(dir, "model.safetensors is missing"));
        }
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only; it is not modified while mapped.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }.map_err(|e| model_error(dir, format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| model_error(dir, format!("weights do not fit config.json: {e}")))?;
        Ok(BertEmbedder { model, tokenizer, device, dim: config.hidden_size, model_id: model_id.to_string(), options: EmbedOptions { max_tokens, ..options } })
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let longest = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let n = encodings.len();
        let mut ids = vec![0u32; n * longest];
        let mut mask = vec![0u32; n * longest];
        for (row, e) in encodings.iter().enumerate() {
            for (col, id) in e.get_ids().iter().enumerate() {
                ids[row * longest + col] = *id;
                mask[row * longest + col] = 1;
            }
        }
        let ids = Tensor::from_vec(ids, (n, longest), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, longest), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        // Mean over the real tokens only.
        let mask_f = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?;
        let counts = mask_f.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

impl Embedder for BertEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Similar lengths together: a batch is padded to its longest text.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.options.batch_size.max(1)) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use candle_nn::VarMap;

    /// Writes a tiny random BERT (and a word-level tokenizer) into `dir`.
    pub fn write_tiny_model(dir: &Path) {
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "query", "passage", ":", "stage", "web", "nantes", "java", "infirmier", "gent", "école"];
        let vocab: serde_json::Map<String, serde_json::Value> = words.iter().enumerate().map(|(i, w)| (w.to_string(), serde_json::json!(i))).collect();
        let tokenizer = serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [],
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}
            },
            "decoder": null,
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
        });
        std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
        let config = serde_json::json!({
            "vocab_size": words.len(), "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "max_position_embeddings": 64,
            "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let cfg: Config = serde_json::from_value(config).unwrap();
        BertModel::load(vb, &cfg).unwrap();
        varmap.save(dir.join("model.safetensors")).unwrap();
    }

    #[test]
    fn tiny_model_gives_unit_vectors_independent_of_batching() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(dir.path());
        let e = BertEmbedder::load(dir.path(), "tiny", EmbedOptions { max_tokens: 32, batch_size: 2 }).unwrap();
        assert_eq!(e.dim(), 16);
        let texts = ["query : stage web nantes", "passage : java", "passage : infirmier gent école stage web java nantes"];
        let together = e.embed(&texts).unwrap();
        for v in &together {
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        }
        // Padding must not change a text's vector: alone equals in a batch with longer texts.
        for (i, t) in texts.iter().enumerate() {
            let alone = e.embed(&[t]).unwrap();
            let cos: f32 = alone[0].iter().zip(&together[i]).map(|(a, b)| a * b).sum();
            assert!(cos > 0.9999, "text {i}: cosine {cos}");
        }
        assert!(together[0].iter().zip(&together[1]).map(|(a, b)| a * b).sum::<f32>() < 0.9999);
        let prefixed = e.embed_as(super::super::TextRole::Passage, &["java"]).unwrap();
        let written = e.embed(&["passage: java"]).unwrap();
        let cos: f32 = prefixed[0].iter().zip(&written[0]).map(|(a, b)| a * b).sum();
        assert!(cos > 0.9999);
    }

    #[test]
    fn a_broken_model_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = BertEmbedder::load(dir.path(), "x", EmbedOptions::default()).err().unwrap().to_string();
        assert!(err.contains("config.json"), "{err}");
        write_tiny_model(dir.path());
        std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
        let err = BertEmbedder::load(dir.path(), "x", EmbedOptions::default()).err().unwrap().to_string();
        assert!(err.contains("model.safetensors"), "{err}");
    }
}
