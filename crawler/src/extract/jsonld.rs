//! schema.org JSON-LD in pages: what search engines read, and the first thing the `offers` and
//! `programmes` sources look for. `JobPosting` becomes an [`Offer`];
//! `EducationalOccupationalProgram` and `Course` become a [`Programme`].
//!
//! Pages get it wrong in many ways, and none of them may lose the page: several scripts, one
//! object or an array or an `@graph`, a type as a string or a list, with or without the
//! `https://schema.org/` prefix, HTML inside descriptions, dates with times, places as text or
//! as nested objects, trailing commas and raw line breaks inside strings. A script that still
//! does not parse is counted in [`JsonLd::broken`], so the caller can fall back to its CSS
//! selectors and say why.

use std::sync::LazyLock;

use regex::Regex;
use schemas::{ContractType, Offer, Person, Programme};
use scraper::{Html, Selector};
use serde_json::Value;

use crate::extract::text::{squash, visible_text};

/// The JSON-LD nodes of a page, flattened.
#[derive(Debug, Default)]
pub struct JsonLd {
    /// Every object of every script, arrays and `@graph`s opened.
    pub nodes: Vec<Value>,
    /// Scripts that were not JSON even after the usual repairs.
    pub broken: usize,
}

static SCRIPT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script[type]").expect("selector"));
static TRAILING_COMMA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r",(\s*[}\]])").expect("pattern"));
static ISO_DURATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$").expect("pattern"));
/// A ROME occupation code (`M1805`).
pub(crate) static ROME_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-N]\d{4}\b").expect("pattern"));

/// Reads every `<script type="application/ld+json">` of a page.
pub fn json_ld(html: &Html) -> JsonLd {
    let mut out = JsonLd::default();
    for script in html.select(&SCRIPT) {
        let kind = script.value().attr("type").unwrap_or("").trim().to_ascii_lowercase();
        if !kind.starts_with("application/ld+json") {
            continue;
        }
        let text: String = script.text().collect();
        match parse_lenient(&text) {
            Some(value) => flatten(value, &mut out.nodes),
            None => out.broken += 1,
        }
    }
    out
}

/// JSON, or JSON once the usual mistakes are repaired: HTML comment or CDATA wrappers, trailing
/// commas, raw control characters (line breaks typed inside strings).
fn parse_lenient(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    let unwrapped = trimmed
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_start_matches("<![CDATA[")
        .trim_end_matches("//]]>")
        .trim_end_matches("]]>")
        .trim();
    let spaced: String = unwrapped.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let repaired = TRAILING_COMMA.replace_all(&spaced, "$1");
    serde_json::from_str(&repaired).ok()
}

/// Arrays and `@graph`s opened; every object kept (nested objects stay inside their parent).
fn flatten(value: Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out)),
        Value::Object(mut map) => {
            if let Some(graph) = map.remove("@graph") {
                flatten(graph, out);
            }
            if map.keys().any(|k| k != "@context") {
                out.push(Value::Object(map));
            }
        }
        _ => {}
    }
}

/// The node's types, without a schema.org prefix.
fn types(node: &Value) -> Vec<&str> {
    match node.get("@type") {
        Some(Value::String(t)) => vec![short_type(t)],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(short_type).collect(),
        _ => Vec::new(),
    }
}

fn short_type(t: &str) -> &str {
    t.rsplit(['/', ':', '#']).next().unwrap_or(t)
}

/// Nodes of one of `wanted` types.
pub fn of_type<'a>(nodes: &'a [Value], wanted: &[&str]) -> Vec<&'a Value> {
    nodes.iter().filter(|n| types(n).iter().any(|t| wanted.contains(t))).collect()
}

/// Plain text of a value that may hold HTML: tags dropped, entities decoded, paragraphs kept as
/// line breaks, spaces collapsed.
pub fn clean_text(value: &str) -> String {
    let text = if value.contains('<') || value.contains('&') {
        let fragment = Html::parse_fragment(value);
        visible_text(fragment.root_element())
    } else {
        value.to_string()
    };
    text.lines().map(squash).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// A string field, or the `name` of an object, or the first of a list; cleaned.
fn text(node: &Value, key: &str) -> Option<String> {
    fn of(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(clean_text(s)).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            Value::Object(_) => v.get("name").and_then(of).or_else(|| v.get("value").and_then(of)),
            Value::Array(list) => list.iter().find_map(of),
            _ => None,
        }
    }
    node.get(key).and_then(of)
}

