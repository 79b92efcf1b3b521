//! `passerelle crawl`: the sources of a config into the records store.

use std::path::PathBuf;

use anyhow::Result;

use super::{DataArg, runtime};

#[derive(clap::Args)]
pub struct CrawlArgs {
    /// The crawl config (TOML).
    #[arg(long)]
    pub config: PathBuf,
    #[command(flatten)]
    pub data: DataArg,
    /// No progress bar (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: CrawlArgs) -> Result<()> {
    let parsed = crawler::CrawlConfig::load(&args.config)?;
    // The run is keyed by the config's full path, so the same config resumes wherever it is run from.
    let name = std::fs::canonicalize(&args.config).unwrap_or(args.config.clone()).display().to_string();
    let summary = runtime()?.block_on(crawler::crawl(&parsed, &name, &args.data.dir, !args.quiet))?;
    print!("{summary}");
    Ok(())
}
