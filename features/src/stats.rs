//! Trends for programme managers: over the offers posted in a period, the most wanted skills,
//! the most active companies, offers per level and per programme (the programme the offer ->
//! programmes matcher ranks first for each offer, and the programmes sharing a ROME occupation
//! with it), each against the same period a year earlier.
//!
//! The facts of every offer are read once per index generation and kept by [`Features`]; a
//! request only counts.

use std::collections::{BTreeMap, HashMap};

use schemas::Record;
use serde::Serialize;
use time::{Date, Month};

use crate::Features;
use crate::matching::{MatchFilters, MatchRequest, Task};
use indexer::IndexError;
use indexer::analysis::fold;
use indexer::schema::{day_number, days_since_epoch};

/// Entries per list when the request does not say.
pub const DEFAULT_STATS_LIMIT: usize = 10;
/// Most entries one list may hold.
pub const MAX_STATS_LIMIT: usize = 100;
/// Longest period asked at once.
pub const MAX_PERIOD_DAYS: i64 = 366 * 5;

/// What one offer contributes.
pub(crate) struct OfferFacts {
    id: String,
    day: Option<i64>,
    skills: Vec<(String, String)>,
    company: Option<(String, String)>,
    level: Option<String>,
    /// The programmes sharing one of its ROME codes (index in [`StatsFacts::programmes`]), with
    /// each shared code.
    programmes: Vec<(usize, String)>,
    /// Its ROME codes.
    codes: Vec<String>,
}

pub(crate) struct ProgrammeFacts {
    id: String,
    title: String,
    school_name: Option<String>,
    level: Option<String>,
    /// Its ROME codes, trimmed and upper-cased.
    codes: Vec<String>,
    /// The ROME occupation sheets of those codes (for the gaps' neighbouring programmes).
    sheets: Vec<&'static str>,
}

/// A ROME code as the gaps compare it: trimmed, upper-cased.
fn normal_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// The programmes ranked first, counted per period, and the codes their offers share with them.
#[derive(Default)]
struct Firsts {
    counts: HashMap<String, (usize, usize)>,
    shared: HashMap<String, Vec<String>>,
}

/// The facts of a generation's offers and programmes.
pub(crate) struct StatsFacts {
    offers: Vec<OfferFacts>,
    programmes: Vec<ProgrammeFacts>,
}

/// Days counted, both included.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

/// A count of offers in the period and in the same dates a year earlier.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    /// Offers posted in the period.
    pub current: usize,
    /// Offers posted in the same dates a year earlier.
    pub previous: usize,
    /// `(current - previous) / previous`: 0.5 is half as many again, -1 none left; absent when
    /// there were none the year before.
    pub change: Option<f32>,
}

impl Trend {
    fn new(current: usize, previous: usize) -> Trend {
        let change = (previous > 0).then(|| crate::matching::round((current as f32 - previous as f32) / previous as f32));
        Trend { current, previous, change }
    }
}

/// Offers asking for a skill.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkillTrend {
    /// The skill as most offers write it (case and accents aside, spellings are one skill).
    pub skill: String,
    /// The counts (`current`, `previous`, `change`), in the same JSON object.
    #[serde(flatten)]
    pub trend: Trend,
}

/// Offers posted by a company.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyTrend {
    /// The company's name as its offers give it.
    pub company: String,
    /// The counts (`current`, `previous`, `change`), in the same JSON object.
    #[serde(flatten)]
    pub trend: Trend,
}

/// Offers wanting an education level.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelTrend {
    /// The level as offers write it ("Bac+2", "Bac+5"...); `unspecified` for offers without one.
    pub level: String,
    /// The counts (`current`, `previous`, `change`), in the same JSON object.
    #[serde(flatten)]
    pub trend: Trend,
}

