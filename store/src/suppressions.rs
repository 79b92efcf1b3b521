//! The suppression list: the e-mail addresses, domains and phone numbers whose owners objected
//! to being contacted (the right to object). Nothing on it is exported again.
//!
//! Entries are kept in one canonical form: an address lower-cased (`info@ecole.be`), a domain
//! with its `@` (`@ecole.be`, which also covers `mail.ecole.be`), a phone as `+` and its digits
//! (`+3281234567`, the E.164 form the crawler stores).

use std::collections::HashSet;
use std::fmt;

use rusqlite::params;
use serde::Serialize;

use crate::store::{RecordStore, StoreError};

/// One entry of the suppression list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Suppression {
    /// One address, lower-cased.
    Email(String),
    /// Every address at this domain or under it, lower-cased, without the `@`.
    Domain(String),
    /// One number: `+` and its digits (E.164).
    Phone(String),
}

const PHONE_HINT: &str = "write a phone in international form, e.g. +32 81 23 45 67";

fn valid_domain(domain: &str) -> bool {
    domain.contains('.')
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-') && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl Suppression {
    /// Reads `name@example.be` (an address), `@example.be` (a domain) or `+32 81 23 45 67` (a
    /// phone in international form; spaces, dots, dashes, slashes, brackets and a `(0)` are
    /// allowed and dropped). Anything else is refused with what to write instead.
    pub fn parse(s: &str) -> Result<Suppression, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err(format!("an empty value: write an e-mail (name@example.be), a domain (@example.be) or a phone ({PHONE_HINT})"));
        }
        if let Some(domain) = t.strip_prefix('@') {
            let domain = domain.trim().trim_end_matches('.').to_lowercase();
            if !valid_domain(&domain) {
                return Err(format!("`{t}`: not a domain; write a domain as @example.be"));
            }
            return Ok(Suppression::Domain(domain));
        }
        if t.contains('@') {
            let email = t.to_lowercase();
            let valid = match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty() && !domain.contains('@') && !email.chars().any(char::is_whitespace) && valid_domain(domain.trim_end_matches('.'))
                }
                None => false,
            };
            if !valid {
                return Err(format!("`{t}`: not an e-mail address; write it as name@example.be"));
            }
            return Ok(Suppression::Email(email.trim_end_matches('.').to_string()));
        }
        let Some(rest) = t.strip_prefix('+') else {
            return Err(format!("`{t}`: not an e-mail (name@example.be) nor a domain (@example.be); {PHONE_HINT}"));
        };
        // `+32 (0)81 ...`: the national trunk 0 written in brackets is not dialled from abroad.
        let rest = rest.replacen("(0)", "", 1);
        if !rest.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '/' | '(' | ')')) {
            return Err(format!("`{t}`: a phone holds only digits after the `+`; {PHONE_HINT}"));
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(format!("`{t}`: not a phone number in international form (a country code, then 6 to 14 digits); {PHONE_HINT}"));
        }
        Ok(Suppression::Phone(format!("+{digits}")))
    }

    /// The canonical form stored: `info@ecole.be`, `@ecole.be` or `+3281234567`.
    pub fn value(&self) -> String {
        match self {
            Suppression::Email(e) => e.clone(),
            Suppression::Domain(d) => format!("@{d}"),
            Suppression::Phone(p) => p.clone(),
        }
    }

    /// `email`, `domain` or `phone`.
    pub fn kind(&self) -> &'static str {
        match self {
            Suppression::Email(_) => "email",
            Suppression::Domain(_) => "domain",
            Suppression::Phone(_) => "phone",
        }
    }
}

impl fmt::Display for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value())
    }
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuppressionEntry {
    /// The canonical form ([`Suppression::value`]).
    pub value: String,
    /// `email`, `domain` or `phone`.
    pub kind: String,
    /// Why it was added, if someone said.
    pub reason: Option<String>,
    /// When it was added, RFC 3339.
    pub added_at: String,
}

