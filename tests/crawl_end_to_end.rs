//! The crawler against the fixture sites (fixtures/sites) served on loopback: contacts
//! compared with the ground truth, robots.txt and per-host rates checked on the serving side,
//! a SIGKILL in the middle of the crawl, then a recrawl with conditional requests.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{bin, fixtures, run_ok};
use serde_json::Value;

const RPS: f64 = 4.0;

/// One school of the truth: directory source, detail path, expected emails, phones, faxes.
type SchoolTruth = (String, String, BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);

struct Truth {
    /// (directory source, detail path) -> expected (emails, phones, faxes)
    schools: Vec<SchoolTruth>,
    disallowed: Vec<(String, String, Vec<String>)>,
}

fn truth() -> Truth {
    let gt: Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("sites/ground-truth.json")).unwrap()).unwrap();
    let set = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect::<BTreeSet<_>>();
    let schools = gt["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut phones = set(&s["phones"]);
            phones.extend(set(&s["mobiles"]));
            (s["directory"].as_str().unwrap().to_string(), s["detail_path"].as_str().unwrap().to_string(), set(&s["emails"]), phones, set(&s["faxes"]))
        })
        .collect();
    let disallowed = gt["disallowed_contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut contacts: Vec<String> = set(&d["emails"]).into_iter().collect();
            contacts.extend(set(&d["phones"]));
            (d["host"].as_str().unwrap().to_string(), d["path"].as_str().unwrap().to_string(), contacts)
        })
        .collect();
    Truth { schools, disallowed }
}

/// The crawl config of the fixtures, with real addresses and rate limits lifted to RPS.
fn config(sites: &sitefixtures::FixtureSites, dir: &Path) -> String {
    let text = sites.render_file("crawl.toml").unwrap().replace("per_host_rps = 1.0", &format!("per_host_rps = {RPS}"));
    let path = dir.join("crawl.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn precision_recall(found: &BTreeSet<String>, expected: &BTreeSet<String>) -> (usize, usize, usize) {
    (found.intersection(expected).count(), found.difference(expected).count(), expected.difference(found).count())
}

/// The largest Crawl-delay in a host's robots.txt (any group), in seconds.
fn crawl_delay(host_dir: &Path) -> f64 {
    std::fs::read_to_string(host_dir.join("robots.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Crawl-delay:").and_then(|v| v.trim().parse::<f64>().ok()))
        .fold(0.0, f64::max)
}

fn host_dirs() -> HashMap<String, String> {
    let text = std::fs::read_to_string(fixtures().join("sites/hosts.toml")).unwrap();
    let mut out = HashMap::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.trim().strip_prefix("dir = "), name.take()) {
            out.insert(n, v.trim_matches('"').to_string());
        }
    }
    out
}

