//! `passerelle questions`: a new quiz question against the indexed ones, or the verdicts measured
//! on labelled pairs, printed as tables or as the API's JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use features::questions::{QuestionsReport, SimilarAnswer, SimilarRequest};

use super::{DataArg, ModelArgs, batch_encoder, cell, progress_bar, read_text_file};

#[derive(Subcommand)]
pub enum QuestionsCommand {
    /// A question (a file, or - for standard input) -> its near-duplicates and its tag.
    ///
    /// The file is either JSON (`{"text": ..., "code": ..., "options": [...]}`, or a question
    /// line of the import format) or plain text: the stem, the code inside a ``` fence, and
    /// one option per line starting with "- ".
    Similar(SimilarArgs),
    /// Ask every indexed question against the others: precision and recall of the `duplicate`
    /// verdict on labelled pairs, and the language tag's accuracy on a held-out quarter.
    Eval(EvalArgs),
}

impl QuestionsCommand {
    pub fn model_args(&self) -> &ModelArgs {
        match self {
            QuestionsCommand::Similar(a) => &a.model,
            QuestionsCommand::Eval(a) => &a.model,
        }
    }
}

#[derive(clap::Args)]
pub struct SimilarArgs {
    pub file: PathBuf,
    /// Questions to compare with (1 to 50).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print the answer as JSON (the API's answer) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Labelled pairs: `a<TAB>b<TAB>label` (duplicate, paraphrase, translation, lookalike)
    /// with the questions' keys, header line first (fixtures/data/question-pairs.tsv).
    #[arg(long)]
    pub pairs: PathBuf,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(command: QuestionsCommand) -> Result<()> {
    match command {
        QuestionsCommand::Similar(args) => similar(args),
        QuestionsCommand::Eval(args) => eval(args),
    }
}

fn similar(args: SimilarArgs) -> Result<()> {
    let text = read_text_file(&args.file, "question")?;
    let mut request = read_question(&text)?;
    request.limit = Some(args.limit);
    let encoder = batch_encoder(&args.model)?;
    let index = features::Features::new(indexer::SearchIndex::open_current(&args.data.dir)?);
    let answer = index.similar_questions(&request, encoder.as_ref())?;
    let out = &mut std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        print_similar(out, &answer)?;
    }
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.pairs).with_context(|| format!("cannot read {}", args.pairs.display()))?;
    let pairs = features::questions::read_pairs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.pairs.display()))?;
    let encoder = batch_encoder(&args.model)?;
    let index = features::Features::new(indexer::SearchIndex::open_current(&args.data.dir)?);
    let bar = progress_bar(0);
    let report = index.evaluate_questions(&pairs, encoder.as_ref(), |n, total| {
        bar.set_length(total as u64);
        bar.set_position(n as u64);
    })?;
    bar.finish_and_clear();
    let out = &mut std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_questions_report(out, &report)?;
    }
    Ok(())
}

/// Reads a question file: JSON (a request or a question record), or text with the code in a
/// ``` fence and options on lines starting with "- " or "* ".
fn read_question(text: &str) -> Result<SimilarRequest> {
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

fn print_similar(out: &mut impl Write, a: &SimilarAnswer) -> Result<()> {
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
    writeln!(out, "{:>2}  {}  {:>5}  {}  {}  {}  why", "#", cell("verdict", 9), "sim", cell("key", 10), cell("tag", 10), cell("question", 50))?;
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

fn print_questions_report(out: &mut impl Write, r: &QuestionsReport) -> Result<()> {
    writeln!(
        out,
        "{} questions, each asked against the others (thresholds: duplicate {}, similar {})",
        r.questions, r.thresholds.duplicate, r.thresholds.similar
    )?;
    if let Some(note) = &r.semantic.note {
        writeln!(out, "note: {note}")?;
    }
    let d = &r.duplicate;
    writeln!(
        out,
        "duplicate verdict: precision {:.3} ({} of {} pairs), recall {:.3} ({} of {} labelled same-question pairs)",
        d.precision, d.correct, d.predicted, d.recall, d.correct, d.labelled
    )?;
    let f = &r.flagged;
    writeln!(out, "duplicate or similar: recall {:.3} of all {} labelled pairs, {} pairs flagged", f.recall, f.labelled, f.predicted)?;
    writeln!(out, "look-alikes called duplicate: {} of {}", r.lookalikes_called_duplicate, r.lookalikes)?;
    for (name, t) in [("held-out quarter", &r.tag_held_out), ("leave one out", &r.tag_leave_one_out)] {
        writeln!(
            out,
            "tag accuracy, {name}: {:.3} ({} of {}); neighbours only {:.3}, cues only {:.3}",
            t.accuracy, t.correct, t.questions, t.neighbours_only, t.cues_only
        )?;
    }
    Ok(())
}
