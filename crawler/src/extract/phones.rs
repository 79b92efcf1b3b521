//! Phone numbers in text: candidates by shape, then parsed and validated with libphonenumber's
//! metadata (the `phonenumber` crate) in the page's country. Premium-rate numbers are refused;
//! emergency and short numbers never have a valid shape; numbers that continue a longer run of
//! digits (IBANs, company numbers) are not phones.

use std::sync::LazyLock;

use phonenumber::country::Id;
use phonenumber::{Mode, Type};
use regex::Regex;

/// International (`+32 (0)81 22 33 44`, `0032 81...`) or national (`081/22.33.44`) shapes.
static CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:(?:\+|00)\s?\d{2,3}[\s.]?(?:\(0\)\s?)?|\(?0)\d(?:\)?[\s./-]{0,3}\(?\d){6,10}").expect("valid regex"));
/// Belgian company numbers (`0123.456.789`) look like phones.
static COMPANY_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^0\d{3}\.\d{3}\.\d{3}$").expect("valid regex"));

/// A phone number found and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// `+3281223344`: the number's identity (deduplication, export).
    pub e164: String,
    /// `081 22 33 44`: as people of its country write it.
    pub national: String,
    /// A mobile number by libphonenumber's metadata.
    pub mobile: bool,
    /// A free-call number (`0800`).
    pub toll_free: bool,
    /// Labelled as a fax on its line (only [`find`] can tell).
    pub fax: bool,
    /// The label read before it ("Tél.", "Secrétariat"...), if any.
    pub label: Option<String>,
}

/// Parses one number as written (a `tel:` link or a candidate).
pub fn parse(text: &str, country: Option<Id>) -> Option<Phone> {
    check(text, country).ok()
}

/// Why a number that parses is still not a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a valid number (or not one at all).
    Invalid,
    /// A premium-rate number (`0900`, `08 99`): a trap for the export, in E.164.
    Premium(String),
}

/// Parses one number as written, and says why it is refused.
pub fn check(text: &str, country: Option<Id>) -> Result<Phone, Refused> {
    let cleaned = text.replace("(0)", "");
    let number = phonenumber::parse(country, cleaned.trim()).map_err(|_| Refused::Invalid)?;
    if !number.is_valid() {
        return Err(Refused::Invalid);
    }
    let kind = number.number_type(&phonenumber::metadata::DATABASE);
    if kind == Type::PremiumRate {
        return Err(Refused::Premium(number.format().mode(Mode::E164).to_string()));
    }
    if matches!(kind, Type::Emergency | Type::ShortCode | Type::Unknown) {
        return Err(Refused::Invalid);
    }
    Ok(Phone {
        e164: number.format().mode(Mode::E164).to_string(),
        national: number.format().mode(Mode::National).to_string(),
        mobile: kind == Type::Mobile,
        toll_free: kind == Type::TollFree,
        fax: false,
        label: None,
    })
}

const FAX_LABELS: &[&str] = &["fax", "télécopie", "telecopie", "télécopieur", "telefax"];
const PHONE_LABELS: &[&str] = &["tél", "tel", "téléphone", "telephone", "phone", "gsm", "mobile", "portable", "telefoon", "standard", "onthaal"];

/// Every valid phone number in `text`.
pub fn find(text: &str, country: Option<Id>) -> Vec<Phone> {
    find_checked(text, country).0.into_iter().map(|(_, p)| p).collect()
}

/// A premium-rate number refused: (byte offset, E.164).
pub type Premium = (usize, String);

/// Every valid phone number in `text` with its byte offset, and the premium-rate numbers
/// refused (offset, E.164).
pub fn find_checked(text: &str, country: Option<Id>) -> (Vec<(usize, Phone)>, Vec<Premium>) {
    let mut out = Vec::new();
    let mut premium = Vec::new();
    for m in CANDIDATE.find_iter(text) {
        let before = &text[..m.start()];
        let after = &text[m.end()..];
        // Part of a longer number (IBAN groups, reference numbers): not a phone.
        let prev: Vec<char> = before.chars().rev().take(2).collect();
        if prev.first().is_some_and(|c| c.is_alphanumeric())
            || (prev.first().is_some_and(|c| matches!(c, ' ' | '.' | '-')) && prev.get(1).is_some_and(|c| c.is_ascii_digit()))
            || after.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            continue;
        }
        let candidate = m.as_str().trim();
        if COMPANY_NUMBER.is_match(candidate) {
            continue;
        }
        let line = label_line(before);
        let lower = line.to_lowercase();
        let context = last_chars(&lower, 60);
        if ["iban", "bic", "bce", "tva", "btw", "compte", "n° d'entreprise", "numéro d'entreprise"].iter().any(|w| context.contains(w)) {
            continue;
        }
        let mut phone = match check(candidate, country) {
            Ok(p) => p,
            Err(Refused::Premium(e164)) => {
                premium.push((m.start(), e164));
                continue;
            }
            Err(Refused::Invalid) => continue,
        };
        phone.fax = last_label(context).is_some_and(|l| FAX_LABELS.contains(&l));
        phone.label = label_text(line);
        out.push((m.start(), phone));
    }
    (out, premium)
}

/// The words before a number on its line; when the number starts its line, the line before
/// it if that line is a short label alone ("Télécopie" in one element, the number in the next).
fn label_line(before: &str) -> &str {
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &before[line_start..];
    if !line.trim().is_empty() {
        return line;
    }
    let above = before[..line_start].trim_end();
    let above_start = above.rfind('\n').map_or(0, |i| i + 1);
    let label = above[above_start..].trim();
    let lower = label.to_lowercase();
    let is_label =
        label.chars().count() <= 30 && !label.chars().any(|c| c.is_ascii_digit()) && FAX_LABELS.iter().chain(PHONE_LABELS).any(|l| lower.contains(l));
    if is_label { label } else { line }
}

