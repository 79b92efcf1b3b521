//! Text analysis: how passerelle cuts text into the terms it indexes and searches.
//!
//! - [`WordTokenizer`] splits on punctuation and spaces but keeps programming names whole
//!   (`C#`, `C++`, `F#`, `.NET`).
//! - One stemmed analyzer per language (`fr`, `nl`, `en`): lower-case, stop words (for French with
//!   the elided articles `l' d' qu' jusqu'`...), Snowball stemming, and only then accents folded,
//!   because the stop lists and stemmers expect accents.
//! - `folded`: lower-cased, accents folded, no stemming: exact names, prefixes and typo matching.
//! - `keyword`: the whole value folded: filter fields such as region or city.
//!
//! Custom analyzers are not stored in a tantivy index, so [`register`] runs on every open.

mod word_tokenizer;

pub use word_tokenizer::WordTokenizer;

use tantivy::Index;
use tantivy::tokenizer::{AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, TokenStream};

/// A text language the index has a stemmed analyzer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// French.
    Fr,
    /// Dutch.
    Nl,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the index's per-language fields are laid out.
    pub const ALL: [Lang; 3] = [Lang::Fr, Lang::Nl, Lang::En];

    /// The analyzer's name in the tokenizer manager.
    pub fn analyzer(self) -> &'static str {
        match self {
            Lang::Fr => "fr_stem",
            Lang::Nl => "nl_stem",
            Lang::En => "en_stem",
        }
    }

    /// The ISO 639-1 code, also the suffix of the language's fields (`title_fr`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// Reads an ISO 639-1 code; anything unknown is treated as French, the main language here.
    pub fn from_code(code: Option<&str>) -> Lang {
        match code.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            Some("nl") => Lang::Nl,
            Some("en") => Lang::En,
            _ => Lang::Fr,
        }
    }
}

/// Name of the analyzer of folded, unstemmed words (names, prefixes, typos).
pub const FOLDED: &str = "folded";
/// Name of the analyzer that folds a whole value into one term (filter fields).
pub const KEYWORD: &str = "keyword";

/// Elided forms the French stop list lacks (it has `l d j m n s t c qu`).
const FRENCH_ELISIONS: &[&str] = &["jusqu", "lorsqu", "puisqu", "quoiqu", "presqu", "quelqu"];

/// Tokens longer than this are not words (hashes, base64) and are dropped.
const MAX_TOKEN_BYTES: usize = 60;

fn stemmed(lang: Lang) -> TextAnalyzer {
    let (language, extra): (Language, &[&str]) = match lang {
        Lang::Fr => (Language::French, FRENCH_ELISIONS),
        Lang::Nl => (Language::Dutch, &[]),
        Lang::En => (Language::English, &[]),
    };
    let stop = StopWordFilter::new(language).expect("tantivy ships stop words for fr, nl, en");
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(stop)
        .filter(StopWordFilter::remove(extra.iter().map(|s| s.to_string())))
        .filter(Stemmer::new(language))
        .filter(AsciiFoldingFilter)
        .build()
}

fn folded() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer).filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES)).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

fn keyword() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// Registers every analyzer on an index (needed each time an index is created or opened).
pub fn register(index: &Index) {
    let manager = index.tokenizers();
    for lang in Lang::ALL {
        manager.register(lang.analyzer(), stemmed(lang));
    }
    manager.register(FOLDED, folded());
    manager.register(KEYWORD, keyword());
}

/// The analyzers, outside any index: used to analyse queries and to highlight.
#[derive(Clone)]
pub struct Analyzers {
    fr: TextAnalyzer,
    nl: TextAnalyzer,
    en: TextAnalyzer,
    folded: TextAnalyzer,
    keyword: TextAnalyzer,
}

impl Default for Analyzers {
    fn default() -> Self {
        Self { fr: stemmed(Lang::Fr), nl: stemmed(Lang::Nl), en: stemmed(Lang::En), folded: folded(), keyword: keyword() }
    }
}

/// One analysed token with its byte range in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The token as analysed (lower-cased, folded, maybe stemmed).
    pub text: String,
    /// Byte offset of its first character in the source text.
    pub from: usize,
    /// Byte offset just past its last character.
    pub to: usize,
}

fn run(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Term> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push(Term { text: t.text.clone(), from: t.offset_from, to: t.offset_to });
    }
    out
}

impl Analyzers {
    /// Stemmed terms of `text` in `lang` (stop words removed).
    pub fn stems(&mut self, lang: Lang, text: &str) -> Vec<Term> {
        let analyzer = match lang {
            Lang::Fr => &mut self.fr,
            Lang::Nl => &mut self.nl,
            Lang::En => &mut self.en,
        };
        run(analyzer, text)
    }

    /// Folded words of `text` (no stemming, no stop words).
    pub fn words(&mut self, text: &str) -> Vec<Term> {
        run(&mut self.folded, text)
    }

    /// The folded form of a whole value (filters).
    pub fn keyword(&mut self, text: &str) -> String {
        run(&mut self.keyword, text.trim()).into_iter().next().map(|t| t.text).unwrap_or_default()
    }
}

/// Lower case, accents off, every run of other characters one space; keeps `+`, `#` and `.`
/// inside words (C++, C#, .NET, Node.js).
pub fn fold(text: &str) -> String {
    use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer};
    thread_local! {
        static FOLD: std::cell::RefCell<TextAnalyzer> =
            std::cell::RefCell::new(TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build());
    }
    let folded = FOLD.with(|a| {
        let mut a = a.borrow_mut();
        let mut stream = a.token_stream(text);
        let mut out = String::new();
        while stream.advance() {
            out.push_str(&stream.token().text);
        }
        out
    });
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_alphanumeric() || matches!(c, '+' | '#' | '.') {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(terms: Vec<Term>) -> Vec<String> {
        terms.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn french_stems_then_folds_and_drops_elided_articles() {
        let mut a = Analyzers::default();
        assert_eq!(texts(a.stems(Lang::Fr, "L'informatique et les développeurs")), vec!["informat", "developpeur"]);
        // Same stem with or without accents, singular or plural.
        assert_eq!(texts(a.stems(Lang::Fr, "développement")), texts(a.stems(Lang::Fr, "developpements")));
        assert_eq!(texts(a.stems(Lang::Fr, "jusqu'à l'école")), vec!["ecol"]);
    }

    #[test]
    fn dutch_and_english_have_their_own_stemmers() {
        let mut a = Analyzers::default();
        assert_eq!(texts(a.stems(Lang::Nl, "de opleidingen")), texts(a.stems(Lang::Nl, "opleiding")));
        assert_eq!(texts(a.stems(Lang::En, "the developers")), vec!["develop"]);
    }

    #[test]
    fn folded_keeps_words_whole_and_programming_names() {
        let mut a = Analyzers::default();
        assert_eq!(texts(a.words("Lycée Saint-Joseph")), vec!["lycee", "saint", "joseph"]);
        assert_eq!(texts(a.words("C# et C++ sous .NET")), vec!["c#", "et", "c++", "sous", ".net"]);
        assert_eq!(a.keyword("  Pays de la Loire "), "pays de la loire");
        assert_eq!(a.keyword("Liège"), "liege");
    }
}