/// A list of strings from a string (comma separated) or a list.
fn list(node: &Value, key: &str) -> Vec<String> {
    let items: Vec<String> = match node.get(key) {
        Some(Value::String(s)) => clean_text(s).split([',', ';', '\n']).map(str::trim).map(str::to_string).collect(),
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(clean_text(s)),
                Value::Object(_) => v.get("name").and_then(Value::as_str).map(clean_text),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for item in items.into_iter().filter(|i| !i.is_empty()) {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `YYYY-MM-DD` of a date or date-time.
fn date(node: &Value, key: &str) -> Option<String> {
    let raw = node.get(key)?.as_str()?.trim();
    let day = raw.get(..10)?;
    let ok = day.len() == 10 && day.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    ok.then(|| day.to_string())
}

/// The country as an ISO code when it can be told.
fn country(value: &str) -> String {
    let v = value.trim();
    match v.to_lowercase().as_str() {
        "belgique" | "belgium" | "belgië" | "belgie" | "be" => "BE".into(),
        "france" | "fr" => "FR".into(),
        "nederland" | "pays-bas" | "netherlands" | "nl" => "NL".into(),
        "luxembourg" | "lu" => "LU".into(),
        _ if v.len() == 2 => v.to_uppercase(),
        _ => v.to_string(),
    }
}

/// (city, region, country) of a place: a `Place` with an `address`, a `PostalAddress`, or text.
fn place(value: Option<&Value>) -> (Option<String>, Option<String>, Option<String>) {
    let Some(value) = value else { return (None, None, None) };
    let value = match value {
        Value::Array(list) => match list.first() {
            Some(first) => first,
            None => return (None, None, None),
        },
        v => v,
    };
    if let Value::String(s) = value {
        return (Some(clean_text(s)).filter(|s| !s.is_empty()), None, None);
    }
    let address = value.get("address").unwrap_or(value);
    if let Value::String(s) = address {
        return (Some(clean_text(s)).filter(|s| !s.is_empty()), None, None);
    }
    (text(address, "addressLocality"), text(address, "addressRegion"), text(address, "addressCountry").map(|c| country(&c)))
}

/// A contact point or person: name, role, email (without `mailto:`), telephone.
fn person(value: Option<&Value>) -> Option<Person> {
    let value = match value? {
        Value::Array(list) => list.first()?,
        v => v,
    };
    let email = text(value, "email").map(|e| e.trim_start_matches("mailto:").trim().to_string());
    let p = Person {
        name: text(value, "name"),
        role: text(value, "jobTitle").or_else(|| text(value, "contactType")),
        email: email.filter(|e| e.contains('@')),
        phone: text(value, "telephone"),
    };
    (p.name.is_some() || p.email.is_some() || p.phone.is_some()).then_some(p)
}

/// schema.org `employmentType` (or a French or Dutch word for it) as a contract type.
pub fn contract_type(values: &[String]) -> ContractType {
    let joined = values.join(" ").to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| joined.contains(w));
    if has(&["intern", "stage", "stagiair", "internship"]) {
        ContractType::Internship
    } else if has(&["apprenti", "alternance", "work-study", "work study", "duaal", "leercontract"]) {
        ContractType::Apprenticeship
    } else if has(&["temporary", "contractor", "cdd", "fixed", "interim", "intérim", "tijdelijk"]) {
        ContractType::FixedTerm
    } else if has(&["full_time", "full-time", "part_time", "part-time", "cdi", "permanent", "vast"]) {
        ContractType::Permanent
    } else {
        ContractType::Other
    }
}

fn rome_codes(node: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in ["occupationalCategory", "occupationalCredentialAwarded"] {
        let raw = match node.get(key) {
            Some(v) => v.to_string(),
            None => continue,
        };
        for m in ROME_CODE.find_iter(&raw) {
            if !out.iter().any(|c| c == m.as_str()) {
                out.push(m.as_str().to_string());
            }
        }
    }
    out
}

/// An offer from a `JobPosting` node; `page` is the page's URL (the offer's when it gives none).
pub fn offer(node: &Value, source: &str, page: &str) -> Result<Offer, String> {
    let title = text(node, "title").or_else(|| text(node, "name")).ok_or("JobPosting without `title`")?;
    let url = text(node, "url").unwrap_or_else(|| page.to_string());
    let key = node.get("identifier").and_then(|i| text(i, "value").or_else(|| i.as_str().map(str::to_string))).unwrap_or_else(|| url.clone());
    let (city, region, country) = place(node.get("jobLocation"));
    let company = node.get("hiringOrganization");
    let level = text(node, "educationRequirements").or_else(|| node.get("educationRequirements").and_then(|e| text(e, "credentialCategory")));
    Ok(Offer {
        id: String::new(),
        source: source.to_string(),
        source_key: key,
        title,
        company_key: None,
        company_id: None,
        company_name: company.and_then(|c| if c.is_string() { c.as_str().map(clean_text) } else { text(c, "name") }),
        contract_type: contract_type(&list(node, "employmentType")),
        level,
        description: text(node, "description").unwrap_or_default(),
        skills: list(node, "skills"),
        city,
        region,
        country,
        date_posted: date(node, "datePosted"),
        valid_through: date(node, "validThrough"),
        duration: None,
        language: text(node, "inLanguage"),
        url: Some(url),
        contact: person(node.get("applicationContact")).or_else(|| company.and_then(|c| person(c.get("contactPoint")))),
        occupations: rome_codes(node),
    })
}

/// `P2Y`, `P18M`, `P14W`, `P10D` in words.
fn duration(iso: &str) -> String {
    let Some(c) = ISO_DURATION.captures(iso.trim()) else { return iso.trim().to_string() };
    let parts: Vec<String> = [(1, "an", "ans"), (2, "mois", "mois"), (3, "semaine", "semaines"), (4, "jour", "jours")]
        .iter()
        .filter_map(|(i, one, many)| {
            let n: u32 = c.get(*i)?.as_str().parse().ok()?;
            Some(format!("{n} {}", if n == 1 { one } else { many }))
        })
        .collect();
    if parts.is_empty() { iso.trim().to_string() } else { parts.join(" ") }
}

/// A programme from an `EducationalOccupationalProgram` or `Course` node.
pub fn programme(node: &Value, source: &str, page: &str) -> Result<Programme, String> {
    let title = text(node, "name").ok_or("programme without `name`")?;
    let url = text(node, "url").unwrap_or_else(|| page.to_string());
    let provider = node.get("provider");
    let (city, region, country) = match place(node.get("location")) {
        (None, None, None) => place(provider.and_then(|p| p.get("address"))),
        found => found,
    };
    let mode = [text(node, "educationalProgramMode"), text(node, "courseMode")].into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut skills = list(node, "teaches");
    if skills.is_empty() {
        skills = list(node, "competencyRequired");
    }
    Ok(Programme {
        id: String::new(),
        source: source.to_string(),
        source_key: url.clone(),
        title,
        school_key: None,
        school_id: None,
        school_name: provider.and_then(|p| if p.is_string() { p.as_str().map(clean_text) } else { text(p, "name") }),
        level: text(node, "educationalCredentialAwarded").or_else(|| text(node, "educationalLevel")),
        domain: text(node, "occupationalCategory").filter(|d| !ROME_CODE.is_match(d)).or_else(|| text(node, "about")),
        skills,
        description: text(node, "description").unwrap_or_default(),
        city,
        region,
        country,
        duration: node.get("timeToComplete").and_then(Value::as_str).map(duration),
        language: text(node, "inLanguage"),
        work_study: ["alternance", "work-study", "work study", "apprenti", "duaal"].iter().any(|w| mode.contains(w)),
        url: Some(url),
        contact: person(node.get("contactPoint")).or_else(|| provider.and_then(|p| person(p.get("contactPoint")))),
        occupations: rome_codes(node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(scripts: &[&str]) -> Html {
        let body: String = scripts.iter().map(|s| format!("<script type=\"application/ld+json\">{s}</script>")).collect();
        Html::parse_document(&format!("<html><head>{body}</head><body><p>x</p></body></html>"))
    }

    #[test]
    fn graphs_arrays_prefixes_and_broken_scripts() {
        let html = page(&[
            r#"{"@context": "https://schema.org", "@graph": [{"@type": "Organization", "name": "A"}, {"@type": "JobPosting", "title": "Stage"}]}"#,
            r#"[{"@type": ["https://schema.org/Course"], "name": "C"}]"#,
            "{\"@type\": \"JobPosting\", \"title\": \"Ligne\nbrisée\", \"skills\": [\"SQL\",],}",
            r#"{"@type": "JobPosting", "title": "#,
        ]);
        let ld = json_ld(&html);
        assert_eq!(ld.broken, 1);
        assert_eq!(of_type(&ld.nodes, &["JobPosting"]).len(), 2);
        assert_eq!(of_type(&ld.nodes, &["Course", "EducationalOccupationalProgram"]).len(), 1);
        let repaired = of_type(&ld.nodes, &["JobPosting"])[1];
        assert_eq!(offer(repaired, "s", "https://x.test/o").unwrap().title, "Ligne brisée");
    }

    #[test]
    fn a_job_posting_becomes_an_offer() {
        let node: Value = serde_json::from_str(
            r#"{"@type": "JobPosting", "title": "Stagiaire développeur <b>Java</b>",
            "description": "<p>Vous rejoindrez l&#39;équipe.</p><ul><li>Spring Boot</li><li>SQL</li></ul>",
            "identifier": {"@type": "PropertyValue", "value": "REF-12"},
            "hiringOrganization": {"@type": "Organization", "name": "Nivelys", "contactPoint": {"email": "mailto:rh@nivelys.test"}},
            "employmentType": ["INTERN", "FULL_TIME"], "datePosted": "2026-07-07T09:00:00+02:00", "validThrough": "2026-08-10",
            "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Namur", "addressRegion": "Wallonie", "addressCountry": {"@type": "Country", "name": "Belgique"}}},
            "skills": "Java, Spring Boot; SQL", "educationRequirements": {"@type": "EducationalOccupationalCredential", "credentialCategory": "Bac+3"},
            "occupationalCategory": "M1805 Études et développement informatique"}"#,
        )
        .unwrap();
        let o = offer(&node, "jobs", "https://jobs.test/12").unwrap();
        assert_eq!(o.title, "Stagiaire développeur Java");
        assert_eq!(o.description, "Vous rejoindrez l'équipe.\nSpring Boot\nSQL");
        assert_eq!(o.source_key, "REF-12");
        assert_eq!(o.company_name.as_deref(), Some("Nivelys"));
        assert_eq!(o.contract_type, ContractType::Internship);
        assert_eq!((o.date_posted.as_deref(), o.valid_through.as_deref()), (Some("2026-07-07"), Some("2026-08-10")));
        assert_eq!((o.city.as_deref(), o.region.as_deref(), o.country.as_deref()), (Some("Namur"), Some("Wallonie"), Some("BE")));
        assert_eq!(o.skills, ["Java", "Spring Boot", "SQL"]);
        assert_eq!(o.level.as_deref(), Some("Bac+3"));
        assert_eq!(o.occupations, ["M1805"]);
        assert_eq!(o.contact.unwrap().email.as_deref(), Some("rh@nivelys.test"));
        assert_eq!(o.url.as_deref(), Some("https://jobs.test/12"));
        assert!(offer(&serde_json::json!({"@type": "JobPosting"}), "s", "u").unwrap_err().contains("title"));
    }

    #[test]
    fn a_programme_page_becomes_a_programme() {
        let node: Value = serde_json::from_str(
            r#"{"@type": "EducationalOccupationalProgram", "name": "BTS SIO option SLAM", "url": "https://lycee.test/bts",
            "provider": {"@type": "CollegeOrUniversity", "name": "Lycée Test", "address": {"addressLocality": "Nantes", "addressCountry": "FR"},
                         "contactPoint": {"name": "H. Caradec", "contactType": "Coordinatrice", "telephone": "02 44 76 35 00"}},
            "educationalCredentialAwarded": "BTS", "timeToComplete": "P2Y", "educationalProgramMode": "alternance possible",
            "teaches": ["Java", "SQL"], "occupationalCategory": ["M1805", "M1855"], "inLanguage": "fr"}"#,
        )
        .unwrap();
        let p = programme(&node, "lycee", "https://lycee.test/page").unwrap();
        assert_eq!(p.title, "BTS SIO option SLAM");
        assert_eq!(p.school_name.as_deref(), Some("Lycée Test"));
        assert_eq!((p.city.as_deref(), p.country.as_deref()), (Some("Nantes"), Some("FR")));
        assert_eq!(p.duration.as_deref(), Some("2 ans"));
        assert!(p.work_study);
        assert_eq!(p.skills, ["Java", "SQL"]);
        assert_eq!(p.occupations, ["M1805", "M1855"]);
        assert_eq!(p.contact.as_ref().and_then(|c| c.role.as_deref()), Some("Coordinatrice"));
        assert_eq!(p.url.as_deref(), Some("https://lycee.test/bts"));
    }

    #[test]
    fn contract_types_in_several_languages() {
        let c = |s: &str| contract_type(&[s.to_string()]);
        assert_eq!(c("INTERN"), ContractType::Internship);
        assert_eq!(c("Contrat en alternance"), ContractType::Apprenticeship);
        assert_eq!(c("CDD"), ContractType::FixedTerm);
        assert_eq!(c("FULL_TIME"), ContractType::Permanent);
        assert_eq!(c("VOLUNTEER"), ContractType::Other);
    }
}
