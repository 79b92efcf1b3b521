//! From what a person typed to a tantivy query.
//!
//! Each word may match its stem in any language's fields, its exact folded form in names, and,
//! when it is long enough, a form with typos (Meilisearch's rule: none under 5 letters, 1 up to
//! 8, 2 beyond). The last word, while the person is still typing, also matches as a prefix: the
//! prefix is expanded to the index's most frequent completions. Typos are expanded the same way,
//! through a Levenshtein automaton over the term dictionary: the words found are searched as
//! plain terms, so BM25 still ranks the hits (tantivy's fuzzy query gives every hit the same
//! score, which ranks "informatique" in a title no higher than in a footnote). Words that hold a digit
//! (postal codes, ROME codes, `C#`-like names) never get typos: a near code is another code.

use std::collections::HashMap;
use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::analysis::{Analyzers, Lang};
use crate::schema::IndexFields;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words of a search-box query that are searched (later ones are ignored).
pub const MAX_QUERY_WORDS: usize = 32;
/// Most words of a long text used as a query (an offer, a question): matching and evaluation.
pub const MAX_TEXT_QUERY_WORDS: usize = 256;
/// Completions a prefix is expanded to.
const MAX_COMPLETIONS: usize = 12;
/// Terms read in the dictionary to find them (bounds the cost of one-letter prefixes).
const MAX_COMPLETION_SCAN: usize = 4_000;
/// Spellings within the typo budget a word is expanded to.
const MAX_TYPO_VARIANTS: usize = 8;

/// One word of the query, analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryWord {
    /// Lower-cased, accents folded, unstemmed.
    pub folded: String,
    /// Its stem in each language whose analyzer keeps it.
    pub stems: Vec<(Lang, String)>,
    /// A stop word in some language: it adds to the score but is not required.
    pub stop: bool,
    /// Matched as a prefix too (the last word, still being typed).
    pub prefix: bool,
    /// Typos allowed.
    pub typos: u8,
}

/// The analysed query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryPlan {
    /// The distinct words, in the order typed.
    pub words: Vec<QueryWord>,
}

