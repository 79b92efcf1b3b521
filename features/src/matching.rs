//! The matchers: an offer -> the programmes that train for it; a student's wish -> offers, the
//! companies that posted similar ones and the recruiters' contacts; a wish -> programmes.
//!
//! Each matcher reads the text for its signals (title, known skills, occupations; an offer's
//! sentences about pay, perks and applying are left out) and asks the engine's one retriever
//! ([`SearchIndex::retrieve`](indexer::SearchIndex::retrieve)) for the records it ranks: the
//! words read as a text (any of them may match, BM25 ranks), the text embedded as a query (an
//! offer's title and skills first), the legs fused convexly at [`MATCH_SEMANTIC_RATIO`], the
//! filters applied by both legs. The matcher then adds an occupation credit: the text's ROME occupations are those
//! written in it, or else those of its nearest offers and programmes (asked of the same
//! retriever), and a candidate sharing one (or its occupation sheet) is lifted by up to
//! [`OCCUPATION_WEIGHT`]. Every hit says why: shared skills, shared occupations, words in
//! common, and its place in each leg.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use schemas::{Person, Record};
use serde::Serialize;

use crate::Features;
use crate::occupations;
use embed::QueryEncoder;
use embed::TextRole;
use indexer::IndexError;
use indexer::analysis::fold;
use indexer::analysis::{Analyzers, Lang};
use indexer::geo::{Near, round_km};
use indexer::highlight;
use indexer::hybrid::{Fusion, LegPosition};
use indexer::query::{MAX_TEXT_QUERY_WORDS, QueryPlan};
use indexer::retrieve::{Retrieval, SemanticStatus, SemanticText, Words};
use indexer::schema::{FacetField, day_number, days_since_epoch, record_lang, searchable_text};
use indexer::semantic::EMBED_TEXT_CHARS;

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
    /// A pasted offer -> the programmes that train for it.
    OfferToProgrammes,
    /// A student's wish -> offers, the companies that posted similar ones and their recruiters.
    StudentToOffers,
    /// A student's wish -> programmes.
    StudentToProgrammes,
}

impl Task {
    /// The name in the API's path (`/api/match/<name>`), in answers' `task` and on the command
    /// line: `offer-to-programmes`, `student-to-offers`, `student-to-programmes`.
    pub fn name(self) -> &'static str {
        match self {
            Task::OfferToProgrammes => "offer-to-programmes",
            Task::StudentToOffers => "student-to-offers",
            Task::StudentToProgrammes => "student-to-programmes",
        }
    }

    /// The task named `name`, as [`Task::name`] writes it.
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
            Task::StudentToOffers => {
                &[FacetField::Region, FacetField::City, FacetField::Country, FacetField::ContractType, FacetField::Level, FacetField::Language]
            }
            _ => &[FacetField::Region, FacetField::City, FacetField::Country, FacetField::Level, FacetField::Domain, FacetField::Language],
        }
    }

    /// Every filter name this task accepts, for error messages.
    pub fn filter_names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.facets().iter().map(|f| f.name()).collect();
        if self == Task::StudentToOffers {
            names.extend(["posted_after", "open_only", "as_of"]);
        }
        names.extend(["near", "radius_km", "lat", "lon"]);
        names
    }
}

/// The filters a caller asks for, before they are checked against a task
/// ([`MatchFilters::for_task`]).
#[derive(Debug, Clone, Default)]
pub struct FilterValues {
    /// Facet filters by filter name (`region`, `level`...), each with its accepted values.
    pub facets: Vec<(String, Vec<String>)>,
    /// Offers posted on or after this day.
    pub posted_after: Option<time::Date>,
    /// Only offers still open (default true for student -> offers).
    pub open_only: Option<bool>,
    /// The day "open" is judged on (default today).
    pub as_of: Option<time::Date>,
    /// Only the records within this circle ("near Namur, 30 km").
    pub near: Option<Near>,
}

