//! Snippets: the part of a text that best shows why it matched, HTML-escaped, with the matching
//! words in `<mark>`. Written here rather than with tantivy's snippet generator because matches
//! also come from prefixes and typos, which that generator does not see.

use crate::analysis::{Analyzers, Lang};
use crate::query::{QueryPlan, edit_distance_at_most};

/// Byte ranges of `text` that match the query's words.
pub fn matches(plan: &QueryPlan, analyzers: &mut Analyzers, lang: Lang, text: &str) -> Vec<(usize, usize)> {
    if plan.words.is_empty() {
        return Vec::new();
    }
    let stems: Vec<&str> = plan.words.iter().flat_map(|q| q.stems.iter().filter(|(l, _)| *l == lang).map(|(_, s)| s.as_str())).collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for word in analyzers.words(text) {
        let cheap = plan.words.iter().any(|q| {
            word.text == q.folded
                || (q.prefix && word.text.starts_with(&q.folded))
                || (q.typos > 0 && edit_distance_at_most(&word.text, &q.folded, q.typos))
                || (q.prefix
                    && q.typos > 0
                    && word.text.len() > q.folded.len()
                    && edit_distance_at_most(prefix_chars(&word.text, q.folded.chars().count()), &q.folded, q.typos))
        });
        // Stemming every word of every hit is the costly part; a stem starts like its word,
        // so only words that share the first letters of a query stem are stemmed.
        let hit = cheap
            || (stems.iter().any(|s| shares_start(&word.text, s))
                && analyzers.stems(lang, &text[word.from..word.to]).first().is_some_and(|st| stems.contains(&st.text.as_str())));
        if hit {
            ranges.push((word.from, word.to));
        }
    }
    ranges
}

/// How many of the query's non-stop words `text` contains as typed: the same word, the same
/// stem, or a completion of the word still being typed (typos do not count). The search box uses
/// it to tell strong keyword hits (every word in the title) from loose ones.
pub fn words_found(plan: &QueryPlan, analyzers: &mut Analyzers, lang: Lang, text: &str) -> usize {
    let words = analyzers.words(text);
    let mut stems: Option<Vec<String>> = None;
    plan.words
        .iter()
        .filter(|q| !q.stop)
        .filter(|q| {
            if words.iter().any(|w| w.text == q.folded || (q.prefix && w.text.starts_with(&q.folded))) {
                return true;
            }
            let Some((_, stem)) = q.stems.iter().find(|(l, _)| *l == lang) else { return false };
            let text_stems = stems.get_or_insert_with(|| analyzers.stems(lang, text).into_iter().map(|t| t.text).collect());
            text_stems.iter().any(|s| s == stem)
        })
        .count()
}

fn shares_start(word: &str, stem: &str) -> bool {
    word.starts_with(prefix_chars(stem, 3))
}

fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Escapes text for HTML.
pub fn escape_html(text: &str, out: &mut String) {
    // `&`, `<`, `>` and `"`: safe as element text and inside a double-quoted attribute.
    html_escape::encode_double_quoted_attribute_to_string(text, out);
}

/// Whole `text`, escaped, matches marked.
pub fn mark_all(text: &str, ranges: &[(usize, usize)]) -> String {
    render(text, 0, text.len(), ranges)
}

/// A window of about `max_chars` characters around the densest matches, escaped and marked,
/// with `…` where text was cut.
pub fn snippet(text: &str, ranges: &[(usize, usize)], max_chars: usize) -> String {
    let text_chars = text.chars().count();
    if text_chars <= max_chars {
        return render(text, 0, text.len(), ranges);
    }
    // The window start (in bytes) that covers the most matches.
    let mut best = (0usize, 0usize);
    for (i, &(from, _)) in ranges.iter().enumerate() {
        if !text.is_char_boundary(from) {
            continue;
        }
        let start = back_off(text, from, max_chars / 5);
        let end = forward(text, start, max_chars);
        let covered = ranges[i..].iter().take_while(|r| r.1 <= end).count();
        if covered > best.1 {
            best = (start, covered);
        }
    }
    let start = snap_start(text, best.0);
    // A window narrower than the distance to the last space would snap back before its start.
    let cut = forward(text, start, max_chars);
    let end = Some(snap_end(text, cut)).filter(|&end| end > start).unwrap_or(cut);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&render(text, start, end, ranges));
    if end < text.len() {
        out.push('…');
    }
    out
}