/// The whole list, loaded once, to check contacts against it.
#[derive(Debug, Clone, Default)]
pub struct SuppressionList {
    emails: HashSet<String>,
    domains: HashSet<String>,
    phones: HashSet<String>,
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

impl SuppressionList {
    /// A list of these entries.
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a Suppression>) -> Self {
        let mut list = Self::default();
        for entry in entries {
            match entry {
                Suppression::Email(e) => list.emails.insert(e.clone()),
                Suppression::Domain(d) => list.domains.insert(d.clone()),
                Suppression::Phone(p) => list.phones.insert(digits(p)),
            };
        }
        list
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.domains.is_empty() && self.phones.is_empty()
    }

    /// Whether `email` is on the list: the address itself (ignoring case), its domain, or a
    /// parent domain (`@example.be` covers `a@mail.example.be`).
    pub fn is_email_suppressed(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        if self.emails.contains(&email) {
            return true;
        }
        let Some((_, domain)) = email.rsplit_once('@') else {
            return false;
        };
        let mut domain = domain.trim_end_matches('.');
        loop {
            if self.domains.contains(domain) {
                return true;
            }
            match domain.split_once('.') {
                Some((_, parent)) => domain = parent,
                None => return false,
            }
        }
    }

    /// Whether `phone` (E.164, e.g. `+3281234567`) is on the list; only the digits are
    /// compared, so `+32 81 23 45 67` is the same number.
    pub fn is_phone_suppressed(&self, phone: &str) -> bool {
        let d = digits(phone);
        !d.is_empty() && self.phones.contains(&d)
    }
}

