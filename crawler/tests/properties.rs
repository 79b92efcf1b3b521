//! Nothing panics on input: arbitrary Unicode text, arbitrary bytes (decoded as a fetched page
//! would be) and mutated configs are fed to the contact extractor, the JSON-LD reader, the item
//! and directory readers and the config parser. The strings mix random characters with the
//! pieces the extractors cut around (`%`, `@`, `[at]`, digits, `—`, `é`, markup), so a slice
//! that lands inside a multi-byte character is found quickly.
//!
//! 256 cases per property, strings of a few hundred characters: the suite runs in seconds.
//! A failing case is printed shrunk, and its seed saved in `properties.proptest-regressions`
//! beside this file and replayed first on every run (the seeds there found the panics of issue 12
//! on the code before its fixes).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use passerelle_crawler::CrawlConfig;
use passerelle_crawler::extract::directory::DirectorySelectors;
use passerelle_crawler::extract::items::ItemSelectors;
use passerelle_crawler::extract::items::{BrowserRule, needs_browser};
use passerelle_crawler::extract::text::{self, PageStyle};
use passerelle_crawler::extract::{ContactExtractor, affinity, deobfuscate, emails, jsonld, links, phones};
use passerelle_crawler::fetch::{Fetcher, charset};
use passerelle_crawler::politeness::HostLimiter;
use phonenumber::country::Id;
use proptest::prelude::*;
use scraper::Html;
use serde_json::Value;
use url::Url;

/// Pieces the extractors look for or cut around.
const PIECES: &[&str] = &[
    "%",
    "%4",
    "%40",
    "%C3",
    "%A9",
    "%zz",
    "@",
    "&#64;",
    "[at]",
    "(at)",
    " arobase ",
    "[dot]",
    " point ",
    ".",
    "-",
    "/",
    "(0)",
    "+32",
    "+33 ",
    "0032",
    "0",
    "081 22 33 44",
    "0470 12 34 56",
    "02/512.34.56",
    "112",
    " ",
    "  ",
    "\n",
    "\t",
    "é",
    "è",
    "—",
    "–",
    "·",
    "€",
    "😀",
    "\u{200b}",
    "\u{fe0f}",
    "İ",
    "ß",
    "K",
    "Tél. ",
    "Fax : ",
    "GSM ",
    "IBAN ",
    "BE68 ",
    "2x",
    "@2x.png",
    "4x4.be",
    "info",
    "ecole",
    ".be",
    ".fr",
    "mailto:",
    "tel:",
    "<",
    ">",
    "\"",
    "'",
];

/// Markup pieces for whole pages.
const MARKUP: &[&str] = &[
    "<p>",
    "</p>",
    "<br>",
    "<a href=\"mailto:",
    "<a href=\"tel:",
    "<a href=\"/contact",
    "\">",
    "</a>",
    "<span data-cfemail=\"",
    "<a href=\"/cdn-cgi/l/email-protection#",
    "<script>",
    "</script>",
    "<script type=\"application/ld+json\">",
    "<td>",
    "<li>",
    "<title>",
    "</title>",
    "<h1>",
    "<meta charset=\"",
    "<!--",
    "-->",
    "<style>",
    "</style>",
    ".c{display:none}",
    ".r{unicode-bidi:bidi-override;direction:rtl}",
    "@media print{.c{display:none}}",
    "/*",
    "*/",
    "<span class=\"c\">",
    "<span class=\"r\">",
    "</span>",
    "<div hidden>",
    "</div>",
    "<p style=\"position:absolute;left:-9999px\">",
    "<bdo dir=\"rtl\">",
    "</bdo>",
    "<base href=\"",
    "<meta http-equiv=\"refresh\" content=\"0; url=",
    "<link rel=\"canonical\" href=\"https://www.",
    "<footer>",
    "<p>Site réalisé par ",
    "<h2>Nos partenaires</h2>",
    "&shy;",
    "&#8203;",
    "&#8209;",
    "(apenstaartje)",
    "(punt)",
    "voornaam.familienaam@",
    "0900 12 345",
    "Télécopie\n",
];

