//! Property tests: no text a person can type, and no request the API can pass on, makes the engine
//! panic. Query analysis, the analyzers, highlighting and a search on a small real index are fed
//! arbitrary Unicode and strings built from the pieces that broke byte-offset code before
//! (accents, combining marks, emoji, no-break spaces, control characters, very long words).

use std::sync::OnceLock;

use passerelle_indexer::analysis::{Analyzers, Lang, fold};
use passerelle_indexer::highlight::{self, escape_html};
use passerelle_indexer::query::{QueryPlan, edit_distance_at_most, typos_for};
use passerelle_indexer::{FacetField, IndexError, SearchIndex, SearchRequest, Words, build_generation};
use proptest::prelude::*;
use schemas::Record;

/// Strings made of arbitrary Unicode and of the pieces that trip byte-offset code.
fn odd_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "\\PC{0,12}",
        2 => any::<String>().prop_map(|s| s.chars().take(12).collect::<String>()),
        2 => "[a-zA-Zéèàçœ]{1,14}",
        1 => "[a-z]{61,200}",
        1 => "[\\x{300}-\\x{36f}]{1,6}",
        1 => "[\\x00-\\x1f\\x7f-\\x9f]{1,4}",
        1 => prop::sample::select(vec![
            "é", "e\u{301}", "🎓", "👩\u{200d}💻", "🇧🇪", "\u{a0}", "\u{202f}", "\u{3000}", "\u{200b}", "\u{feff}", "ß", "İ", "ﬁ", "Ǆ", "ω", "中文",
            "C#", "C++", "F#", ".NET", "Node.js", "l'", "jusqu'", "<script>", "</mark>", "&amp;", "\"", "'", "44350", "M1805", " ", "  ", "\n", "-",
            ".", "…", "—",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

/// Whether every range lies in `text` on character boundaries.
fn ranges_fit(text: &str, ranges: &[(usize, usize)]) -> bool {
    ranges.iter().all(|&(from, to)| from <= to && text.get(from..to).is_some())
}

/// The HTML of a snippet or title without its `<mark>` tags: escaped text only.
fn without_marks(html: &str) -> String {
    html.replace("<mark>", "").replace("</mark>", "")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn query_analysis_takes_any_text(text in odd_text(), prefix: bool, max_words in 0usize..40) {
        let mut analyzers = Analyzers::default();
        let plan = QueryPlan::new(&mut analyzers, &text, prefix);
        prop_assert!(plan.words.len() <= passerelle_indexer::query::MAX_QUERY_WORDS);
        let limited = QueryPlan::with_max_words(&mut analyzers, &text, prefix, max_words);
        prop_assert!(limited.words.len() <= max_words);
        for (i, w) in limited.words.iter().enumerate() {
            prop_assert!(!w.folded.is_empty());
            prop_assert!(w.typos <= 2);
            prop_assert!(limited.words[..i].iter().all(|o| o.folded != w.folded), "{:?} twice", w.folded);
        }
        let _ = Words::for_query(&mut analyzers, &text, prefix);
        prop_assert!(typos_for(&text) <= 2);
    }

    #[test]
    fn edit_distance_takes_any_words(a in odd_text(), b in odd_text(), max in 0u8..4) {
        prop_assert!(edit_distance_at_most(&a, &a, 0));
        prop_assert_eq!(edit_distance_at_most(&a, &b, max), edit_distance_at_most(&b, &a, max));
    }

    #[test]
    fn analyzers_take_any_text_and_point_into_it(text in odd_text()) {
        let mut analyzers = Analyzers::default();
        let words = analyzers.words(&text);
        prop_assert!(ranges_fit(&text, &words.iter().map(|t| (t.from, t.to)).collect::<Vec<_>>()));
        for lang in Lang::ALL {
            let stems = analyzers.stems(lang, &text);
            prop_assert!(ranges_fit(&text, &stems.iter().map(|t| (t.from, t.to)).collect::<Vec<_>>()));
        }
        let _ = analyzers.keyword(&text);
        let folded = fold(&text);
        prop_assert!(folded.chars().all(|c| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | ' ')), "{folded:?}");
        prop_assert!(!folded.starts_with(' '), "{folded:?}");
    }

    #[test]
    fn highlighting_takes_any_text_and_query(query in odd_text(), text in odd_text(), prefix: bool, max_chars in 0usize..200) {
        let mut analyzers = Analyzers::default();
        let plan = QueryPlan::new(&mut analyzers, &query, prefix);
        for lang in Lang::ALL {
            let ranges = highlight::matches(&plan, &mut analyzers, lang, &text);
            prop_assert!(ranges_fit(&text, &ranges));
            prop_assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "overlapping {ranges:?}");
            let _ = highlight::words_found(&plan, &mut analyzers, lang, &text);
            for html in [highlight::mark_all(&text, &ranges), highlight::snippet(&text, &ranges, max_chars)] {
                prop_assert_eq!(html.matches("<mark>").count(), html.matches("</mark>").count());
                prop_assert!(!without_marks(&html).contains('<'), "{html}");
            }
        }
    }

    #[test]
    fn highlighting_takes_any_ranges(text in odd_text(), ranges in prop::collection::vec((0usize..80, 0usize..80), 0..8), max_chars in 0usize..60) {
        // Ranges that run backwards, past the end or inside a character are left unmarked.
        for html in [highlight::mark_all(&text, &ranges), highlight::snippet(&text, &ranges, max_chars)] {
            prop_assert!(!without_marks(&html).contains('<'), "{html}");
        }
    }

    #[test]
    fn escaped_text_holds_no_raw_markup(text in odd_text()) {
        let mut out = String::new();
        escape_html(&text, &mut out);
        prop_assert!(!out.contains('<') && !out.contains('>') && !out.contains('"'), "{out}");
        let unescaped = out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
        prop_assert_eq!(unescaped, text);
    }
}