/// The last `n` characters of `text` (cut on a character, never inside one).
fn last_chars(text: &str, n: usize) -> &str {
    let start = text.char_indices().rev().take(n).last().map_or(text.len(), |(i, _)| i);
    &text[start..]
}

/// The label nearest before the number, among phone and fax labels.
fn last_label(context: &str) -> Option<&'static str> {
    FAX_LABELS.iter().chain(PHONE_LABELS).filter_map(|l| context.rfind(l).map(|i| (i, *l))).max_by_key(|(i, l)| (*i, l.len())).map(|(_, l)| l)
}

/// A short label written before a number on its line ("Secrétariat", "Direction").
fn label_text(line: &str) -> Option<String> {
    let t = line.trim().trim_end_matches([':', '-', '–', '.', ' ']).trim();
    let t = t.rsplit(['|', '·', ';', ',']).next().unwrap_or("").trim();
    (!t.is_empty() && t.chars().count() <= 40).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(text: &str, country: Id) -> Vec<String> {
        find(text, Some(country)).into_iter().map(|p| p.e164).collect()
    }

    #[test]
    fn belgian_and_french_shapes() {
        assert_eq!(e164("Tél. : 081 22 33 44", Id::BE), vec!["+3281223344"]);
        assert_eq!(e164("081/22.33.44", Id::BE), vec!["+3281223344"]);
        assert_eq!(e164("+32 (0)81 22 33 44", Id::BE), vec!["+3281223344"]);
        assert_eq!(e164("0032 81 22 33 44", Id::FR), vec!["+3281223344"]);
        assert_eq!(e164("02/512.34.56", Id::BE), vec!["+3225123456"]);
        assert_eq!(e164("GSM 0470 12 34 56", Id::BE), vec!["+32470123456"]);
        assert_eq!(e164("02 40 61 93 61", Id::FR), vec!["+33240619361"]);
        assert_eq!(e164("02.40.61.93.61 ou 0240619361", Id::FR), vec!["+33240619361", "+33240619361"]);
        assert_eq!(e164("+33 (0)2 40 61 93 61", Id::BE), vec!["+33240619361"]);
        assert_eq!(e164("Responsable : Tom (coordinator) – tom@helumiere.be – 02 647 18 44", Id::BE), vec!["+3226471844"]);
        assert_eq!(e164("Contact: Dr Laura – laura@uni-iris.eu – 0032 2 738 40 26", Id::BE), vec!["+3227384026"]);
    }

    #[test]
    fn the_country_decides_national_numbers() {
        assert_eq!(e164("081-731234", Id::BE), vec!["+3281731234"]);
        assert!(e164("081-731234", Id::FR).is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_phone() {
        for text in [
            "En cas d'urgence, appelez le 112 ou le 101.",
            "IBAN BE68 5390 0754 7034",
            "BE68 5390 0754 7034",
            "Numéro d'entreprise : BE 0123.456.789",
            "0123.456.789",
            "Année scolaire 2025-2026",
            "Code postal 5000 Namur, FASE 4318",
            "Infoline 0900 12 345",
            "08 99 23 45 67",
        ] {
            assert!(e164(text, Id::BE).is_empty() && e164(text, Id::FR).is_empty(), "{text}: {:?}", e164(text, Id::BE));
        }
    }

    #[test]
    fn fax_is_kept_apart_and_mobiles_flagged() {
        let found = find("Tél. 081 22 33 44 – Fax : 081 22 33 45\nGSM : 0470 12 34 56", Some(Id::BE));
        assert_eq!(found.len(), 3);
        assert!(!found[0].fax && found[1].fax && !found[2].fax);
        assert!(found[2].mobile);
    }

    #[test]
    fn a_label_in_the_element_before_the_number() {
        let found = find("\nTélécopie\n\n065 33 44 56\n\nTéléphone\n065 33 44 55\n\nHoraires\n065 33 44 54", Some(Id::BE));
        assert_eq!(found.iter().map(|p| p.fax).collect::<Vec<_>>(), vec![true, false, false]);
        assert_eq!(found[0].label.as_deref(), Some("Télécopie"));
    }

    #[test]
    fn premium_numbers_are_refused_and_told() {
        let (found, premium) = find_checked("Infoline 0900 12 345 ou 081 22 33 44", Some(Id::BE));
        assert_eq!(found.len(), 1);
        assert_eq!(premium, vec![(9, "+3290012345".to_string())]);
        assert_eq!(check("09 223 45 67", Some(Id::BE)).map(|p| p.e164), Ok("+3292234567".to_string()));
        assert_eq!(check("09 123 45 67", Some(Id::BE)).map(|p| p.e164), Err(Refused::Invalid), "Ghent numbers are 092 to 094");
    }

    #[test]
    fn a_long_contact_line_with_an_em_dash_before_the_number() {
        // The context before a number used to be cut 60 bytes back, and panicked when the cut
        // fell inside a multi-byte character (here the em dash, 3 bytes).
        let line = "Direction — secrétariat et inscriptions, du lundi au vendredi, tél. 081 22 33 44";
        assert_eq!(e164(line, Id::BE), vec!["+3281223344"]);
        // Every cut position inside and around the dash.
        for pad in 50..60 {
            let line = format!("Mme Dupont — {}: 081 22 33 44", "x".repeat(pad));
            assert_eq!(e164(&line, Id::BE), vec!["+3281223344"], "{line}");
        }
        assert_eq!(last_chars("tél — 0", 3), "— 0");
        assert_eq!(last_chars("é", 5), "é");
        assert_eq!(last_chars("é", 0), "");
    }
}