/// JSON pieces for JSON-LD scripts, well formed or not.
const JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    ", ",
    "\"",
    "\"@type\"",
    "\"@graph\"",
    "\"@context\"",
    "\"JobPosting\"",
    "\"Course\"",
    "\"EducationalOccupationalProgram\"",
    "\"title\"",
    "\"name\"",
    "\"datePosted\"",
    "\"2026-07-07T09:00\"",
    "\"2026-0é-07\"",
    "\"timeToComplete\"",
    "\"P2Y\"",
    "\"P18M\"",
    "\"address\"",
    "\"hiringOrganization\"",
    "\"jobLocation\"",
    "\"contactPoint\"",
    "\"email\"",
    "\"mailto:a@b.be\"",
    "\"<p>é</p>\"",
    "\"—\"",
    "1",
    "-0.5e3",
    "null",
    "true",
    "\n",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "\u{0}",
    "é",
];

/// A string made of `pieces` and arbitrary characters, at most `max` pieces long.
fn mixed(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![3 => proptest::sample::select(pieces).prop_map(str::to_string), 1 => any::<char>().prop_map(String::from)];
    proptest::collection::vec(piece, 0..max).prop_map(|p| p.concat())
}

/// Contact-like text: arbitrary Unicode, or pieces the extractors cut around.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "\\PC{0,300}", mixed(PIECES, 120)]
}

