//! The fields of the tantivy index and how a record fills them.

use schemas::Record;
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{TantivyDocument, doc};

use crate::analysis::{FOLDED, KEYWORD, Lang};
use crate::geo::{self, Gazetteer};

/// The filterable, countable fields: each holds one short value per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacetField {
    /// The record kind (`offer`, `programme`, `school`, `company`, `question`).
    Kind,
    /// The region of a school, programme, offer or company.
    Region,
    /// The city of a school, programme, offer or company.
    City,
    /// The country of a school, programme, offer or company.
    Country,
    /// An offer's contract (internship, apprenticeship...).
    ContractType,
    /// The level of a programme or an offer.
    Level,
    /// A programme's domain or a company's sector.
    Domain,
    /// A school's type.
    SchoolType,
    /// A question's tag.
    Tag,
    /// The language of a programme, an offer or a question.
    Language,
}

impl FacetField {
    /// Every field, in the order vectors store their values.
    pub const ALL: [FacetField; 10] = [
        FacetField::Kind,
        FacetField::Region,
        FacetField::City,
        FacetField::Country,
        FacetField::ContractType,
        FacetField::Level,
        FacetField::Domain,
        FacetField::SchoolType,
        FacetField::Tag,
        FacetField::Language,
    ];

    /// The name used in the index, in the API's query string and in `facets`.
    pub fn name(self) -> &'static str {
        match self {
            FacetField::Kind => "kind",
            FacetField::Region => "region",
            FacetField::City => "city",
            FacetField::Country => "country",
            FacetField::ContractType => "contract_type",
            FacetField::Level => "level",
            FacetField::Domain => "domain",
            FacetField::SchoolType => "school_type",
            FacetField::Tag => "tag",
            FacetField::Language => "language",
        }
    }

    /// The field of a [`FacetField::name`]; `None` for an unknown name.
    pub fn parse(name: &str) -> Option<FacetField> {
        FacetField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The record's value for this field, if it has one.
    pub fn value(self, record: &Record) -> Option<String> {
        let v: Option<&str> = match (self, record) {
            (FacetField::Kind, r) => Some(r.kind().as_str()),
            (FacetField::Region, Record::School(r)) => r.region.as_deref(),
            (FacetField::Region, Record::Programme(r)) => r.region.as_deref(),
            (FacetField::Region, Record::Offer(r)) => r.region.as_deref(),
            (FacetField::Region, Record::Company(r)) => r.region.as_deref(),
            (FacetField::City, Record::School(r)) => r.city.as_deref(),
            (FacetField::City, Record::Programme(r)) => r.city.as_deref(),
            (FacetField::City, Record::Offer(r)) => r.city.as_deref(),
            (FacetField::City, Record::Company(r)) => r.city.as_deref(),
            (FacetField::Country, Record::School(r)) => r.country.as_deref(),
            (FacetField::Country, Record::Programme(r)) => r.country.as_deref(),
            (FacetField::Country, Record::Offer(r)) => r.country.as_deref(),
            (FacetField::Country, Record::Company(r)) => r.country.as_deref(),
            (FacetField::ContractType, Record::Offer(r)) => Some(r.contract_type.as_str()),
            (FacetField::Level, Record::Programme(r)) => r.level.as_deref(),
            (FacetField::Level, Record::Offer(r)) => r.level.as_deref(),
            (FacetField::Domain, Record::Programme(r)) => r.domain.as_deref(),
            (FacetField::Domain, Record::Company(r)) => r.sector.as_deref(),
            (FacetField::SchoolType, Record::School(r)) => r.school_type.as_deref(),
            (FacetField::Tag, Record::Question(r)) => r.tag.as_deref(),
            (FacetField::Language, Record::Programme(r)) => r.language.as_deref(),
            (FacetField::Language, Record::Offer(r)) => r.language.as_deref(),
            (FacetField::Language, Record::Question(r)) => r.language.as_deref(),
            _ => None,
        };
        v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
    }
}

/// Handles on every field of the index.
#[derive(Clone)]
pub struct IndexFields {
    /// The schema holding all of them.
    pub schema: Schema,
    /// The record's id, untokenised: look-ups by id.
    pub id: Field,
    /// Stemmed title, one field per language; a record fills its own language's.
    pub title: [(Lang, Field); 3],
    /// Stemmed body, one field per language, like `title`.
    pub body: [(Lang, Field); 3],
    /// Folded, unstemmed title words: exact name matches.
    pub name: Field,
    /// Folded, unstemmed words of title and body: prefixes and typos.
    pub words: Field,
    /// One field per [`FacetField`]: the folded value for filters, the value as written for counts.
    pub facets: Vec<(FacetField, Field)>,
    /// Stored only: the record as JSON (title, snippet text and fields of a hit come from it).
    pub stored_record: Field,
    /// Days since 1970-01-01 of an offer's posting date.
    pub posted_day: Field,
    /// Latitude of the record's place ([`crate::geo`]), when the gazetteer knows it.
    pub lat: Field,
    /// Longitude of the record's place.
    pub lon: Field,
}

