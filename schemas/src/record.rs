use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{normalized_text, stable_id};

/// The kinds of records, in the order the search facets list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A [`School`].
    School,
    /// A [`Programme`].
    Programme,
    /// An [`Offer`].
    Offer,
    /// A [`Company`].
    Company,
    /// A [`Question`].
    Question,
}

impl RecordKind {
    /// Every kind, in facet order.
    pub const ALL: [RecordKind; 5] = [RecordKind::School, RecordKind::Programme, RecordKind::Offer, RecordKind::Company, RecordKind::Question];

    /// The name used in JSON (`kind`), in the store and in URLs: `school`, `programme`...
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::School => "school",
            RecordKind::Programme => "programme",
            RecordKind::Offer => "offer",
            RecordKind::Company => "company",
            RecordKind::Question => "question",
        }
    }

    /// The kind named `s` (as [`RecordKind::as_str`] writes it, surrounding spaces ignored).
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Full name as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Job title or function ("Responsable des stages", "Chargée de recrutement"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What a contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// An email address.
    Email,
    /// A voice phone number.
    Phone,
    /// A fax number (found beside a "fax" label).
    Fax,
    /// A web address.
    Website,
}

/// Where a contact came from: the page, the way it was found, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    /// The page (or file) it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// How it was found: `import`, `mailto`, `tel`, `text`, `cfemail`, `deobfuscated`, `selector`...
    pub method: String,
    /// When it was found (RFC 3339).
    pub found_at: String,
    /// Why the crawler decided the contact is the school's (`school_domain`, `official_mailbox`,
    /// `school_page`), or why it left it out (`third_party: web agency credit`, `placeholder`,
    /// `trap: hidden`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One checked contact of a school, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Email, phone, fax or website.
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
    /// Where and how it was found.
    pub provenance: Provenance,
}

/// A school, from a directory or an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct School {
    /// Stable id, derived from `source` and the key by [`Record::assign_id`]; empty on input.
    #[serde(default)]
    pub id: String,
    /// Where the record comes from (a crawl source or an import name); part of the id.
    pub source: String,
    /// The school's key in its source (UAI, FASE number, directory URL...).
    #[serde(default)]
    pub source_key: String,
    /// Official name.
    pub name: String,
    /// As the source words it ("Lycée", "Haute École", "Athénée royal"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_type: Option<String>,
    /// `public` or `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Street address (number and street).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Postal code, as text (leading zeros matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// City or municipality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// French department or Belgian province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// French or Belgian region ("Pays de la Loire", "Wallonie"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Home page URL; the crawler visits the site for contacts.
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
    /// Contacts read on the school's pages that are not the school's (a web agency's credit, a
    /// partner school, a hidden trap, a placeholder), kept out of the export; the reason is in
    /// each one's `provenance.reason`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<Contact>,
    /// Belgian FASE number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fase: Option<String>,
    /// French UAI number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uai: Option<String>,
}

/// A study programme offered by a school.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Programme {
    /// Stable id, derived from `source` and the key by [`Record::assign_id`]; empty on input.
    #[serde(default)]
    pub id: String,
    /// Where the record comes from (a crawl source or an import name); part of the id.
    pub source: String,
    /// The record's key in its source; when empty, a natural key is used (see [`Record::key`]).
    #[serde(default)]
    pub source_key: String,
    /// Name of the programme.
    pub title: String,
    /// The source key of the school record that offers it (same source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_key: Option<String>,
    /// The id of that school record, derived from `school_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    /// Name of the school, as shown with the programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_name: Option<String>,
    /// "BTS", "Bachelier", "Master"...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Field of study ("Informatique", "Agriculture"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Skills it teaches, one per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Free text presenting the programme.
    #[serde(default)]
    pub description: String,
    /// Where it is taught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region where it is taught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// As published ("2 ans", "6 mois").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// ISO 639-1 language of the text (`fr`, `nl`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether it can be followed as an apprenticeship (alternance).
    #[serde(default)]
    pub work_study: bool,
    /// The page that describes it.
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    /// A student internship (stage).
    Internship,
    /// An apprenticeship or work-study contract (alternance).
    Apprenticeship,
    /// A permanent job (CDI).
    Permanent,
    /// A fixed-term job (CDD).
    FixedTerm,
    /// None of the above, or not stated (volunteering, for instance).
    Other,
}

