//! The matchers: an offer -> the programmes that train for it; a student's wish -> offers, the
//! companies that posted similar ones and the recruiters' contacts; a wish -> programmes.
//!
//! Each matcher reads the text for its signals (title, known skills, occupations), runs the
//! keyword leg (BM25 over the words of the text, any of them) and the semantic leg (the signals
//! first, then the text, embedded as a query), fuses them by a convex combination, and adds an
//! occupation credit: the pasted text's ROME occupations are those written in it, or else those
//! of its nearest offers and programmes, and a candidate sharing one (or its occupation sheet)
//! is lifted. Every hit says why: shared skills, shared occupations, words in common, and its
//! place in each leg.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use schemas::{Person, Record};
use serde::Serialize;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Searcher, TantivyDocument, Term};

use crate::analysis::{Analyzers, Lang};
use crate::error::IndexError;
use crate::highlight;
use crate::hybrid::{Fusion, LegHit, LegPosition, fuse};
use crate::occupations;
use crate::query::{MAX_TEXT_QUERY_WORDS, QueryPlan};
use crate::schema::{FacetField, day_number, days_since_epoch, record_lang, searchable_text};
use crate::search::{SearchIndex, SemanticStatus};
use crate::semantic::{EMBED_TEXT_CHARS, GenerationVectors, QueryEncoder};

/// Longest text a matcher reads (a pasted offer is a few thousand characters).
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most results one answer may hold.
pub const MAX_MATCH_LIMIT: usize = 50;
/// Results when the request does not say.
pub const DEFAULT_MATCH_LIMIT: usize = 10;
/// Candidates each leg brings before filtering and fusion.
const DEPTH: usize = 200;
/// Weight of the semantic leg in the convex fusion (0.5, 0.6 and 0.7 tried on the fixtures'
/// offer-to-programmes and student-to-offers sets: 0.7 best on both, see BENCHMARKS.md).
pub const MATCH_SEMANTIC_RATIO: f32 = 0.7;
/// What sharing the text's main occupation adds to a fused score in [0, 1] (0, 0.15, 0.3 and
/// 0.4 tried on the fixtures: nDCG@10 rises with it, 0.3 is kept so that the occupation, a
/// guess from neighbours, does not outweigh what the texts say).
pub const OCCUPATION_WEIGHT: f32 = 0.3;
/// Nearest offers and programmes whose occupations are taken as the text's.
const OCCUPATION_NEIGHBOURS: usize = 8;
/// Share of the neighbours' weight an occupation needs to count.
const OCCUPATION_MIN_WEIGHT: f32 = 0.2;
/// Share of the best offer's score an offer needs for its company to be listed.
const SIMILAR_SHARE: f32 = 0.75;
/// Companies listed by the student-to-offers matcher.
const MAX_COMPANIES: usize = 10;

/// Which records a matcher ranks, and which filters it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    OfferToProgrammes,
    StudentToOffers,
    StudentToProgrammes,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::OfferToProgrammes => "offer-to-programmes",
            Task::StudentToOffers => "student-to-offers",
            Task::StudentToProgrammes => "student-to-programmes",
        }
    }

    pub fn parse(name: &str) -> Option<Task> {
        [Task::OfferToProgrammes, Task::StudentToOffers, Task::StudentToProgrammes].into_iter().find(|t| t.name() == name)
    }

    fn kind(self) -> &'static str {
        match self {
            Task::StudentToOffers => "offer",
            _ => "programme",
        }
    }

    /// The facet filters this task accepts.
    fn facets(self) -> &'static [FacetField] {
        match self {
            Task::StudentToOffers => &[
                FacetField::Region,
                FacetField::City,
                FacetField::Country,
                FacetField::ContractType,
                FacetField::Level,
                FacetField::Language,
            ],
            _ => &[FacetField::Region, FacetField::City, FacetField::Country, FacetField::Level, FacetField::Domain, FacetField::Language],
        }
    }

    /// Every filter name this task accepts, for error messages.
    pub fn filter_names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.facets().iter().map(|f| f.name()).collect();
        if self == Task::StudentToOffers {
            names.extend(["posted_after", "open_only", "as_of"]);
        }
        names
    }
}

/// A matcher's filters, checked.
#[derive(Debug, Clone, Default)]
pub struct MatchFilters {
    pub facets: Vec<(FacetField, Vec<String>)>,
    /// Offers posted on or after this day (days since 1970-01-01).
    pub posted_after: Option<i64>,
    /// Only offers still open on `as_of` (their `valid_through` not past). The matcher's
    /// requests default to true (expired offers are left out unless asked for); the
    /// evaluation ranks every labelled offer and leaves it false.
    pub open_only: bool,
    /// The day "open" is judged on; today when absent.
    pub as_of: Option<i64>,
}