/// A whole page: text and markup mixed.
fn page() -> impl Strategy<Value = String> {
    let piece = prop_oneof![2 => text(), 1 => proptest::sample::select(MARKUP).prop_map(str::to_string)];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// A JSON value with schema.org keys, for the JSON-LD readers.
fn json_value() -> impl Strategy<Value = Value> {
    const KEYS: &[&str] = &[
        "@type",
        "@graph",
        "title",
        "name",
        "url",
        "identifier",
        "value",
        "hiringOrganization",
        "jobLocation",
        "address",
        "addressLocality",
        "addressCountry",
        "employmentType",
        "datePosted",
        "validThrough",
        "description",
        "skills",
        "occupationalCategory",
        "provider",
        "location",
        "timeToComplete",
        "teaches",
        "contactPoint",
        "applicationContact",
        "email",
        "telephone",
        "educationRequirements",
        "educationalProgramMode",
    ];
    let string = prop_oneof![
        proptest::sample::select(
            &["JobPosting", "Course", "EducationalOccupationalProgram", "2026-07-07T09:00", "P2Y", "mailto:x@y.be", "<b>é</b>—", "M1805"][..]
        )
        .prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        string,
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![3 => proptest::sample::select(KEYS).prop_map(str::to_string), 1 => text()];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn country() -> impl Strategy<Value = Option<Id>> {
    proptest::sample::select(&[None, Some(Id::BE), Some(Id::FR), Some(Id::NL), Some(Id::LU), Some(Id::US)][..])
}

/// Every reader of a page, as the crawl runs them.
fn read_page(html_text: &str, country: Option<Id>) {
    let html = Html::parse_document(html_text);
    let base = Url::parse("http://ecole.test/a/page.html").unwrap();
    let page = ContactExtractor::new(country).read_page(&html);
    let domains = vec!["ecole.be".to_string()];
    for c in &page.found {
        assert!(!c.value.is_empty() && c.refused.is_none());
        let _ = affinity::decide(c, &domains, &[html_text.chars().take(80).collect()]);
        if let Some((_, domain)) = c.value.rsplit_once('@') {
            affinity::block_names_domain(html_text, domain);
        }
    }
    for c in &page.refused {
        assert!(!c.value.is_empty() && c.refused.is_some());
    }
    let style = PageStyle::of(&html);
    let reading = text::read(html.root_element(), &style);
    for offset in 0..=reading.text.len() {
        reading.zone_at(offset);
    }
    for hidden in &reading.hidden {
        text::read_revealed(*hidden, &style);
    }
    for link in links::links(&html, &base) {
        links::looks_like_contact(&link);
    }
    links::meta_refresh(&html, &links::base_url(&html, &base));
    for (contact_page, contacts_found, site_links) in [(true, false, 0), (false, true, 3)] {
        needs_browser(&html, BrowserRule::SitePage { contact_page, contacts_found, site_links });
    }
    let ld = jsonld::json_ld(&html);
    for node in &ld.nodes {
        let _ = jsonld::offer(node, "s", base.as_str());
        let _ = jsonld::programme(node, "s", base.as_str());
    }
    let select: BTreeMap<String, String> =
        [("title", "h1"), ("company", "td"), ("contact_email", "a"), ("date_posted", "li"), ("skills", "li"), ("next_page", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let items = ItemSelectors::new(&select, Some("a"));
    items.offers(&html, &base, "s");
    items.programmes(&html, &base, "s");
    let select: BTreeMap<String, String> =
        [("name", "h1, title"), ("address", "p"), ("phone", "td"), ("email", "a"), ("website", "a"), ("school_link", "li a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let directory = DirectorySelectors::new(&select);
    directory.list_links(&html, &base);
    directory.entry(&html, &base, &ContactExtractor::new(country));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn domains_never_panic(a in text(), b in text()) {
        affinity::same_site(&a, &b);
        affinity::domain_of_host(&a);
        affinity::is_shared_domain(&a);
    }

    #[test]
    fn email_finding_and_validation_never_panic(s in text()) {
        for (candidate, _) in deobfuscate::email_candidates(&s) {
            if let Some(email) = emails::validate(&candidate) {
                prop_assert!(email.contains('@'));
                emails::is_administrative_mailbox(&email);
            }
        }
        emails::validate(&s);
        let _ = emails::check(&s);
        emails::is_administrative_mailbox(&s);
        deobfuscate::decode_cfemail(&s);
    }

    #[test]
    fn percent_decoding_never_panics_and_keeps_plain_text(s in text()) {
        let decoded = deobfuscate::percent_decode(&s);
        if !s.contains('%') {
            prop_assert_eq!(decoded, s);
        }
    }

    #[test]
    fn phone_finding_never_panics(s in text(), country in country()) {
        for phone in phones::find(&s, country) {
            prop_assert!(phone.e164.starts_with('+'));
        }
        phones::parse(&s, country);
        let (found, premium) = phones::find_checked(&s, country);
        for (offset, _) in &found {
            prop_assert!(s.is_char_boundary(*offset));
        }
        for (offset, e164) in &premium {
            prop_assert!(s.is_char_boundary(*offset) && e164.starts_with('+'));
        }
    }

    #[test]
    fn the_page_readers_never_panic_on_text(s in page(), country in country()) {
        read_page(&s, country);
    }

    #[test]
    fn the_page_readers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), declared in proptest::option::of("[a-z0-9-]{0,12}")) {
        // As a fetched page: decoded by its declared charset or sniffed.
        let content_type = declared.map(|c| format!("text/html; charset={c}"));
        let (decoded, _) = charset::decode(&bytes, content_type.as_deref());
        read_page(&decoded, Some(Id::BE));
        // And lossily, as text.
        let lossy = String::from_utf8_lossy(&bytes);
        read_page(&lossy, Some(Id::FR));
        deobfuscate::email_candidates(&lossy);
        phones::find(&lossy, Some(Id::BE));
    }

    #[test]
    fn json_ld_scripts_never_panic(scripts in proptest::collection::vec(prop_oneof![mixed(JSON, 60), json_value().prop_map(|v| v.to_string())], 1..4)) {
        let body: String = scripts.iter().map(|s| format!("<script type=\"application/ld+json\">{s}</script>")).collect();
        read_page(&format!("<html><head>{body}</head><body><h1>x</h1></body></html>"), Some(Id::BE));
    }

    #[test]
    fn json_ld_nodes_never_panic(node in json_value()) {
        let _ = jsonld::offer(&node, "s", "http://x.test/");
        let _ = jsonld::programme(&node, "s", "http://x.test/");
        let typed = serde_json::json!({"@type": "JobPosting", "title": "t", "jobLocation": node.clone(), "hiringOrganization": node.clone(), "provider": node});
        let _ = jsonld::offer(&typed, "s", "http://x.test/");
        let _ = jsonld::programme(&typed, "s", "http://x.test/");
    }
}

/// A config with every section and source kind, the start of the mutations.
const VALID_CONFIG: &str = r#"
[crawl]
user_agent = "passerelle/0.1 (+https://example.org/bot)"
per_host_rps = 2.0
concurrency = 4
timeout_secs = 20
max_page_bytes = 5000000
max_pages = 200
respect_robots = true
page_load_timeout_secs = 20
render_settle_ms = 300

[[source]]
name = "annuaire"
kind = "school_directory"
start_urls = ["http://127.0.0.1:8900/annuaire/index.html"]
country = "BE"
[source.select]
school_link = "a.school"
next_page = "a.next"
name = "h1"
email = ".email"

[[source]]
name = "sites"
kind = "school_sites"
from = ["annuaire"]
max_depth = 2
render = "auto"

[[source]]
name = "jobs"
kind = "offers"
start_urls = ["http://127.0.0.1:8900/jobs/"]
follow = "a.offer"
render = "browser"
[source.select]
title = "h1"
"#;

/// TOML pieces: structure, keys, values of every type and out of range.
const TOML: &[&str] = &[
    "\n",
    "[crawl]",
    "[[source]]",
    "[source.select]",
    "[",
    "]",
    "[[",
    "=",
    " = ",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "#",
    "{",
    "}",
    ",",
    ".",
    "name",
    "kind",
    "\"offers\"",
    "\"school_sites\"",
    "from",
    "start_urls",
    "urls",
    "country",
    "\"BE\"",
    "per_host_rps",
    "concurrency",
    "timeout_secs",
    "page_load_timeout_secs",
    "render_settle_ms",
    "browser_sessions",
    "webdriver_url",
    "max_depth",
    "select",
    "follow",
    "\"a[\"",
    "0",
    "-1",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "18446744073709551615",
    "99999999999999999999999",
    "true",
    "1979-05-27T07:32:00Z",
    "é",
    "—",
    "\u{0}",
    "\r",
];

/// One edit of a config text, at a position given as a fraction of its length.
#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, String),
    Delete(f64, usize),
    Truncate(f64),
    ReplaceValue(f64, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![3 => proptest::sample::select(TOML).prop_map(str::to_string), 1 => text()];
    prop_oneof![
        (0.0..1.0, piece.clone()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (0.0..1.0, 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0.0..1.0).prop_map(Edit::Truncate),
        (0.0..1.0, piece).prop_map(|(at, s)| Edit::ReplaceValue(at, s)),
    ]
}

/// The character index nearest `at` (a fraction of the text), as a byte offset.
fn char_offset(text: &str, at: f64) -> usize {
    let chars = text.chars().count();
    let nth = ((chars as f64) * at) as usize;
    text.char_indices().nth(nth).map_or(text.len(), |(i, _)| i)
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut text = text.to_string();
    match edit {
        Edit::Insert(at, s) => text.insert_str(char_offset(&text, *at), s),
        Edit::Delete(at, n) => {
            let start = char_offset(&text, *at);
            let end = text[start..].char_indices().nth(*n).map_or(text.len(), |(i, _)| start + i);
            text.replace_range(start..end, "");
        }
        Edit::Truncate(at) => text.truncate(char_offset(&text, *at)),
        Edit::ReplaceValue(at, s) => {
            // The value of the line the position falls on.
            let offset = char_offset(&text, *at);
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
            if let Some(eq) = text[line_start..line_end].find('=') {
                text.replace_range(line_start + eq + 1..line_end, &format!(" {s}"));
            }
        }
    }
    text
}

/// Parses `text`; an error names a line of the file; a config that parses can be started on.
fn parse_and_start(text: &str) -> Result<(), TestCaseError> {
    match CrawlConfig::parse(text, Path::new("crawl.toml")) {
        Ok(config) => {
            let c = &config.crawl;
            HostLimiter::new(c.per_host_rps, None);
            Fetcher::new(&c.user_agent, Duration::from_secs(c.timeout_secs), c.max_page_bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for source in &config.sources {
                passerelle_crawler::config::source_country(source);
                DirectorySelectors::new(&source.select);
                ItemSelectors::new(&source.select, source.follow.as_deref());
                for url in source.start_urls.iter().chain(&source.urls) {
                    prop_assert!(Url::parse(url).is_ok(), "{url}");
                }
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("crawl.toml"), "{message}");
            if let passerelle_crawler::CrawlError::Config { line: Some(line), .. } = e {
                prop_assert!(line >= 1 && line <= text.matches('\n').count() + 1, "line {line} of a {}-line text: {message}", text.lines().count());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_config_text_never_panics(s in prop_oneof![text(), mixed(TOML, 80)]) {
        parse_and_start(&s)?;
    }

    #[test]
    fn mutated_configs_never_panic(edits in proptest::collection::vec(edit(), 1..6)) {
        let text = edits.iter().fold(VALID_CONFIG.to_string(), |text, e| apply(&text, e));
        parse_and_start(&text)?;
    }
}

#[test]
fn the_config_the_mutations_start_from_is_valid() {
    let config = CrawlConfig::parse(VALID_CONFIG, Path::new("crawl.toml")).unwrap();
    assert_eq!(config.sources.len(), 3);
}
