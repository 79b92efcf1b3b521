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
//!
//! Schools imported without checked contacts export their published lists, phones parsed in
//! the school's country.

use std::io::Write;

use schemas::{ContactKind, Record, RecordKind, School};
use serde::Serialize;
use store::RecordStore;

use crate::CrawlError;
use crate::extract::emails::{is_administrative_mailbox, validate};
use crate::extract::phones;

pub const COLUMNS: &[&str] = &[
    "school_id", "name", "school_type", "street", "postal_code", "city", "region", "country", "website", "emails", "phones",
    "phones_display", "mobiles", "faxes", "admin_mailboxes", "sources",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv { bom: bool },
    Jsonl,
}

/// Which schools to export.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Region, compared ignoring case.
    pub region: Option<String>,
    /// School type (`Lycée`, `Haute École`...), compared ignoring case.
    pub kind: Option<String>,
}

/// One exported row.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ContactRow {
    pub school_id: String,
    pub name: String,
    pub school_type: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub region: String,
    pub country: String,
    pub website: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub phones_display: Vec<String>,
    pub mobiles: Vec<String>,
    pub faxes: Vec<String>,
    pub admin_mailboxes: Vec<String>,
    pub sources: Vec<String>,
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// The export row of a school.
pub fn row(school: &School) -> ContactRow {
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
        emails.extend(school.emails.iter().filter_map(|e| validate(e)));
        for p in &school.phones {
            if let Some(ph) = phones::parse(p, country) {
                found_phones.push((ph.e164, ph.national, ph.mobile, false));
            }
        }
    } else {
        for c in &school.contacts {
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
        }
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
    let same = |want: &Option<String>, have: &Option<String>| {
        want.as_deref().is_none_or(|w| have.as_deref().is_some_and(|h| h.trim().eq_ignore_ascii_case(w.trim())))
    };
    same(&filter.region, &school.region) && same(&filter.kind, &school.school_type)
}

/// Writes the contacts of every matching school; returns how many rows.
pub fn export_contacts(store: &RecordStore, filter: &ExportFilter, format: ExportFormat, out: &mut dyn Write) -> Result<usize, CrawlError> {
    let mut rows: Vec<ContactRow> = Vec::new();
    store.for_each(Some(RecordKind::School), |record| {
        if let Record::School(school) = record {
            if matches(&school, filter) {
                rows.push(row(&school));
            }
        }
        Ok(())
    })?;
    rows.sort_by(|a, b| (&a.country, &a.region, &a.name).cmp(&(&b.country, &b.region, &b.name)));
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
                w.write_record([
                    &r.school_id, &r.name, &r.school_type, &r.street, &r.postal_code, &r.city, &r.region, &r.country, &r.website,
                    &j(&r.emails), &j(&r.phones), &j(&r.phones_display), &j(&r.mobiles), &j(&r.faxes), &j(&r.admin_mailboxes),
                    &j(&r.sources),
                ])
                .map_err(|e| CrawlError::Export(e.to_string()))?;
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
        assert!(text.contains(",info@isj.be,+3242223344; +32470123456,04 222 33 44; 0470 12 34 56,+32470123456,,ec004318@adm.cfwb.be,"), "{text}");
        let mut out = Vec::new();
        let filter = ExportFilter { region: Some("wallonie".into()), kind: None };
        assert_eq!(export_contacts(&store, &filter, ExportFormat::Jsonl, &mut out).unwrap(), 1);
        let filter = ExportFilter { region: Some("Flandre".into()), kind: None };
        assert_eq!(export_contacts(&store, &filter, ExportFormat::Jsonl, &mut Vec::new()).unwrap(), 0);
    }
}