impl RecordStore {
    /// Adds `s` to the suppression list; `false` when it was already there (its reason and date
    /// are kept).
    pub fn suppress(&mut self, s: &Suppression, reason: Option<&str>) -> Result<bool, StoreError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO suppressions (value, kind, reason, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![s.value(), s.kind(), reason, schemas::now_rfc3339()],
        )?;
        Ok(n > 0)
    }

    /// Removes an entry, written as it was added (in any of the forms [`Suppression::parse`]
    /// reads) or as [`RecordStore::suppressions`] lists it; `false` when it was not there.
    pub fn unsuppress(&mut self, value: &str) -> Result<bool, StoreError> {
        let canonical = Suppression::parse(value).map(|s| s.value()).unwrap_or_else(|_| value.trim().to_lowercase());
        Ok(self.conn().execute("DELETE FROM suppressions WHERE value = ?1", [canonical])? > 0)
    }

    /// Every entry, by kind then value.
    pub fn suppressions(&self) -> Result<Vec<SuppressionEntry>, StoreError> {
        let mut stmt = self.conn().prepare("SELECT value, kind, reason, added_at FROM suppressions ORDER BY kind, value")?;
        let rows = stmt.query_map([], |row| Ok(SuppressionEntry { value: row.get(0)?, kind: row.get(1)?, reason: row.get(2)?, added_at: row.get(3)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The list, to check contacts against it.
    pub fn suppression_list(&self) -> Result<SuppressionList, StoreError> {
        let entries: Vec<Suppression> = self
            .suppressions()?
            .into_iter()
            .filter_map(|e| match e.kind.as_str() {
                "email" => Some(Suppression::Email(e.value)),
                "domain" => Some(Suppression::Domain(e.value.trim_start_matches('@').to_string())),
                "phone" => Some(Suppression::Phone(e.value)),
                _ => None,
            })
            .collect();
        Ok(SuppressionList::new(&entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(Suppression::parse("  Direction@Ecole-Saint-Luc.BE ").unwrap(), Suppression::Email("direction@ecole-saint-luc.be".into()));
        assert_eq!(Suppression::parse("@Lycee-Angers.FR").unwrap(), Suppression::Domain("lycee-angers.fr".into()));
        assert_eq!(Suppression::parse("@Lycee-Angers.FR").unwrap().value(), "@lycee-angers.fr");
        assert_eq!(Suppression::parse("+32 81 23 45 67").unwrap(), Suppression::Phone("+3281234567".into()));
        assert_eq!(Suppression::parse("+32 (0)81/23.45-67").unwrap(), Suppression::Phone("+3281234567".into()));
        assert_eq!(Suppression::parse("+33 2 41 00 00 00").unwrap().kind(), "phone");
        let err = Suppression::parse("081 23 45 67").unwrap_err();
        assert!(err.contains("international form, e.g. +32 81 23 45 67"), "{err}");
        for bad in ["", "@", "@localhost", "a@b@c.be", "nom @ecole.be", "@ecole..be", "+32 81 ab", "+12", "+0032 81 23 45 67", "secrétariat"] {
            assert!(Suppression::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_list_covers_addresses_domains_their_subdomains_and_phones() {
        let entries =
            [Suppression::parse("direction@ecole.be").unwrap(), Suppression::parse("@example.be").unwrap(), Suppression::parse("+32 81 23 45 67").unwrap()];
        let list = SuppressionList::new(&entries);
        assert!(list.is_email_suppressed("Direction@Ecole.be"));
        assert!(!list.is_email_suppressed("secretariat@ecole.be"));
        assert!(list.is_email_suppressed("info@example.be"));
        assert!(list.is_email_suppressed("a@mail.example.be"), "a parent domain covers its subdomains");
        assert!(list.is_email_suppressed("a@x.mail.EXAMPLE.be"));
        assert!(!list.is_email_suppressed("a@notexample.be"), "only whole labels");
        assert!(!list.is_email_suppressed("a@example.be.fr"));
        assert!(!list.is_email_suppressed("pas-une-adresse"));
        assert!(list.is_phone_suppressed("+3281234567"));
        assert!(list.is_phone_suppressed("+32 81 23 45 67"));
        assert!(!list.is_phone_suppressed("+3281234568"));
        assert!(!list.is_phone_suppressed(""));
        assert!(SuppressionList::default().is_empty() && !list.is_empty());
    }

    #[test]
    fn entries_are_stored_once_listed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        assert!(store.suppression_list().unwrap().is_empty());
        assert!(store.suppress(&Suppression::parse("Direction@Ecole.be").unwrap(), Some("demande du 3 novembre")).unwrap());
        assert!(!store.suppress(&Suppression::parse("direction@ecole.be").unwrap(), None).unwrap(), "already there");
        assert!(store.suppress(&Suppression::parse("@example.be").unwrap(), None).unwrap());
        assert!(store.suppress(&Suppression::parse("+32 81 23 45 67").unwrap(), Some("  ")).unwrap());
        let entries = store.suppressions().unwrap();
        let listed: Vec<(&str, &str, Option<&str>)> = entries.iter().map(|e| (e.kind.as_str(), e.value.as_str(), e.reason.as_deref())).collect();
        assert_eq!(
            listed,
            vec![("domain", "@example.be", None), ("email", "direction@ecole.be", Some("demande du 3 novembre")), ("phone", "+3281234567", None)]
        );
        let list = store.suppression_list().unwrap();
        assert!(list.is_email_suppressed("x@sub.example.be") && list.is_email_suppressed("direction@ecole.be") && list.is_phone_suppressed("+3281234567"));

        assert!(store.unsuppress("+32 81 23 45 67").unwrap());
        assert!(store.unsuppress("@EXAMPLE.be").unwrap());
        assert!(!store.unsuppress("@example.be").unwrap());
        assert!(!store.unsuppress("n'importe quoi").unwrap());
        let list = store.suppression_list().unwrap();
        assert!(!list.is_phone_suppressed("+3281234567") && !list.is_email_suppressed("x@example.be") && list.is_email_suppressed("direction@ecole.be"));
    }
}
