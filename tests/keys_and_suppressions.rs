//! Keys, the suppression list and the export log through the command line: a key's secret is
//! printed once and never listed; a revoked key shows as revoked; suppressed addresses, domains
//! and phones leave both exports; a school named like a spreadsheet formula comes out
//! neutralised in CSV; every contacts export is logged.

mod common;

use common::{bin, run_ok};
use serde_json::Value;

/// Schools written for this test: crawled contacts with their pages, published lists, and a
/// name that a spreadsheet would run as a formula.
const SCHOOLS: &str = r#"{"kind": "school", "source": "essai", "source_key": "hepn", "name": "Haute École de la Province de Namur", "school_type": "Haute École", "city": "Namur", "region": "Wallonie", "country": "BE", "website": "https://www.hepn.be/", "contacts": [{"kind": "email", "value": "direction@hepn.be", "label": "direction", "provenance": {"url": "https://www.hepn.be/direction", "method": "mailto", "found_at": "2026-11-02T10:00:00Z"}}, {"kind": "email", "value": "info@hepn.be", "provenance": {"url": "https://www.hepn.be/contact", "method": "mailto", "found_at": "2026-11-02T10:00:00Z"}}, {"kind": "phone", "value": "+3281234567", "display": "081 23 45 67", "label": "secrétariat de direction", "provenance": {"url": "https://www.hepn.be/direction", "method": "tel", "found_at": "2026-11-02T10:00:00Z"}}, {"kind": "phone", "value": "+3281765432", "display": "081 76 54 32", "provenance": {"url": "https://www.hepn.be/contact", "method": "tel", "found_at": "2026-11-02T10:00:00Z"}}]}
{"kind": "school", "source": "essai", "source_key": "exupery", "name": "Lycée Saint-Exupéry", "school_type": "Lycée", "city": "Angers", "region": "Pays de la Loire", "country": "FR", "emails": ["secretariat@lycee-exupery.fr", "orientation@mail.lycee-exupery.fr"], "phones": ["02 41 00 00 02"]}
{"kind": "school", "source": "essai", "source_key": "formule", "name": "=HYPERLINK(\"https://attaquant.example/\";\"Inscriptions\")", "school_type": "Athénée royal", "city": "Liège", "region": "Wallonie", "country": "BE", "emails": ["contact@athenee-formule.be"], "phones": ["04 222 33 44"]}
"#;

