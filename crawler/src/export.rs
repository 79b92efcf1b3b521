//! The contacts export: one row per school, fixed columns, for the marketing team.
//!
//! | column | content |
//! |---|---|
//! | `school_id` | the stable id of the school record |
//! | `name`, `school_type`, `street`, `postal_code`, `city`, `region`, `country`, `website` | as found |
//! | `emails` | the school's addresses, `; `-separated (the ministry mailbox excluded) |
//! | `phones` | E.164 numbers, `; `-separated (faxes excluded) |
//! | `phones_display` | the same numbers as people write them |
//! | `mobiles` | the phones that are mobile numbers (also in `phones`) |
//! | `faxes` | E.164 fax numbers |
//! | `admin_mailboxes` | the `ec<FASE>@adm.cfwb.be` mailbox, reserved for the ministry: not for outreach |
//! | `sources` | the pages the contacts were read from, `; `-separated |
//! | `provenance` | per contact, why it is the school's: `value: method on page, reason`, `; `-separated (see below) |
//!
//! The reasons a contact is kept (see `extract::affinity`): `school_domain` (an address at the
//! school's own domain), `official_mailbox` (`adm.cfwb.be`, `ac-<name>.fr`), `directory_field`
//! (read in the school's field of a directory), `school_page` (on the school's own page, nothing
//! says otherwise). What the crawler left out (web agencies' credits, partner schools,
//! directories, placeholders, hidden traps) is not exported; JSON Lines rows list it under
//! `left_out` with its reason, for checking.
//!
//! Schools imported without checked contacts export their published lists, phones parsed in
//! the school's country.
//!
//! The suppression list (`passerelle contacts suppress`, [`RecordStore::suppression_list`]) is
//! honoured: a suppressed address (or one at a suppressed domain or under it) and a suppressed
//! number are left out of every column, and the page they were read from is not listed for
//! them; the school's row stays, with its other fields.
//!
//! CSV cells are neutralised against formula injection (OWASP's CSV injection advice): a cell
//! whose first character is `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote
//! `'` in front ([`neutralise`]), so a spreadsheet shows it as text instead of running it. Crawled
//! names and addresses are untrusted, and a school named `=HYPERLINK(...)` must not become a
//! link. E.164 phone numbers (`+3281234567`) start with a legitimate `+` and are neutralised
//! too: `'+3281234567` displays as the text `+3281234567`, where a spreadsheet would otherwise
//! read it as the number 3281234567 (or a formula). JSON Lines is not neutralised: it is not
//! read by spreadsheets, and its consumers get the values as they are.

use std::borrow::Cow;
use std::io::Write;

use schemas::{ContactKind, Record, RecordKind, School};
use serde::Serialize;
use store::{RecordStore, SuppressionList};

use crate::CrawlError;
use crate::extract::emails::{is_administrative_mailbox, validate};
use crate::extract::phones;

/// The CSV header, in column order (scripts read the columns by these names).
pub const COLUMNS: &[&str] = &[
    "school_id",
    "name",
    "school_type",
    "street",
    "postal_code",
    "city",
    "region",
    "country",
    "website",
    "emails",
    "phones",
    "phones_display",
    "mobiles",
    "faxes",
    "admin_mailboxes",
    "sources",
    "provenance",
];

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with the [`COLUMNS`] header, list fields `; `-separated.
    Csv {
        /// Start with a UTF-8 byte-order mark, so that Excel reads the accents right.
        bom: bool,
    },
    /// One JSON object per line, list fields as arrays.
    Jsonl,
}

impl ExportFormat {
    /// `csv` or `jsonl` (as the export log and `--format` write it).
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Csv { .. } => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

/// Which schools to export (serialised as the export log's `filters`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportFilter {
    /// Region, compared ignoring case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// School type (`Lycée`, `Haute École`...), compared ignoring case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// ISO country code (`BE`, `FR`), compared ignoring case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// How much an export would hold, before it is made (the marketing page shows it).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactCounts {
    /// Rows: the matching schools.
    pub schools: usize,
    /// Schools with at least one e-mail address.
    pub with_email: usize,
    /// Schools with at least one phone number.
    pub with_phone: usize,
    /// Schools with a website.
    pub with_website: usize,
    /// E-mail addresses in all.
    pub emails: usize,
    /// Phone numbers in all.
    pub phones: usize,
}