/// Typos allowed for a folded word: by its length in characters (Meilisearch's defaults),
/// none for a word holding a digit, `#` or `+`.
pub fn typos_for(word: &str) -> u8 {
    if word.chars().any(|c| c.is_ascii_digit() || c == '#' || c == '+') {
        return 0;
    }
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

impl QueryPlan {
    /// Analyses `text`; `prefix_last` when the person may still be typing the last word.
    pub fn new(analyzers: &mut Analyzers, text: &str, prefix_last: bool) -> QueryPlan {
        Self::with_max_words(analyzers, text, prefix_last, MAX_QUERY_WORDS)
    }

    /// Like [`QueryPlan::new`], reading up to `max_words` distinct words.
    pub fn with_max_words(analyzers: &mut Analyzers, text: &str, prefix_last: bool, max_words: usize) -> QueryPlan {
        let mut words: Vec<QueryWord> = Vec::new();
        for term in analyzers.words(text) {
            if words.len() >= max_words {
                break;
            }
            let raw = &text[term.from..term.to];
            let mut stems = Vec::new();
            let mut stop = false;
            for lang in Lang::ALL {
                match analyzers.stems(lang, raw).into_iter().next() {
                    Some(s) => stems.push((lang, s.text)),
                    None => stop = true,
                }
            }
            let typos = typos_for(&term.text);
            if words.iter().any(|w| w.folded == term.text) {
                continue;
            }
            words.push(QueryWord { folded: term.text, stems, stop, prefix: false, typos });
        }
        // The last word is a prefix unless the text ends with a separator (the word is finished).
        let finished = text.chars().last().is_none_or(|c| !c.is_alphanumeric());
        if prefix_last
            && !finished
            && let Some(last) = words.last_mut()
        {
            last.prefix = true;
            last.stop = false;
        }
        // A query made only of stop words still needs them.
        if words.iter().all(|w| w.stop) {
            for w in &mut words {
                w.stop = false;
            }
        }
        QueryPlan { words }
    }

    /// Whether the text held no word (a browse: every document matches).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The query with the words the person typed; `required` words must all match, the
    /// others only add to the score.
    pub fn to_query(&self, fields: &IndexFields, searcher: &Searcher, required: usize) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut required_left = required;
        for word in &self.words {
            let occur = if !word.stop && required_left > 0 {
                required_left -= 1;
                Occur::Must
            } else {
                Occur::Should
            };
            clauses.push((occur, word_query(word, fields, searcher)));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Words that must match when nothing is relaxed.
    pub fn required_words(&self) -> usize {
        self.words.iter().filter(|w| !w.stop).count()
    }
}

fn boosted(q: impl Query, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
}

fn term_query(field: Field, text: &str, boost: f32) -> (Occur, Box<dyn Query>) {
    boosted(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs), boost)
}

fn word_query(word: &QueryWord, fields: &IndexFields, searcher: &Searcher) -> Box<dyn Query> {
    let mut should = Vec::new();
    for (lang, stem) in &word.stems {
        for (l, f) in fields.title {
            if l == *lang {
                should.push(term_query(f, stem, 3.0));
            }
        }
        for (l, f) in fields.body {
            if l == *lang {
                should.push(term_query(f, stem, 1.0));
            }
        }
    }
    should.push(term_query(fields.name, &word.folded, 2.0));
    if word.stems.len() < Lang::ALL.len() {
        // A stop word in some language: the stemmed fields may not hold it; the folded words do.
        // (For other words the stemmed fields already hold every form, and reading this long
        // posting list too would cost time for nothing.)
        should.push(term_query(fields.words, &word.folded, 0.5));
    }
    if word.typos > 0 {
        for (variant, distance) in typo_variants(searcher, fields.words, &word.folded, word.typos, false) {
            let boost = if distance == 1 { 0.6 } else { 0.35 };
            should.push(term_query(fields.words, &variant, boost));
            should.push(term_query(fields.name, &variant, boost * 1.5));
        }
    }
    if word.prefix {
        for completion in completions(searcher, fields.words, &word.folded) {
            if completion != word.folded {
                should.push(term_query(fields.words, &completion, 1.0));
                should.push(term_query(fields.name, &completion, 1.5));
            }
        }
        if word.typos > 0 {
            for (variant, _) in typo_variants(searcher, fields.words, &word.folded, word.typos, true) {
                if !variant.starts_with(&word.folded) {
                    should.push(term_query(fields.words, &variant, 0.3));
                }
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// The most frequent terms of `field` that start with `prefix`.
fn completions(searcher: &Searcher, field: Field, prefix: &str) -> Vec<String> {
    let mut found: HashMap<Vec<u8>, u64> = HashMap::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else { continue };
        let Ok(mut stream) = inverted.terms().range().ge(prefix.as_bytes()).into_stream() else { continue };
        let mut scanned = 0;
        while stream.advance() {
            let key = stream.key();
            if !key.starts_with(prefix.as_bytes()) || scanned >= MAX_COMPLETION_SCAN {
                break;
            }
            scanned += 1;
            *found.entry(key.to_vec()).or_default() += u64::from(stream.value().doc_freq);
        }
    }
    most_frequent(found, MAX_COMPLETIONS)
}

fn most_frequent(found: HashMap<Vec<u8>, u64>, max: usize) -> Vec<String> {
    let mut found: Vec<(Vec<u8>, u64)> = found.into_iter().collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    found.truncate(max);
    found.into_iter().filter_map(|(k, _)| String::from_utf8(k).ok()).collect()
}

/// Levenshtein automata builders are costly to make (they precompute tables): one per distance.
fn automaton_builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let d = distance.min(2);
    BUILDERS[d as usize].get_or_init(|| LevenshteinAutomatonBuilder::new(d, true))
}

struct Levenshtein(DFA);

impl tantivy_fst::Automaton for Levenshtein {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Terms of `field` within `max` typos of `word` (or, with `prefix`, that start with a prefix
/// within `max` typos of it), with their distance; closest and most frequent first.
fn typo_variants(searcher: &Searcher, field: Field, word: &str, max: u8, prefix: bool) -> Vec<(String, u8)> {
    let builder = automaton_builder(max);
    let mut found: HashMap<Vec<u8>, u64> = HashMap::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else { continue };
        let dfa = if prefix { builder.build_prefix_dfa(word) } else { builder.build_dfa(word) };
        let Ok(mut stream) = inverted.terms().search(Levenshtein(dfa)).into_stream() else { continue };
        let mut scanned = 0;
        while stream.advance() && scanned < MAX_COMPLETION_SCAN {
            scanned += 1;
            *found.entry(stream.key().to_vec()).or_default() += u64::from(stream.value().doc_freq);
        }
    }
    found.remove(word.as_bytes());
    let mut ranked: Vec<(String, u8, u64)> = found
        .into_iter()
        .filter_map(|(k, df)| {
            let term = String::from_utf8(k).ok()?;
            let distance = if prefix { 1 } else { (1..=max).find(|&d| edit_distance_at_most(&term, word, d))? };
            Some((term, distance, df))
        })
        .collect();
    ranked.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(MAX_TYPO_VARIANTS);
    ranked.into_iter().map(|(t, d, _)| (t, d)).collect()
}

/// Whether two words are within `max` edits (insert, delete, substitute, swap of neighbours:
/// the optimal string alignment distance, counted in characters).
pub fn edit_distance_at_most(a: &str, b: &str, max: u8) -> bool {
    let max = usize::from(max);
    a.chars().count().abs_diff(b.chars().count()) <= max && strsim::osa_distance(a, b) <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_budget_follows_word_length_and_spares_codes() {
        assert_eq!(typos_for("java"), 0);
        assert_eq!(typos_for("stage"), 1);
        assert_eq!(typos_for("informatique"), 2);
        assert_eq!(typos_for("44350"), 0);
        assert_eq!(typos_for("m1805abc"), 0);
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert!(edit_distance_at_most("infromatique", "informatique", 1));
        assert!(edit_distance_at_most("informatiqe", "informatique", 1));
        assert!(!edit_distance_at_most("logistique", "informatique", 2));
        assert!(edit_distance_at_most("", "ab", 2));
    }

    #[test]
    fn plan_marks_stop_words_and_the_prefix() {
        let mut a = Analyzers::default();
        let plan = QueryPlan::new(&mut a, "stage de dévelop", true);
        let words: Vec<(&str, bool, bool)> = plan.words.iter().map(|w| (w.folded.as_str(), w.stop, w.prefix)).collect();
        assert_eq!(words, vec![("stage", false, false), ("de", true, false), ("develop", false, true)]);
        let finished = QueryPlan::new(&mut a, "stage ", true);
        assert!(!finished.words[0].prefix);
        let only_stop = QueryPlan::new(&mut a, "de la", false);
        assert!(only_stop.words.iter().all(|w| !w.stop));
    }
}