fn text(out: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs `passerelle ARGS...`, which must fail; returns its standard error.
fn run_err(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("passerelle runs");
    assert!(!out.status.success(), "passerelle {args:?} should have failed:\n{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn keys_suppressions_and_the_export_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let schools = dir.path().join("ecoles.jsonl");
    std::fs::write(&schools, SCHOOLS).unwrap();
    run_ok(&["import", "--data", d, "--on-error", "reject", schools.to_str().unwrap()]);

    // A key: the secret alone on standard output, once, with a reminder that it is not kept.
    let (secret, note) = text(&run_ok(&["keys", "create", "--data", d, "--name", "marketing", "--scopes", "export,search", "--expires-in", "90d"]));
    let secret = secret.trim().to_string();
    assert!(secret.starts_with("pk_") && secret.len() == 67 && !secret.contains('\n'), "{secret}");
    assert!(note.contains("will not be shown again"), "{note}");
    assert!(note.contains("expires "), "{note}");
    let err = run_err(&["keys", "create", "--data", d, "--name", "marketing", "--scopes", "search"]);
    assert!(err.contains("already has this name"), "{err}");
    let err = run_err(&["keys", "create", "--data", d, "--name", "autre", "--scopes", "search,admin"]);
    assert!(err.contains("unknown scope `admin`") && err.contains("offers.write"), "{err}");
    let err = run_err(&["keys", "create", "--data", d, "--name", "autre", "--scopes", "search", "--expires-in", "trois mois"]);
    assert!(err.contains("--expires-in") && err.contains("90d"), "{err}");
    run_ok(&["keys", "create", "--data", d, "--name", "ecole-namur", "--scopes", "transmissions", "--programme", "programme:1", "--programme", "programme:2"]);

    let (list, _) = text(&run_ok(&["keys", "list", "--data", d]));
    let line = list.lines().find(|l| l.starts_with("marketing ")).unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains("export,search") && line.trim_end().ends_with("active"), "{list}");
    assert!(list.contains("programmes programme:1"), "{list}");
    assert!(!list.contains(&secret) && !list.contains(&secret[3..15]), "the secret is never listed:\n{list}");
    let (json, _) = text(&run_ok(&["keys", "list", "--data", d, "--json"]));
    assert!(!json.contains(&secret[3..15]) && !json.contains("hash"), "{json}");
    let keys: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(keys[1]["name"], "marketing");
    assert_eq!(keys[1]["status"], "active");
    assert!(keys[1]["expires_at"].as_str().is_some_and(|e| e.starts_with("20")), "{json}");

    run_ok(&["keys", "revoke", "--data", d, "marketing"]);
    let (list, _) = text(&run_ok(&["keys", "list", "--data", d]));
    let line = list.lines().find(|l| l.starts_with("marketing ")).unwrap_or_else(|| panic!("{list}"));
    assert!(line.trim_end().ends_with("revoked"), "{list}");
    assert!(list.lines().find(|l| l.starts_with("ecole-namur ")).is_some_and(|l| l.trim_end().ends_with("active")), "{list}");
    let err = run_err(&["keys", "revoke", "--data", d, "marketing"]);
    assert!(err.contains("no unrevoked key named `marketing`"), "{err}");

    // The suppression list: one address, a domain (its subdomains with it), one phone.
    run_ok(&["contacts", "suppress", "--data", d, "Direction@HEPN.be", "--reason", "demande écrite du 3 novembre"]);
    run_ok(&["contacts", "suppress", "--data", d, "@lycee-exupery.fr"]);
    run_ok(&["contacts", "suppress", "--data", d, "+32 81 23 45 67"]);
    let (again, _) = text(&run_ok(&["contacts", "suppress", "--data", d, "direction@hepn.be"]));
    assert!(again.contains("already"), "{again}");
    let err = run_err(&["contacts", "suppress", "--data", d, "081 23 45 67"]);
    assert!(err.contains("international form, e.g. +32 81 23 45 67"), "{err}");
    let (list, _) = text(&run_ok(&["contacts", "suppressions", "--data", d]));
    for entry in ["direction@hepn.be", "@lycee-exupery.fr", "+3281234567", "demande écrite du 3 novembre"] {
        assert!(list.contains(entry), "{entry} not listed:\n{list}");
    }

    // Both exports leave them out; the schools stay with their other contacts.
    let csv_path = dir.path().join("contacts.csv");
    run_ok(&["export", "contacts", "--data", d, "--out", csv_path.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let (jsonl, _) = text(&run_ok(&["export", "contacts", "--data", d, "--format", "jsonl", "--region", "Wallonie"]));
    let (all_jsonl, _) = text(&run_ok(&["export", "contacts", "--data", d, "--format", "jsonl"]));
    for (name, export) in [("csv", &csv), ("jsonl", &all_jsonl)] {
        for gone in ["direction@hepn.be", "lycee-exupery.fr", "3281234567", "081 23 45 67", "hepn.be/direction"] {
            assert!(!export.contains(gone), "{gone} is in the {name} export:\n{export}");
        }
        for kept in ["info@hepn.be", "3281765432", "081 76 54 32", "Lycée Saint-Exupéry", "33241000002", "contact@athenee-formule.be"] {
            assert!(export.contains(kept), "{kept} is missing from the {name} export:\n{export}");
        }
    }
    assert_eq!(csv.lines().count(), 4, "header and three schools:\n{csv}");
    assert_eq!(all_jsonl.lines().count(), 3);
    assert_eq!(jsonl.lines().count(), 2, "two schools in Wallonie");

    // The formula is neutralised in CSV (a quote in front: shown as text), not in JSON Lines.
    assert!(csv.contains(r#""'=HYPERLINK(""https://attaquant.example/"";""Inscriptions"")""#), "{csv}");
    assert!(!csv.contains(r#""=HYPERLINK"#) && !csv.contains(",=HYPERLINK"), "{csv}");
    assert!(csv.contains(",'+3281765432,") && !csv.contains(",+32"), "E.164 phones start with a quote too:\n{csv}");
    let formula: Value = all_jsonl.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|r| r["city"] == "Liège").unwrap();
    assert_eq!(formula["name"], r#"=HYPERLINK("https://attaquant.example/";"Inscriptions")"#);
    assert_eq!(formula["phones"][0], "+3242223344");

    // Every export is in the log, newest first, with its format, filters and rows.
    let (log, _) = text(&run_ok(&["exports", "log", "--data", d]));
    assert_eq!(log.lines().filter(|l| l.contains("command line") && l.contains("contacts")).count(), 3, "{log}");
    let (json, _) = text(&run_ok(&["exports", "log", "--data", d, "--json", "--limit", "2"]));
    let entries: Value = serde_json::from_str(&json).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["format"].as_str(), entries[0]["rows"].as_u64(), entries[0]["filters"].as_str()), (Some("jsonl"), Some(3), Some("{}")));
    assert_eq!((entries[1]["format"].as_str(), entries[1]["rows"].as_u64()), (Some("jsonl"), Some(2)));
    assert_eq!(entries[1]["filters"], r#"{"region":"Wallonie"}"#);
    assert_eq!(entries[1]["who"], "command line");

    // Taken off the list, a number is exported again.
    run_ok(&["contacts", "unsuppress", "--data", d, "+32 81 23 45 67"]);
    let err = run_err(&["contacts", "unsuppress", "--data", d, "+32 81 23 45 67"]);
    assert!(err.contains("not on the suppression list"), "{err}");
    let (after, _) = text(&run_ok(&["export", "contacts", "--data", d, "--format", "jsonl"]));
    assert!(after.contains("+3281234567") && !after.contains("direction@hepn.be"), "{after}");
}