/// A matcher's filters, checked.
#[derive(Debug, Clone, Default)]
pub struct MatchFilters {
    /// Facet filters, each with its accepted values (any of them matches; fields combine with
    /// AND), applied by both legs while searching.
    pub facets: Vec<(FacetField, Vec<String>)>,
    /// Offers posted on or after this day (days since 1970-01-01).
    pub posted_after: Option<i64>,
    /// Only offers still open on `as_of` (their `valid_through` not past). The matcher's
    /// requests default to true (expired offers are left out unless asked for); the
    /// evaluation ranks every labelled offer and leaves it false.
    pub open_only: bool,
    /// The day "open" is judged on; today when absent.
    pub as_of: Option<i64>,
    /// Only the records whose town is within this circle, applied by both legs; each result
    /// gets its distance.
    pub near: Option<Near>,
}

impl MatchFilters {
    /// The filters of `task`, checked: each facet named by its filter name with its accepted
    /// values (empty values are dropped); the dates and `open_only` only for student ->
    /// offers. `open_only` defaults to true for student -> offers (expired offers are left out
    /// unless asked for). A name the task does not take is refused with the accepted names.
    pub fn for_task(task: Task, asked: FilterValues) -> Result<MatchFilters, IndexError> {
        let mut out = MatchFilters { open_only: task == Task::StudentToOffers, ..MatchFilters::default() };
        let accepted = || task.filter_names().join(", ");
        for (name, values) in asked.facets {
            let facet = FacetField::parse(&name)
                .filter(|f| task.facets().contains(f))
                .ok_or_else(|| IndexError::invalid(format!("filters.{name}"), format!("unknown filter for {}; accepted: {}", task.name(), accepted())))?;
            let values: Vec<String> = values.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if !values.is_empty() {
                out.facets.push((facet, values));
            }
        }
        let offers_only = |name: &str| IndexError::invalid(format!("filters.{name}"), format!("only student-to-offers takes it; accepted: {}", accepted()));
        if task != Task::StudentToOffers {
            for (name, given) in [("posted_after", asked.posted_after.is_some()), ("as_of", asked.as_of.is_some()), ("open_only", asked.open_only.is_some())] {
                if given {
                    return Err(offers_only(name));
                }
            }
        }
        out.near = asked.near;
        out.posted_after = asked.posted_after.map(days_since_epoch);
        out.as_of = asked.as_of.map(days_since_epoch);
        if let Some(open_only) = asked.open_only {
            out.open_only = open_only;
        }
        Ok(out)
    }

    fn keeps(&self, record: &Record, today: i64) -> bool {
        let Record::Offer(o) = record else {
            return true;
        };
        let posted = o.date_posted.as_deref().and_then(day_number);
        if self.posted_after.is_some_and(|after| posted.is_none_or(|p| p < after)) {
            return false;
        }
        if self.open_only && !offer_open(record, self.as_of.unwrap_or(today)) {
            return false;
        }
        true
    }
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
    /// The pasted offer or the student's wish, at most [`MAX_TEXT_CHARS`] characters.
    pub text: String,
    /// How many results to return, 1 to [`MAX_MATCH_LIMIT`].
    pub limit: usize,
    /// Which records may be returned.
    pub filters: MatchFilters,
}

/// An occupation the text is about, and how sure the matcher is (share of its neighbours'
/// weight, 1 when the code is written in the text).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OccupationSignal {
    /// The ROME code, e.g. `M1805`.
    pub code: String,
    /// The ROME title; empty for a neighbour's code that ROME v4.60 does not list.
    pub title: String,
    /// 1 for a code written in the text; else the share (0.2 to 1) of the nearest offers' and
    /// programmes' fused score carried by records with this code.
    pub weight: f32,
}

/// What the matcher read in the text.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signals {
    /// The title line of an offer (its first short line), or the wish itself cut short.
    pub title: String,
    /// Skill phrases of the index's programmes and offers found in the text.
    pub skills: Vec<String>,
    /// The occupations the text is about: the ROME codes written in it, or else up to five
    /// guessed from its nearest offers and programmes, surest first. Hits sharing one get the
    /// occupation credit; empty when nothing could be told.
    pub occupations: Vec<OccupationSignal>,
    /// Sentences of an offer about pay, perks or how to apply, left out of what both legs
    /// read (always 0 for a wish, which is read whole).
    pub noise_sentences: usize,
}

/// An occupation a hit shares with the text.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedOccupation {
    /// The hit's ROME code.
    pub code: String,
    /// Its ROME title; empty when ROME v4.60 does not list it.
    pub title: String,
    /// "same": the very code; "related": a code of the same occupation sheet.
    pub relation: &'static str,
}