impl ContractType {
    /// The name used in JSON and in facets: `internship`, `fixed_term`...
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    /// Stable id, derived from `source` and the key by [`Record::assign_id`]; empty on input.
    #[serde(default)]
    pub id: String,
    /// Where the record comes from (a crawl source or an import name); part of the id.
    pub source: String,
    /// The record's key in its source; when empty, a natural key is used (see [`Record::key`]).
    #[serde(default)]
    pub source_key: String,
    /// The offer's title.
    pub title: String,
    /// The source key of the company record that posted it (same source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_key: Option<String>,
    /// The id of that company record, derived from `company_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Name of the company, as shown with the offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Internship, apprenticeship, permanent...
    pub contract_type: ContractType,
    /// Education level wanted ("Bac+2", "Bac+5"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Free text of the offer.
    #[serde(default)]
    pub description: String,
    /// Skills asked for, one per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Where the work is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region where the work is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_posted: Option<String>,
    /// `YYYY-MM-DD`; past it the offer is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_through: Option<String>,
    /// As published ("6 mois", "12 semaines").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// ISO 639-1 language of the text (`fr`, `nl`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The page that publishes it; when `source_key` is empty it is the offer's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The recruiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Person>,
    /// ROME occupation codes of the job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occupations: Vec<String>,
}

/// A company that posts offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Company {
    /// Stable id, derived from `source` and the key by [`Record::assign_id`]; empty on input.
    #[serde(default)]
    pub id: String,
    /// Where the record comes from (a crawl source or an import name); part of the id.
    pub source: String,
    /// The record's key in its source; when empty, a natural key is used (see [`Record::key`]).
    #[serde(default)]
    pub source_key: String,
    /// Trading name.
    pub name: String,
    /// Line of business ("Services numériques", "Transport et logistique"...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// City of its main site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region of its main site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 (`BE`, `FR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Home page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Free text presenting the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// "TPE", "PME", "ETI", "Grand groupe".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// A quiz question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    /// Stable id, derived from `source` and the key by [`Record::assign_id`]; empty on input.
    #[serde(default)]
    pub id: String,
    /// Where the record comes from (a crawl source or an import name); part of the id.
    pub source: String,
    /// The record's key in its source; when empty, a natural key is used (see [`Record::key`]).
    #[serde(default)]
    pub source_key: String,
    /// The question stem.
    pub text: String,
    /// Code the question is about, if any (a snippet to read, kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The answers to choose from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Index in `options` of the right answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<usize>,
    /// ISO 639-1 language of the text (`fr`, `nl`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Topic: the programming language or subject (Java, Python, PHP, .NET, UX, Bebras...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// As the source grades it (`easy`, `medium`, `hard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<String>,
}

/// One record of any kind: the line format of import and export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A school: `{"kind": "school", ...}` with the fields of [`School`] beside `kind`.
    School(School),
    /// A programme: `{"kind": "programme", ...}` with the fields of [`Programme`] beside `kind`.
    Programme(Programme),
    /// An offer: `{"kind": "offer", ...}` with the fields of [`Offer`] beside `kind`.
    Offer(Offer),
    /// A company: `{"kind": "company", ...}` with the fields of [`Company`] beside `kind`.
    Company(Company),
    /// A question: `{"kind": "question", ...}` with the fields of [`Question`] beside `kind`.
    Question(Question),
}

impl Record {
    /// Which variant this is.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::School(_) => RecordKind::School,
            Record::Programme(_) => RecordKind::Programme,
            Record::Offer(_) => RecordKind::Offer,
            Record::Company(_) => RecordKind::Company,
            Record::Question(_) => RecordKind::Question,
        }
    }

    /// The stable id (empty until [`Record::assign_id`] runs).
    pub fn id(&self) -> &str {
        match self {
            Record::School(r) => &r.id,
            Record::Programme(r) => &r.id,
            Record::Offer(r) => &r.id,
            Record::Company(r) => &r.id,
            Record::Question(r) => &r.id,
        }
    }

    /// Where the record comes from.
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
            Record::Question(r) => format!("{}|{}", normalized_text(&r.text), r.code.as_deref().map(normalized_text).unwrap_or_default()),
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
                r.school_id = r.school_key.as_deref().filter(|k| !k.trim().is_empty()).map(|k| stable_id(RecordKind::School, &r.source, k));
            }
            Record::Offer(r) => {
                r.id = id;
                r.company_id = r.company_key.as_deref().filter(|k| !k.trim().is_empty()).map(|k| stable_id(RecordKind::Company, &r.source, k));
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
