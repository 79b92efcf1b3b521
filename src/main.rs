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
    /// Export records as JSON Lines.
    Export {
        /// What to export.
        what: ExportWhat,
        #[command(flatten)]
        data: DataArg,
        /// Only records of this kind (school, programme, offer, company, question).
        #[arg(long)]
        kind: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OnErrorArg {
    Skip,
    Reject,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportWhat {
    /// Every record, in the import format.
    Records,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
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
        Command::Export { what: ExportWhat::Records, data, kind, format: Format::Jsonl, out } => {
            export_records(data.dir, kind, out)?
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

fn export_records(data_dir: PathBuf, kind: Option<String>, out: Option<PathBuf>) -> Result<()> {
    let kind = match kind {
        None => None,
        Some(k) => Some(
            schemas::RecordKind::parse(&k)
                .with_context(|| format!("unknown kind `{k}`; kinds are school, programme, offer, company, question"))?,
        ),
    };
    let store = store::RecordStore::open_dir(&data_dir)?;
    let n = match out {
        Some(path) => {
            // Write beside, then rename: a failed export never leaves half a file under the name.
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let n = store::export_jsonl(&store, kind, &mut w)?;
            w.into_inner().context("flush")?.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            n
        }
        None => store::export_jsonl(&store, kind, &mut std::io::stdout().lock())?,
    };
    eprintln!("exported {n} records");
    Ok(())
}