/// Why a hit is there.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Why {
    /// The hit's skills that the text names too, or whose every word (stemmed) it holds.
    pub skills: Vec<String>,
    /// The hit's occupations that are, or share an occupation sheet with, the text's.
    pub occupations: Vec<SharedOccupation>,
    /// Words of the text found in the hit's title or body, lowercased as the hit writes them,
    /// stop words aside (at most 12).
    pub terms: Vec<String>,
    /// Rank and BM25 score in the keyword leg; absent when that leg did not find the hit.
    pub keyword: Option<LegPosition>,
    /// Rank and cosine similarity in the semantic leg; absent when that leg did not find the
    /// hit or did not run (the answer's `semantic` says why).
    pub semantic: Option<LegPosition>,
    /// The convex fusion of the legs, before the occupation credit.
    pub fused: f32,
    /// What the shared occupations add to `fused`: up to [`OCCUPATION_WEIGHT`], less for a
    /// related code (half) or a less sure occupation of the text.
    pub occupation_credit: f32,
}

/// A school as shown beside its programme.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchoolBrief {
    /// The school's record id.
    pub id: String,
    /// Official name.
    pub name: String,
    /// City or municipality.
    pub city: Option<String>,
    /// Home page URL.
    pub website: Option<String>,
    /// Phone numbers as the school publishes them.
    pub phones: Vec<String>,
    /// E-mail addresses as the school publishes them.
    pub emails: Vec<String>,
}

/// A programme found for the text, with its school and why it was found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeMatch {
    /// The programme's record id.
    pub id: String,
    /// Name of the programme.
    pub title: String,
    /// Name of the school as the programme's source gives it.
    pub school_name: Option<String>,
    /// The school's record, when the index holds it.
    pub school: Option<SchoolBrief>,
    /// "BTS", "Bachelier", "Master"...
    pub level: Option<String>,
    /// Field of study ("Informatique", "Agriculture"...).
    pub domain: Option<String>,
    /// Where it is taught.
    pub city: Option<String>,
    /// Region where it is taught.
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    pub country: Option<String>,
    /// ISO 639-1 language of its text (`fr`, `nl`, `en`).
    pub language: Option<String>,
    /// Whether it can be followed as an apprenticeship (alternance).
    pub work_study: bool,
    /// The page that describes it.
    pub url: Option<String>,
    /// The programme manager.
    pub contact: Option<Person>,
    /// ROME occupation codes it trains for.
    pub occupations: Vec<String>,
    /// What the results are ranked by: `why.fused` plus `why.occupation_credit` (0 to 1.3).
    pub score: f32,
    /// How far its town is from the centre of `filters.near`, in km (with `near` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Why it is there.
    pub why: Why,
}

/// An offer found for the wish, and why it was found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferMatch {
    /// The offer's record id.
    pub id: String,
    /// The offer's title.
    pub title: String,
    /// Name of the company as the offer gives it.
    pub company_name: Option<String>,
    /// Record id of the company that posted it, when known.
    pub company_id: Option<String>,
    /// `internship`, `apprenticeship`, `permanent`, `fixed_term` or `other`.
    pub contract_type: String,
    /// Education level wanted ("Bac+2", "Bac+5"...).
    pub level: Option<String>,
    /// Where the work is.
    pub city: Option<String>,
    /// Region where the work is.
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    pub country: Option<String>,
    /// ISO 639-1 language of its text (`fr`, `nl`, `en`).
    pub language: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    pub date_posted: Option<String>,
    /// Last day it can be applied to, `YYYY-MM-DD`.
    pub valid_through: Option<String>,
    /// Posted by and not past its end date on the filters' `as_of` day (today by default).
    pub open: bool,
    /// The page that publishes it.
    pub url: Option<String>,
    /// The recruiter.
    pub contact: Option<Person>,
    /// What the results are ranked by: `why.fused` plus `why.occupation_credit` (0 to 1.3).
    pub score: f32,
    /// How far its town is from the centre of `filters.near`, in km (with `near` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Why it is there.
    pub why: Why,
}

