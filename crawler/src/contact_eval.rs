//! Precision and recall of the contact extractor and the school-affinity decision on a folder of
//! static pages with a ground truth, per case (`cargo run -p passerelle-crawler --example
//! contacts_eval -- DIR`; the labelled pages of `fixtures/contact-pages` in the tests).
//!
//! `DIR/truth.json` is a list of `{"page": "x.html", "country": "BE", "case": "split",
//! "domain": "ecole.be", "emails": [...], "phones": [...], "faxes": [...], "not_school":
//! [{"value": "...", "why": "..."}]}`; the pages are in `DIR/pages/`. Each page is read as the
//! crawler reads a page of a school whose website is at `domain`: the kept e-mails are compared
//! with `emails`, the kept phones and faxes with `phones` and `faxes` (a fax read as a phone is
//! wrong twice), and every `not_school` value must not be kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemas::ContactKind;
use serde_json::Value;

use crate::extract::{ContactExtractor, affinity};

/// Right, wrong and missed contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Kept and expected.
    pub right: usize,
    /// Kept, not expected.
    pub wrong: usize,
    /// Expected, not kept.
    pub missed: usize,
}

impl Count {
    /// Counts `found` against `expected`.
    pub fn add(&mut self, found: &BTreeSet<String>, expected: &BTreeSet<String>) {
        self.right += found.intersection(expected).count();
        self.wrong += found.difference(expected).count();
        self.missed += expected.difference(found).count();
    }

    /// right / (right + wrong), 1 when nothing was kept.
    pub fn precision(&self) -> f64 {
        self.right as f64 / (self.right + self.wrong).max(1) as f64
    }

    /// right / (right + missed), 1 when nothing was expected.
    pub fn recall(&self) -> f64 {
        self.right as f64 / (self.right + self.missed).max(1) as f64
    }
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// (case or `all`, `emails` or `phones`) -> counts.
    pub counts: BTreeMap<(String, &'static str), Count>,
    /// One line per page that is not exactly right, and per third-party value kept.
    pub mistakes: Vec<String>,
    /// `not_school` values listed, and how many of them were kept by mistake.
    pub not_school: (usize, usize),
    /// Why the `not_school` values left out were left out.
    pub left_out_as: BTreeMap<String, usize>,
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_lowercase)).collect()).unwrap_or_default()
}

/// Reads every page of `dir` and compares what is kept with its truth.
pub fn evaluate(dir: &Path) -> Result<Evaluation, String> {
    let path = dir.join("truth.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let truth: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Evaluation::default();
    for page in truth.as_array().ok_or_else(|| format!("{}: not a list", path.display()))? {
        let name = page["page"].as_str().unwrap_or("");
        let file = dir.join("pages").join(name);
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (text, _) = crate::fetch::charset::decode(&bytes, None);
        let html = scraper::Html::parse_document(&text);
        let country = page["country"].as_str().and_then(crate::config::parse_country);
        let read = ContactExtractor::new(country).read_page(&html);
        // The school's name, as the crawler knows it: here from the page's title.
        static TITLE: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| scraper::Selector::parse("title").expect("static selector"));
        let title: Vec<String> = html.select(&TITLE).map(|t| t.text().collect()).collect();
        let domains: Vec<String> = page["domain"].as_str().map(|d| vec![d.to_lowercase()]).unwrap_or_default();
        let (mut emails, mut phones, mut faxes) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut left = BTreeMap::new();
        for c in &read.found {
            match affinity::decide(c, &domains, &title) {
                Ok(_) => {
                    let list = match c.kind {
                        ContactKind::Email => &mut emails,
                        ContactKind::Fax => &mut faxes,
                        _ => &mut phones,
                    };
                    list.insert(c.value.clone());
                }
                Err(why) => {
                    left.insert(c.value.clone(), why.to_string());
                }
            }
        }
        for c in &read.refused {
            left.insert(c.value.clone(), c.refused.unwrap_or("refused").to_string());
        }
        let case = page["case"].as_str().unwrap_or("?").to_string();
        let (want_emails, want_phones, want_faxes) = (set(&page["emails"]), set(&page["phones"]), set(&page["faxes"]));
        let numbers: BTreeSet<String> = phones.iter().cloned().chain(faxes.iter().map(|f| format!("fax {f}"))).collect();
        let want_numbers: BTreeSet<String> = want_phones.iter().cloned().chain(want_faxes.iter().map(|f| format!("fax {f}"))).collect();
        for key in [case.clone(), "all".to_string()] {
            out.counts.entry((key.clone(), "emails")).or_default().add(&emails, &want_emails);
            out.counts.entry((key, "phones")).or_default().add(&numbers, &want_numbers);
        }
        let wrong: Vec<&String> = emails.difference(&want_emails).chain(numbers.difference(&want_numbers)).collect();
        let missed: Vec<&String> = want_emails.difference(&emails).chain(want_numbers.difference(&numbers)).collect();
        if !wrong.is_empty() || !missed.is_empty() {
            out.mistakes.push(format!("{name} ({case}): wrong {wrong:?}, missed {missed:?}"));
        }
        for n in page["not_school"].as_array().into_iter().flatten() {
            let value = n["value"].as_str().unwrap_or("").to_lowercase();
            out.not_school.0 += 1;
            if emails.contains(&value) || phones.contains(&value) || faxes.contains(&value) {
                out.not_school.1 += 1;
                out.mistakes.push(format!("{name}: {value} ({}) was kept as the school's", n["why"].as_str().unwrap_or("")));
            } else if let Some(r) = left.get(&value) {
                *out.left_out_as.entry(r.clone()).or_default() += 1;
            }
        }
    }
    Ok(out)
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for m in &self.mistakes {
            writeln!(f, "{m}")?;
        }
        writeln!(f, "\n| case | contacts | precision | recall | right | wrong | missed |\n|---|---|---|---|---|---|---|")?;
        for ((case, kind), c) in &self.counts {
            writeln!(f, "| {case} | {kind} | {:.3} | {:.3} | {} | {} | {} |", c.precision(), c.recall(), c.right, c.wrong, c.missed)?;
        }
        let reasons: Vec<String> = self.left_out_as.iter().map(|(r, n)| format!("{n} {r}")).collect();
        writeln!(f, "\nnot the school's: {} listed, {} kept by mistake; left out as: {}", self.not_school.0, self.not_school.1, reasons.join(", "))
    }
}
