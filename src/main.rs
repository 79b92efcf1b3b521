//! The `passerelle` command: parses arguments and calls the crates. No logic lives here.
//!
//! Each subcommand is a file of `commands/` holding its arguments and a `run` that calls the
//! crates and prints what they answer.

mod commands;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use commands::{ModelArgs, contacts, crawl, demo, eval, export, exports, import, index, keys, matching, model, questions, serve};

#[derive(Parser)]
#[command(name = "passerelle", version, about = "Search service linking students, schools and companies")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the fixture websites on loopback, crawl them (directories, school sites, offers,
    /// programmes), import the quiz questions, build the index and serve the API and the page.
    Demo(demo::DemoArgs),
    /// Import records from JSON Lines files (one record a line, with a `kind` field).
    Import(import::ImportArgs),
    /// Crawl the sources of a config (school directories, school websites) into the records store.
    ///
    /// Resumes an interrupted crawl of the same config; re-crawls with conditional requests.
    Crawl(crawl::CrawlArgs),
    /// Measure relevance on a BEIR-style dataset (corpus.jsonl, queries.jsonl, qrels.tsv).
    ///
    /// Indexes the dataset's corpus on its own (each document as a programme page: title and
    /// text) with the service's generation builder in a temporary directory, asks every judged
    /// query through the service's search (the same retriever, query reading, skip rule and
    /// defaults as /api/search; bm25 is semantic_ratio 0, vector 1), and prints MAP, MRR,
    /// nDCG@10 and Recall@1/10/100. The data directory's embedding cache is reused.
    /// `--mode matcher` instead asks the service's matcher (`--task`) over the index in `--data`,
    /// whose records' keys must be the corpus's ids (the fixtures: import fixtures/data, index).
    Eval(eval::EvalArgs),
    /// Build a new index generation from the records store and publish it.
    ///
    /// With an embedding model, the generation also holds one HNSW graph per kind; vectors are
    /// cached in the data directory, so unchanged records are not embedded again.
    Index(index::IndexArgs),
    /// Serve the JSON API under /api and the search page at /.
    Serve(serve::ServeArgs),
    /// Match an offer to programmes, or a student's wish to offers (with companies and
    /// recruiters) or to programmes, over the served index, as the API does.
    Match {
        #[command(subcommand)]
        command: matching::MatchCommand,
    },
    /// Check a new quiz question against the indexed ones (near-duplicates with a verdict, the
    /// language tag it would get), or measure those verdicts on labelled pairs.
    Questions {
        #[command(subcommand)]
        command: questions::QuestionsCommand,
    },
    /// Fetch or locate the embedding model.
    Model {
        #[command(subcommand)]
        command: model::ModelCommand,
    },
    /// Export school contacts (one row per school) or records.
    Export(export::ExportArgs),
    /// Create, list and revoke the API's keys (only a hash of each secret is stored).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// The suppression list: addresses, domains and phones never exported again.
    Contacts {
        #[command(subcommand)]
        command: contacts::ContactsCommand,
    },
    /// The log of contact exports: who exported what, when.
    Exports {
        #[command(subcommand)]
        command: exports::ExportsCommand,
    },
}

impl Command {
    /// The model options of the commands that load the embedding model.
    fn model_args(&self) -> Option<&ModelArgs> {
        match self {
            Command::Demo(a) => Some(&a.model),
            Command::Index(a) => Some(&a.model),
            Command::Serve(a) => Some(&a.model),
            Command::Eval(a) => Some(&a.model),
            Command::Match { command } => Some(command.model_args()),
            Command::Questions { command } => Some(command.model_args()),
            Command::Import(_)
            | Command::Crawl(_)
            | Command::Model { .. }
            | Command::Export(_)
            | Command::Keys { .. }
            | Command::Contacts { .. }
            | Command::Exports { .. } => None,
        }
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tantivy=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(n) = cli.command.model_args().and_then(|m| m.threads) {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        // SAFETY: set before any other thread exists (the runtime and the model start later);
        // candle and rayon read it when the model first runs.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", n.to_string()) };
    }
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Import(args) => import::run(args),
        Command::Crawl(args) => crawl::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Index(args) => index::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Match { command } => matching::run(command),
        Command::Questions { command } => questions::run(command),
        Command::Model { command } => model::run(command),
        Command::Export(args) => export::run(args),
        Command::Keys { command } => keys::run(command),
        Command::Contacts { command } => contacts::run(command),
        Command::Exports { command } => exports::run(command),
    }
}
