//! The crawler against the harder contact sites (fixtures/sites/dur-*, `hard.toml`, written
//! by `generate_hard.py`): addresses built by scripts or drawn backwards by CSS, split in the
//! markup, Dutch sites, contacts behind a meta refresh, a `<base href>`, a `?page=` URL or a
//! menu built by a script, and third parties on the school's own pages. Contacts are compared
//! with `hard-truth.json` per case and overall; what was left out must be recorded with its
//! reason and never exported. Needs Debian's chromium and chromium-driver (`render = "auto"`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::{fixtures, run_ok};
use crawler::contact_eval::Count;
use serde_json::Value;

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[test]
fn harder_sites_per_case_precision_recall_and_left_out_reasons() {
    for program in ["/usr/bin/chromedriver", "/usr/bin/chromium"] {
        assert!(Path::new(program).is_file(), "this test needs {program} (./scripts/test installs chromium and chromium-driver)");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sites = rt.block_on(sitefixtures::FixtureSites::start(&fixtures().join("sites"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data").to_string_lossy().into_owned();
    let cfg = dir.path().join("hard.toml");
    std::fs::write(&cfg, sites.render_file("hard.toml").unwrap().replace("per_host_rps = 1.0", "per_host_rps = 4.0")).unwrap();
    let out = run_ok(&["crawl", "--config", cfg.to_str().unwrap(), "--data", &d, "--quiet"]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{summary}");

    let export = run_ok(&["export", "contacts", "--data", &d, "--format", "jsonl"]);
    let rows: Vec<Value> = String::from_utf8(export.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_site: HashMap<String, &Value> = rows
        .iter()
        .filter_map(|r| {
            let website = r["website"].as_str()?;
            let host = sites.hosts().iter().find(|(_, addr)| website.contains(&addr.to_string()))?.0.clone();
            Some((host, r))
        })
        .collect();
    let truth: Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("sites/hard-truth.json")).unwrap()).unwrap();
    let directory = &truth["directory_contacts"];
    let never: BTreeSet<String> = set(&directory["emails"]).into_iter().chain(set(&directory["phones"])).collect();

    let mut per_case: BTreeMap<(String, &str), Count> = BTreeMap::new();
    let mut failures = Vec::new();
    for school in truth["schools"].as_array().unwrap() {
        let site = school["site"].as_str().unwrap();
        let case = school["case"].as_str().unwrap().to_string();
        let Some(row) = by_site.get(site) else {
            failures.push(format!("{site}: no exported row"));
            continue;
        };
        let mut emails = set(&row["emails"]);
        emails.extend(set(&row["admin_mailboxes"]));
        let mut expected_phones = set(&school["phones"]);
        expected_phones.extend(set(&school["mobiles"]));
        for (kind, found, expected) in
            [("emails", emails, set(&school["emails"])), ("phones", set(&row["phones"]), expected_phones), ("faxes", set(&row["faxes"]), set(&school["faxes"]))]
        {
            if found != expected {
                failures.push(format!("{site} {kind}: found {found:?}, expected {expected:?}"));
            }
            for key in [case.clone(), "all".to_string()] {
                let kind = if kind == "emails" { "emails" } else { "phones" };
                per_case.entry((key, kind)).or_default().add(&found, &expected);
            }
        }
        // Every exported contact says why it is the school's.
        for p in row["provenance"].as_array().unwrap() {
            assert!(p["reason"].is_string() && p["page"].is_string() && p["method"].is_string(), "{site}: {p}");
        }
        // What must not be exported: third parties, placeholders, traps, decoys, the directory.
        let exported: BTreeSet<String> = ["emails", "phones", "faxes", "admin_mailboxes"].iter().flat_map(|k| set(&row[*k])).collect();
        let left_out: HashMap<String, String> =
            row["left_out"].as_array().unwrap().iter().map(|c| (c["value"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap().to_string())).collect();
        for c in school["left_out"].as_array().unwrap() {
            let value = c["value"].as_str().unwrap();
            assert!(!exported.contains(value), "{site}: {value} is exported");
            let want = match c["reason"].as_str().unwrap() {
                "third_party" => format!("third_party: {}", c["detail"].as_str().unwrap()),
                "trap" => format!("trap: {}", c["detail"].as_str().unwrap()),
                other => other.to_string(),
            };
            match left_out.get(value) {
                Some(reason) if *reason == want => {}
                other => failures.push(format!("{site}: {value} should be left out as `{want}`, is {other:?}")),
            }
        }
        for value in set(&school["decoys"]).iter().chain(&never) {
            assert!(!exported.contains(value), "{site}: {value} is exported");
        }
    }
    for ((case, kind), c) in &per_case {
        eprintln!("{case:<12} {kind:<7} precision {:.3} recall {:.3} ({} right, {} wrong, {} missed)", c.precision(), c.recall(), c.right, c.wrong, c.missed);
    }
    eprintln!("{}", failures.join("\n"));
    for ((case, kind), c) in &per_case {
        assert!(
            c.precision() >= 0.98 && c.recall() >= 0.95,
            "{case} {kind}: precision {:.3}, recall {:.3}\n{}",
            c.precision(),
            c.recall(),
            failures.join("\n")
        );
    }

    // The summary counts what was left out and why, and the pages the browser rendered.
    assert!(summary.contains("left out: "), "{summary}");
    for words in ["third-party (", "web agency credit", "partner", "directory", "placeholders", "hidden", "the directories' own contacts: 4"] {
        assert!(summary.contains(words), "`{words}` missing from the summary:\n{summary}");
    }
    assert!(summary.contains("rendered"), "{summary}");

    // The CSV carries the provenance column, one entry per exported contact.
    let csv = run_ok(&["export", "contacts", "--data", &d]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",sources,provenance"), "{}", csv.lines().next().unwrap());
    assert!(csv.contains("school_domain"), "{csv}");
}