impl MatchFilters {
    /// Reads a JSON object of filters: each facet a string or a list of strings;
    /// `posted_after` and `as_of` dates `YYYY-MM-DD`; `open_only` a boolean. Unknown names and
    /// wrong types are refused with the accepted names.
    pub fn from_json(task: Task, value: Option<&serde_json::Value>) -> Result<MatchFilters, IndexError> {
        let mut out = MatchFilters { open_only: task == Task::StudentToOffers, ..MatchFilters::default() };
        let Some(value) = value else { return Ok(out) };
        if value.is_null() {
            return Ok(out);
        }
        let object = value.as_object().ok_or_else(|| bad("`filters` must be an object, e.g. {\"region\": \"Wallonie\"}".into()))?;
        let accepted = || task.filter_names().join(", ");
        for (name, v) in object {
            let date = |v: &serde_json::Value| -> Result<i64, IndexError> {
                v.as_str().and_then(day_number).ok_or_else(|| bad(format!("filter `{name}` must be a date YYYY-MM-DD, got {v}")))
            };
            match name.as_str() {
                "posted_after" if task == Task::StudentToOffers => out.posted_after = Some(date(v)?),
                "as_of" if task == Task::StudentToOffers => out.as_of = Some(date(v)?),
                "open_only" if task == Task::StudentToOffers => {
                    out.open_only = v.as_bool().ok_or_else(|| bad(format!("filter `open_only` must be true or false, got {v}")))?
                }
                other => {
                    let facet = FacetField::parse(other)
                        .filter(|f| task.facets().contains(f))
                        .ok_or_else(|| bad(format!("unknown filter `{other}` for {}; accepted: {}", task.name(), accepted())))?;
                    let values: Vec<String> = match v {
                        serde_json::Value::String(s) => vec![s.clone()],
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| bad(format!("filter `{other}` must be a string or a list of strings")))?,
                        _ => {
                            return Err(bad(format!("filter `{other}` must be a string or a list of strings, got {v}")));
                        }
                    };
                    let values: Vec<String> = values.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                    if !values.is_empty() {
                        out.facets.push((facet, values));
                    }
                }
            }
        }
        Ok(out)
    }

    fn keeps(&self, record: &Record, today: i64) -> bool {
        let Record::Offer(o) = record else {
            return true;
        };
        let posted = o.date_posted.as_deref().and_then(day_number);
        if let Some(after) = self.posted_after {
            if posted.is_none_or(|p| p < after) {
                return false;
            }
        }
        if self.open_only && !offer_open(record, self.as_of.unwrap_or(today)) {
            return false;
        }
        true
    }
}

fn bad(message: String) -> IndexError {
    IndexError::BadRequest(message)
}

/// An offer is open on `day` when it was posted by then (or has no posting date) and its end
/// date (if any) is not past.
fn offer_open(record: &Record, day: i64) -> bool {
    match record {
        Record::Offer(o) => {
            o.date_posted.as_deref().and_then(day_number).is_none_or(|start| start <= day)
                && o.valid_through.as_deref().and_then(day_number).is_none_or(|end| end >= day)
        }
        _ => false,
    }
}

fn today() -> i64 {
    days_since_epoch(time::OffsetDateTime::now_utc().date())
}

/// A request to a matcher.
#[derive(Debug, Clone)]
pub struct MatchRequest {
    pub text: String,
    pub limit: usize,
    pub filters: MatchFilters,
}

/// An occupation the text is about, and how sure the matcher is (share of its neighbours'
/// weight, 1 when the code is written in the text).
#[derive(Debug, Clone, Serialize)]
pub struct OccupationSignal {
    pub code: String,
    pub title: String,
    pub weight: f32,
}

/// What the matcher read in the text.
#[derive(Debug, Clone, Serialize)]
pub struct Signals {
    /// The title line of an offer (its first short line), or the wish itself cut short.
    pub title: String,
    /// Skill phrases of the index's programmes and offers found in the text.
    pub skills: Vec<String>,
    pub occupations: Vec<OccupationSignal>,
    /// Sentences left out of the embedded text: company blurb, benefits, how to apply.
    pub noise_sentences: usize,
}

/// An occupation a hit shares with the text.
#[derive(Debug, Clone, Serialize)]
pub struct SharedOccupation {
    pub code: String,
    pub title: String,
    /// "same": the very code; "related": a code of the same occupation sheet.
    pub relation: &'static str,
}

/// Why a hit is there.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub skills: Vec<String>,
    pub occupations: Vec<SharedOccupation>,
    /// Words of the text found in the hit.
    pub terms: Vec<String>,
    pub keyword: Option<LegPosition>,
    pub semantic: Option<LegPosition>,
    /// The convex fusion of the legs, before the occupation credit.
    pub fused: f32,
    pub occupation_credit: f32,
}

/// A school as shown beside its programme.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolBrief {
    pub id: String,
    pub name: String,
    pub city: Option<String>,
    pub website: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeMatch {
    pub id: String,
    pub title: String,
    pub school_name: Option<String>,
    pub school: Option<SchoolBrief>,
    pub level: Option<String>,
    pub domain: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub work_study: bool,
    pub url: Option<String>,
    /// The programme manager.
    pub contact: Option<Person>,
    pub occupations: Vec<String>,
    pub score: f32,
    pub why: Why,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferMatch {
    pub id: String,
    pub title: String,
    pub company_name: Option<String>,
    pub company_id: Option<String>,
    pub contract_type: String,
    pub level: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub date_posted: Option<String>,
    pub valid_through: Option<String>,
    pub open: bool,
    pub url: Option<String>,
    /// The recruiter.
    pub contact: Option<Person>,
    pub score: f32,
    pub why: Why,
}

/// A company that posted offers like the wish, open now or not.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyMatch {
    pub id: Option<String>,
    pub name: String,
    pub sector: Option<String>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub size: Option<String>,
    /// Its offers among the similar ones, and how many of them are open.
    pub similar_offers: usize,
    pub open_offers: usize,
    pub last_posted: Option<String>,
    pub examples: Vec<String>,
    /// Its best offer's score.
    pub score: f32,
}

