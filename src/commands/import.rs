//! `passerelle import`: JSON Lines records into the store.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::ValueEnum;

use super::DataArg;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Files to import, each in one transaction.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub data: DataArg,
    /// What to do with a bad line: skip it (and report it), or reject the whole file.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Skip)]
    pub on_error: OnErrorArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OnErrorArg {
    Skip,
    Reject,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    let mode = match args.on_error {
        OnErrorArg::Skip => store::OnError::Skip,
        OnErrorArg::Reject => store::OnError::Reject,
    };
    let mut rejected = 0;
    let mut skipped = 0;
    for file in &args.files {
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