/// One exported row.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ContactRow {
    /// The stable id of the school record.
    pub school_id: String,
    /// The school's name, as found.
    pub name: String,
    /// `Lycée`, `Haute École`..., as found (empty when unknown, as are the address fields).
    pub school_type: String,
    /// Street and number.
    pub street: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Region.
    pub region: String,
    /// ISO country code.
    pub country: String,
    /// The school's website.
    pub website: String,
    /// Checked addresses, the ministry mailbox excluded.
    pub emails: Vec<String>,
    /// E.164 numbers, faxes excluded.
    pub phones: Vec<String>,
    /// The same numbers as people write them, in the same order.
    pub phones_display: Vec<String>,
    /// The phones that are mobile numbers (also in `phones`).
    pub mobiles: Vec<String>,
    /// E.164 fax numbers.
    pub faxes: Vec<String>,
    /// The `ec<FASE>@adm.cfwb.be` mailbox, reserved for the ministry: not for outreach.
    pub admin_mailboxes: Vec<String>,
    /// The pages the contacts were read from.
    pub sources: Vec<String>,
    /// Why each exported contact is the school's.
    pub provenance: Vec<ContactWhy>,
    /// What was read on the school's pages and left out, with why (JSON Lines only).
    pub left_out: Vec<ContactWhy>,
}