/// A recruiter to write to, from the offers and companies above.
#[derive(Debug, Clone, Serialize)]
pub struct RecruiterContact {
    pub name: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub offer_id: String,
    pub offer_title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgrammesAnswer {
    pub task: &'static str,
    pub signals: Signals,
    pub programmes: Vec<ProgrammeMatch>,
    pub semantic: SemanticStatus,
    pub generation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OffersAnswer {
    pub task: &'static str,
    pub signals: Signals,
    pub offers: Vec<OfferMatch>,
    pub companies: Vec<CompanyMatch>,
    pub contacts: Vec<RecruiterContact>,
    /// Similar offers left out because they were past their end date on `as_of` (today unless
    /// given); `filters.open_only = false` shows them.
    pub expired_left_out: usize,
    pub semantic: SemanticStatus,
    pub generation: String,
}

/// The skill phrases of a generation's programmes and offers, for finding them in a text.
pub struct Vocabulary {
    /// Folded phrases, as searched.
    matcher: Option<AhoCorasick>,
    /// The phrase as first written, by pattern index.
    phrases: Vec<String>,
}

impl Vocabulary {
    fn build(phrases: impl IntoIterator<Item = String>) -> Vocabulary {
        let mut seen: HashMap<String, String> = HashMap::new();
        for p in phrases {
            let folded = fold(&p);
            // One-letter phrases ("C", "R") match everywhere.
            if folded.chars().filter(|c| !c.is_whitespace()).count() < 2 {
                continue;
            }
            seen.entry(folded).or_insert(p.trim().to_string());
        }
        let mut entries: Vec<(String, String)> = seen.into_iter().collect();
        entries.sort();
        let matcher = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(entries.iter().map(|(f, _)| f)).ok();
        Vocabulary { matcher, phrases: entries.into_iter().map(|(_, p)| p).collect() }
    }

    /// The phrases found in `text` as whole words, in order of first appearance, once each.
    fn find(&self, text: &str) -> Vec<String> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let folded = fold(text);
        let bytes = folded.as_bytes();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for m in matcher.find_iter(&folded) {
            let before = m.start() == 0 || !bytes[m.start() - 1].is_ascii_alphanumeric();
            let after = m.end() == bytes.len() || !bytes[m.end()].is_ascii_alphanumeric();
            if before && after && seen.insert(m.pattern().as_usize()) {
                out.push(self.phrases[m.pattern().as_usize()].clone());
            }
        }
        out
    }
}

/// Lower case, accents off, every run of other characters one space; keeps `+`, `#` and `.`
/// inside words (C++, C#, .NET, Node.js).
pub(crate) fn fold(text: &str) -> String {
    use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer};
    thread_local! {
        static FOLD: std::cell::RefCell<TextAnalyzer> =
            std::cell::RefCell::new(TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build());
    }
    let folded = FOLD.with(|a| {
        let mut a = a.borrow_mut();
        let mut stream = a.token_stream(text);
        let mut out = String::new();
        while stream.advance() {
            out.push_str(&stream.token().text);
        }
        out
    });
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_alphanumeric() || matches!(c, '+' | '#' | '.') {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().trim_end_matches('.').to_string()
}

/// Words of what an offer gives and how to apply, rather than what the job is. A sentence holding
/// two of them, or opening with one of [`NOISE_LEADS`], is left out of the embedded text.
/// French, Dutch and English.
const NOISE_CUES: &[&str] = &[
    "avantages",
    "ticket",
    "tickets",
    "mutuelle",
    "salaire",
    "remuneration",
    "cheques",
    "cheque",
    "prime",
    "primes",
    "conges",
    "rtt",
    "teletravail",
    "carte dejeuner",
    "panier repas",
    "13e mois",
    "postuler",
    "postulez",
    "candidature",
    "envoyez",
    "cv",
    "voordelen",
    "maaltijdcheques",
    "salaris",
    "verloning",
    "solliciteer",
    "benefits",
    "salary",
    "apply",
    "meal vouchers",
    "bonus",
    "vacances",
    "velo",
    "voiture de societe",
    "bedrijfswagen",
    "company car",
];
/// How a sentence about pay, perks or applying opens.
const NOISE_LEADS: &[&str] = &[
    "avantages",
    "nous offrons",
    "nous proposons",
    "on vous offre",
    "salaire",
    "remuneration",
    "package",
    "postulez",
    "envoyez",
    "candidature",
    "pour postuler",
    "wij bieden",
    "voordelen",
    "solliciteer",
    "we offer",
    "benefits",
    "perks",
    "to apply",
    "apply",
];

fn is_noise(sentence: &str) -> bool {
    let f = format!(" {} ", fold(sentence));
    let cues = NOISE_CUES.iter().filter(|cue| f.contains(&format!(" {cue} "))).count();
    cues >= 2 || NOISE_LEADS.iter().any(|lead| f.starts_with(&format!(" {lead} ")))
}

/// Splits an offer into its title (first line), the sentences about the job, and the count of
/// sentences about pay, perks and applying left out.
fn read_offer(text: &str) -> (String, String, usize) {
    let title = text.lines().map(str::trim).find(|l| !l.is_empty()).map(|l| cut(l, 120)).unwrap_or_default();
    let mut kept = Vec::new();
    let mut noise = 0;
    for (i, sentence) in sentences(text).into_iter().enumerate() {
        if i > 0 && is_noise(sentence) {
            noise += 1;
        } else {
            kept.push(sentence.trim());
        }
    }
    (title, kept.join(" "), noise)
}

/// Sentences and lines of a text.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, c) in line.char_indices() {
            let end_of_sentence = matches!(c, '.' | '!' | '?' | ';')
                && bytes.get(i + 1).is_none_or(|b| *b == b' ')
                // "Node.js", "3.5": a dot inside a word does not end a sentence.
                && i > 0;
            if end_of_sentence {
                let s = line[start..=i].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = i + 1;
            }
        }
        let rest = line[start..].trim();
        if !rest.is_empty() {
            out.push(rest);
        }
    }
    out
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

