//! `passerelle keys`: create, list and revoke the API's keys. A secret is printed once, when
//! its key is created; the store keeps only its hash.

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{DataArg, cell, when};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret, once (only its hash is stored).
    ///
    /// The secret alone goes to standard output (`SECRET=$(passerelle keys create ...)`); what
    /// the key may do, and the reminder that the secret will not be shown again, go to standard
    /// error. The API reads it from `Authorization: Bearer <secret>`.
    Create(CreateArgs),
    /// List every key, revoked and expired ones included (never their secrets).
    List(ListArgs),
    /// Revoke a key: it stops working at once. Its name can then be given to a new key.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// The key's name: 1 to 64 letters, digits, '-', '_' or '.' (who or what uses it:
    /// marketing, recruteur-ardennes...); unique among unrevoked keys.
    #[arg(long)]
    pub name: String,
    /// What it may do, comma-separated: search, match, questions, stats, offers.write,
    /// questions.write, export, transmissions, keys.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scopes: Vec<String>,
    /// It stops working after this long: 90d (days), 12h (hours), 30m (minutes), 1y (365
    /// days). Without it the key works until it is revoked.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// Tie it to a company: the offers it writes are that company's.
    #[arg(long = "company", value_name = "ID")]
    pub company: Option<String>,
    /// Tie it to a programme (repeat for several): it reads the offers forwarded to those.
    #[arg(long = "programme", value_name = "ID")]
    pub programmes: Vec<String>,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print the keys as JSON (with each one's status) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The name of the key to revoke.
    pub name: String,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Create(args) => create(args),
        KeysCommand::List(args) => list(args),
        KeysCommand::Revoke(args) => revoke(args),
    }
}

fn create(args: CreateArgs) -> Result<()> {
    let expires_at = match &args.expires_in {
        None => None,
        Some(text) => {
            let d = store::parse_duration_days(text).map_err(|e| anyhow::anyhow!("--expires-in {e}"))?;
            let now = OffsetDateTime::now_utc();
            let now = now.replace_nanosecond(0).unwrap_or(now);
            let at = now.checked_add(d).context("--expires-in: too far in the future")?;
            Some(at.format(&Rfc3339).context("--expires-in: the expiry cannot be written as RFC 3339")?)
        }
    };
    let new = store::NewKey {
        name: args.name,
        scopes: args.scopes.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        expires_at,
        company_id: args.company,
        programme_ids: args.programmes,
    };
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    let (key, secret) = store.create_key(&new)?;
    eprintln!(
        "created key `{}`: scopes {}; {}{}",
        key.name,
        key.scopes.join(", "),
        key.expires_at
            .as_deref()
            .map(|e| format!("expires {}", when(Some(e))))
            .unwrap_or_else(|| "never expires (revoke it with `passerelle keys revoke`)".into()),
        ties(&key).map(|t| format!("; {t}")).unwrap_or_default()
    );
    println!("{secret}");
    eprintln!("This secret will not be shown again: only its hash is stored. Keep it now (send it as `Authorization: Bearer <secret>`).");
    Ok(())
}

fn ties(key: &store::ApiKey) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(c) = &key.company_id {
        parts.push(format!("company {c}"));
    }
    if !key.programme_ids.is_empty() {
        parts.push(format!("programmes {}", key.programme_ids.join(", ")));
    }
    if parts.is_empty() { None } else { Some(parts.join("; ")) }
}

fn list(args: ListArgs) -> Result<()> {
    let store = store::RecordStore::open_dir(&args.data.dir)?;
    let keys = store.keys()?;
    let now = OffsetDateTime::now_utc();
    let out = &mut std::io::stdout().lock();
    if args.json {
        #[derive(serde::Serialize)]
        struct Listed<'a> {
            #[serde(flatten)]
            key: &'a store::ApiKey,
            status: store::KeyStatus,
        }
        let listed: Vec<Listed> = keys.iter().map(|key| Listed { key, status: key.status(now) }).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?;
        return Ok(());
    }
    if keys.is_empty() {
        writeln!(out, "no key yet; create one with `passerelle keys create --name NAME --scopes search`")?;
        return Ok(());
    }
    writeln!(
        out,
        "{}  {}  {}  {}  {}  {}  status",
        cell("name", 20),
        cell("scopes", 30),
        cell("company/programmes", 30),
        cell("created", 16),
        cell("expires", 16),
        cell("last used", 16)
    )?;
    for key in &keys {
        writeln!(
            out,
            "{}  {}  {}  {}  {}  {}  {}",
            cell(&key.name, 20),
            cell(&key.scopes.join(","), 30),
            cell(&ties(key).unwrap_or_else(|| "-".into()), 30),
            cell(&when(Some(&key.created_at)), 16),
            cell(&when(key.expires_at.as_deref()), 16),
            cell(&when(key.last_used_at.as_deref()), 16),
            key.status(now).as_str()
        )?;
    }
    Ok(())
}

fn revoke(args: RevokeArgs) -> Result<()> {
    let mut store = store::RecordStore::open_dir(&args.data.dir)?;
    if !store.revoke_key(&args.name)? {
        bail!("no unrevoked key named `{}`; `passerelle keys list` shows the keys", args.name);
    }
    println!("revoked key `{}`: it no longer works", args.name);
    Ok(())
}
