//! `passerelle match`: an offer to programmes, a student's wish to offers or programmes, over
//! the served index, printed as tables or as the API's JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use features::matching::{FilterValues, MatchFilters, MatchRequest, OffersAnswer, ProgrammesAnswer, Signals, Task, Why};

use super::{DataArg, ModelArgs, batch_encoder, cell, read_text_file};

#[derive(Subcommand)]
pub enum MatchCommand {
    /// An offer (a UTF-8 text file, or - for standard input) -> the programmes that train for it.
    Offer(OfferArgs),
    /// A student's wish -> offers, the companies that posted similar ones and the recruiters'
    /// contacts; with --programmes, -> programmes.
    Student(StudentArgs),
}

impl MatchCommand {
    pub fn model_args(&self) -> &ModelArgs {
        match self {
            MatchCommand::Offer(a) => &a.options.model,
            MatchCommand::Student(a) => &a.options.model,
        }
    }
}

#[derive(clap::Args)]
pub struct OfferArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub options: MatchOptions,
}

#[derive(clap::Args)]
pub struct StudentArgs {
    pub text: String,
    #[arg(long)]
    pub programmes: bool,
    #[command(flatten)]
    pub options: MatchOptions,
}

#[derive(clap::Args)]
pub struct MatchOptions {
    /// Results to show (1 to 50).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// A filter, FIELD=VALUE, repeatable (a field given twice accepts either value): region,
    /// city, country, level, language; domain for programmes; contract_type, posted_after
    /// (YYYY-MM-DD), open_only (true by default: expired offers left out; false shows them) and
    /// as_of (YYYY-MM-DD, the day "expired" is judged on) for offers.
    #[arg(long = "filter", value_name = "FIELD=VALUE")]
    pub filters: Vec<String>,
    /// Print the answer as JSON (the API's answer) instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(command: MatchCommand) -> Result<()> {
    let (task, text, options) = match command {
        MatchCommand::Offer(a) => (Task::OfferToProgrammes, read_text_file(&a.file, "offer")?, a.options),
        MatchCommand::Student(a) if a.programmes => (Task::StudentToProgrammes, a.text, a.options),
        MatchCommand::Student(a) => (Task::StudentToOffers, a.text, a.options),
    };
    let filters = MatchFilters::for_task(task, parse_filters(&options.filters)?)?;
    let request = MatchRequest { text, limit: options.limit, filters };
    let encoder = batch_encoder(&options.model)?;
    let index = features::Features::new(indexer::SearchIndex::open_current(&options.data.dir)?);
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

/// The `--filter FIELD=VALUE` arguments as the matcher's filter values (which fields a task
/// accepts is the matcher's call).
fn parse_filters(filters: &[String]) -> Result<FilterValues> {
    let mut asked = FilterValues::default();
    let day = |name: &str, v: &str| -> Result<time::Date> {
        time::Date::parse(v, &time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| anyhow::anyhow!("--filter {name}={v}: write the date as YYYY-MM-DD"))
    };
    for f in filters {
        let (name, value) = f.split_once('=').with_context(|| format!("--filter `{f}`: write FIELD=VALUE, e.g. region=Wallonie"))?;
        let (name, value) = (name.trim(), value.trim());
        match name {
            "open_only" => {
                asked.open_only = Some(value.parse().map_err(|_| anyhow::anyhow!("--filter open_only={value}: write true or false"))?);
            }
            "posted_after" => asked.posted_after = Some(day(name, value)?),
            "as_of" => asked.as_of = Some(day(name, value)?),
            _ => match asked.facets.iter_mut().find(|(n, _)| n == name) {
                Some((_, values)) => values.push(value.to_string()),
                None => asked.facets.push((name.to_string(), vec![value.to_string()])),
            },
        }
    }
    Ok(asked)
}

fn person(p: &Option<schemas::Person>) -> String {
    p.as_ref().map(|p| [p.name.as_deref(), p.email.as_deref(), p.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn print_signals(out: &mut impl Write, s: &Signals, semantic: &indexer::SemanticStatus) -> Result<()> {
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

fn why_text(w: &Why) -> String {
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

fn print_programmes(out: &mut impl Write, a: &ProgrammesAnswer) -> Result<()> {
    print_signals(out, &a.signals, &a.semantic)?;
    writeln!(out)?;
    writeln!(out, "{:>2}  {:>5}  {}  {}  {}  {}  why", "#", "score", cell("programme", 40), cell("school", 30), cell("level", 10), cell("contact", 45))?;
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

fn print_offers(out: &mut impl Write, a: &OffersAnswer) -> Result<()> {
    print_signals(out, &a.signals, &a.semantic)?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>2}  {:>5}  {}  {}  {}  {}  {}  why",
        "#",
        "score",
        cell("offer", 40),
        cell("company", 26),
        cell("city", 16),
        cell("contract", 14),
        cell("open", 4)
    )?;
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
