//! Precision and recall of the contact extractor and the school-affinity decision on a folder of
//! static pages with a ground truth, per case: what a new page set (one nobody tuned for) gives.
//!
//! ```text
//! cargo run -p passerelle-crawler --example contacts_eval -- DIR
//! ```
//!
//! `DIR/truth.json` is a list of `{"page": "x.html", "country": "BE", "case": "split",
//! "domain": "ecole.be", "emails": [...], "phones": [...], "faxes": [...], "not_school":
//! [{"value": "...", "why": "..."}]}`; the pages are in `DIR/pages/`. Each page is read as the
//! crawler reads a school's page whose website is at `domain`; kept contacts are compared with
//! `emails` / `phones` / `faxes`, and every `not_school` value must not be kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use passerelle_crawler::extract::{ContactExtractor, affinity};
use schemas::ContactKind;
use serde_json::Value;

#[derive(Default)]
struct Count {
    right: usize,
    wrong: usize,
    missed: usize,
}

impl Count {
    fn add(&mut self, found: &BTreeSet<String>, expected: &BTreeSet<String>) {
        self.right += found.intersection(expected).count();
        self.wrong += found.difference(expected).count();
        self.missed += expected.difference(found).count();
    }
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_lowercase)).collect()).unwrap_or_default()
}

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: contacts_eval DIR (with DIR/truth.json and DIR/pages/)");
        std::process::exit(2);
    };
    let truth: Value =
        match std::fs::read_to_string(dir.join("truth.json")).map_err(|e| e.to_string()).and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string())) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{}: {e}", dir.join("truth.json").display());
                std::process::exit(1);
            }
        };
    let mut counts: BTreeMap<(String, &str), Count> = BTreeMap::new();
    let mut third = (0usize, 0usize);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for page in truth.as_array().into_iter().flatten() {
        let name = page["page"].as_str().unwrap_or("");
        let Ok(bytes) = std::fs::read(dir.join("pages").join(name)) else {
            eprintln!("{name}: cannot read it");
            continue;
        };
        let (text, _) = passerelle_crawler::fetch::charset::decode(&bytes, None);
        let html = scraper::Html::parse_document(&text);
        let country = page["country"].as_str().and_then(passerelle_crawler::config::parse_country);
        let read = ContactExtractor::new(country).read_page(&html);
        let domains: Vec<String> = page["domain"].as_str().map(|d| vec![d.to_lowercase()]).unwrap_or_default();
        let (mut emails, mut phones, mut faxes) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut left = BTreeMap::new();
        for c in &read.found {
            match affinity::decide(c, &domains) {
                Ok(_) => {
                    match c.kind {
                        ContactKind::Email => emails.insert(c.value.clone()),
                        ContactKind::Fax => faxes.insert(c.value.clone()),
                        _ => phones.insert(c.value.clone()),
                    };
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
        for key in [case.clone(), "all".to_string()] {
            counts.entry((key.clone(), "emails")).or_default().add(&emails, &set(&page["emails"]));
            let mut numbers = phones.clone();
            numbers.extend(faxes.iter().map(|f| format!("fax {f}")));
            let mut expected = set(&page["phones"]);
            expected.extend(set(&page["faxes"]).iter().map(|f| format!("fax {f}")));
            counts.entry((key, "phones")).or_default().add(&numbers, &expected);
        }
        let (want_emails, want_phones) = (set(&page["emails"]), set(&page["phones"]));
        let wrong: Vec<&String> = emails.difference(&want_emails).chain(phones.difference(&want_phones)).collect();
        let missed: Vec<&String> = want_emails.difference(&emails).chain(want_phones.difference(&phones)).collect();
        if !wrong.is_empty() || !missed.is_empty() || faxes != set(&page["faxes"]) {
            println!("{name} ({case}): wrong {wrong:?}, missed {missed:?}, faxes {faxes:?} (expected {:?})", set(&page["faxes"]));
        }
        for n in page["not_school"].as_array().into_iter().flatten() {
            let value = n["value"].as_str().unwrap_or("").to_lowercase();
            let kept = emails.contains(&value) || phones.contains(&value) || faxes.contains(&value);
            third.0 += 1;
            if kept {
                third.1 += 1;
                println!("{name}: {value} ({}) was kept as the school's", n["why"].as_str().unwrap_or(""));
            } else if let Some(r) = left.get(&value) {
                *reasons.entry(r.clone()).or_default() += 1;
            }
        }
    }
    println!("\n| case | contacts | precision | recall | right | wrong | missed |\n|---|---|---|---|---|---|---|");
    for ((case, kind), c) in &counts {
        let p = c.right as f64 / (c.right + c.wrong).max(1) as f64;
        let r = c.right as f64 / (c.right + c.missed).max(1) as f64;
        println!("| {case} | {kind} | {p:.3} | {r:.3} | {} | {} | {} |", c.right, c.wrong, c.missed);
    }
    println!("\nnot the school's: {} listed, {} kept by mistake; left out as {reasons:?}", third.0, third.1);
}
