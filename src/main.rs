//! The `passerelle` command: parses arguments and calls the crates. No logic lives here.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "passerelle", version, about = "Search service linking students, schools and companies")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataArg {
    /// Data directory (records store and index generations).
    #[arg(long = "data", env = "PASSERELLE_DATA", default_value = "data")]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Load the fixture data, build the index and serve the API and the search page.
    Demo {
        #[command(flatten)]
        data: DataArg,
        /// Address to listen on.
        #[arg(long, env = "PASSERELLE_ADDR", default_value = "127.0.0.1:7800")]
        addr: SocketAddr,
    },
    /// Import records from JSON Lines files (one record a line, with a `kind` field).
    Import {
        /// Files to import, each in one transaction.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArg,
        /// What to do with a bad line: skip it (and report it), or reject the whole file.
        #[arg(long, value_enum, default_value_t = OnErrorArg::Skip)]
        on_error: OnErrorArg,
    },
    /// Crawl the sources of a config (school directories, school websites) into the records store.
    ///
    /// Resumes an interrupted crawl of the same config; re-crawls with conditional requests.
    Crawl {
        /// The crawl config (TOML).
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        data: DataArg,
        /// No progress bar (the summary is still printed).
        #[arg(long)]
        quiet: bool,
    },
    /// Measure relevance on a BEIR-style dataset (corpus.jsonl, queries.jsonl, qrels.tsv).
    ///
    /// Indexes the dataset's corpus on its own, in a temporary index with the service's analysis,
    /// ranks every judged query, and prints MAP, MRR, nDCG@10 and Recall@1/10/100.
    Eval {
        /// The dataset folder.
        #[arg(long)]
        dataset: PathBuf,
        /// Retrieval leg: bm25 (keyword), vector (embeddings) or hybrid (both, fused).
        #[arg(long, value_enum, default_value_t = EvalMode::Bm25)]
        mode: EvalMode,
        /// The embedding model: a sentence-transformers BERT directory (config.json,
        /// tokenizer.json, model.safetensors). Needed by vector and hybrid.
        #[arg(long, env = "PASSERELLE_MODEL_DIR")]
        model_dir: Option<PathBuf>,
        /// Weight of the semantic leg in hybrid mode (0 keyword only, 1 vector only).
        #[arg(long, default_value_t = 0.5)]
        semantic_ratio: f32,
        /// Fusion of hybrid mode: reciprocal rank fusion or a convex combination of scores.
        #[arg(long, value_enum, default_value_t = FusionArg::Rrf)]
        fusion: FusionArg,
        /// Language of the corpus's analysis (stemming, stop words).
        #[arg(long, default_value = "fr")]
        lang: String,
        /// Print the figures as JSON (keys map, mrr, ndcg_10, recall_1, recall_10, recall_100).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArg,
    },
    /// Build a new index generation from the records store and publish it.
    Index {
        #[command(flatten)]
        data: DataArg,
    },
    /// Serve the JSON API under /api and the search page at /.
    Serve {
        #[command(flatten)]
        data: DataArg,
        /// Address to listen on.
        #[arg(long, env = "PASSERELLE_ADDR", default_value = "127.0.0.1:7800")]
        addr: SocketAddr,
    },
    /// Export school contacts (one row per school) or records.
    Export {
        /// What to export.
        what: ExportWhat,
        #[command(flatten)]
        data: DataArg,
        /// records: only this kind (school, programme, offer, company, question);
        /// contacts: only this school type (Lycée, Haute École...).
        #[arg(long)]
        kind: Option<String>,
        /// contacts: only this region (Wallonie, Pays de la Loire...).
        #[arg(long)]
        region: Option<String>,
        /// Output format (contacts default to csv, records to jsonl).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// contacts as CSV: start with a UTF-8 byte order mark, so spreadsheets read accents right.
        #[arg(long)]
        bom: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum FusionArg {
    Rrf,
    Convex,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum EvalMode {
    Bm25,
    Vector,
    Hybrid,
}

#[derive(Clone, Copy, ValueEnum)]
enum OnErrorArg {
    Skip,
    Reject,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportWhat {
    /// School contacts, checked and de-duplicated, with where each came from.
    Contacts,
    /// Every record, in the import format.
    Records,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Csv,
    Jsonl,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tantivy=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { data, addr } => runtime()?.block_on(server::demo::run(data.dir, addr))?,
        Command::Import { files, data, on_error } => import(files, data.dir, on_error)?,
        Command::Index { data } => index(data.dir)?,
        Command::Eval { dataset, mode, model_dir, semantic_ratio, fusion, lang, json, data } => {
            let fusion = match fusion {
                FusionArg::Rrf => indexer::hybrid::Fusion::default(),
                FusionArg::Convex => indexer::hybrid::Fusion::Convex,
            };
            eval(&dataset, mode, model_dir.as_deref(), semantic_ratio, fusion, &lang, json, &data.dir)?
        }
        Command::Serve { data, addr } => {
            if indexer::current_generation(&data.dir)?.is_none() {
                eprintln!("warning: no index in {} yet; /readyz answers 503 until `passerelle index` runs", data.dir.display());
            }
            let config = server::ServeConfig::new(data.dir, addr);
            let data_dir = config.data_dir.clone();
            runtime()?.block_on(server::serve(
                config,
                move |bound| {
                    // Scripts and tests read this line to learn the port when --addr ends in :0.
                    println!("listening on http://{bound}/ (data in {})", data_dir.display());
                    let _ = std::io::stdout().flush();
                },
                async {
                    let _ = tokio::signal::ctrl_c().await;
                },
            ))?
        }
        Command::Crawl { config, data, quiet } => {
            let parsed = crawler::CrawlConfig::load(&config)?;
            let name = std::fs::canonicalize(&config).unwrap_or(config.clone()).display().to_string();
            let summary = runtime()?.block_on(crawler::crawl(&parsed, &name, &data.dir, !quiet))?;
            print!("{summary}");
        }
        Command::Export { what: ExportWhat::Records, data, kind, region, format, bom: _, out } => {
            if region.is_some() {
                bail!("--region applies to `export contacts`; for records use --kind");
            }
            if format == Some(Format::Csv) {
                bail!("records export as JSON Lines only (--format jsonl); CSV is for `export contacts`");
            }
            export_records(data.dir, kind, out)?
        }
        Command::Export { what: ExportWhat::Contacts, data, kind, region, format, bom, out } => {
            let format = match format.unwrap_or(Format::Csv) {
                Format::Csv => crawler::export::ExportFormat::Csv { bom },
                Format::Jsonl => crawler::export::ExportFormat::Jsonl,
            };
            let filter = crawler::export::ExportFilter { region, kind };
            let store = store::RecordStore::open_dir(&data.dir)?;
            let n = write_out(out, |w| Ok(crawler::export::export_contacts(&store, &filter, format, w)?))?;
            eprintln!("exported {n} schools");
        }
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn import(files: Vec<PathBuf>, data_dir: PathBuf, on_error: OnErrorArg) -> Result<()> {
    let mut store = store::RecordStore::open_dir(&data_dir)?;
    let mode = match on_error {
        OnErrorArg::Skip => store::OnError::Skip,
        OnErrorArg::Reject => store::OnError::Reject,
    };
    let mut rejected = 0;
    let mut skipped = 0;
    for file in &files {
        let report = store::import_jsonl(&mut store, file, mode)?;
        for e in &report.errors {
            eprintln!("{e}");
        }
        if report.rejected {
            rejected += 1;
            eprintln!("{}: rejected, nothing imported ({} bad lines)", file.display(), report.errors.len());
        } else {
            skipped += report.errors.len();
            println!(
                "{}: {} inserted, {} updated, {} unchanged, {} bad lines skipped",
                file.display(),
                report.inserted,
                report.updated,
                report.unchanged,
                report.errors.len()
            );
        }
    }
    if rejected > 0 {
        bail!("{rejected} file(s) rejected; fix the lines above or use --on-error skip");
    }
    if skipped > 0 {
        eprintln!("warning: {skipped} bad line(s) skipped (listed above)");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn eval(
    dataset: &std::path::Path,
    mode: EvalMode,
    model_dir: Option<&std::path::Path>,
    semantic_ratio: f32,
    fusion: indexer::hybrid::Fusion,
    lang: &str,
    json: bool,
    data_dir: &std::path::Path,
) -> Result<()> {
    let lang = match lang {
        "fr" | "nl" | "en" => indexer::analysis::Lang::from_code(Some(lang)),
        other => bail!("unknown --lang `{other}`: fr, nl or en"),
    };
    let embedder = match mode {
        EvalMode::Bm25 => None,
        EvalMode::Vector | EvalMode::Hybrid => {
            let dir = model_dir.context(
                "--mode vector and hybrid need the embedding model: pass --model-dir DIR or set PASSERELLE_MODEL_DIR \
                 (a sentence-transformers BERT directory; `passerelle model fetch` is not built yet)",
            )?;
            Some(indexer::embed::BertEmbedder::load(dir, &model_id(dir), indexer::embed::EmbedOptions::default())?)
        }
    };
    let data = indexer::eval::Dataset::load(dataset)?;
    let judged = data.queries.iter().filter(|(q, _)| data.qrels.contains_key(q)).count();
    let bar = indicatif::ProgressBar::new(judged as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>8} {bar:40} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut store = match &embedder {
        Some(_) => Some(store::RecordStore::open_dir(data_dir)?),
        None => None,
    };
    let mut legs = Vec::new();
    if mode != EvalMode::Vector {
        bar.set_message("bm25");
        legs.push(indexer::eval::rank_bm25(&data, lang, |n| bar.set_position(n as u64))?);
    }
    if let Some(embedder) = &embedder {
        legs.push(indexer::eval::rank_vector(&data, embedder, store.as_mut(), |what, n, total| {
            bar.set_message(what.to_string());
            bar.set_length(total as u64);
            bar.set_position(n as u64);
        })?);
    }
    bar.finish_and_clear();
    let rankings = match mode {
        EvalMode::Hybrid => indexer::eval::rank_hybrid(&legs[0], &legs[1], semantic_ratio, fusion),
        _ => legs.pop().context("a leg ran")?,
    };
    let m = indexer::eval::evaluate(&indexer::eval::ids(&rankings), &data.qrels);
    let name = match mode {
        EvalMode::Bm25 => "bm25",
        EvalMode::Vector => "vector",
        EvalMode::Hybrid => "hybrid",
    };
    if json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!("dataset {} ({} documents, {} judged queries), mode {name}", dataset.display(), data.corpus.len(), m.queries);
        println!("{:<8} {:>7} {:>7} {:>8} {:>9} {:>10} {:>11}", "mode", "MAP", "MRR", "nDCG@10", "Recall@1", "Recall@10", "Recall@100");
        println!(
            "{:<8} {:>7.3} {:>7.3} {:>8.3} {:>9.3} {:>10.3} {:>11.3}",
            name, m.map, m.mrr, m.ndcg_10, m.recall_1, m.recall_10, m.recall_100
        );
    }
    Ok(())
}

/// The cache name of a model directory: its folder name and the size of its weights, so a
/// different model never reuses another's vectors.
fn model_id(dir: &std::path::Path) -> String {
    let size = std::fs::metadata(dir.join("model.safetensors")).map(|m| m.len()).unwrap_or(0);
    let name = dir.canonicalize().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    format!("{name}-{size}")
}

fn index(data_dir: PathBuf) -> Result<()> {
    let store = store::RecordStore::open_dir(&data_dir)?;
    let total = store.count(None)?;
    let report = indexer::build_generation(&data_dir, &store, |n| {
        eprint!("\rindexing {n}/{total} records");
        let _ = std::io::stderr().flush();
    })?;
    eprintln!();
    let kinds: Vec<String> = report.manifest.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "published index generation {} ({} documents: {}) in {:.1}s",
        report.manifest.name,
        report.manifest.documents,
        kinds.join(", "),
        report.elapsed.as_secs_f64()
    );
    if !report.removed.is_empty() {
        println!("removed old generations: {}", report.removed.join(", "));
    }
    Ok(())
}

/// Runs `write` on the output file (written beside, then renamed: a failed export never leaves
/// half a file under the name) or on standard output.
fn write_out(out: Option<PathBuf>, write: impl FnOnce(&mut dyn Write) -> Result<usize>) -> Result<usize> {
    match out {
        Some(path) => {
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let n = write(&mut w)?;
            w.into_inner().context("flush")?.sync_all()?;
            std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
            Ok(n)
        }
        None => write(&mut std::io::stdout().lock()),
    }
}

fn export_records(data_dir: PathBuf, kind: Option<String>, out: Option<PathBuf>) -> Result<()> {
    let kind = match kind {
        None => None,
        Some(k) => Some(
            schemas::RecordKind::parse(&k)
                .with_context(|| format!("unknown kind `{k}`; kinds are school, programme, offer, company, question"))?,
        ),
    };
    let store = store::RecordStore::open_dir(&data_dir)?;
    let n = write_out(out, |w| Ok(store::export_jsonl(&store, kind, w)?))?;
    eprintln!("exported {n} records");
    Ok(())
}