/// Offers a programme trains for: those sharing one of its ROME occupations.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeTrend {
    /// The programme's record id.
    pub id: String,
    /// Name of the programme.
    pub title: String,
    /// Name of its school.
    pub school_name: Option<String>,
    /// "BTS", "Bachelier", "Master"...
    pub level: Option<String>,
    /// The programme's ROME occupations that the counted offers share.
    pub occupations: Vec<String>,
    /// The counts (`current`, `previous`, `change`), in the same JSON object.
    #[serde(flatten)]
    pub trend: Trend,
}

/// The trends of a period. Each list is ranked by the period's count, then the year before's,
/// and holds at most the request's `limit` entries.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsAnswer {
    /// The dates counted.
    pub period: Period,
    /// The same dates one year earlier.
    pub previous: Period,
    /// All offers posted in the period, and a year earlier.
    pub offers: Trend,
    /// Offers without a posting date, left out of every count.
    pub undated_offers: usize,
    /// The skills offers ask for most.
    pub skills: Vec<SkillTrend>,
    /// The companies that post most.
    pub companies: Vec<CompanyTrend>,
    /// The companies whose number of offers changed most from the year before (up or down),
    /// largest change first.
    pub company_changes: Vec<CompanyTrend>,
    /// Offers per education level wanted.
    pub levels: Vec<LevelTrend>,
    /// The programmes most offers share an occupation with.
    pub programmes: Vec<ProgrammeTrend>,
    /// The programmes that the offer -> programmes matcher ranks first for most offers of the
    /// period (on words and occupations: the meaning leg is left out, so no offer costs a
    /// model call); `occupations` are the codes those offers share with it.
    pub ranked_first: Vec<ProgrammeTrend>,
    /// How many offers of each period the matcher ranked for `ranked_first` (the most recent
    /// [`MAX_RANKED_OFFERS`] of each), and how many were left out (past that, or not ranked yet:
    /// one request ranks for at most [`RANK_BUDGET`], the next goes on).
    pub ranked_offers: RankedOffers,
    /// The index generation that answered (its folder name).
    pub generation: String,
}

/// Offers of each period ranked by the matcher for [`StatsAnswer::ranked_first`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedOffers {
    /// Offers of the period ranked.
    pub current: usize,
    /// Offers of the year before ranked.
    pub previous: usize,
    /// Offers of either period not ranked: past the most recent [`MAX_RANKED_OFFERS`], or not
    /// ranked yet ([`RANK_BUDGET`]; asking again ranks more).
    pub left_out: usize,
    /// Of `left_out`, the offers not ranked yet.
    pub pending: usize,
}

/// The time one trends request spends ranking offers it has not ranked before; the offers left
/// are ranked by the next requests (each answer is kept for the generation).
pub const RANK_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// Most offers of one period that the matcher ranks for [`StatsAnswer::ranked_first`], the most
/// recent first (each costs a keyword matcher call the first time it is asked for).
pub const MAX_RANKED_OFFERS: usize = 2_000;

/// The same day a year earlier (29 February becomes the 28th).
fn year_before(d: Date) -> Date {
    let year = d.year() - 1;
    Date::from_calendar_date(year, d.month(), d.day()).or_else(|_| Date::from_calendar_date(year, d.month(), d.day() - 1)).unwrap_or(d)
}

/// The period asked: `to` defaults to today, `from` to the first of January of `to`'s year.
pub fn period(from: Option<Date>, to: Option<Date>, today: Date) -> Result<(Date, Date), IndexError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| Date::from_calendar_date(to.year(), Month::January, 1).unwrap_or(to));
    if from > to {
        return Err(IndexError::invalid("from", format!("{from} is after `to` ({to})")));
    }
    if (to - from).whole_days() > MAX_PERIOD_DAYS {
        return Err(IndexError::invalid("to", format!("the period is longer than {MAX_PERIOD_DAYS} days; ask for a shorter one")));
    }
    Ok((from, to))
}