fn rome_codes_in(text: &str) -> Vec<String> {
    static CODE: OnceLock<Regex> = OnceLock::new();
    let re = CODE.get_or_init(|| Regex::new(r"\b[A-N][0-9]{4}\b").expect("static regex"));
    let mut out: Vec<String> = Vec::new();
    for m in re.find_iter(text) {
        if occupations::lookup(m.as_str()).is_some() && !out.iter().any(|c| c == m.as_str()) {
            out.push(m.as_str().to_string());
        }
    }
    out
}

/// The text as the explanations compare it: its query plan, its stems in every language and
/// its skill phrases, folded.
struct TextTerms {
    plan: QueryPlan,
    stems: HashSet<String>,
    skills: HashSet<String>,
}

/// One candidate of a matcher, with its record and where each leg put it.
struct Candidate {
    id: String,
    record: Record,
    keyword: Option<LegPosition>,
    semantic: Option<LegPosition>,
    fused: f32,
    credit: f32,
}

fn record_occupations(record: &Record) -> &[String] {
    match record {
        Record::Offer(o) => &o.occupations,
        Record::Programme(p) => &p.occupations,
        _ => &[],
    }
}

fn record_skills(record: &Record) -> &[String] {
    match record {
        Record::Offer(o) => &o.skills,
        Record::Programme(p) => &p.skills,
        _ => &[],
    }
}

impl SearchIndex {
    fn vocabulary(&self) -> &Vocabulary {
        self.vocabulary.get_or_init(|| {
            let searcher = self.reader.searcher();
            let phrases = self.records_of_kinds(&searcher, &["programme", "offer"]).into_iter().flat_map(|r| record_skills(&r).to_vec());
            Vocabulary::build(phrases)
        })
    }

    /// Every record of these kinds in the generation, in index order (documents that cannot be
    /// read are skipped).
    pub(crate) fn records_of_kinds(&self, searcher: &Searcher, kinds: &[&str]) -> Vec<Record> {
        let mut out = Vec::new();
        for kind in kinds {
            let term = Term::from_field_text(self.fields.facet(FacetField::Kind), kind);
            let Ok(docs) = searcher.search(&TermQuery::new(term, IndexRecordOption::Basic), &DocSetCollector) else {
                continue;
            };
            out.extend(docs.into_iter().filter_map(|address| self.record_at(searcher, address)));
        }
        out
    }

    pub(crate) fn record_at(&self, searcher: &Searcher, address: tantivy::DocAddress) -> Option<Record> {
        let doc: TantivyDocument = searcher.doc(address).ok()?;
        let json = doc.get_first(self.fields.stored_record)?.as_str()?.to_string();
        serde_json::from_str(&json).ok()
    }

    pub(crate) fn record_by_id(&self, searcher: &Searcher, id: &str) -> Result<Option<Record>, IndexError> {
        Ok(self.address_of(searcher, id)?.and_then(|a| self.record_at(searcher, a)))
    }

