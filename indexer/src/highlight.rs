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
    let stems: Vec<&str> =
        plan.words.iter().flat_map(|q| q.stems.iter().filter(|(l, _)| *l == lang).map(|(_, s)| s.as_str())).collect();
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
                && analyzers
                    .stems(lang, &text[word.from..word.to])
                    .first()
                    .is_some_and(|st| stems.contains(&st.text.as_str())));
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
    let n = stem.len().min(3);
    stem.is_char_boundary(n) && word.starts_with(&stem[..n])
}

fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Escapes text for HTML.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
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
        let start = back_off(text, from, max_chars / 5);
        let end = forward(text, start, max_chars);
        let covered = ranges[i..].iter().take_while(|r| r.1 <= end).count();
        if covered > best.1 {
            best = (start, covered);
        }
    }
    let start = snap_start(text, best.0);
    let end = snap_end(text, forward(text, start, max_chars));
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
        if from < at || to > end {
            continue;
        }
        escape_html(&text[at..from], &mut out);
        out.push_str("<mark>");
        escape_html(&text[from..to], &mut out);
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
    match text[at..].find(char::is_whitespace) {
        Some(i) if i < 20 => at + i + 1,
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
    fn snippet_cuts_around_the_matches() {
        let text = format!("{} développeur Java recherché {}", "avant ".repeat(60), "après ".repeat(60));
        let from = text.find("Java").unwrap();
        let s = snippet(&text, &[(from, from + 4)], 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>Java</mark>"), "{s}");
        assert!(s.chars().count() < 110, "{s}");
    }
}