/// A company that posted offers like the wish, open now or not. "Similar" offers score at
/// least three quarters of the best offer's score, whatever their dates; the facet filters
/// still apply.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyMatch {
    /// The company's record id, when its offers name it.
    pub id: Option<String>,
    /// Trading name, from its record when the index holds it, else from its offers.
    pub name: String,
    /// Line of business, from its record.
    pub sector: Option<String>,
    /// City of its main site, or of its best similar offer.
    pub city: Option<String>,
    /// Home page URL, from its record.
    pub website: Option<String>,
    /// "TPE", "PME", "ETI", "Grand groupe", from its record.
    pub size: Option<String>,
    /// Its offers among the similar ones.
    pub similar_offers: usize,
    /// How many of those are open on the `as_of` day: a company with 0 still recruits for
    /// such work, just not now.
    pub open_offers: usize,
    /// The latest posting date among those offers, `YYYY-MM-DD`.
    pub last_posted: Option<String>,
    /// Titles of up to three of those offers, best first.
    pub examples: Vec<String>,
    /// Its best offer's score.
    pub score: f32,
}

/// A recruiter to write to, from the offers and companies above; each is listed once (known
/// by e-mail, else by name).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecruiterContact {
    /// Full name as published.
    pub name: Option<String>,
    /// Job title or function ("Chargée de recrutement"...).
    pub role: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number as published.
    pub phone: Option<String>,
    /// The company of the offer that names this recruiter.
    pub company_name: Option<String>,
    /// Record id of that offer.
    pub offer_id: String,
    /// Title of that offer.
    pub offer_title: String,
}

/// The answer of offer -> programmes and wish -> programmes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammesAnswer {
    /// Which matcher answered ([`Task::name`]).
    pub task: &'static str,
    /// What the matcher read in the text.
    pub signals: Signals,
    /// Best first, at most the request's `limit`.
    pub programmes: Vec<ProgrammeMatch>,
    /// Whether the semantic leg ran; when it did not, the ranking is by words alone and
    /// `note` says why.
    pub semantic: SemanticStatus,
    /// The index generation that answered (its folder name).
    pub generation: String,
}

/// The answer of wish -> offers.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OffersAnswer {
    /// Which matcher answered (`student-to-offers`).
    pub task: &'static str,
    /// What the matcher read in the text.
    pub signals: Signals,
    /// Best first, at most the request's `limit`, filtered (open offers only by default).
    pub offers: Vec<OfferMatch>,
    /// Companies that posted offers like the wish, strongest first (at most 10), expired
    /// offers included: where to send an unsolicited application.
    pub companies: Vec<CompanyMatch>,
    /// The recruiters of the offers shown, then that of each company's best similar offer.
    pub contacts: Vec<RecruiterContact>,
    /// Offers that passed the other filters but were past their end date (or not yet posted)
    /// on `as_of` (today unless given); `filters.open_only = false` shows them.
    pub expired_left_out: usize,
    /// Whether the semantic leg ran; when it did not, the ranking is by words alone and
    /// `note` says why.
    pub semantic: SemanticStatus,
    /// The index generation that answered (its folder name).
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
    distance_km: Option<f64>,
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

impl Features {
    fn vocabulary(&self) -> &Vocabulary {
        self.vocabulary.get_or_init(|| {
            let phrases = self.records_of_kinds(&["programme", "offer"]).into_iter().flat_map(|r| record_skills(&r).to_vec());
            Vocabulary::build(phrases)
        })
    }

    /// Both legs over `kinds`, filtered, fused (convex, [`MATCH_SEMANTIC_RATIO`]), best first,
    /// through the one retriever. The semantic leg is left out (and the status says why)
    /// without vectors or a model.
    #[allow(clippy::too_many_arguments)]
    fn candidates(
        &self,
        kinds: &[&str],
        keyword_text: &str,
        semantic_text: &str,
        filters: &MatchFilters,
        depth: usize,
        encoder: Option<&QueryEncoder>,
        today: i64,
    ) -> Result<(Vec<Candidate>, SemanticStatus), IndexError> {
        let mut facets = filters.facets.clone();
        facets.push((FacetField::Kind, kinds.iter().map(|k| k.to_string()).collect()));
        let keeps = |record: &Record| filters.keeps(record, today);
        let retrieval = Retrieval {
            semantic_text: Some(SemanticText { text: semantic_text, role: TextRole::Query }),
            filters: &facets,
            semantic_ratio: MATCH_SEMANTIC_RATIO,
            fusion: Fusion::Convex,
            depth,
            keep_record: Some(&keeps),
            near: filters.near.as_ref(),
            ..Retrieval::new(keyword_text, Words::Text)
        };
        let found = self.retrieve(&retrieval, encoder)?;
        let status = found.semantic_status(MATCH_SEMANTIC_RATIO);
        let out = found
            .candidates
            .into_iter()
            .map(|c| Candidate {
                id: c.id,
                record: c.record,
                keyword: c.keyword,
                semantic: c.semantic,
                fused: c.fused,
                credit: 0.0,
                distance_km: c.distance_km.map(round_km),
            })
            .collect();
        Ok((out, status))
    }