    /// The generation's vectors and the model to query them, or why the vector leg cannot run.
    pub(crate) fn vectors_for<'a>(&'a self, encoder: Option<&'a QueryEncoder>) -> Result<(&'a GenerationVectors, &'a QueryEncoder), String> {
        match (&self.vectors, encoder) {
            (None, _) => Err("this index generation has no vectors (`passerelle index` with a model adds them)".into()),
            (Some(_), None) => Err("no embedding model is loaded (run `passerelle model fetch`, then restart)".into()),
            (Some(vectors), Some(encoder)) if encoder.model_id() != vectors.manifest.model_id => Err(format!(
                "the loaded model ({}) is not the one that built this index ({})",
                encoder.model_id(),
                vectors.manifest.model_id
            )),
            (Some(vectors), Some(encoder)) => Ok((vectors, encoder)),
        }
    }

    /// Both legs over `kinds`, filtered, fused (convex, [`MATCH_SEMANTIC_RATIO`]), best first.
    /// The semantic leg is left out (and the status says why) without vectors or a model.
    fn candidates(
        &self,
        searcher: &Searcher,
        kinds: &[&str],
        keyword_text: &str,
        semantic_text: &str,
        filters: &MatchFilters,
        depth: usize,
        encoder: Option<&QueryEncoder>,
        today: i64,
    ) -> Result<(Vec<Candidate>, SemanticStatus), IndexError> {
        let mut analyzers = self.analyzers.clone();
        let mut facets = filters.facets.clone();
        facets.push((FacetField::Kind, kinds.iter().map(|k| k.to_string()).collect()));
        let mut records: HashMap<String, Record> = HashMap::new();

        let plan = QueryPlan::with_max_words(&mut analyzers, keyword_text, false, MAX_TEXT_QUERY_WORDS);
        let mut keyword = Vec::new();
        if !plan.is_empty() {
            let filter = self.filter_query(&mut analyzers, &facets);
            let query: Box<dyn Query> = self.combine(&plan, searcher, 0, filter);
            for (score, address) in searcher.search(&query, &TopDocs::with_limit(depth).order_by_score())? {
                let Some(record) = self.record_at(searcher, address) else {
                    continue;
                };
                if filters.keeps(&record, today) {
                    keyword.push(LegHit { id: record.id().to_string(), score });
                    records.insert(record.id().to_string(), record);
                }
            }
        }

        let mut semantic = Vec::new();
        let status = match self.vectors_for(encoder) {
            Err(why) => SemanticStatus { ratio: MATCH_SEMANTIC_RATIO, used: false, note: Some(format!("keywords only: {why}")) },
            Ok((vectors, encoder)) => match encoder.encode(semantic_text) {
                Err(why) => SemanticStatus { ratio: MATCH_SEMANTIC_RATIO, used: false, note: Some(format!("keywords only: {why}")) },
                Ok(query) => {
                    for n in vectors.search(&query, depth, &vectors.filter(&facets)) {
                        let keep = match records.get(&n.id) {
                            Some(r) => Some(filters.keeps(r, today)),
                            None => match self.record_by_id(searcher, &n.id)? {
                                Some(r) => {
                                    let k = filters.keeps(&r, today);
                                    records.insert(n.id.clone(), r);
                                    Some(k)
                                }
                                None => None,
                            },
                        };
                        if keep == Some(true) {
                            semantic.push(LegHit { id: n.id, score: n.similarity });
                        }
                    }
                    SemanticStatus { ratio: MATCH_SEMANTIC_RATIO, used: true, note: None }
                }
            },
        };
        let ratio = if status.used { MATCH_SEMANTIC_RATIO } else { 0.0 };
        let out = fuse(&keyword, &semantic, ratio, Fusion::Convex)
            .into_iter()
            .filter_map(|f| {
                let record = records.remove(&f.id)?;
                Some(Candidate { id: f.id, record, keyword: f.keyword, semantic: f.semantic, fused: f.fused, credit: 0.0 })
            })
            .collect();
        Ok((out, status))
    }

    /// The text's occupations: the ROME codes written in it, or else those its nearest offers
    /// and programmes share.
    fn text_occupations(
        &self,
        searcher: &Searcher,
        keyword_text: &str,
        semantic_text: &str,
        encoder: Option<&QueryEncoder>,
        today: i64,
    ) -> Result<Vec<OccupationSignal>, IndexError> {
        let written = rome_codes_in(keyword_text);
        if !written.is_empty() {
            return Ok(written
                .into_iter()
                .filter_map(|c| occupations::lookup(&c))
                .map(|o| OccupationSignal { code: o.code.to_string(), title: o.title.to_string(), weight: 1.0 })
                .collect());
        }
        let (near, _) = self.candidates(
            searcher,
            &["offer", "programme"],
            keyword_text,
            semantic_text,
            &MatchFilters::default(),
            OCCUPATION_NEIGHBOURS * 4,
            encoder,
            today,
        )?;
        let mut weights: BTreeMap<String, f32> = BTreeMap::new();
        let mut total = 0.0;
        for c in near.iter().take(OCCUPATION_NEIGHBOURS) {
            let codes = record_occupations(&c.record);
            if codes.is_empty() {
                continue;
            }
            total += c.fused;
            for code in codes {
                *weights.entry(code.trim().to_ascii_uppercase()).or_default() += c.fused;
            }
        }
        if total <= 0.0 {
            return Ok(Vec::new());
        }
        let mut out: Vec<OccupationSignal> = weights
            .into_iter()
            .map(|(code, w)| (code, w / total))
            .filter(|(_, w)| *w >= OCCUPATION_MIN_WEIGHT)
            .map(|(code, weight)| {
                let title = occupations::lookup(&code).map(|o| o.title.to_string()).unwrap_or_default();
                OccupationSignal { code, title, weight: (weight * 1000.0).round() / 1000.0 }
            })
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        out.truncate(5);
        Ok(out)
    }

    fn signals(&self, task: Task, text: &str) -> (Signals, String, String) {
        let vocabulary = self.vocabulary();
        match task {
            Task::OfferToProgrammes => {
                let (title, body, noise) = read_offer(text);
                let skills = vocabulary.find(&body);
                let embedded = cut(&format!("{title}. {}. {body}", skills.join(", ")), EMBED_TEXT_CHARS);
                (Signals { title, skills, occupations: Vec::new(), noise_sentences: noise }, body, embedded)
            }
            _ => {
                let skills = vocabulary.find(text);
                let title = cut(text.trim(), 120);
                (Signals { title, skills, occupations: Vec::new(), noise_sentences: 0 }, text.to_string(), cut(text, EMBED_TEXT_CHARS))
            }
        }
    }

    fn check_match(request: &MatchRequest) -> Result<(), IndexError> {
        if request.text.trim().is_empty() {
            return Err(bad("`text` is empty: paste the offer or describe the wish".into()));
        }
        let chars = request.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(bad(format!("`text` has {chars} characters, at most {MAX_TEXT_CHARS}")));
        }
        if request.limit == 0 || request.limit > MAX_MATCH_LIMIT {
            return Err(bad(format!("`limit` is {}, it goes from 1 to {MAX_MATCH_LIMIT}", request.limit)));
        }
        Ok(())
    }

    /// Ranks candidates of `task` for the text: fused legs plus the occupation credit.
    fn ranked(
        &self,
        searcher: &Searcher,
        task: Task,
        request: &MatchRequest,
        filters: &MatchFilters,
        encoder: Option<&QueryEncoder>,
        today: i64,
    ) -> Result<(Signals, String, Vec<Candidate>, SemanticStatus), IndexError> {
        Self::check_match(request)?;
        let (mut signals, keyword_text, semantic_text) = self.signals(task, &request.text);
        signals.occupations = self.text_occupations(searcher, &keyword_text, &semantic_text, encoder, today)?;
        let (mut candidates, status) =
            self.candidates(searcher, &[task.kind()], &keyword_text, &semantic_text, filters, DEPTH, encoder, today)?;
        let top = signals.occupations.first().map_or(1.0, |o| o.weight).max(f32::EPSILON);
        for c in &mut candidates {
            let best = record_occupations(&c.record)
                .iter()
                .flat_map(|code| signals.occupations.iter().map(move |o| occupations::closeness(code, &o.code) * o.weight))
                .fold(0.0f32, f32::max);
            c.credit = OCCUPATION_WEIGHT * best / top;
        }
        candidates.sort_by(|a, b| (b.fused + b.credit).total_cmp(&(a.fused + a.credit)));
        Ok((signals, keyword_text, candidates, status))
    }

    fn why(&self, c: &Candidate, signals: &Signals, text: &TextTerms, analyzers: &mut Analyzers) -> Why {
        let TextTerms { plan, stems: text_stems, skills: query_skills } = text;
        let mut skills = Vec::new();
        let lang = record_lang(&c.record);
        for s in record_skills(&c.record) {
            let own: Vec<String> = analyzers.stems(lang, s).into_iter().map(|t| t.text).collect();
            let all_there = !own.is_empty() && own.iter().all(|t| text_stems.contains(t));
            if query_skills.contains(&fold(s)) || all_there {
                skills.push(s.clone());
            }
        }
        let mut occ = Vec::new();
        for code in record_occupations(&c.record) {
            let best = signals.occupations.iter().map(|o| occupations::closeness(code, &o.code)).fold(0.0f32, f32::max);
            if best > 0.0 {
                occ.push(SharedOccupation {
                    code: code.clone(),
                    title: occupations::lookup(code).map(|o| o.title.to_string()).unwrap_or_default(),
                    relation: if best >= 1.0 { "same" } else { "related" },
                });
            }
        }
        let (title, body) = searchable_text(&c.record);
        let mut terms: Vec<String> = Vec::new();
        for text in [&title, &body] {
            for (from, to) in highlight::matches(plan, analyzers, lang, text) {
                let t = text.get(from..to).unwrap_or_default().to_lowercase();
                // Stop words ("de", "en", "the") match but explain nothing.
                let stop = analyzers.stems(lang, &t).is_empty();
                if !stop && !t.is_empty() && !terms.contains(&t) && terms.len() < 12 {
                    terms.push(t);
                }
            }
        }
        Why {
            skills,
            occupations: occ,
            terms,
            keyword: c.keyword,
            semantic: c.semantic,
            fused: round(c.fused),
            occupation_credit: round(c.credit),
        }
    }

    /// The `why` of each candidate; the text is analysed once for all of them.
    fn explain_all(&self, signals: &Signals, keyword_text: &str, candidates: &[&Candidate]) -> Vec<Why> {
        let mut analyzers = self.analyzers.clone();
        let plan = QueryPlan::with_max_words(&mut analyzers, keyword_text, false, MAX_TEXT_QUERY_WORDS);
        let mut stems = HashSet::new();
        for lang in Lang::ALL {
            stems.extend(analyzers.stems(lang, keyword_text).into_iter().map(|t| t.text));
        }
        let text = TextTerms { plan, stems, skills: signals.skills.iter().map(|s| fold(s)).collect() };
        candidates.iter().map(|c| self.why(c, signals, &text, &mut analyzers)).collect()
    }

    /// Offer (or wish) -> programmes.
    pub fn match_programmes(
        &self,
        task: Task,
        request: &MatchRequest,
        encoder: Option<&QueryEncoder>,
    ) -> Result<ProgrammesAnswer, IndexError> {
        if task == Task::StudentToOffers {
            return Err(bad("student-to-offers ranks offers, not programmes".into()));
        }
        let searcher = self.reader.searcher();
        let (signals, keyword_text, mut candidates, semantic) =
            self.ranked(&searcher, task, request, &request.filters, encoder, today())?;
        candidates.truncate(request.limit);
        let whys = self.explain_all(&signals, &keyword_text, &candidates.iter().collect::<Vec<_>>());
        let mut programmes = Vec::with_capacity(candidates.len());
        for (c, why) in candidates.into_iter().zip(whys) {
            let Record::Programme(p) = c.record else {
                continue;
            };
            let school = match p.school_id.as_deref() {
                Some(id) => match self.record_by_id(&searcher, id)? {
                    Some(Record::School(s)) => Some(SchoolBrief {
                        id: s.id.clone(),
                        name: s.name.clone(),
                        city: s.city.clone(),
                        website: s.website.clone(),
                        phones: s.phones.clone(),
                        emails: s.emails.clone(),
                    }),
                    _ => None,
                },
                None => None,
            };
            programmes.push(ProgrammeMatch {
                id: c.id,
                title: p.title,
                school_name: p.school_name,
                school,
                level: p.level,
                domain: p.domain,
                city: p.city,
                region: p.region,
                country: p.country,
                language: p.language,
                work_study: p.work_study,
                url: p.url,
                contact: p.contact,
                occupations: p.occupations,
                score: round(c.fused + c.credit),
                why,
            });
        }
        Ok(ProgrammesAnswer { task: task.name(), signals, programmes, semantic, generation: self.name.clone() })
    }

    /// Wish -> offers, the companies that posted similar offers (open now or not) and the
    /// recruiters' contacts.
    pub fn match_offers(&self, request: &MatchRequest, encoder: Option<&QueryEncoder>) -> Result<OffersAnswer, IndexError> {
        let searcher = self.reader.searcher();
        let today = today();
        let as_of = request.filters.as_of.unwrap_or(today);
        // Companies come from every similar offer, whatever its dates.
        let broad = MatchFilters { facets: request.filters.facets.clone(), ..MatchFilters::default() };
        let (signals, keyword_text, all, semantic) = self.ranked(&searcher, Task::StudentToOffers, request, &broad, encoder, today)?;
        let strongest = all.first().map_or(0.0, |c| c.fused + c.credit);
        let shown: Vec<&Candidate> = all.iter().filter(|c| request.filters.keeps(&c.record, today)).take(request.limit).collect();
        let expired_left_out = if request.filters.open_only {
            let any_date = MatchFilters { open_only: false, ..request.filters.clone() };
            all.iter().filter(|c| any_date.keeps(&c.record, today) && !offer_open(&c.record, as_of)).count()
        } else {
            0
        };
        let whys = self.explain_all(&signals, &keyword_text, &shown);
        let mut offers = Vec::new();
        let mut contacts: Vec<RecruiterContact> = Vec::new();
        // A recruiter is listed once, known by e-mail (else name).
        let mut listed: HashSet<String> = HashSet::new();
        let mut add_contact = |o: &schemas::Offer, contacts: &mut Vec<RecruiterContact>| {
            let Some(p) = &o.contact else { return };
            let key = p.email.as_deref().or(p.name.as_deref()).unwrap_or_default().trim().to_lowercase();
            if key.is_empty() || !listed.insert(key) {
                return;
            }
            contacts.push(RecruiterContact {
                name: p.name.clone(),
                role: p.role.clone(),
                email: p.email.clone(),
                phone: p.phone.clone(),
                company_name: o.company_name.clone(),
                offer_id: o.id.clone(),
                offer_title: o.title.clone(),
            });
        };
        for (c, why) in shown.into_iter().zip(whys) {
            let Record::Offer(o) = &c.record else { continue };
            add_contact(o, &mut contacts);
            offers.push(OfferMatch {
                id: c.id.clone(),
                title: o.title.clone(),
                company_name: o.company_name.clone(),
                company_id: o.company_id.clone(),
                contract_type: o.contract_type.as_str().to_string(),
                level: o.level.clone(),
                city: o.city.clone(),
                region: o.region.clone(),
                country: o.country.clone(),
                language: o.language.clone(),
                date_posted: o.date_posted.clone(),
                valid_through: o.valid_through.clone(),
                open: offer_open(&c.record, as_of),
                url: o.url.clone(),
                contact: o.contact.clone(),
                score: round(c.fused + c.credit),
                why,
            });
        }

        // Companies: those whose offers are among the similar ones, strongest first. "Similar"
        // means at least SIMILAR_SHARE of the best candidate's score, so that a wish does not
        // list every company.
        let mut by_company: Vec<(String, Vec<&Candidate>)> = Vec::new();
        for c in all.iter().filter(|c| c.fused + c.credit >= strongest * SIMILAR_SHARE) {
            let Record::Offer(o) = &c.record else {
                continue;
            };
            let key = o.company_id.clone().or(o.company_name.clone()).unwrap_or_default();
            if key.is_empty() {
                continue;
            }
            match by_company.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(c),
                None => by_company.push((key, vec![c])),
            }
        }
        let mut companies = Vec::new();
        for (_, list) in by_company.into_iter().take(MAX_COMPANIES) {
            let Record::Offer(first) = &list[0].record else {
                continue;
            };
            let company = match first.company_id.as_deref() {
                Some(id) => match self.record_by_id(&searcher, id)? {
                    Some(Record::Company(c)) => Some(c),
                    _ => None,
                },
                None => None,
            };
            let offers_of: Vec<&schemas::Offer> =
                list.iter().filter_map(|c| if let Record::Offer(o) = &c.record { Some(o) } else { None }).collect();
            for o in offers_of.iter().take(1) {
                add_contact(o, &mut contacts);
            }
            companies.push(CompanyMatch {
                id: first.company_id.clone(),
                name: company.as_ref().map(|c| c.name.clone()).or(first.company_name.clone()).unwrap_or_default(),
                sector: company.as_ref().and_then(|c| c.sector.clone()),
                city: company.as_ref().and_then(|c| c.city.clone()).or(first.city.clone()),
                website: company.as_ref().and_then(|c| c.website.clone()),
                size: company.as_ref().and_then(|c| c.size.clone()),
                similar_offers: list.len(),
                open_offers: list.iter().filter(|c| offer_open(&c.record, as_of)).count(),
                last_posted: offers_of.iter().filter_map(|o| o.date_posted.clone()).max(),
                examples: offers_of.iter().take(3).map(|o| o.title.clone()).collect(),
                score: round(list[0].fused + list[0].credit),
            });
        }
        Ok(OffersAnswer {
            task: Task::StudentToOffers.name(),
            signals,
            offers,
            companies,
            contacts,
            expired_left_out,
            semantic,
            generation: self.name.clone(),
        })
    }
}