/// One contact and why it was kept or left out.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ContactWhy {
    /// `email`, `phone`, `fax`.
    pub kind: String,
    /// The address or E.164 number.
    pub value: String,
    /// How it was read (`mailto`, `tel`, `text`, `deobfuscated`, `cfemail`, `selector`...).
    pub method: String,
    /// The page it was read on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Why it was kept (`school_domain`...) or left out (`third_party: partner`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ContactWhy {
    fn of(c: &schemas::Contact) -> Self {
        let kind = match c.kind {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
            ContactKind::Fax => "fax",
            ContactKind::Website => "website",
        };
        ContactWhy {
            kind: kind.into(),
            value: c.value.clone(),
            method: c.provenance.method.clone(),
            page: c.provenance.url.clone(),
            reason: c.provenance.reason.clone(),
        }
    }

    /// `info@ecole.be: mailto on http://…/contact.html, school_domain`.
    pub fn text(&self) -> String {
        let mut t = format!("{}: {}", self.value, self.method);
        if let Some(p) = &self.page {
            t.push_str(" on ");
            t.push_str(p);
        }
        if let Some(r) = &self.reason {
            t.push_str(", ");
            t.push_str(r);
        }
        t
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell made safe for spreadsheets: a `'` in front of a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return (E.164 phones included, on purpose: see the module
/// documentation); any other cell unchanged.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// The export row of a school, every contact included.
pub fn row(school: &School) -> ContactRow {
    row_without(school, &SuppressionList::default())
}

/// The export row of a school without the contacts on the suppression list (nor the pages they
/// alone were read from).
pub fn row_without(school: &School, suppressed: &SuppressionList) -> ContactRow {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut r = ContactRow {
        school_id: school.id.clone(),
        name: school.name.clone(),
        school_type: opt(&school.school_type),
        street: opt(&school.street),
        postal_code: opt(&school.postal_code),
        city: opt(&school.city),
        region: opt(&school.region),
        country: opt(&school.country),
        website: opt(&school.website),
        ..Default::default()
    };
    let country = school.country.as_deref().and_then(crate::config::parse_country);
    let mut emails: Vec<String> = Vec::new();
    let mut found_phones: Vec<(String, String, bool, bool)> = Vec::new();
    if school.contacts.is_empty() {
        emails.extend(school.emails.iter().filter_map(|e| validate(e)).filter(|e| !suppressed.is_email_suppressed(e)));
        for p in &school.phones {
            if let Some(ph) = phones::parse(p, country) {
                if !suppressed.is_phone_suppressed(&ph.e164) {
                    found_phones.push((ph.e164, ph.national, ph.mobile, false));
                }
            }
        }
    } else {
        for c in &school.contacts {
            let dropped = match c.kind {
                ContactKind::Email => suppressed.is_email_suppressed(&c.value),
                ContactKind::Phone | ContactKind::Fax => suppressed.is_phone_suppressed(&c.value),
                ContactKind::Website => false,
            };
            if dropped {
                continue;
            }
            match c.kind {
                ContactKind::Email => emails.push(c.value.clone()),
                ContactKind::Phone | ContactKind::Fax => found_phones.push((
                    c.value.clone(),
                    c.display.clone().unwrap_or_else(|| c.value.clone()),
                    c.flags.iter().any(|f| f == "mobile"),
                    c.kind == ContactKind::Fax,
                )),
                ContactKind::Website => {}
            }
            if let Some(url) = &c.provenance.url {
                push_unique(&mut r.sources, url.clone());
            }
            if c.kind != ContactKind::Website && !r.provenance.iter().any(|p| p.value == c.value) {
                r.provenance.push(ContactWhy::of(c));
            }
        }
        r.left_out = school.left_out.iter().map(ContactWhy::of).collect();
    }
    for e in emails {
        if is_administrative_mailbox(&e) {
            push_unique(&mut r.admin_mailboxes, e);
        } else {
            push_unique(&mut r.emails, e);
        }
    }
    for (e164, display, mobile, fax) in found_phones {
        if fax {
            push_unique(&mut r.faxes, e164);
        } else {
            if mobile {
                push_unique(&mut r.mobiles, e164.clone());
            }
            if !r.phones.contains(&e164) {
                r.phones.push(e164);
                r.phones_display.push(display);
            }
        }
    }
    r
}

fn matches(school: &School, filter: &ExportFilter) -> bool {
    let same =
        |want: &Option<String>, have: &Option<String>| want.as_deref().is_none_or(|w| have.as_deref().is_some_and(|h| h.trim().eq_ignore_ascii_case(w.trim())));
    same(&filter.region, &school.region) && same(&filter.kind, &school.school_type) && same(&filter.country, &school.country)
}

/// The rows of every matching school, minus the suppression list, in export order (country,
/// region, name).
pub fn contact_rows(store: &RecordStore, filter: &ExportFilter) -> Result<Vec<ContactRow>, CrawlError> {
    let suppressed = store.suppression_list()?;
    let mut rows: Vec<ContactRow> = Vec::new();
    store.for_each(Some(RecordKind::School), |record| {
        if let Record::School(school) = record {
            if matches(&school, filter) {
                rows.push(row_without(&school, &suppressed));
            }
        }
        Ok(())
    })?;
    rows.sort_by(|a, b| (&a.country, &a.region, &a.name).cmp(&(&b.country, &b.region, &b.name)));
    Ok(rows)
}

/// What [`export_contacts`] would write for `filter`, counted.
pub fn count_contacts(store: &RecordStore, filter: &ExportFilter) -> Result<ContactCounts, CrawlError> {
    let rows = contact_rows(store, filter)?;
    Ok(ContactCounts {
        schools: rows.len(),
        with_email: rows.iter().filter(|r| !r.emails.is_empty()).count(),
        with_phone: rows.iter().filter(|r| !r.phones.is_empty()).count(),
        with_website: rows.iter().filter(|r| !r.website.is_empty()).count(),
        emails: rows.iter().map(|r| r.emails.len()).sum(),
        phones: rows.iter().map(|r| r.phones.len()).sum(),
    })
}

/// Writes the contacts of every matching school, minus the suppression list, CSV cells
/// neutralised (see the module documentation); returns how many rows.
pub fn export_contacts(store: &RecordStore, filter: &ExportFilter, format: ExportFormat, out: &mut dyn Write) -> Result<usize, CrawlError> {
    let rows = contact_rows(store, filter)?;
    let err = |e: std::io::Error| CrawlError::Export(e.to_string());
    match format {
        ExportFormat::Jsonl => {
            for r in &rows {
                writeln!(out, "{}", serde_json::to_string(r).expect("rows serialise")).map_err(err)?;
            }
        }
        ExportFormat::Csv { bom } => {
            if bom {
                out.write_all("\u{feff}".as_bytes()).map_err(err)?;
            }
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(COLUMNS).map_err(|e| CrawlError::Export(e.to_string()))?;
            for r in &rows {
                let j = |v: &Vec<String>| v.join("; ");
                let cells = [
                    r.school_id.clone(),
                    r.name.clone(),
                    r.school_type.clone(),
                    r.street.clone(),
                    r.postal_code.clone(),
                    r.city.clone(),
                    r.region.clone(),
                    r.country.clone(),
                    r.website.clone(),
                    j(&r.emails),
                    j(&r.phones),
                    j(&r.phones_display),
                    j(&r.mobiles),
                    j(&r.faxes),
                    j(&r.admin_mailboxes),
                    j(&r.sources),
                    r.provenance.iter().map(ContactWhy::text).collect::<Vec<_>>().join("; "),
                ];
                w.write_record(cells.iter().map(|c| neutralise(c).into_owned())).map_err(|e| CrawlError::Export(e.to_string()))?;
            }
            w.flush().map_err(err)?;
        }
    }
    out.flush().map_err(err)?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_keeps_accents_with_an_optional_bom() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let school = School {
            source: "t".into(),
            source_key: "1".into(),
            name: "Institut \"Saint-Joseph\", Liège".into(),
            region: Some("Wallonie".into()),
            country: Some("BE".into()),
            emails: vec!["Info@ISJ.be".into(), "ec004318@adm.cfwb.be".into()],
            phones: vec!["04 222 33 44".into(), "0470 12 34 56".into()],
            ..Default::default()
        };
        store.upsert(Record::School(school)).unwrap();
        let mut out = Vec::new();
        let n = export_contacts(&store, &ExportFilter::default(), ExportFormat::Csv { bom: true }, &mut out).unwrap();
        assert_eq!(n, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}school_id,name,"), "{text}");
        assert!(text.contains("\"Institut \"\"Saint-Joseph\"\", Liège\""), "{text}");
        assert!(text.contains(",info@isj.be,'+3242223344; +32470123456,04 222 33 44; 0470 12 34 56,'+32470123456,,ec004318@adm.cfwb.be,"), "{text}");
        let mut out = Vec::new();
        let filter = ExportFilter { region: Some("wallonie".into()), ..Default::default() };
        assert_eq!(export_contacts(&store, &filter, ExportFormat::Jsonl, &mut out).unwrap(), 1);
        let filter = ExportFilter { region: Some("Flandre".into()), ..Default::default() };
        assert_eq!(export_contacts(&store, &filter, ExportFormat::Jsonl, &mut Vec::new()).unwrap(), 0);
        let be = ExportFilter { country: Some("be".into()), ..Default::default() };
        let counts = count_contacts(&store, &be).unwrap();
        assert_eq!(counts, ContactCounts { schools: 1, with_email: 1, with_phone: 1, with_website: 0, emails: 1, phones: 2 });
        assert_eq!(counts.schools, export_contacts(&store, &be, ExportFormat::Jsonl, &mut Vec::new()).unwrap());
        assert_eq!(count_contacts(&store, &ExportFilter { country: Some("FR".into()), ..Default::default() }).unwrap().schools, 0);
    }

    fn contact(kind: ContactKind, value: &str, display: Option<&str>, page: &str) -> schemas::Contact {
        schemas::Contact {
            kind,
            value: value.into(),
            display: display.map(Into::into),
            label: None,
            flags: Vec::new(),
            provenance: schemas::Provenance { url: Some(page.into()), method: "mailto".into(), found_at: "2026-11-02T10:00:00Z".into(), reason: None },
        }
    }

    fn suppress(store: &mut RecordStore, value: &str) {
        store.suppress(&store::Suppression::parse(value).unwrap(), Some("opposition")).unwrap();
    }

    fn export(store: &RecordStore, format: ExportFormat) -> String {
        let mut out = Vec::new();
        export_contacts(store, &ExportFilter::default(), format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn suppressed_addresses_domains_and_phones_are_never_exported() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        // Crawled contacts, with their pages.
        let crawled = School {
            source: "t".into(),
            source_key: "1".into(),
            name: "Haute École de Namur".into(),
            country: Some("BE".into()),
            contacts: vec![
                contact(ContactKind::Email, "direction@hen.be", None, "https://hen.be/direction"),
                contact(ContactKind::Email, "info@hen.be", None, "https://hen.be/contact"),
                contact(ContactKind::Email, "stages@campus.opposant.be", None, "https://hen.be/stages"),
                contact(ContactKind::Phone, "+3281234567", Some("081 23 45 67"), "https://hen.be/direction"),
                contact(ContactKind::Phone, "+3281765432", Some("081 76 54 32"), "https://hen.be/contact"),
                contact(ContactKind::Fax, "+3281234568", Some("081 23 45 68"), "https://hen.be/fax"),
            ],
            ..Default::default()
        };
        // Published lists, imported without checked contacts.
        let imported = School {
            source: "t".into(),
            source_key: "2".into(),
            name: "Lycée Jean Moulin".into(),
            country: Some("FR".into()),
            emails: vec!["Secretariat@Opposant.be".into(), "accueil@lycee-moulin.fr".into()],
            phones: vec!["02 41 00 00 01".into(), "02 41 00 00 02".into()],
            ..Default::default()
        };
        store.upsert(Record::School(crawled)).unwrap();
        store.upsert(Record::School(imported)).unwrap();
        suppress(&mut store, "Direction@HEN.be");
        suppress(&mut store, "@opposant.be");
        suppress(&mut store, "+32 81 23 45 67");
        suppress(&mut store, "+32 81 23 45 68");
        suppress(&mut store, "+33 2 41 00 00 01");

        for format in [ExportFormat::Csv { bom: false }, ExportFormat::Jsonl] {
            let text = export(&store, format);
            for gone in [
                "direction@hen.be",
                "opposant.be",
                "3281234567",
                "81 23 45 67",
                "3281234568",
                "33241000001",
                "02 41 00 00 01",
                "hen.be/direction",
                "hen.be/stages",
                "hen.be/fax",
            ] {
                assert!(!text.to_lowercase().contains(gone), "{gone} exported in {format:?}:\n{text}");
            }
            for kept in [
                "Haute École de Namur",
                "info@hen.be",
                "+3281765432",
                "081 76 54 32",
                "hen.be/contact",
                "Lycée Jean Moulin",
                "accueil@lycee-moulin.fr",
                "+33241000002",
            ] {
                assert!(text.contains(kept), "{kept} missing from {format:?}:\n{text}");
            }
        }
        let jsonl = export(&store, ExportFormat::Jsonl);
        let rows: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 2, "the schools stay");
        for r in &rows {
            assert_eq!(r["phones"].as_array().unwrap().len(), r["phones_display"].as_array().unwrap().len(), "numbers and their display stay in step: {r}");
        }
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_jsonl_is_not() {
        assert_eq!(neutralise("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        for start in ["+", "-", "@", "\t", "\r"] {
            assert_eq!(neutralise(&format!("{start}1+1")), format!("'{start}1+1"));
        }
        assert_eq!(neutralise("Athénée royal"), "Athénée royal");
        assert_eq!(neutralise(""), "");
        assert!(matches!(neutralise("Liège"), Cow::Borrowed(_)));

        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open_dir(dir.path()).unwrap();
        let school = School {
            source: "t".into(),
            source_key: "1".into(),
            name: "=HYPERLINK(\"http://attaquant.example/\",\"Cliquez\")".into(),
            street: Some("-2+3 rue du Calcul".into()),
            city: Some("@SUM(A1:A9)".into()),
            country: Some("BE".into()),
            emails: vec!["info@ecole-calcul.be".into()],
            phones: vec!["081 22 33 44".into()],
            ..Default::default()
        };
        store.upsert(Record::School(school)).unwrap();
        let csv_text = export(&store, ExportFormat::Csv { bom: false });
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        let column = |name: &str| record.get(COLUMNS.iter().position(|c| *c == name).unwrap()).unwrap().to_string();
        assert_eq!(column("name"), "'=HYPERLINK(\"http://attaquant.example/\",\"Cliquez\")");
        assert_eq!(column("street"), "'-2+3 rue du Calcul");
        assert_eq!(column("city"), "'@SUM(A1:A9)");
        assert_eq!(column("phones"), "'+3281223344", "E.164 numbers are neutralised too: shown as text");
        assert_eq!(column("phones_display"), "081 22 33 44");
        assert_eq!(column("emails"), "info@ecole-calcul.be");
        let jsonl = export(&store, ExportFormat::Jsonl);
        let v: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
        assert_eq!(v["name"], "=HYPERLINK(\"http://attaquant.example/\",\"Cliquez\")");
        assert_eq!(v["phones"][0], "+3281223344");
    }
}