    /// The text's occupations: the ROME codes written in it, or else those its nearest offers
    /// and programmes share.
    fn text_occupations(
        &self,
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
        let (near, _) =
            self.candidates(&["offer", "programme"], keyword_text, semantic_text, &MatchFilters::default(), OCCUPATION_NEIGHBOURS * 4, encoder, today)?;
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
            return Err(IndexError::invalid("text", "is empty: paste the offer or describe the wish"));
        }
        let chars = request.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(IndexError::invalid("text", format!("has {chars} characters, at most {MAX_TEXT_CHARS}")));
        }
        if request.limit == 0 || request.limit > MAX_MATCH_LIMIT {
            return Err(IndexError::invalid("limit", format!("is {}, it goes from 1 to {MAX_MATCH_LIMIT}", request.limit)));
        }
        Ok(())
    }

    /// Ranks candidates of `task` for the text: fused legs plus the occupation credit.
    fn ranked(
        &self,
        task: Task,
        request: &MatchRequest,
        filters: &MatchFilters,
        encoder: Option<&QueryEncoder>,
        today: i64,
    ) -> Result<(Signals, String, Vec<Candidate>, SemanticStatus), IndexError> {
        Self::check_match(request)?;
        let (mut signals, keyword_text, semantic_text) = self.signals(task, &request.text);
        signals.occupations = self.text_occupations(&keyword_text, &semantic_text, encoder, today)?;
        let (mut candidates, status) = self.candidates(&[task.kind()], &keyword_text, &semantic_text, filters, DEPTH, encoder, today)?;
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
        Why { skills, occupations: occ, terms, keyword: c.keyword, semantic: c.semantic, fused: round(c.fused), occupation_credit: round(c.credit) }
    }

    /// The `why` of each candidate; the text is analysed once for all of them.
    fn explain_all(&self, signals: &Signals, keyword_text: &str, candidates: &[&Candidate]) -> Vec<Why> {
        let mut analyzers = self.analyzers();
        let plan = QueryPlan::with_max_words(&mut analyzers, keyword_text, false, MAX_TEXT_QUERY_WORDS);
        let mut stems = HashSet::new();
        for lang in Lang::ALL {
            stems.extend(analyzers.stems(lang, keyword_text).into_iter().map(|t| t.text));
        }
        let text = TextTerms { plan, stems, skills: signals.skills.iter().map(|s| fold(s)).collect() };
        candidates.iter().map(|c| self.why(c, signals, &text, &mut analyzers)).collect()
    }

    /// Offer (or wish) -> programmes, best first. Refuses [`Task::StudentToOffers`], an empty
    /// or too long text and a limit out of range, naming the field.
    pub fn match_programmes(&self, task: Task, request: &MatchRequest, encoder: Option<&QueryEncoder>) -> Result<ProgrammesAnswer, IndexError> {
        if task == Task::StudentToOffers {
            return Err(IndexError::invalid("task", "student-to-offers ranks offers, not programmes"));
        }
        let (signals, keyword_text, mut candidates, semantic) = self.ranked(task, request, &request.filters, encoder, today())?;
        candidates.truncate(request.limit);
        let whys = self.explain_all(&signals, &keyword_text, &candidates.iter().collect::<Vec<_>>());
        let mut programmes = Vec::with_capacity(candidates.len());
        for (c, why) in candidates.into_iter().zip(whys) {
            let Record::Programme(p) = c.record else {
                continue;
            };
            let school = match p.school_id.as_deref() {
                Some(id) => match self.record(id)? {
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
                distance_km: c.distance_km,
                why,
            });
        }
        Ok(ProgrammesAnswer { task: task.name(), signals, programmes, semantic, generation: self.name().to_string() })
    }

    /// Wish -> offers, the companies that posted similar offers (open now or not) and the
    /// recruiters' contacts.
    pub fn match_offers(&self, request: &MatchRequest, encoder: Option<&QueryEncoder>) -> Result<OffersAnswer, IndexError> {
        let today = today();
        let as_of = request.filters.as_of.unwrap_or(today);
        // Companies come from every similar offer, whatever its dates.
        let broad = MatchFilters { facets: request.filters.facets.clone(), near: request.filters.near.clone(), ..MatchFilters::default() };
        let (signals, keyword_text, all, semantic) = self.ranked(Task::StudentToOffers, request, &broad, encoder, today)?;
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
                distance_km: c.distance_km,
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
                Some(id) => match self.record(id)? {
                    Some(Record::Company(c)) => Some(c),
                    _ => None,
                },
                None => None,
            };
            let offers_of: Vec<&schemas::Offer> = list.iter().filter_map(|c| if let Record::Offer(o) = &c.record { Some(o) } else { None }).collect();
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
            generation: self.name().to_string(),
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
        let day = time::macros::date!(2026 - 01 - 01);
        let asked = FilterValues {
            facets: vec![("region".into(), vec!["Wallonie".into()]), ("contract_type".into(), vec!["internship".into(), " ".into()])],
            posted_after: Some(day),
            open_only: Some(true),
            as_of: None,
            near: None,
        };
        let f = MatchFilters::for_task(Task::StudentToOffers, asked.clone()).unwrap();
        assert_eq!(f.facets.len(), 2);
        assert_eq!(f.facets[1].1, vec!["internship".to_string()], "blank values are dropped");
        assert!(f.open_only && f.posted_after == Some(days_since_epoch(day)));
        let e = MatchFilters::for_task(Task::OfferToProgrammes, asked).unwrap_err();
        assert!(matches!(&e, IndexError::InvalidRequest { field, reason } if field == "filters.contract_type" && reason.contains("accepted: region")), "{e}");
        let dated = FilterValues { posted_after: Some(day), ..Default::default() };
        let e = MatchFilters::for_task(Task::StudentToProgrammes, dated).unwrap_err();
        assert!(matches!(&e, IndexError::InvalidRequest { field, .. } if field == "filters.posted_after"), "{e}");
        assert!(MatchFilters::for_task(Task::StudentToOffers, FilterValues::default()).unwrap().open_only, "open offers only by default");
        assert!(!MatchFilters::for_task(Task::OfferToProgrammes, FilterValues::default()).unwrap().open_only);
    }

    #[test]
    fn rome_codes_written_in_a_text_are_read() {
        assert_eq!(rome_codes_in("Code ROME M1805, voir aussi M1806 et Z9999; M1805"), vec!["M1805", "M1806"]);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn text() -> impl Strategy<Value = String> {
            // Any Unicode, and the characters the readers cut on, often.
            prop_oneof![any::<String>(), "[a-zé—.!?; \n#+C0-9\u{301}🙂]{0,200}"]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn reading_a_text_never_panics(t in text(), n in 0usize..300) {
                let _ = read_offer(&t);
                let _ = sentences(&t);
                prop_assert!(cut(&t, n).chars().count() <= n);
                let _ = rome_codes_in(&t);
                let _ = Vocabulary::build([t.clone(), "Java".into()]).find(&t);
            }

            #[test]
            fn filters_are_refused_or_accepted_never_panic(name in text(), values in proptest::collection::vec(text(), 0..4), open in any::<Option<bool>>()) {
                for task in [Task::OfferToProgrammes, Task::StudentToOffers, Task::StudentToProgrammes] {
                    let asked = FilterValues { facets: vec![(name.clone(), values.clone())], open_only: open, ..Default::default() };
                    match MatchFilters::for_task(task, asked) {
                        Ok(f) => prop_assert!(f.facets.iter().all(|(_, v)| v.iter().all(|s| !s.trim().is_empty()))),
                        Err(e) => prop_assert!(matches!(e, IndexError::InvalidRequest { .. }), "{e}"),
                    }
                }
            }
        }
    }
}
