//! `passerelle exports log`: who exported contacts, when, how and how many.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

use super::{DataArg, cell, when};

#[derive(Subcommand)]
pub enum ExportsCommand {
    /// The last contact exports, newest first: when, who (a key's name, or `command line`),
    /// what, the format, the filters and how many rows.
    Log(LogArgs),
}

#[derive(clap::Args)]
pub struct LogArgs {
    /// How many exports to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print them as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(command: ExportsCommand) -> Result<()> {
    match command {
        ExportsCommand::Log(args) => log(args),
    }
}

fn log(args: LogArgs) -> Result<()> {
    let store = store::RecordStore::open_dir(&args.data.dir)?;
    let entries = store.export_log(args.limit)?;
    let out = &mut std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?;
        return Ok(());
    }
    if entries.is_empty() {
        writeln!(out, "no export yet")?;
        return Ok(());
    }
    writeln!(out, "{}  {}  {}  {}  {}  {:>6}", cell("when", 16), cell("who", 20), cell("what", 8), cell("format", 6), cell("filters", 40), "rows")?;
    for e in &entries {
        writeln!(
            out,
            "{}  {}  {}  {}  {}  {:>6}",
            cell(&when(Some(&e.at)), 16),
            cell(&e.who, 20),
            cell(&e.what, 8),
            cell(&e.format, 6),
            cell(&e.filters, 40),
            e.rows
        )?;
    }
    Ok(())
}