/// Counts of keys in both periods, the top `limit` by current count (then previous, then name).
fn top(counts: HashMap<String, (usize, usize)>, limit: usize) -> Vec<(String, Trend)> {
    let mut list: Vec<(String, (usize, usize))> = counts.into_iter().filter(|(_, (c, p))| c + p > 0).collect();
    list.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(b.1.1.cmp(&a.1.1)).then(a.0.cmp(&b.0)));
    list.truncate(limit);
    list.into_iter().map(|(k, (c, p))| (k, Trend::new(c, p))).collect()
}

/// A request's period and the same dates a year earlier, and its list length, checked.
struct Window {
    limit: usize,
    from: Date,
    to: Date,
    pfrom: Date,
    pto: Date,
    current: std::ops::RangeInclusive<i64>,
    previous: std::ops::RangeInclusive<i64>,
}

impl Window {
    /// The period of [`period`] (defaults from today) and `limit` (default
    /// [`DEFAULT_STATS_LIMIT`], at most [`MAX_STATS_LIMIT`]); a bad one is refused, naming it.
    fn new(from: Option<Date>, to: Option<Date>, limit: Option<usize>) -> Result<Window, IndexError> {
        let limit = limit.unwrap_or(DEFAULT_STATS_LIMIT);
        if limit == 0 || limit > MAX_STATS_LIMIT {
            return Err(IndexError::invalid("limit", format!("is {limit}, it goes from 1 to {MAX_STATS_LIMIT}")));
        }
        let (from, to) = period(from, to, time::OffsetDateTime::now_utc().date())?;
        let (pfrom, pto) = (year_before(from), year_before(to));
        let (current, previous) = (days_since_epoch(from)..=days_since_epoch(to), days_since_epoch(pfrom)..=days_since_epoch(pto));
        Ok(Window { limit, from, to, pfrom, pto, current, previous })
    }

    /// 0 for a day of the period, 1 for one of the year before, `None` otherwise.
    fn slot(&self, day: i64) -> Option<usize> {
        if self.current.contains(&day) {
            Some(0)
        } else if self.previous.contains(&day) {
            Some(1)
        } else {
            None
        }
    }

    fn period(&self) -> Period {
        Period { from: self.from.to_string(), to: self.to.to_string() }
    }

    fn previous(&self) -> Period {
        Period { from: self.pfrom.to_string(), to: self.pto.to_string() }
    }
}

/// The top `limit` programmes by their counts, each with the occupation codes listed for it.
fn programme_trends(
    counts: HashMap<String, (usize, usize)>,
    mut shared: HashMap<String, Vec<String>>,
    by_id: &HashMap<&str, &ProgrammeFacts>,
    limit: usize,
) -> Vec<ProgrammeTrend> {
    top(counts, limit)
        .into_iter()
        .filter_map(|(id, trend)| {
            let p = by_id.get(id.as_str())?;
            let mut occupations = shared.remove(&id).unwrap_or_default();
            occupations.sort();
            occupations.dedup();
            Some(ProgrammeTrend { id: p.id.clone(), title: p.title.clone(), school_name: p.school_name.clone(), level: p.level.clone(), occupations, trend })
        })
        .collect()
}

/// Counts of keys in both periods, the top `limit` by the size of the change (then current
/// count, then name).
fn most_changed(counts: HashMap<String, (usize, usize)>, limit: usize) -> Vec<(String, Trend)> {
    let mut list: Vec<(String, (usize, usize))> = counts.into_iter().filter(|(_, (c, p))| c != p).collect();
    list.sort_by(|a, b| b.1.0.abs_diff(b.1.1).cmp(&a.1.0.abs_diff(a.1.1)).then(b.1.0.cmp(&a.1.0)).then(a.0.cmp(&b.0)));
    list.truncate(limit);
    list.into_iter().map(|(k, (c, p))| (k, Trend::new(c, p))).collect()
}