fn record(json: serde_json::Value) -> Record {
    serde_json::from_value(json).expect("test record")
}

/// A generation of a few records in several languages, built once for the whole file.
fn small_index() -> &'static SearchIndex {
    static INDEX: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
    let (_, index) = INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = store::RecordStore::open_dir(dir.path()).expect("store");
        store
            .upsert_many([
                record(serde_json::json!({
                    "kind": "offer", "source": "test", "source_key": "1", "title": "Stage développeur C# / .NET",
                    "contract_type": "internship", "city": "Liège", "region": "Wallonie",
                    "description": "Développement d'applications web\u{a0}: C#, SQL, «\u{a0}clean code\u{a0}» — 6 mois 🎓"
                })),
                record(serde_json::json!({
                    "kind": "offer", "source": "test", "source_key": "2", "title": "Alternance infirmier·e en gériatrie",
                    "contract_type": "apprenticeship", "city": "Namur", "region": "Wallonie", "language": "fr",
                    "description": "Soins aux personnes âgées, travail en équipe pluridisciplinaire."
                })),
                record(serde_json::json!({
                    "kind": "programme", "source": "test", "source_key": "3", "title": "Bachelor toegepaste informatica",
                    "language": "nl", "city": "Gent", "description": "Programmeren in Java en Python, databanken, netwerken."
                })),
                record(serde_json::json!({
                    "kind": "offer", "source": "test", "source_key": "6", "title": "Stage Java",
                    "contract_type": "internship", "city": "Mons",
                    "description": format!("{}Java {}", "mot\u{a0}".repeat(60), "mot\u{a0}".repeat(60))
                })),
                record(serde_json::json!({
                    "kind": "school", "source": "test", "source_key": "4", "name": "Lycée Saint-Joseph", "city": "Nantes",
                    "region": "Pays de la Loire", "postal_code": "44000"
                })),
                record(serde_json::json!({
                    "kind": "question", "source": "test", "source_key": "5", "text": "What does this C++ code print?",
                    "language": "en", "options": ["0", "1", "undefined behaviour"], "tag": "c++"
                })),
            ])
            .expect("records stored");
        build_generation(dir.path(), &mut store, |_| {}).expect("index built");
        let index = SearchIndex::open_current(dir.path()).expect("index opens");
        (dir, index)
    });
    index
}

#[test]
fn a_snippet_cut_next_to_a_no_break_space_is_served() {
    // French text puts a no-break space before `:` and inside numbers; a snippet window that
    // started next to one used to cut it in half and panic.
    let found = small_index().search(&SearchRequest { q: "java".into(), limit: 10, ..Default::default() }).expect("search answers");
    let hit = found.hits.iter().find(|h| h.title == "Stage Java").expect("the offer is found");
    assert!(hit.snippet.starts_with('…') && hit.snippet.contains("<mark>Java</mark>"), "{}", hit.snippet);
}

/// Queries that find something in [`small_index`], with odd text around them.
fn indexed_words() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec!["java", "stage dév", "développeur C#", "infirmier", "informatica", "lycée", "C++", "mot", "wallonie", "print"]);
    (odd_text(), word, odd_text()).prop_map(|(before, word, after)| format!("{before} {word} {after}"))
}

fn any_offset() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0), 2 => 0usize..20, 1 => 9_990usize..10_010, 1 => Just(usize::MAX), 1 => any::<usize>()]
}

fn any_limit() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0usize..120, 1 => Just(usize::MAX), 1 => any::<usize>()]
}

fn any_filters() -> impl Strategy<Value = Vec<(FacetField, Vec<String>)>> {
    prop::collection::vec((prop::sample::select(FacetField::ALL.to_vec()), prop::collection::vec(odd_text(), 0..3)), 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn search_answers_or_rejects_any_request(
        q in prop_oneof![3 => odd_text(), 3 => indexed_words(), 1 => "\\PC{990,1010}"],
        offset in any_offset(),
        limit in any_limit(),
        prefix: bool,
        explain: bool,
        semantic_ratio in prop::option::of(prop_oneof![0.0f32..=1.0, any::<f32>(), Just(f32::NAN), Just(f32::INFINITY)]),
        filters in any_filters(),
        near in prop::option::of((-100.0f64..100.0, -200.0f64..200.0, prop_oneof![0.0f64..1200.0, Just(f64::NAN)])),
        sort in prop::sample::select(vec![passerelle_indexer::Sort::Relevance, passerelle_indexer::Sort::Recent, passerelle_indexer::Sort::Distance]),
    ) {
        let index = small_index();
        // A circle anywhere (the API refuses bad coordinates before they reach the engine).
        let near = near.and_then(|(lat, lon, km)| passerelle_indexer::geo::Near::at(lat, lon, Some(km)).ok());
        let request = SearchRequest { q, filters, limit, offset, prefix, semantic_ratio, explain, fusion: None, sort, near };
        for answer in [index.search(&request), index.search_hybrid(&request, None)] {
            match answer {
                Ok(found) => {
                    prop_assert!(found.hits.len() <= limit);
                    for hit in &found.hits {
                        prop_assert!(!without_marks(&hit.title_html).contains('<'), "{}", hit.title_html);
                        prop_assert!(!without_marks(&hit.snippet).contains('<'), "{}", hit.snippet);
                    }
                }
                Err(IndexError::InvalidRequest { .. }) => {}
                Err(other) => prop_assert!(false, "neither an answer nor a bad request: {other}"),
            }
        }
    }
}
