//! `passerelle export`: school contacts or records, to a file or standard output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use super::DataArg;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// What to export.
    pub what: ExportWhat,
    #[command(flatten)]
    pub data: DataArg,
    /// records: only this kind (school, programme, offer, company, question);
    /// contacts: only this school type (Lycée, Haute École...).
    #[arg(long)]
    pub kind: Option<String>,
    /// contacts: only this region (Wallonie, Pays de la Loire...).
    #[arg(long)]
    pub region: Option<String>,
    /// contacts: only this country (ISO code: BE, FR...).
    #[arg(long)]
    pub country: Option<String>,
    /// Output format (contacts default to csv, records to jsonl).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// contacts as CSV: start with a UTF-8 byte order mark, so spreadsheets read accents right.
    #[arg(long)]
    pub bom: bool,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportWhat {
    /// School contacts, checked and de-duplicated, with where each came from, minus the
    /// suppression list (`passerelle contacts suppress`); CSV cells that a spreadsheet would
    /// run as formulas (starting with = + - @) get a ' in front; each export is logged
    /// (`passerelle exports log`).
    Contacts,
    /// Every record, in the import format.
    Records,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum Format {
    Csv,
    Jsonl,
}

pub fn run(args: ExportArgs) -> Result<()> {
    match args.what {
        ExportWhat::Records => records(args),
        ExportWhat::Contacts => contacts(args),
    }
}

fn records(args: ExportArgs) -> Result<()> {
    if args.region.is_some() || args.country.is_some() {
        bail!("--region and --country apply to `export contacts`; for records use --kind");
    }
    if args.format == Some(Format::Csv) {
        bail!("records export as JSON Lines only (--format jsonl); CSV is for `export contacts`");
    }
    let kind = match args.kind {
        None => None,
        Some(k) => Some(schemas::RecordKind::parse(&k).with_context(|| format!("unknown kind `{k}`; kinds are school, programme, offer, company, question"))?),
    };
    let store = store::RecordStore::open_dir(&args.data.dir)?;
    let n = write_out(args.out, |w| Ok(store::export_jsonl(&store, kind, w)?))?;
    eprintln!("exported {n} records");
    Ok(())
}

fn contacts(args: ExportArgs) -> Result<()> {
    let format = match args.format.unwrap_or(Format::Csv) {
        Format::Csv => crawler::export::ExportFormat::Csv { bom: args.bom },
        Format::Jsonl => crawler::export::ExportFormat::Jsonl,
    };
    let filter = crawler::export::ExportFilter { region: args.region, kind: args.kind, country: args.country };
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    let n = write_out(args.out, |w| Ok(crawler::export::export_contacts(&store, &filter, format, w)?))?;
    // Contacts are personal data: the log says who has a copy (`passerelle exports log`).
    store.log_export(&store::ExportLogEntry {
        at: schemas::now_rfc3339(),
        who: "command line".into(),
        what: "contacts".into(),
        format: format.name().into(),
        filters: serde_json::to_string(&filter)?,
        rows: n as u64,
    })?;
    eprintln!("exported {n} schools (suppression list honoured; logged)");
    Ok(())
}

/// Runs `write` on the output file (whole or not at all: a failed export never leaves half a
/// file under the name) or on standard output.
fn write_out(out: Option<PathBuf>, write: impl FnOnce(&mut dyn Write) -> Result<usize>) -> Result<usize> {
    match out {
        Some(path) => store::write_atomically(&path, write),
        None => write(&mut std::io::stdout().lock()),
    }
}