fn text(analyzer: &str, with_positions: bool) -> TextOptions {
    let option = if with_positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
    TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(option))
}

impl IndexFields {
    /// The schema and its field handles (the same on every call, so a built index and an
    /// opened one agree).
    pub fn build() -> IndexFields {
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING | STORED);
        let title = Lang::ALL.map(|l| (l, b.add_text_field(&format!("title_{}", l.code()), text(l.analyzer(), true))));
        let body = Lang::ALL.map(|l| (l, b.add_text_field(&format!("body_{}", l.code()), text(l.analyzer(), true))));
        let name = b.add_text_field("name", text(FOLDED, true));
        let words = b.add_text_field("words", text(FOLDED, false));
        let facets = FacetField::ALL
            .iter()
            .map(|&f| {
                // Filters match the folded value; facets count (and show) the value as written.
                let options = TextOptions::default()
                    .set_indexing_options(TextFieldIndexing::default().set_tokenizer(KEYWORD).set_index_option(IndexRecordOption::Basic))
                    .set_fast("raw")
                    .set_stored();
                (f, b.add_text_field(f.name(), options))
            })
            .collect();
        let stored_record = b.add_text_field("stored_record", STORED);
        let posted_day = b.add_i64_field("posted_day", INDEXED | FAST);
        let lat = b.add_f64_field(geo::LAT_FIELD, FAST);
        let lon = b.add_f64_field(geo::LON_FIELD, FAST);
        IndexFields { schema: b.build(), id, title, body, name, words, facets, stored_record, posted_day, lat, lon }
    }

    /// The field holding a facet's values.
    pub fn facet(&self, f: FacetField) -> Field {
        self.facets.iter().find(|(ff, _)| *ff == f).map(|(_, field)| *field).expect("every facet has a field")
    }

    /// The tantivy document of a record.
    pub fn document(&self, record: &Record) -> TantivyDocument {
        let (title, body) = searchable_text(record);
        let lang = record_lang(record);
        let mut d = doc!(
            self.id => record.id(),
            self.name => title.as_str(),
            self.words => title.as_str(),
            self.words => body.as_str(),
            self.stored_record => serde_json::to_string(record).expect("records always serialise"),
        );
        for (l, f) in self.title {
            if l == lang {
                d.add_text(f, &title);
            }
        }
        for (l, f) in self.body {
            if l == lang {
                d.add_text(f, &body);
            }
        }
        for (facet, field) in &self.facets {
            if let Some(v) = facet.value(record) {
                d.add_text(*field, &v);
            }
        }
        if let Record::Offer(o) = record
            && let Some(day) = o.date_posted.as_deref().and_then(day_number)
        {
            d.add_i64(self.posted_day, day);
        }
        if let Some(place) = Gazetteer::shared().locate_record(record) {
            d.add_f64(self.lat, place.lat);
            d.add_f64(self.lon, place.lon);
        }
        d
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_number(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date.trim(), &format).ok().map(days_since_epoch)
}

/// Days since 1970-01-01 of a date.
pub fn days_since_epoch(date: time::Date) -> i64 {
    (date - time::OffsetDateTime::UNIX_EPOCH.date()).whole_days()
}

/// The language whose analyzer reads a record: its own tag, Flemish schools in Dutch, else French.
pub fn record_lang(record: &Record) -> Lang {
    match record {
        Record::Programme(r) => Lang::from_code(r.language.as_deref()),
        Record::Offer(r) => Lang::from_code(r.language.as_deref()),
        Record::Question(r) => Lang::from_code(r.language.as_deref()),
        Record::School(r) if r.region.as_deref() == Some("Flandre") => Lang::Nl,
        _ => Lang::Fr,
    }
}

/// (title, body): the text of a record that search reads and snippets show.
pub fn searchable_text(record: &Record) -> (String, String) {
    fn join<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
        parts.into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" · ")
    }
    match record {
        Record::School(r) => (
            r.name.clone(),
            join([
                r.school_type.as_deref(),
                r.street.as_deref(),
                r.postal_code.as_deref(),
                r.city.as_deref(),
                r.department.as_deref(),
                r.region.as_deref(),
                r.website.as_deref(),
            ]),
        ),
        Record::Programme(r) => {
            let skills = r.skills.join(", ");
            (
                r.title.clone(),
                join([
                    r.level.as_deref(),
                    r.domain.as_deref(),
                    r.school_name.as_deref(),
                    r.city.as_deref(),
                    Some(r.description.as_str()),
                    Some(skills.as_str()),
                ]),
            )
        }
        Record::Offer(r) => {
            let skills = r.skills.join(", ");
            (r.title.clone(), join([r.company_name.as_deref(), r.city.as_deref(), r.level.as_deref(), Some(r.description.as_str()), Some(skills.as_str())]))
        }
        Record::Company(r) => (r.name.clone(), join([r.sector.as_deref(), r.city.as_deref(), r.description.as_deref()])),
        Record::Question(r) => {
            let options = r.options.join(" · ");
            (r.text.clone(), join([r.tag.as_deref(), r.code.as_deref(), Some(options.as_str())]))
        }
    }
}
