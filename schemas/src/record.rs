use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{normalized_text, stable_id};

/// The kinds of records, in the order the search facets list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    School,
    Programme,
    Offer,
    Company,
    Question,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::School,
        RecordKind::Programme,
        RecordKind::Offer,
        RecordKind::Company,
        RecordKind::Question,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::School => "school",
            RecordKind::Programme => "programme",
            RecordKind::Offer => "offer",
            RecordKind::Company => "company",
            RecordKind::Question => "question",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person to contact about a programme or an offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What a contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Phone,
    Fax,
    Website,
}

/// Where a contact came from: the page, the way it was found, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// The page (or file) it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// How it was found: `import`, `mailto`, `tel`, `text`, `cfemail`, `deobfuscated`, `selector`...
    pub method: String,
    /// When it was found (RFC 3339).
    pub found_at: String,
}

/// One checked contact of a school, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    pub kind: ContactKind,
    /// Email address (lower-cased), phone number in E.164, or URL.
    pub value: String,
    /// How a person writes it (national phone format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// A label seen beside it ("secrétariat", "direction"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Flags such as `administrative_mailbox`, `mobile`, `toll_free`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    pub provenance: Provenance,
}

/// A school, from a directory or an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct School {
    #[serde(default)]
    pub id: String,
    pub source: String,
    /// The school's key in its source (UAI, FASE number, directory URL...).
    #[serde(default)]
    pub source_key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_type: Option<String>,
    /// `public` or `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// French department or Belgian province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Email addresses as published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// Phone numbers as published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// Checked contacts with their provenance (filled by the crawler).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Belgian FASE number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fase: Option<String>,
    /// French UAI number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uai: Option<String>,
}

/// A study programme offered by a school.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Programme {
    #[serde(default)]
    pub id: String,
    pub source: String,
    #[serde(default)]
    pub source_key: String,
    pub title: String,
    /// The source key of the school record that offers it (same source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_key: Option<String>,
    /// The id of that school record, derived from `school_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_name: Option<String>,
    /// "BTS", "Bachelier", "Master"...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// ISO 639-1 language of the text (`fr`, `nl`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether it can be followed as an apprenticeship (alternance).
    #[serde(default)]
    pub work_study: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The programme manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Person>,
    /// ROME occupation codes it trains for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occupations: Vec<String>,
}

/// The kind of contract an offer proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    Internship,
    Apprenticeship,
    Permanent,
    FixedTerm,
    Other,
}

impl ContractType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractType::Internship => "internship",
            ContractType::Apprenticeship => "apprenticeship",
            ContractType::Permanent => "permanent",
            ContractType::FixedTerm => "fixed_term",
            ContractType::Other => "other",
        }
    }
}

/// An internship, apprenticeship or job offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Offer {
    #[serde(default)]
    pub id: String,
    pub source: String,
    #[serde(default)]
    pub source_key: String,
    pub title: String,
    /// The source key of the company record that posted it (same source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub contract_type: ContractType,
    /// Education level wanted ("Bac+2", "Bac+5"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_posted: Option<String>,
    /// `YYYY-MM-DD`; past it the offer is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_through: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The recruiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Person>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occupations: Vec<String>,
}

/// A company that posts offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Company {
    #[serde(default)]
    pub id: String,
    pub source: String,
    #[serde(default)]
    pub source_key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// "TPE", "PME", "ETI", "Grand groupe".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// A quiz question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Question {
    #[serde(default)]
    pub id: String,
    pub source: String,
    #[serde(default)]
    pub source_key: String,
    /// The question stem.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Index of the right option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Language tag: Java, Python, PHP, .NET, UX, Bebras...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<String>,
}

/// One record of any kind: the line format of import and export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    School(School),
    Programme(Programme),
    Offer(Offer),
    Company(Company),
    Question(Question),
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::School(_) => RecordKind::School,
            Record::Programme(_) => RecordKind::Programme,
            Record::Offer(_) => RecordKind::Offer,
            Record::Company(_) => RecordKind::Company,
            Record::Question(_) => RecordKind::Question,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Record::School(r) => &r.id,
            Record::Programme(r) => &r.id,
            Record::Offer(r) => &r.id,
            Record::Company(r) => &r.id,
            Record::Question(r) => &r.id,
        }
    }

    pub fn source(&self) -> &str {
        match self {
            Record::School(r) => &r.source,
            Record::Programme(r) => &r.source,
            Record::Offer(r) => &r.source,
            Record::Company(r) => &r.source,
            Record::Question(r) => &r.source,
        }
    }

    /// The record's key in its source; when the source gave none, a natural key made of the
    /// fields that identify it (name and place, title and company, normalised text).
    pub fn key(&self) -> String {
        let given = match self {
            Record::School(r) => &r.source_key,
            Record::Programme(r) => &r.source_key,
            Record::Offer(r) => &r.source_key,
            Record::Company(r) => &r.source_key,
            Record::Question(r) => &r.source_key,
        };
        if !given.trim().is_empty() {
            return given.trim().to_string();
        }
        let opt = |o: &Option<String>| o.as_deref().map(normalized_text).unwrap_or_default();
        match self {
            Record::School(r) => format!("{}|{}|{}", normalized_text(&r.name), opt(&r.postal_code), opt(&r.city)),
            Record::Programme(r) => format!("{}|{}", normalized_text(&r.title), opt(&r.school_name)),
            Record::Offer(r) => match &r.url {
                Some(url) if !url.trim().is_empty() => url.trim().to_string(),
                _ => format!("{}|{}|{}", normalized_text(&r.title), opt(&r.company_name), opt(&r.date_posted)),
            },
            Record::Company(r) => normalized_text(&r.name),
            Record::Question(r) => format!(
                "{}|{}",
                normalized_text(&r.text),
                r.code.as_deref().map(normalized_text).unwrap_or_default()
            ),
        }
    }

    /// Sets the stable id (and the ids of the records this one refers to) from the keys.
    pub fn assign_id(&mut self) {
        let kind = self.kind();
        let id = stable_id(kind, self.source(), &self.key());
        match self {
            Record::School(r) => r.id = id,
            Record::Programme(r) => {
                r.id = id;
                r.school_id = r
                    .school_key
                    .as_deref()
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| stable_id(RecordKind::School, &r.source, k));
            }
            Record::Offer(r) => {
                r.id = id;
                r.company_id = r
                    .company_key
                    .as_deref()
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| stable_id(RecordKind::Company, &r.source, k));
            }
            Record::Company(r) => r.id = id,
            Record::Question(r) => r.id = id,
        }
    }

    /// The name or title a person sees first.
    pub fn title(&self) -> &str {
        match self {
            Record::School(r) => &r.name,
            Record::Programme(r) => &r.title,
            Record::Offer(r) => &r.title,
            Record::Company(r) => &r.name,
            Record::Question(r) => &r.text,
        }
    }
}