/// An occupation the offers ask for, against the programmes that train for it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OccupationGap {
    /// The ROME code.
    pub code: String,
    /// Its title in ROME v4.60, when the table has the code.
    pub title: Option<String>,
    /// Offers with this code, posted in the period and a year earlier.
    #[serde(flatten)]
    pub offers: Trend,
    /// Programmes with this very code.
    pub programmes: usize,
    /// Programmes with another code of the same occupation sheet only: they train for a
    /// neighbouring job, a weak match.
    pub related_programmes: usize,
    /// Up to three of those programmes (the exact ones first), as "title — school".
    pub examples: Vec<String>,
    /// The ranking key: the period's offers per programme, a related programme counting half,
    /// and one programme added so that none is not a division by zero
    /// (`offers / (programmes + related / 2 + 1)`).
    pub shortfall: f32,
}

/// The occupations where offers outnumber the programmes that train for them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapsAnswer {
    /// The dates counted.
    pub period: Period,
    /// The same dates one year earlier.
    pub previous: Period,
    /// Largest shortfall first; only occupations with offers in the period.
    pub occupations: Vec<OccupationGap>,
    /// Offers of the period with no ROME code (they cannot be placed).
    pub offers_without_occupation: usize,
    /// Programmes in the index.
    pub programmes: usize,
    /// The index generation that answered (its folder name).
    pub generation: String,
}

impl Features {
    /// The occupations offers of the period ask for and few programmes train for (see
    /// [`OccupationGap::shortfall`]), `limit` of them (default [`DEFAULT_STATS_LIMIT`]).
    pub fn gaps(&self, from: Option<Date>, to: Option<Date>, limit: Option<usize>) -> Result<GapsAnswer, IndexError> {
        let w = Window::new(from, to, limit)?;
        let facts = self.stats_facts();
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        let mut unplaced = 0;
        for o in &facts.offers {
            let Some(day) = o.day else { continue };
            let Some(slot) = w.slot(day) else { continue };
            if o.codes.is_empty() && slot == 0 {
                unplaced += 1;
            }
            let mut codes: Vec<String> = o.codes.iter().map(|c| normal_code(c)).filter(|c| !c.is_empty()).collect();
            codes.sort();
            codes.dedup();
            for code in codes {
                let e = counts.entry(code).or_default();
                if slot == 0 { e.0 += 1 } else { e.1 += 1 }
            }
        }
        let mut occupations: Vec<OccupationGap> = counts
            .into_iter()
            .filter(|(_, (c, _))| *c > 0)
            .map(|(code, (c, p))| {
                let occupation = crate::occupations::lookup(&code);
                let own_sheet = occupation.map(|o| o.parent);
                let (mut exact, mut related) = (Vec::new(), Vec::new());
                for prog in &facts.programmes {
                    if prog.codes.contains(&code) {
                        exact.push(prog);
                    } else if own_sheet.is_some_and(|s| prog.sheets.contains(&s)) {
                        related.push(prog);
                    }
                }
                let examples = exact
                    .iter()
                    .chain(related.iter())
                    .take(3)
                    .map(|p| match &p.school_name {
                        Some(school) => format!("{} — {school}", p.title),
                        None => p.title.clone(),
                    })
                    .collect();
                let shortfall = crate::matching::round(c as f32 / (exact.len() as f32 + related.len() as f32 / 2.0 + 1.0));
                OccupationGap {
                    title: occupation.map(|o| o.title.to_string()),
                    code,
                    offers: Trend::new(c, p),
                    programmes: exact.len(),
                    related_programmes: related.len(),
                    examples,
                    shortfall,
                }
            })
            .collect();
        occupations.sort_by(|a, b| b.shortfall.total_cmp(&a.shortfall).then(b.offers.current.cmp(&a.offers.current)).then(a.code.cmp(&b.code)));
        occupations.truncate(w.limit);
        Ok(GapsAnswer {
            period: w.period(),
            previous: w.previous(),
            occupations,
            offers_without_occupation: unplaced,
            programmes: facts.programmes.len(),
            generation: self.name().to_string(),
        })
    }