#[test]
fn crawl_fixture_sites_kill_resume_and_recrawl() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sites = rt.block_on(sitefixtures::FixtureSites::start(&fixtures().join("sites"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap().to_string();
    let cfg = config(&sites, dir.path());

    // 1. Start the crawl, SIGKILL it midway, start it again: it resumes.
    let mut child = bin().args(["crawl", "--config", &cfg, "--data", &d, "--quiet"]).stdout(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while sites.requests().iter().filter(|r| r.status == 200).count() < 200 {
        assert!(start.elapsed() < Duration::from_secs(120), "the crawl made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the crawl ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // A request the killed crawl sent just before dying can still be stamped by the server a
    // little later on a loaded machine: wait until the log is quiet, so that such a request
    // counts with the killed crawl and not with the resumed one (whose pace is checked below).
    let mut killed_at = sites.requests().len();
    let quiet = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = sites.requests().len();
        if now == killed_at || quiet.elapsed() > Duration::from_secs(10) {
            break;
        }
        killed_at = now;
    }
    let out = run_ok(&["crawl", "--config", &cfg, "--data", &d, "--quiet"]);
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(summary.contains("(resumed)"), "{summary}");
    let log = sites.requests();
    let (before, after) = log.split_at(killed_at);
    let fetched_before: BTreeSet<(String, String)> =
        before.iter().filter(|r| r.status == 200 && r.path != "/robots.txt").map(|r| (r.host.clone(), r.path.clone())).collect();
    let again: Vec<(String, String)> =
        after.iter().filter(|r| r.path != "/robots.txt").map(|r| (r.host.clone(), r.path.clone())).filter(|k| fetched_before.contains(k)).collect();
    // Only the pages in flight when the crawl was killed (at most `concurrency`) are asked again.
    assert!(again.len() <= 8, "pages fetched again after resuming: {again:?}");

    // 2. Contacts against the ground truth.
    let export = run_ok(&["export", "contacts", "--data", &d, "--format", "jsonl"]);
    let rows: Vec<Value> = String::from_utf8(export.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let records = run_ok(&["export", "records", "--data", &d, "--kind", "school"]);
    let schools: Vec<Value> = String::from_utf8(records.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let id_by_detail: HashMap<(String, String), String> = schools
        .iter()
        .map(|s| {
            let key = s["source_key"].as_str().unwrap();
            let path = key.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
            ((s["source"].as_str().unwrap().to_string(), path), s["id"].as_str().unwrap().to_string())
        })
        .collect();
    let row_by_id: HashMap<&str, &Value> = rows.iter().map(|r| (r["school_id"].as_str().unwrap(), r)).collect();
    let list = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect::<BTreeSet<_>>();
    let truth = truth();
    let mut totals = HashMap::<&str, (usize, usize, usize)>::new();
    for (directory, path, emails, phones, faxes) in &truth.schools {
        let id = id_by_detail.get(&(directory.clone(), path.clone())).unwrap_or_else(|| panic!("school {directory}{path} not crawled"));
        let row = row_by_id[id.as_str()];
        let mut found_emails = list(&row["emails"]);
        found_emails.extend(list(&row["admin_mailboxes"]));
        for (kind, found, expected) in [("emails", found_emails, emails), ("phones", list(&row["phones"]), phones), ("faxes", list(&row["faxes"]), faxes)] {
            let (tp, fp, fn_) = precision_recall(&found, expected);
            let t = totals.entry(kind).or_default();
            t.0 += tp;
            t.1 += fp;
            t.2 += fn_;
        }
    }
    for (kind, (tp, fp, fn_)) in &totals {
        let precision = *tp as f64 / (tp + fp).max(1) as f64;
        let recall = *tp as f64 / (tp + fn_).max(1) as f64;
        eprintln!("{kind}: precision {precision:.3} recall {recall:.3} ({tp} right, {fp} wrong, {fn_} missed)");
        // These sites were the extractor's first ground: nothing less than all of it.
        assert!(fp == &0 && fn_ == &0, "{kind}: precision {precision:.3}, recall {recall:.3}");
    }

    // 3. robots.txt: disallowed pages never requested, their contacts never collected.
    let all_found: BTreeSet<String> = rows.iter().flat_map(|r| ["emails", "phones", "faxes", "admin_mailboxes"].map(|k| list(&r[k]))).flatten().collect();
    for (host, path, contacts) in &truth.disallowed {
        assert!(!log.iter().any(|r| &r.host == host && &r.path == path), "{host}{path} is disallowed but was fetched");
        for c in contacts {
            assert!(!all_found.contains(c), "{c} comes from a disallowed page");
        }
    }
    // A site nobody links to is never visited; the endless calendar stops at the depth limit.
    assert!(!log.iter().any(|r| r.host == "ecole-hotelier-fagne"));
    assert!(log.iter().filter(|r| r.path.starts_with("/agenda/")).count() <= 6);

    // 4. The per-host rate is never exceeded (Crawl-delay included), measured by the server.
    // The server stamps a request when its handler runs, so on a loaded machine one request can
    // arrive late and the next on time: one gap shrinks while the pace holds. A gap is allowed to
    // lose at most JITTER to that; over any run of gaps the total must still be the allowed pace
    // less one JITTER, which a burst, a followed redirect or a missing limiter cannot meet.
    const JITTER: f64 = 0.12;
    let dirs = host_dirs();
    let mut by_host: HashMap<&str, Vec<Instant>> = HashMap::new();
    for r in after {
        by_host.entry(r.host.as_str()).or_default().push(r.at);
    }
    for (host, times) in &by_host {
        let delay = crawl_delay(&fixtures().join("sites").join(&dirs[*host]));
        let period = (1.0 / RPS).max(delay);
        for start in 0..times.len() {
            for end in start + 1..times.len() {
                let span = times[end].duration_since(times[start]).as_secs_f64();
                let gaps = (end - start) as f64;
                assert!(span >= gaps * period - JITTER, "{host}: {} requests in {span:.3}s, at most one per {period:.2}s allowed", end - start + 1);
            }
        }
    }

    // 5. The export opens in a spreadsheet: BOM, header, quoting, accents.
    let csv_path = dir.path().join("contacts.csv");
    run_ok(&["export", "contacts", "--data", &d, "--bom", "--out", csv_path.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("\u{feff}school_id,name,school_type,street,postal_code,city,region,country,website,emails,"));
    assert!(csv.contains("Liège") || csv.contains("Haute École"), "accents lost");
    assert_eq!(csv.lines().count(), 1 + truth.schools.len());

    // 6. A recrawl asks with validators: unchanged pages answer 304 and nothing is lost.
    let mark = sites.requests().len();
    let out = run_ok(&["crawl", "--config", &cfg, "--data", &d, "--quiet"]);
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!summary.contains("(resumed)"), "{summary}");
    let recrawl = &sites.requests()[mark..];
    let not_modified = recrawl.iter().filter(|r| r.status == 304).count();
    let ok = recrawl.iter().filter(|r| r.status == 200 && r.path != "/robots.txt").count();
    assert!(not_modified > 10 * ok.max(1), "304: {not_modified}, 200: {ok}\n{summary}");
    let again = run_ok(&["export", "contacts", "--data", &d, "--format", "jsonl"]);
    let rows_again: Vec<Value> = String::from_utf8(again.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows_again.len(), rows.len());
    for (a, b) in rows.iter().zip(&rows_again) {
        for key in ["school_id", "emails", "phones", "faxes", "admin_mailboxes", "sources", "provenance", "left_out"] {
            assert_eq!(a[key], b[key], "{key} of {} changed on recrawl", a["name"]);
        }
    }
}
