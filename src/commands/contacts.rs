//! `passerelle contacts`: the suppression list (the right to object). An address, a domain or
//! a phone on it is never exported again, by the command line or the API.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::{DataArg, cell, when};

#[derive(Subcommand)]
pub enum ContactsCommand {
    /// Add an e-mail address, a whole domain or a phone number to the suppression list: it is
    /// never exported again.
    ///
    /// `name@example.be` is one address; `@example.be` is every address at that domain and its
    /// subdomains (mail.example.be...); `+32 81 23 45 67` is one number, written in
    /// international form (spaces, dots and dashes allowed).
    Suppress(SuppressArgs),
    /// Remove an entry from the suppression list (written as it was added, or as listed).
    Unsuppress(UnsuppressArgs),
    /// List the suppression list.
    Suppressions(SuppressionsArgs),
}

#[derive(clap::Args)]
pub struct SuppressArgs {
    /// EMAIL, @DOMAIN or +PHONE (international form, e.g. +32 81 23 45 67).
    #[arg(value_name = "EMAIL|@DOMAIN|+PHONE")]
    pub value: String,
    /// Why (the request's date and channel, say); kept beside the entry.
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(clap::Args)]
pub struct UnsuppressArgs {
    /// The entry to remove: EMAIL, @DOMAIN or +PHONE.
    #[arg(value_name = "VALUE")]
    pub value: String,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(clap::Args)]
pub struct SuppressionsArgs {
    /// Print the list as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(command: ContactsCommand) -> Result<()> {
    match command {
        ContactsCommand::Suppress(args) => suppress(args),
        ContactsCommand::Unsuppress(args) => unsuppress(args),
        ContactsCommand::Suppressions(args) => list(args),
    }
}

fn suppress(args: SuppressArgs) -> Result<()> {
    let entry = store::Suppression::parse(&args.value).map_err(anyhow::Error::msg)?;
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    if store.suppress(&entry, args.reason.as_deref())? {
        println!("suppressed {} {}: never exported again", entry.kind(), entry.value());
    } else {
        println!("{} {} was already on the suppression list", entry.kind(), entry.value());
    }
    Ok(())
}

fn unsuppress(args: UnsuppressArgs) -> Result<()> {
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    if !store.unsuppress(&args.value)? {
        bail!("`{}` is not on the suppression list; `passerelle contacts suppressions` lists it", args.value.trim());
    }
    println!("removed `{}` from the suppression list: it may be exported again", args.value.trim());
    Ok(())
}

fn list(args: SuppressionsArgs) -> Result<()> {
    let store = store::RecordStore::open_dir(&args.data.dir)?;
    let entries = store.suppressions()?;
    let out = &mut std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?;
        return Ok(());
    }
    if entries.is_empty() {
        writeln!(out, "the suppression list is empty")?;
        return Ok(());
    }
    writeln!(out, "{}  {}  {}  reason", cell("value", 40), cell("kind", 6), cell("added", 16))?;
    for e in &entries {
        writeln!(
            out,
            "{}  {}  {}  {}",
            cell(&e.value, 40),
            cell(&e.kind, 6),
            cell(&when(Some(&e.added_at)), 16),
            cell(e.reason.as_deref().unwrap_or(""), 60).trim_end()
        )?;
    }
    Ok(())
}