fn render(text: &str, start: usize, end: usize, ranges: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(end - start + 32);
    let mut at = start;
    for &(from, to) in ranges {
        // Ranges come from the caller: one that overlaps, runs backwards or cuts a character
        // is not marked.
        if from < at || to > end {
            continue;
        }
        let (Some(before), Some(marked)) = (text.get(at..from), text.get(from..to)) else { continue };
        escape_html(before, &mut out);
        out.push_str("<mark>");
        escape_html(marked, &mut out);
        out.push_str("</mark>");
        at = to;
    }
    escape_html(&text[at..end], &mut out);
    out
}

/// The byte offset `chars` characters before `at`.
fn back_off(text: &str, at: usize, chars: usize) -> usize {
    text[..at].char_indices().rev().nth(chars.saturating_sub(1)).map_or(0, |(i, _)| i)
}

/// The byte offset `chars` characters after `at`.
fn forward(text: &str, at: usize, chars: usize) -> usize {
    text[at..].char_indices().nth(chars).map_or(text.len(), |(i, _)| at + i)
}

/// Moves a cut forward to the start of a word.
fn snap_start(text: &str, at: usize) -> usize {
    if at == 0 {
        return 0;
    }
    // Past the whole space: a no-break space (common in French text) is two bytes.
    match text[at..].char_indices().find(|(_, c)| c.is_whitespace()) {
        Some((i, space)) if i < 20 => at + i + space.len_utf8(),
        _ => at,
    }
}

/// Moves a cut back to the end of a word.
fn snap_end(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    match text[..at].rfind(char::is_whitespace) {
        Some(i) if at - i < 20 => i,
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_untrusted_text_and_marks_matches() {
        let text = "<script>alert(1)</script> Stage en informatique";
        let start = text.find("informatique").unwrap();
        let out = mark_all(text, &[(start, start + "informatique".len())]);
        assert_eq!(out, "&lt;script&gt;alert(1)&lt;/script&gt; Stage en <mark>informatique</mark>");
    }

    #[test]
    fn a_cut_before_a_no_break_space_does_not_split_it() {
        // The window starts just before a no-break space: the cut moves past all of its bytes.
        let text = format!("{}\u{a0}{}", "a".repeat(40), "mot\u{a0}".repeat(40));
        for at in 30..60 {
            let from = text.char_indices().map(|(i, _)| i).find(|&i| i >= at).unwrap();
            let s = snippet(&text, &[(from, from)], 20);
            assert!(s.starts_with('…'), "{s}");
        }
        assert_eq!(snap_start("ab\u{a0}cd", 1), 4);
        assert_eq!(snap_start("ab\u{3000}cd", 1), 5);
    }

    #[test]
    fn a_narrow_window_never_ends_before_it_starts() {
        let text = "un deux trois quatre cinq six sept huit";
        let at = text.find("cinq").unwrap();
        // Three characters from just after a space: the cut back to the last space would land
        // before the window's start.
        assert_eq!(snippet(text, &[(at, at + 1)], 3), "…<mark>c</mark>in…");
        for max_chars in 0..12 {
            for range in [(at, at + 1), (at, at + 4)] {
                assert!(!snippet(text, &[range], max_chars).is_empty());
            }
        }
        assert_eq!(snippet(text, &[(at, at + 4)], 6), "…<mark>cinq</mark>…");
    }

    #[test]
    fn ranges_that_do_not_fit_the_text_are_not_marked() {
        let text = "é<b>é";
        assert_eq!(mark_all(text, &[(1, 2), (3, 1), (0, 99), (7, 8)]), "é&lt;b&gt;é");
        assert_eq!(mark_all(text, &[(0, 2)]), "<mark>é</mark>&lt;b&gt;é");
        let long = "é".repeat(300);
        let s = snippet(&long, &[(1, 3), (301, 302), (1000, 1001), (10, 4)], 50);
        assert!(s.ends_with('…') && !s.contains("<mark>"), "{s}");
    }

    #[test]
    fn stems_are_compared_by_their_first_characters_not_bytes() {
        // "ωω" is four bytes: the first three letters of the stem, not three bytes, must match.
        assert!(shares_start("ωωmega", "ωωme"));
        assert!(!shares_start("ωαmega", "ωωme"));
        assert!(shares_start("develop", "dev"));
    }

    #[test]
    fn snippet_cuts_around_the_matches() {
        let text = format!("{} développeur Java recherché {}", "avant ".repeat(60), "après ".repeat(60));
        let from = text.find("Java").unwrap();
        let s = snippet(&text, &[(from, from + 4)], 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>Java</mark>"), "{s}");
        assert!(s.chars().count() < 110, "{s}");
    }
}