pub(crate) fn round(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_is_read_for_its_title_and_without_its_noise() {
        let text = "Stage développeur Java (H/F)\nNous sommes une ESN de 200 collaborateurs. Tu développeras des API REST en Java et Spring Boot. \
                    Tickets restaurant et mutuelle. Vous pilotez le chiffre d'affaires du rayon. Postulez en envoyant votre CV.";
        let (title, body, noise) = read_offer(text);
        assert_eq!(title, "Stage développeur Java (H/F)");
        assert!(body.starts_with("Stage développeur Java (H/F) Nous sommes"), "{body}");
        assert!(body.contains("Spring Boot") && body.contains("chiffre d'affaires"), "{body}");
        assert!(!body.contains("Tickets") && !body.contains("Postulez"), "{body}");
        assert_eq!(noise, 2);
        // The title line stays, whatever it says.
        let (_, body, noise) = read_offer("Avantages : mutuelle.");
        assert_eq!((body.as_str(), noise), ("Avantages : mutuelle.", 0));
    }

    #[test]
    fn skills_are_found_as_whole_phrases_once() {
        let v = Vocabulary::build(["Java".to_string(), "Spring Boot".into(), "C#".into(), "R".into(), "JavaScript".into(), "java".into()]);
        let found = v.find("Dev JavaScript et Java/Spring boot, un peu de C# et de R. Java encore.");
        assert_eq!(found, vec!["JavaScript", "Java", "Spring Boot", "C#"]);
        assert!(v.find("javanais").is_empty());
        assert_eq!(fold("Développeur  Node.js / C# !"), "developpeur node.js c#");
    }

    #[test]
    fn filters_are_checked_per_task() {
        let json = serde_json::json!({"region": "Wallonie", "contract_type": ["internship", "apprenticeship"], "posted_after": "2026-01-01", "open_only": true});
        let f = MatchFilters::from_json(Task::StudentToOffers, Some(&json)).unwrap();
        assert_eq!(f.facets.len(), 2);
        assert!(f.open_only && f.posted_after.is_some());
        let e = MatchFilters::from_json(Task::OfferToProgrammes, Some(&json)).unwrap_err().to_string();
        assert!(e.contains("unknown filter `contract_type`") && e.contains("accepted: region"), "{e}");
        let e = MatchFilters::from_json(Task::StudentToOffers, Some(&serde_json::json!({"posted_after": "last week"}))).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"));
        let e = MatchFilters::from_json(Task::StudentToOffers, Some(&serde_json::json!({"region": 3}))).unwrap_err();
        assert!(e.to_string().contains("string or a list"));
    }

    #[test]
    fn rome_codes_written_in_a_text_are_read() {
        assert_eq!(rome_codes_in("Code ROME M1805, voir aussi M1806 et Z9999; M1805"), vec!["M1805", "M1806"]);
    }
}