    /// For the offers of the window (the most recent [`MAX_RANKED_OFFERS`] of each period), the
    /// programme the offer -> programmes matcher ranks first, on words and occupations; each
    /// offer's answer is kept for the generation's life, so a second request only counts.
    fn ranked_first(&self, facts: &StatsFacts, w: &Window) -> Result<(Firsts, RankedOffers), IndexError> {
        let mut slots: [Vec<&OfferFacts>; 2] = [Vec::new(), Vec::new()];
        for o in &facts.offers {
            if let Some(slot) = o.day.and_then(|d| w.slot(d)) {
                slots[slot].push(o);
            }
        }
        let mut ranked = RankedOffers { current: 0, previous: 0, left_out: 0, pending: 0 };
        let started = std::time::Instant::now();
        let mut out = Firsts::default();
        let programmes: HashMap<&str, &ProgrammeFacts> = facts.programmes.iter().map(|p| (p.id.as_str(), p)).collect();
        for (slot, mut offers) in slots.into_iter().enumerate() {
            offers.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| a.id.cmp(&b.id)));
            ranked.left_out += offers.len().saturating_sub(MAX_RANKED_OFFERS);
            offers.truncate(MAX_RANKED_OFFERS);
            let mut done = 0;
            for o in offers {
                let Some(first) = self.first_programme(&o.id, started.elapsed() < RANK_BUDGET)? else {
                    ranked.pending += 1;
                    continue;
                };
                done += 1;
                let Some(programme) = first else { continue };
                let e = out.counts.entry(programme.clone()).or_default();
                if slot == 0 {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
                if let Some(p) = programmes.get(programme.as_str()) {
                    let shared = out.shared.entry(programme).or_default();
                    shared.extend(o.codes.iter().map(|c| normal_code(c)).filter(|c| p.codes.contains(c)));
                }
            }
            if slot == 0 { ranked.current = done } else { ranked.previous = done }
        }
        ranked.left_out += ranked.pending;
        Ok((out, ranked))
    }

    /// The programme the offer -> programmes matcher ranks first for the stored offer `id`
    /// (words and occupations, no meaning leg), remembered for the generation; `None` when it is
    /// not known yet and `rank` is false (the request's ranking time is spent).
    fn first_programme(&self, id: &str, rank: bool) -> Result<Option<Option<String>>, IndexError> {
        if let Some(known) = self.firsts.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(Some(known.clone()));
        }
        if !rank {
            return Ok(None);
        }
        let first = match self.record(id)? {
            Some(Record::Offer(o)) => {
                let text: String = [o.title.as_str(), o.description.as_str(), &o.skills.join(", ")]
                    .into_iter()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
                    .chars()
                    .take(crate::matching::MAX_TEXT_CHARS)
                    .collect();
                let request = MatchRequest { text, limit: 1, filters: MatchFilters::default() };
                match self.match_programmes(Task::OfferToProgrammes, &request, None) {
                    Ok(answer) => answer.programmes.into_iter().next().map(|p| p.id),
                    // An offer the matcher cannot read (no text) ranks nothing.
                    Err(IndexError::InvalidRequest { .. }) => None,
                    Err(e) => return Err(e),
                }
            }
            _ => None,
        };
        self.firsts.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), first.clone());
        Ok(Some(first))
    }

    fn stats_facts(&self) -> &StatsFacts {
        self.stats_facts.get_or_init(|| {
            let records = self.records_of_kinds(&["offer", "programme"]);
            let mut programmes: Vec<ProgrammeFacts> = records
                .iter()
                .filter_map(|r| match r {
                    Record::Programme(p) => Some(ProgrammeFacts {
                        id: p.id.clone(),
                        title: p.title.clone(),
                        school_name: p.school_name.clone(),
                        level: p.level.clone(),
                        codes: p.occupations.iter().map(|c| normal_code(c)).collect(),
                        sheets: p.occupations.iter().filter_map(|c| crate::occupations::lookup(c).map(|o| o.parent)).collect(),
                    }),
                    _ => None,
                })
                .collect();
            programmes.sort_by(|a, b| a.id.cmp(&b.id));
            // Which programmes each ROME code leads to, so an offer finds its programmes at once.
            let mut by_code: HashMap<&str, Vec<usize>> = HashMap::new();
            let position: HashMap<&str, usize> = programmes.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
            for r in &records {
                if let Record::Programme(p) = r {
                    for code in &p.occupations {
                        by_code.entry(code.as_str()).or_default().push(position[p.id.as_str()]);
                    }
                }
            }
            let offers = records
                .iter()
                .filter_map(|r| match r {
                    Record::Offer(o) => Some(o),
                    _ => None,
                })
                .map(|o| {
                    let company = o
                        .company_id
                        .clone()
                        .or_else(|| o.company_key.clone())
                        .or_else(|| o.company_name.as_deref().map(fold))
                        .map(|key| (key, o.company_name.clone().unwrap_or_else(|| o.company_key.clone().unwrap_or_default())));
                    let mut skills: Vec<(String, String)> =
                        o.skills.iter().map(|s| (fold(s).trim().to_string(), s.trim().to_string())).filter(|(k, _)| !k.is_empty()).collect();
                    skills.sort();
                    skills.dedup_by(|a, b| a.0 == b.0);
                    // (programme, shared code) for every programme sharing one of its codes.
                    let mut links: Vec<(usize, String)> = Vec::new();
                    for code in &o.occupations {
                        for &p in by_code.get(code.as_str()).map(Vec::as_slice).unwrap_or_default() {
                            links.push((p, code.clone()));
                        }
                    }
                    links.sort();
                    links.dedup();
                    OfferFacts {
                        id: o.id.clone(),
                        day: o.date_posted.as_deref().and_then(day_number),
                        skills,
                        company,
                        level: o.level.clone().filter(|l| !l.trim().is_empty()),
                        programmes: links,
                        codes: o.occupations.clone(),
                    }
                })
                .collect();
            StatsFacts { offers, programmes }
        })
    }

    /// The trends of offers posted from `from` to `to` (inclusive; see [`period`] for the
    /// defaults), against the same dates a year earlier; `limit` entries per list (default
    /// [`DEFAULT_STATS_LIMIT`], at most [`MAX_STATS_LIMIT`]). A bad limit or period is refused,
    /// naming the field.
    pub fn stats(&self, from: Option<Date>, to: Option<Date>, limit: Option<usize>) -> Result<StatsAnswer, IndexError> {
        let w = Window::new(from, to, limit)?;
        let facts = self.stats_facts();

        let (mut offers, mut undated) = ((0, 0), 0);
        let mut skills: HashMap<String, (usize, usize)> = HashMap::new();
        let mut skill_names: HashMap<String, BTreeMap<String, usize>> = HashMap::new();
        let mut companies: HashMap<String, (usize, usize)> = HashMap::new();
        let mut company_names: HashMap<String, String> = HashMap::new();
        let mut levels: HashMap<String, (usize, usize)> = HashMap::new();
        let mut programmes: HashMap<String, (usize, usize)> = HashMap::new();
        let mut shared: HashMap<String, Vec<String>> = HashMap::new();
        for o in &facts.offers {
            let Some(day) = o.day else {
                undated += 1;
                continue;
            };
            let Some(slot) = w.slot(day) else { continue };
            let bump = |counts: &mut HashMap<String, (usize, usize)>, key: &str| {
                let e = counts.entry(key.to_string()).or_default();
                if slot == 0 { e.0 += 1 } else { e.1 += 1 }
            };
            if slot == 0 {
                offers.0 += 1
            } else {
                offers.1 += 1
            }
            for (key, name) in &o.skills {
                bump(&mut skills, key);
                *skill_names.entry(key.clone()).or_default().entry(name.clone()).or_default() += 1;
            }
            if let Some((key, name)) = &o.company {
                bump(&mut companies, key);
                company_names.entry(key.clone()).or_insert_with(|| name.clone());
            }
            bump(&mut levels, o.level.as_deref().unwrap_or("unspecified"));
            let mut counted: Option<usize> = None;
            for (p, code) in &o.programmes {
                let id = &facts.programmes[*p].id;
                if counted != Some(*p) {
                    bump(&mut programmes, id);
                    counted = Some(*p);
                }
                let list = shared.entry(id.clone()).or_default();
                if !list.contains(code) {
                    list.push(code.clone());
                }
            }
        }
        let by_id: HashMap<&str, &ProgrammeFacts> = facts.programmes.iter().map(|p| (p.id.as_str(), p)).collect();
        let (firsts, ranked_offers) = self.ranked_first(facts, &w)?;
        Ok(StatsAnswer {
            ranked_first: programme_trends(firsts.counts, firsts.shared, &by_id, w.limit),
            ranked_offers,
            period: w.period(),
            previous: w.previous(),
            offers: Trend::new(offers.0, offers.1),
            undated_offers: undated,
            skills: top(skills, w.limit)
                .into_iter()
                .map(|(key, trend)| {
                    // The spelling most offers use.
                    let skill = skill_names
                        .get(&key)
                        .and_then(|names| names.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(n, _)| n.clone()))
                        .unwrap_or(key);
                    SkillTrend { skill, trend }
                })
                .collect(),
            company_changes: most_changed(companies.clone(), w.limit)
                .into_iter()
                .map(|(key, trend)| CompanyTrend { company: company_names.get(&key).cloned().unwrap_or(key), trend })
                .collect(),
            companies: top(companies, w.limit)
                .into_iter()
                .map(|(key, trend)| CompanyTrend { company: company_names.get(&key).cloned().unwrap_or(key), trend })
                .collect(),
            levels: top(levels, w.limit).into_iter().map(|(level, trend)| LevelTrend { level, trend }).collect(),
            programmes: programme_trends(programmes, shared, &by_id, w.limit),
            generation: self.name().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    #[test]
    fn the_period_defaults_to_this_year_and_is_checked() {
        let today = day("2026-11-24");
        assert_eq!(period(None, None, today).unwrap(), (day("2026-01-01"), today));
        assert_eq!(period(Some(day("2026-03-01")), Some(day("2026-06-30")), today).unwrap(), (day("2026-03-01"), day("2026-06-30")));
        let after = period(Some(day("2026-07-01")), Some(day("2026-06-30")), today).unwrap_err();
        assert!(matches!(&after, IndexError::InvalidRequest { field, .. } if field == "from"), "{after}");
        assert!(period(Some(day("2000-01-01")), None, today).unwrap_err().to_string().contains("shorter"));
        assert_eq!(year_before(day("2024-02-29")), day("2023-02-28"));
    }

    #[test]
    fn changes_rank_by_their_size_either_way() {
        let mut counts = HashMap::new();
        counts.insert("a".to_string(), (3, 2));
        counts.insert("b".to_string(), (0, 6));
        counts.insert("c".to_string(), (4, 0));
        counts.insert("d".to_string(), (5, 5));
        let t = most_changed(counts, 3);
        assert_eq!(t.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b", "c", "a"]);
        assert_eq!(t[0].1.change, Some(-1.0));
    }

    #[test]
    fn trends_rank_by_current_count_and_say_the_change() {
        let mut counts = HashMap::new();
        counts.insert("java".to_string(), (3, 2));
        counts.insert("sql".to_string(), (5, 0));
        counts.insert("php".to_string(), (0, 4));
        let t = top(counts, 2);
        assert_eq!(t.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["sql", "java"]);
        assert_eq!(t[0].1.change, None);
        assert_eq!(t[1].1.change, Some(0.5));
    }
}
