//! Similar questions: what a quiz contributor sees before saving a question. Its near-duplicates
//! among the indexed questions, each with a similarity and a verdict (duplicate, similar,
//! distinct) and the reasons for it, and the language tag the question would get.
//!
//! Candidates come from the engine's one retriever
//! ([`SearchIndex::retrieve`](indexer::SearchIndex::retrieve)) over the indexed questions: the
//! new question embedded as a passage (stem + code + options, as the indexed ones are, so a
//! French question and its English translation meet) and its stem read as a text by the keyword
//! leg. The questions the semantic leg found are judged, plus those of the same normalised text
//! (found through the generation's vectors even when the graph misses them); without vectors or
//! a model, the keyword leg's candidates are judged by their words alone. The verdict is not
//! fusion: it is the cosine similarity against thresholds calibrated on
//! `fixtures/data/question-pairs.tsv`, overruled by what a model cannot see reliably: the code
//! (tokens compared with whitespace and quote style set aside, variables renamed consistently),
//! the options, and a wording that differs by a few words only (the look-alike pattern: "peut" /
//! "ne peut", `[0]` / `[-1]`). The fused score (meaning and words, convex) only orders the
//! questions of one verdict.
//!
//! The language tag is a vote of the nearest questions' tags, weighted by similarity, plus cues
//! in the text and code (`System.out.println`, `<?php`, `console.log`, "castor"...).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use schemas::{Question, Record};
use serde::{Deserialize, Serialize};

use crate::Features;
use embed::QueryEncoder;
use embed::TextRole;
use indexer::IndexError;
use indexer::hybrid::Fusion;
use indexer::retrieve::{Retrieval, SemanticStatus, SemanticText, Words};
use indexer::schema::FacetField;
use indexer::semantic::embedding_text;

/// Longest stem, and longest code, accepted (characters).
pub const MAX_QUESTION_CHARS: usize = 20_000;
/// Most options accepted.
pub const MAX_OPTIONS: usize = 20;
/// Longest option accepted (characters).
pub const MAX_OPTION_CHARS: usize = 2_000;
/// Most indexed questions one answer may hold.
pub const MAX_SIMILAR_LIMIT: usize = 50;
/// Indexed questions returned when the request does not say.
pub const DEFAULT_SIMILAR_LIMIT: usize = 10;
/// Cosine similarity from which two questions are the same question (unless the code, the
/// options or a small change of wording say otherwise). Calibrated on the fixtures' planted
/// pairs with multilingual-e5-small: precision .70 / recall .77 there (BENCHMARKS.md).
pub const DUPLICATE_SIMILARITY: f32 = 0.93;
/// Cosine similarity from which a question is worth a look (95 % of planted pairs, duplicates
/// and look-alikes, are above it; about 3 unrelated questions per question too).
pub const SIMILAR_SIMILARITY: f32 = 0.90;
/// Same language, different wording, but this share of the words in the same order: a small
/// edit that usually changes the question (paraphrases stay under 0.5 on the fixtures).
const NEAR_WORDING: f32 = 0.75;
/// Neighbours read for the verdicts and the tag vote.
const DEPTH: usize = 30;
/// Neighbours voting for the tag, and how sharply the vote favours the closest.
const TAG_NEIGHBOURS: usize = 7;
const TAG_TEMPERATURE: f32 = 0.03;
/// What a cue in the text adds to a tag (the neighbours' votes sum to 1).
const CUE_WEIGHT: f32 = 0.5;
/// Share of code tokens in common from which different code is a look-alike (one operator or
/// one call changed) rather than another program.
const CODE_LOOKALIKE: f32 = 0.6;
/// Weight of the meaning (cosine) against the words (BM25) when ordering questions of the same
/// verdict.
const ORDER_MEANING: f32 = 0.8;
/// Code tokens compared when code pasted in a text is looked for.
const MAX_CODE_TOKENS: usize = 4_000;
/// Words compared for wording, and code tokens compared for the diff.
const MAX_DIFF_TOKENS: usize = 600;

/// A question being written, as `POST /api/questions/similar` takes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SimilarRequest {
    /// The stem, at most [`MAX_QUESTION_CHARS`] characters.
    pub text: String,
    /// The code the question is about, if any (at most [`MAX_QUESTION_CHARS`] characters).
    #[serde(default)]
    pub code: Option<String>,
    /// The answers to choose from: at most [`MAX_OPTIONS`], each at most [`MAX_OPTION_CHARS`]
    /// characters.
    #[serde(default)]
    pub options: Vec<String>,
    /// How many indexed questions to return, 1 to [`MAX_SIMILAR_LIMIT`]
    /// (default [`DEFAULT_SIMILAR_LIMIT`]).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// What an indexed question is to the new one; answers list them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The same question (re-entered, reworded or translated): saving it would ask it twice.
    Duplicate,
    /// Worth a look: close in meaning, or the same but for its code, its options or a few
    /// words, which may make it another question (a look-alike).
    Similar,
    /// Another question.
    Distinct,
}

impl Verdict {
    /// The verdict as the JSON answer writes it: `duplicate`, `similar`, `distinct`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Duplicate => "duplicate",
            Verdict::Similar => "similar",
            Verdict::Distinct => "distinct",
        }
    }
}

/// An indexed question compared with the new one. Strings are plain text (crawled or typed):
/// whoever shows them escapes them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimilarQuestion {
    /// The question's record id.
    pub id: String,
    /// Its key in its source (made of its normalised text when the source gave none): what
    /// labelled pairs name.
    pub key: String,
    /// Its stem.
    pub text: String,
    /// The code it is about; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The answers to choose from.
    pub options: Vec<String>,
    /// Its topic (Java, Python, PHP, .NET, UX, Bebras...), as its source tags it.
    pub tag: Option<String>,
    /// The language of its stem, as its source gives it or else as detected.
    pub language: Option<String>,
    /// Cosine similarity of the two questions (stem, code and options), or the share of words
    /// in common when the index has no vectors (see `semantic`).
    pub similarity: f32,
    /// What it is to the new question.
    pub verdict: Verdict,
    /// Why, in words: what the code, the language, the options and the wording say, then the
    /// similarity (against the threshold it passed or missed when the similarity decided).
    pub reasons: Vec<String>,
}

/// One tag's share of the vote.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagScore {
    /// The tag.
    pub tag: String,
    /// Its share of the neighbours' vote (the shares sum to 1, the closest weigh most) plus 0.5
    /// when cues point to it.
    pub score: f32,
    /// Nearest questions with this tag among those that voted.
    pub neighbours: usize,
    /// Words or code of the question that point to this tag.
    pub cues: Vec<String>,
}

/// The tag (topic) the new question would get: a vote of its nearest questions' tags plus the
/// cues in its own text and code.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagGuess {
    /// The best-scored tag; none when no neighbour has a tag and no cue points to one.
    pub tag: Option<String>,
    /// The winning score over the sum of scores.
    pub confidence: f32,
    /// Every tag that got a vote or a cue, best first.
    pub scores: Vec<TagScore>,
}

/// The cosine similarities the verdicts are judged against.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// From here a question is a duplicate, unless its code, options or wording say otherwise.
    pub duplicate: f32,
    /// From here a question is worth a look.
    pub similar: f32,
}

/// What a contributor sees before saving a question.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimilarAnswer {
    /// The language the question is written in, as detected (fr, en, nl), if it could be told.
    pub language: Option<String>,
    /// The tag it would get, and the vote behind it.
    pub tag: TagGuess,
    /// Duplicates first, then similar, then distinct; within each, closest first by meaning
    /// and words together.
    pub questions: Vec<SimilarQuestion>,
    /// The cosine similarities the verdicts are judged against.
    pub thresholds: Thresholds,
    /// Whether the verdicts read a cosine similarity; when not (no vectors or no model),
    /// `note` says why and only same or nearly the same wordings can be told.
    pub semantic: SemanticStatus,
    /// The index generation that answered (its folder name).
    pub generation: String,
}

impl SimilarRequest {
    fn check(&self) -> Result<usize, IndexError> {
        if self.text.trim().is_empty() {
            return Err(IndexError::invalid("text", "is empty: write the question's stem"));
        }
        let chars = self.text.chars().count();
        if chars > MAX_QUESTION_CHARS {
            return Err(IndexError::invalid("text", format!("has {chars} characters, at most {MAX_QUESTION_CHARS}")));
        }
        if let Some(code) = &self.code {
            let chars = code.chars().count();
            if chars > MAX_QUESTION_CHARS {
                return Err(IndexError::invalid("code", format!("has {chars} characters, at most {MAX_QUESTION_CHARS}")));
            }
        }
        if self.options.len() > MAX_OPTIONS {
            return Err(IndexError::invalid("options", format!("{} options, at most {MAX_OPTIONS}", self.options.len())));
        }
        if let Some(long) = self.options.iter().position(|o| o.chars().count() > MAX_OPTION_CHARS) {
            return Err(IndexError::invalid(format!("options[{long}]"), format!("option {} is longer than {MAX_OPTION_CHARS} characters", long + 1)));
        }
        let limit = self.limit.unwrap_or(DEFAULT_SIMILAR_LIMIT);
        if limit == 0 || limit > MAX_SIMILAR_LIMIT {
            return Err(IndexError::invalid("limit", format!("is {limit}, it goes from 1 to {MAX_SIMILAR_LIMIT}")));
        }
        Ok(limit)
    }

    /// The request as a question record (for its embedded text).
    fn as_question(&self) -> Question {
        Question {
            source: "request".into(),
            text: self.text.clone(),
            code: self.code.clone().filter(|c| !c.trim().is_empty()),
            options: self.options.clone(),
            ..Default::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing two questions

/// Words of a text for comparing wordings: lowercase, accents folded, letters and digits.
fn words(text: &str) -> Vec<String> {
    let folded = indexer::analysis::fold(text);
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

static CODE_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`|\d+(?:\.\d+)?[A-Za-z]*|[A-Za-z_$][A-Za-z0-9_$]*|[+\-*/%=<>!&|^~?:]+|\S"#)
        .expect("code token pattern")
});

/// Tokens of a piece of code: whitespace dropped, strings kept with one quote style (`'a'` and
/// `"a"` are the same string in most quiz languages), operators kept whole (`<` is not `<=`).
fn code_tokens(code: &str) -> Vec<String> {
    CODE_TOKEN
        .find_iter(code)
        .map(|m| {
            let t = m.as_str();
            // Stripped by char: a byte slice would rely on the pattern closing every string
            // with a one-byte quote.
            let mut inner = t.chars();
            match (inner.next(), inner.next_back()) {
                (Some(open @ ('\'' | '"' | '`')), Some(close)) if close == open => format!("\"{}\"", inner.as_str()),
                _ => t.to_string(),
            }
        })
        .collect()
}

/// Keywords of the quiz languages: never renamed (`var` is not `let`, `class` is not `struct`).
const KEYWORDS: &[&str] = &[
    "abstract",
    "and",
    "as",
    "async",
    "await",
    "base",
    "bool",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "def",
    "default",
    "del",
    "do",
    "double",
    "elif",
    "else",
    "enum",
    "echo",
    "except",
    "extends",
    "false",
    "final",
    "finally",
    "float",
    "for",
    "foreach",
    "from",
    "function",
    "global",
    "if",
    "implements",
    "import",
    "in",
    "int",
    "integer",
    "interface",
    "is",
    "lambda",
    "let",
    "long",
    "new",
    "none",
    "not",
    "null",
    "nonlocal",
    "object",
    "or",
    "out",
    "override",
    "pass",
    "print",
    "private",
    "protected",
    "public",
    "raise",
    "readonly",
    "ref",
    "return",
    "sealed",
    "select",
    "short",
    "static",
    "string",
    "struct",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "uint",
    "var",
    "virtual",
    "void",
    "while",
    "with",
    "yield",
    "join",
    "left",
    "inner",
    "right",
    "outer",
    "on",
    "where",
    "group",
    "by",
    "having",
    "order",
    "limit",
    "count",
    "insert",
    "into",
    "values",
    "create",
    "table",
    "update",
    "delete",
    "set",
    "distinct",
    "union",
    "all",
];

/// The tokens with the snippet's own names (identifiers used at least twice that are not
/// keywords) replaced by their order of appearance: `ajoute(x, l)` and `ajouter(e, liste)` agree.
/// A name used once is usually a library's (`strlen` is not `mb_strlen`) and is kept.
fn renamed(tokens: &[String]) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for t in tokens {
        *count.entry(t.as_str()).or_default() += 1;
    }
    let mut names: HashMap<&str, String> = HashMap::new();
    tokens
        .iter()
        .map(|t| {
            let is_name = t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$');
            if is_name && count[t.as_str()] >= 2 && !KEYWORDS.contains(&t.to_ascii_lowercase().as_str()) {
                let n = names.len();
                names.entry(t.as_str()).or_insert_with(|| format!("#{n}")).clone()
            } else {
                t.clone()
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum CodeRelation {
    /// Neither question has code.
    None,
    Same,
    Renamed,
    /// Different code; the first differing tokens on each side, and the share of tokens in
    /// common (0 when one side has no code).
    Different(String, String, f32),
}

/// Longest common subsequence alignment of two token lists: what is only in `a`, only in `b`,
/// and the share in common (2 x common / total).
fn diff<'a>(a: &'a [String], b: &'a [String]) -> (Vec<&'a str>, Vec<&'a str>, f32) {
    let (a, b) = (&a[..a.len().min(MAX_DIFF_TOKENS)], &b[..b.len().min(MAX_DIFF_TOKENS)]);
    if a.is_empty() && b.is_empty() {
        return (Vec::new(), Vec::new(), 1.0);
    }
    let (n, m) = (a.len(), b.len());
    let mut table = vec![0u16; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * (m + 1) + j] =
                if a[i] == b[j] { table[(i + 1) * (m + 1) + j + 1] + 1 } else { table[(i + 1) * (m + 1) + j].max(table[i * (m + 1) + j + 1]) };
        }
    }
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            i += 1;
            j += 1;
        } else if table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1] {
            only_a.push(a[i].as_str());
            i += 1;
        } else {
            only_b.push(b[j].as_str());
            j += 1;
        }
    }
    only_a.extend(a[i..].iter().map(String::as_str));
    only_b.extend(b[j..].iter().map(String::as_str));
    let common = table[0] as f32;
    (only_a, only_b, 2.0 * common / (n + m) as f32)
}

/// `needle` appears whole, in order and contiguous, in `hay` (both cut at [`MAX_CODE_TOKENS`],
/// so a pathological paste costs bounded time).
fn contains(hay: &[String], needle: &[String]) -> bool {
    let (hay, needle) = (&hay[..hay.len().min(MAX_CODE_TOKENS)], &needle[..needle.len().min(MAX_CODE_TOKENS)]);
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// How two questions' code compare. A question without a `code` field may carry its code in its
/// text (pasted in one block): then the other's code must appear there, token for token.
fn code_relation(a: &Reading, b: &Reading) -> CodeRelation {
    match (&a.code, &b.code) {
        (None, None) => CodeRelation::None,
        (Some((ta, ra)), Some((tb, rb))) => {
            if ta == tb {
                CodeRelation::Same
            } else if ra == rb {
                CodeRelation::Renamed
            } else {
                let (only_a, only_b, share) = diff(ta, tb);
                let show = |t: Vec<&str>| t.into_iter().take(6).collect::<Vec<_>>().join(" ");
                CodeRelation::Different(show(only_a), show(only_b), share)
            }
        }
        (Some((t, _)), None) | (None, Some((t, _))) => {
            let other = if a.code.is_some() { b } else { a };
            if contains(&code_tokens(&other.question.text), t) { CodeRelation::Same } else { CodeRelation::Different(String::new(), String::new(), 0.0) }
        }
    }
}

/// A question read once for comparisons: its language, the words of its stem, its code tokens
/// (as written and renamed) and its options as a set.
struct Reading<'a> {
    question: &'a Question,
    language: Option<String>,
    words: Vec<String>,
    code: Option<(Vec<String>, Vec<String>)>,
    options: Option<Vec<String>>,
}

impl<'a> Reading<'a> {
    fn new(question: &'a Question, language: Option<String>) -> Reading<'a> {
        let code = question.code.as_deref().filter(|c| !c.trim().is_empty()).map(|c| {
            let tokens = code_tokens(c);
            let names = renamed(&tokens);
            (tokens, names)
        });
        Reading { question, language, words: words(&question.text), code, options: option_set(question) }
    }
}

/// Options as a set of wordings (order and case aside); `None` when a side has none.
fn option_set(q: &Question) -> Option<Vec<String>> {
    if q.options.is_empty() {
        return None;
    }
    let mut set: Vec<String> = q.options.iter().map(|o| words(o).join(" ")).collect();
    set.sort();
    set.dedup();
    Some(set)
}

static DETECTOR: LazyLock<whatlang::Detector> =
    LazyLock::new(|| whatlang::Detector::with_allowlist(vec![whatlang::Lang::Fra, whatlang::Lang::Eng, whatlang::Lang::Nld]));

/// The language of a text among French, English and Dutch, when it can be told.
pub fn detect_language(text: &str) -> Option<&'static str> {
    let info = DETECTOR.detect(text)?;
    if info.confidence() < 0.2 {
        return None;
    }
    Some(match info.lang() {
        whatlang::Lang::Fra => "fr",
        whatlang::Lang::Eng => "en",
        _ => "nl",
    })
}

fn language_of(q: &Question) -> Option<String> {
    q.language.clone().or_else(|| detect_language(&q.text).map(str::to_string))
}

/// The verdict on an indexed question `b` for the new question `a`, and why.
fn judge(a: &Reading, b: &Reading, similarity: f32, same_text: bool, cosine: bool) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    let code = code_relation(a, b);
    match &code {
        CodeRelation::Same => reasons.push("same code".to_string()),
        CodeRelation::Renamed => reasons.push("same code once the variables are renamed".to_string()),
        CodeRelation::Different(x, y, _) if x.is_empty() && y.is_empty() => reasons.push("only one of the two has code".to_string()),
        CodeRelation::Different(_, _, share) if *share < CODE_LOOKALIKE => reasons.push("another program".to_string()),
        CodeRelation::Different(x, y, _) => reasons.push(format!("the code differs: `{x}` / `{y}`")),
        CodeRelation::None => {}
    }
    let (a_lang, b_lang) = (a.language.as_deref(), b.language.as_deref());
    let same_lang = match (a_lang, b_lang) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    if !same_lang {
        reasons.push(format!("in another language ({} / {})", a_lang.unwrap_or("?"), b_lang.unwrap_or("?")));
    }
    let options_differ = match (&a.options, &b.options) {
        (Some(x), Some(y)) => x != y,
        _ => false,
    };
    let (wa, wb) = (&a.words, &b.words);
    let (only_a, only_b, share) = diff(wa, wb);
    let score = if cosine { format!("similarity {similarity:.2}") } else { format!("{:.0} % of the words in common", similarity * 100.0) };

    let structural = if let CodeRelation::Different(x, _, share) = &code {
        // A look-alike changes a token or two; a generic stem ("What is printed?") over another
        // program is another question.
        Some(if x.is_empty() || *share >= CODE_LOOKALIKE { Verdict::Similar } else { Verdict::Distinct })
    } else if same_lang && (wa == wb || same_text) {
        if options_differ {
            reasons.push("same wording, different options".to_string());
            Some(Verdict::Similar)
        } else {
            reasons.push("same wording (case, accents and punctuation aside)".to_string());
            Some(Verdict::Duplicate)
        }
    } else if same_lang && share >= NEAR_WORDING {
        let show = |t: &[&str]| if t.is_empty() { "—".to_string() } else { t.iter().take(6).copied().collect::<Vec<_>>().join(" ") };
        reasons.push(format!("nearly the same wording, but «{}» / «{}»", show(&only_a), show(&only_b)));
        Some(Verdict::Similar)
    } else {
        None
    };
    let verdict = match structural {
        Some(Verdict::Duplicate) => Verdict::Duplicate,
        Some(Verdict::Distinct) => Verdict::Distinct,
        // Without vectors only the wording speaks; with them, a look-alike must also be close.
        Some(_) if !cosine => {
            if share >= NEAR_WORDING {
                Verdict::Similar
            } else {
                Verdict::Distinct
            }
        }
        Some(_) if similarity >= SIMILAR_SIMILARITY => Verdict::Similar,
        Some(_) => Verdict::Distinct,
        None if !cosine => Verdict::Distinct,
        None if similarity >= DUPLICATE_SIMILARITY => Verdict::Duplicate,
        None if similarity >= SIMILAR_SIMILARITY => Verdict::Similar,
        None => Verdict::Distinct,
    };
    if cosine {
        let bar = match verdict {
            Verdict::Duplicate if structural.is_none() => format!(" ≥ {DUPLICATE_SIMILARITY}"),
            Verdict::Similar if structural.is_none() => format!(" ≥ {SIMILAR_SIMILARITY}"),
            Verdict::Distinct if structural.is_none() => format!(" < {SIMILAR_SIMILARITY}"),
            _ => String::new(),
        };
        reasons.push(format!("{score}{bar}"));
    } else {
        reasons.push(score);
    }
    (verdict, reasons)
}

// ---------------------------------------------------------------------------------------------
// The language tag

/// Cues of a tag in a question's text, code or options.
static CUES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("Java", r"\bjava\b|system\.out\.print|\bpublic static void main\b|\binteger\.|\bstring\[\]"),
        (".NET", r"c#|\.net\b|console\.write|\blinq\b|\bvisual basic\b|\bnamespace\b"),
        ("PHP", r"\bphp\b|<\?php|\$_[a-z]+\b|\becho\b|\$[a-z_]\w*"),
        ("Python", r"\bpython\b|\bdef \w+\(|\bprint\(|\belif\b|\bimport \w+|\bNone\b|\bself\b"),
        ("JavaScript", r"\bjavascript\b|\bjs\b|console\.log|\bconst\b|===|\bsettimeout\b|\bpromise\b|\bnode\.?js\b"),
        ("SQL", r"\bsql\b|\bselect\b[\s\S]*\bfrom\b|\bjoin\b|\bcreate table\b|\bgroup by\b|\binsert into\b"),
        ("Bebras", r"\bbebras\b|\bcastors?\b|\bbeavers?\b|\bbevers?\b"),
        ("UX", r"\bux\b|\bwcag\b|\baccessibilit|\bpersona\b|\bergonom|\butilisabilit|\busability\b|\bwireframe|\bmaquette"),
    ]
    .into_iter()
    .map(|(tag, p)| (tag, Regex::new(&format!("(?i){p}")).expect("cue pattern")))
    .collect()
});

/// The tags a question's own words point to, with the words.
fn cues(q: &Question) -> BTreeMap<&'static str, Vec<String>> {
    let text = format!("{}\n{}\n{}", q.text, q.code.as_deref().unwrap_or(""), q.options.join("\n"));
    let mut out = BTreeMap::new();
    for (tag, re) in CUES.iter() {
        let mut found: Vec<String> = Vec::new();
        for m in re.find_iter(&text) {
            let s: String = m.as_str().chars().take(40).collect();
            if !found.contains(&s) {
                found.push(s);
            }
            if found.len() == 3 {
                break;
            }
        }
        if !found.is_empty() {
            out.insert(*tag, found);
        }
    }
    out
}

/// The tag vote: neighbours (tag, similarity), closest first, and the question's cues.
fn guess_tag(neighbours: &[(Option<&str>, f32)], cues: &BTreeMap<&'static str, Vec<String>>, use_cues: bool) -> TagGuess {
    let mut scores: BTreeMap<String, TagScore> = BTreeMap::new();
    let voters: Vec<(&str, f32)> =
        neighbours.iter().filter_map(|(t, s)| Some(((*t)?, *s))).take(TAG_NEIGHBOURS).map(|(t, s)| (t, ((s - 1.0) / TAG_TEMPERATURE).exp())).collect();
    let total: f32 = voters.iter().map(|(_, w)| w).sum();
    for (tag, w) in &voters {
        let e = scores.entry(tag.to_string()).or_insert_with(|| TagScore { tag: tag.to_string(), score: 0.0, neighbours: 0, cues: Vec::new() });
        e.score += if total > 0.0 { w / total } else { 0.0 };
        e.neighbours += 1;
    }
    if use_cues {
        for (tag, found) in cues {
            let e = scores.entry(tag.to_string()).or_insert_with(|| TagScore { tag: tag.to_string(), score: 0.0, neighbours: 0, cues: Vec::new() });
            e.score += CUE_WEIGHT;
            e.cues = found.clone();
        }
    }
    let mut scores: Vec<TagScore> = scores.into_values().collect();
    scores.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.tag.cmp(&b.tag)));
    let sum: f32 = scores.iter().map(|s| s.score).sum();
    let confidence = match scores.first() {
        Some(best) if sum > 0.0 => best.score / sum,
        _ => 0.0,
    };
    for s in &mut scores {
        s.score = crate::matching::round(s.score);
    }
    TagGuess { tag: scores.first().map(|s| s.tag.clone()), confidence: crate::matching::round(confidence), scores }
}

// ---------------------------------------------------------------------------------------------
// The search

/// One candidate: the record, its similarity, and whether its normalised text is the request's.
struct Candidate {
    question: Question,
    id: String,
    key: String,
    similarity: f32,
    same_text: bool,
}

impl Features {
    /// Near-duplicates of a new question and the tag it would get. An empty stem, a field too
    /// long or a limit out of range is refused, naming the field.
    pub fn similar_questions(&self, request: &SimilarRequest, encoder: Option<&QueryEncoder>) -> Result<SimilarAnswer, IndexError> {
        let limit = request.check()?;
        self.similar_questions_among(request, limit, encoder, None)
    }

    /// [`Features::similar_questions`], unchecked, over the questions `keep` accepts (by record id): the
    /// evaluation holds some out.
    pub fn similar_questions_among(
        &self,
        request: &SimilarRequest,
        limit: usize,
        encoder: Option<&QueryEncoder>,
        keep: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<SimilarAnswer, IndexError> {
        let asked = request.as_question();
        let reading = Reading::new(&asked, detect_language(&asked.text).map(str::to_string));
        let text = embedding_text(&Record::Question(asked.clone()));
        let kind = [(FacetField::Kind, vec!["question".to_string()])];
        // Meaning and words, fused (convex, min-max normalised), order the questions within a
        // verdict; the verdict itself reads the cosine of the semantic leg.
        let retrieval = Retrieval {
            semantic_text: Some(SemanticText { text: &text, role: TextRole::Passage }),
            filters: &kind,
            semantic_ratio: ORDER_MEANING,
            fusion: Fusion::Convex,
            depth: DEPTH.max(limit),
            keep_id: keep,
            ..Retrieval::new(&asked.text, Words::Text)
        };
        let retrieved = self.retrieve(&retrieval, encoder)?;
        let cosine = retrieved.semantic_skip.is_none();
        let status = match &retrieved.semantic_skip {
            None => SemanticStatus { ratio: 1.0, used: true, note: None, skipped: None },
            Some(why) => self.keyword_note(why.to_string(), why.code()),
        };
        let order: HashMap<String, f32> = retrieved.candidates.iter().map(|c| (c.id.clone(), c.fused)).collect();
        let mut found: Vec<Candidate> = Vec::new();
        let push = |record: Record, similarity: f32, same_text: bool, found: &mut Vec<Candidate>| {
            let (id, key) = (record.id().to_string(), record.key());
            if let Record::Question(question) = record {
                found.push(Candidate { question, id, key, similarity, same_text });
            }
        };
        if cosine {
            // Exact duplicates by normalised text are found even when the graph misses them.
            let exact: HashSet<String> = match self.semantic_leg(encoder) {
                Ok((vectors, _)) => vectors.same_text("question", &text).into_iter().filter(|id| keep.is_none_or(|k| k(id))).collect(),
                Err(_) => HashSet::new(),
            };
            let mut by_meaning: Vec<&indexer::retrieve::Candidate> = retrieved.candidates.iter().filter(|c| c.semantic.is_some()).collect();
            by_meaning.sort_by_key(|c| c.semantic.map_or(usize::MAX, |p| p.rank));
            for id in &exact {
                if !by_meaning.iter().any(|c| &c.id == id) {
                    let record = match retrieved.candidates.iter().find(|c| &c.id == id) {
                        Some(c) => Some(c.record.clone()),
                        None => self.record(id)?,
                    };
                    if let Some(record) = record {
                        push(record, 1.0, true, &mut found);
                    }
                }
            }
            for c in by_meaning {
                let similarity = c.semantic.map_or(0.0, |p| p.score.min(1.0));
                push(c.record.clone(), similarity, exact.contains(&c.id), &mut found);
            }
        } else {
            // Without vectors only the words can tell: the keyword candidates, judged by how much
            // of their wording they share.
            for c in &retrieved.candidates {
                push(c.record.clone(), 0.0, false, &mut found);
            }
            for c in &mut found {
                c.similarity = diff(&reading.words, &words(&c.question.text)).2;
                c.same_text = c.similarity >= 1.0;
            }
            found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        }

        let neighbours: Vec<(Option<&str>, f32)> = found.iter().map(|c| (c.question.tag.as_deref(), c.similarity)).collect();
        let tag = guess_tag(&neighbours, &cues(&asked), true);
        let mut questions: Vec<SimilarQuestion> = found
            .iter()
            .map(|c| {
                let other = Reading::new(&c.question, language_of(&c.question));
                let (verdict, reasons) = judge(&reading, &other, c.similarity, c.same_text, cosine);
                SimilarQuestion {
                    id: c.id.clone(),
                    key: c.key.clone(),
                    text: c.question.text.clone(),
                    code: c.question.code.clone(),
                    options: c.question.options.clone(),
                    tag: c.question.tag.clone(),
                    language: other.language.clone(),
                    similarity: crate::matching::round(c.similarity),
                    verdict,
                    reasons,
                }
            })
            .collect();
        let fused = |q: &SimilarQuestion| order.get(&q.id).copied().unwrap_or(0.0);
        questions.sort_by(|a, b| a.verdict.cmp(&b.verdict).then(fused(b).total_cmp(&fused(a))).then(b.similarity.total_cmp(&a.similarity)));
        questions.truncate(limit);
        Ok(SimilarAnswer {
            language: reading.language.clone(),
            tag,
            questions,
            thresholds: Thresholds { duplicate: DUPLICATE_SIMILARITY, similar: SIMILAR_SIMILARITY },
            semantic: status,
            generation: self.name().to_string(),
        })
    }

    fn keyword_note(&self, why: String, code: &str) -> SemanticStatus {
        SemanticStatus {
            ratio: 1.0,
            used: false,
            note: Some(format!("{why}; only same or nearly the same wordings can be judged, by their words")),
            skipped: Some(code.to_string()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring the verdict and the tag on labelled questions

/// Precision and recall of the `duplicate` verdict over question pairs.
#[derive(Debug, Clone, Serialize)]
pub struct PairCounts {
    /// Pairs given the verdict.
    pub predicted: usize,
    /// Of those, the labelled ones.
    pub correct: usize,
    /// Pairs labelled.
    pub labelled: usize,
    /// `correct / predicted` (0 when nothing was predicted).
    pub precision: f32,
    /// `correct / labelled` (0 when nothing is labelled).
    pub recall: f32,
}

impl PairCounts {
    fn new(predicted: &HashSet<(String, String)>, truth: &HashSet<(String, String)>) -> PairCounts {
        let correct = predicted.intersection(truth).count();
        PairCounts {
            predicted: predicted.len(),
            correct,
            labelled: truth.len(),
            precision: if predicted.is_empty() { 0.0 } else { correct as f32 / predicted.len() as f32 },
            recall: if truth.is_empty() { 0.0 } else { correct as f32 / truth.len() as f32 },
        }
    }
}

/// How often the tag guess is the question's own tag (an untagged question is right when no
/// tag is guessed).
#[derive(Debug, Clone, Serialize)]
pub struct TagAccuracy {
    /// Questions guessed.
    pub questions: usize,
    /// Guessed right by the neighbours' vote and the cues together, as the API guesses.
    pub correct: usize,
    /// `correct / questions`.
    pub accuracy: f32,
    /// Accuracy of the same questions by the neighbours' vote alone.
    pub neighbours_only: f32,
    /// Accuracy of the same questions by the cues alone.
    pub cues_only: f32,
}

/// What `passerelle questions eval` prints.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionsReport {
    /// Indexed questions, each asked against all the others.
    pub questions: usize,
    /// Each indexed question asked against all the others: pairs given the `duplicate` verdict
    /// against the labelled duplicate, paraphrase and translation pairs.
    pub duplicate: PairCounts,
    /// Pairs given `duplicate` or `similar` against every labelled pair (look-alikes included):
    /// what the contributor is shown to look at.
    pub flagged: PairCounts,
    /// Look-alike pairs wrongly called duplicates.
    pub lookalikes_called_duplicate: usize,
    /// Look-alike pairs labelled.
    pub lookalikes: usize,
    /// Tag of the held-out quarter (by key hash), voted by the other three quarters only.
    pub tag_held_out: TagAccuracy,
    /// Tag of every question, voted by all the others.
    pub tag_leave_one_out: TagAccuracy,
    /// The cosine similarities the verdicts were judged against.
    pub thresholds: Thresholds,
    /// Whether the verdicts read a cosine similarity (as the first question's answer says).
    pub semantic: SemanticStatus,
}

/// Held-out quarter: a stable hash of the key.
pub fn held_out(key: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())[31] % 4 == 0
}

fn unordered(a: &str, b: &str) -> (String, String) {
    if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) }
}

/// Reads a pair file (`a<TAB>b<TAB>label`, header line): labels duplicate, paraphrase and
/// translation are the same question; lookalike is not.
pub fn read_pairs(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [a, b, label] = cols[..] else {
            return Err(format!("line {}: expected `a<TAB>b<TAB>label`, found {} columns", n + 1, cols.len()));
        };
        if !["duplicate", "paraphrase", "translation", "lookalike"].contains(&label) {
            return Err(format!("line {}: unknown label `{label}` (duplicate, paraphrase, translation or lookalike)", n + 1));
        }
        out.push((a.to_string(), b.to_string(), label.to_string()));
    }
    Ok(out)
}

impl Features {
    /// Asks every indexed question against the others and scores the verdicts and tags.
    pub fn evaluate_questions(
        &self,
        pairs: &[(String, String, String)],
        encoder: Option<&QueryEncoder>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<QuestionsReport, IndexError> {
        let mut all: Vec<(String, String, Question)> = Vec::new();
        for record in self.records_of_kinds(&["question"]) {
            let (id, key) = (record.id().to_string(), record.key());
            if let Record::Question(q) = record {
                all.push((id, key, q));
            }
        }
        all.sort_by(|a, b| a.1.cmp(&b.1));
        let held: HashSet<&str> = all.iter().filter(|(_, key, _)| held_out(key)).map(|(id, _, _)| id.as_str()).collect();

        let same: HashSet<(String, String)> = pairs.iter().filter(|p| p.2 != "lookalike").map(|p| unordered(&p.0, &p.1)).collect();
        let every: HashSet<(String, String)> = pairs.iter().map(|p| unordered(&p.0, &p.1)).collect();
        let lookalikes: HashSet<(String, String)> = pairs.iter().filter(|p| p.2 == "lookalike").map(|p| unordered(&p.0, &p.1)).collect();
        let (mut duplicate, mut flagged) = (HashSet::new(), HashSet::new());
        let mut loo = [0usize; 3];
        let mut held_correct = [0usize; 3];
        let mut status = None;
        for (n, (id, key, q)) in all.iter().enumerate() {
            let request = SimilarRequest { text: q.text.clone(), code: q.code.clone(), options: q.options.clone(), limit: None };
            let others = |other: &str| other != id;
            let answer = self.similar_questions_among(&request, DEFAULT_SIMILAR_LIMIT, encoder, Some(&others))?;
            for found in &answer.questions {
                let pair = unordered(key, &found.key);
                match found.verdict {
                    Verdict::Duplicate => {
                        duplicate.insert(pair.clone());
                        flagged.insert(pair);
                    }
                    Verdict::Similar => {
                        flagged.insert(pair);
                    }
                    Verdict::Distinct => {}
                }
            }
            let truth = q.tag.as_deref();
            let cue_map = cues(q);
            let score = |answer: &SimilarAnswer, counts: &mut [usize; 3]| {
                let neighbours: Vec<(Option<&str>, f32)> = answer.questions.iter().map(|f| (f.tag.as_deref(), f.similarity)).collect();
                counts[0] += usize::from(answer.tag.tag.as_deref() == truth);
                counts[1] += usize::from(guess_tag(&neighbours, &cue_map, false).tag.as_deref() == truth);
                counts[2] += usize::from(guess_tag(&[], &cue_map, true).tag.as_deref() == truth);
            };
            score(&answer, &mut loo);
            if held.contains(id.as_str()) {
                let training = |other: &str| !held.contains(other);
                let answer = self.similar_questions_among(&request, DEFAULT_SIMILAR_LIMIT, encoder, Some(&training))?;
                score(&answer, &mut held_correct);
            }
            status.get_or_insert(answer.semantic);
            progress(n + 1, all.len());
        }
        let accuracy = |counts: [usize; 3], total: usize| {
            let share = |c: usize| if total == 0 { 0.0 } else { crate::matching::round(c as f32 / total as f32) };
            TagAccuracy { questions: total, correct: counts[0], accuracy: share(counts[0]), neighbours_only: share(counts[1]), cues_only: share(counts[2]) }
        };
        let wrongly = duplicate.intersection(&lookalikes).count();
        Ok(QuestionsReport {
            questions: all.len(),
            duplicate: PairCounts::new(&duplicate, &same),
            flagged: PairCounts::new(&flagged, &every),
            lookalikes_called_duplicate: wrongly,
            lookalikes: lookalikes.len(),
            tag_held_out: accuracy(held_correct, held.len()),
            tag_leave_one_out: accuracy(loo, all.len()),
            thresholds: Thresholds { duplicate: DUPLICATE_SIMILARITY, similar: SIMILAR_SIMILARITY },
            semantic: status.unwrap_or(SemanticStatus {
                ratio: 1.0,
                used: false,
                note: Some("no questions in the index".into()),
                skipped: Some("empty_index".into()),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str, code: Option<&str>, options: &[&str], lang: &str) -> Question {
        Question {
            source: "t".into(),
            text: text.into(),
            code: code.map(str::to_string),
            options: options.iter().map(|o| o.to_string()).collect(),
            language: Some(lang.into()),
            ..Default::default()
        }
    }

    fn read(q: &Question) -> Reading<'_> {
        Reading::new(q, q.language.clone())
    }

    fn code_relation(a: &Question, b: &Question) -> CodeRelation {
        super::code_relation(&read(a), &read(b))
    }

    fn judge(a: &Question, b: &Question, similarity: f32, same_text: bool, cosine: bool) -> (Verdict, Vec<String>) {
        super::judge(&read(a), &read(b), similarity, same_text, cosine)
    }

    #[test]
    fn code_is_compared_without_whitespace_or_quote_style_but_with_its_operators() {
        let a = q("What is printed?", Some("console.log('A');\nsetTimeout(()=>console.log('B'),0);"), &[], "en");
        let b = q("What is printed?", Some("console.log(\"A\");\nsetTimeout(() => console.log(\"B\"), 0);"), &[], "en");
        assert_eq!(code_relation(&a, &b), CodeRelation::Same);
        let lt = q("What is printed?", Some("for (int i = 1; i < 10; i += 3) s += i;"), &[], "en");
        let le = q("What is printed?", Some("for (int i = 1; i <= 10; i += 3) s += i;"), &[], "en");
        assert!(matches!(code_relation(&lt, &le), CodeRelation::Different(x, y, share) if x == "<" && y == "<=" && share > 0.9));
        let copy = q("x", Some("a = [1, 2, 3]\nb = a[:]"), &[], "en");
        let alias = q("x", Some("a = [1, 2, 3]\nb = a"), &[], "en");
        assert!(matches!(code_relation(&copy, &alias), CodeRelation::Different(..)));
    }

    #[test]
    fn renamed_variables_are_the_same_code_but_keywords_and_library_calls_are_not() {
        let a = q("x", Some("def ajoute(x, l=[]):\n    l.append(x)\n    return l\najoute(1)\nprint(ajoute(2))"), &[], "fr");
        let b = q("x", Some("def ajouter(e, liste=[]):\n    liste.append(e)\n    return liste\najouter(1)\nprint(ajouter(2))"), &[], "fr");
        assert_eq!(code_relation(&a, &b), CodeRelation::Renamed);
        let var = q("x", Some("console.log(a);\nvar a = 5;"), &[], "en");
        let let_ = q("x", Some("console.log(a);\nlet a = 5;"), &[], "en");
        assert!(matches!(code_relation(&var, &let_), CodeRelation::Different(..)));
        let strlen = q("x", Some("<?php\necho strlen(\"été\");"), &[], "fr");
        let mb = q("x", Some("<?php\necho mb_strlen(\"été\");"), &[], "fr");
        assert!(matches!(code_relation(&strlen, &mb), CodeRelation::Different(..)));
    }

    #[test]
    fn code_pasted_in_the_text_is_found_there() {
        let with_field = q("Qu'affiche ce code ?", Some("print(7 // 2)"), &[], "fr");
        let pasted = q("Qu'affiche ce code ?\nprint(7 // 2)\n3\n3.5", None, &[], "fr");
        assert_eq!(code_relation(&pasted, &with_field), CodeRelation::Same);
        let other = q("Qu'affiche ce code ?\nprint(7 / 2)", None, &[], "fr");
        assert!(matches!(code_relation(&other, &with_field), CodeRelation::Different(..)));
    }

    #[test]
    fn verdicts_follow_the_code_the_wording_and_the_similarity() {
        let opts = ["6", "9", "27", "81"];
        let a = q("Un même symbole ne peut apparaître qu'une seule fois sur un badge. Combien de badges ?", None, &opts, "fr");
        let lookalike = q("Un même symbole peut apparaître plusieurs fois sur un badge. Combien de badges ?", None, &opts, "fr");
        let (v, why) = judge(&a, &lookalike, 0.999, false, true);
        assert_eq!(v, Verdict::Similar, "{why:?}");
        assert!(why.iter().any(|r| r.contains("nearly the same wording")), "{why:?}");
        let reentry = q("un même symbole ne peut apparaître qu’une seule fois sur un badge ; combien de badges", None, &opts, "fr");
        assert_eq!(judge(&a, &reentry, 0.998, true, true).0, Verdict::Duplicate);
        let other_options = q(&a.text, None, &["1", "2"], "fr");
        assert_eq!(judge(&a, &other_options, 0.99, true, true).0, Verdict::Similar);
        let translation = q("The same symbol may appear only once on a badge. How many badges?", None, &opts, "en");
        let (v, why) = judge(&a, &translation, 0.95, false, true);
        assert_eq!(v, Verdict::Duplicate);
        assert!(why.iter().any(|r| r.contains("another language")), "{why:?}");
        assert_eq!(judge(&a, &translation, 0.91, false, true).0, Verdict::Similar);
        assert_eq!(judge(&a, &translation, 0.80, false, true).0, Verdict::Distinct);
        let lt = q("What is printed?", Some("s += i < 10"), &[], "en");
        let le = q("What is printed?", Some("s += i <= 10"), &[], "en");
        let (v, why) = judge(&lt, &le, 1.0, true, true);
        assert_eq!(v, Verdict::Similar);
        assert!(why.iter().any(|r| r.contains("`<` / `<=`")), "{why:?}");
        let other_program = q("What is printed?", Some("char c = 'A';\nSystem.out.println(c + 2);"), &[], "en");
        let (v, why) = judge(&lt, &other_program, 0.95, true, true);
        assert_eq!(v, Verdict::Distinct, "{why:?}");
        assert!(why.iter().any(|r| r == "another program"), "{why:?}");
    }

    #[test]
    fn the_tag_is_voted_by_the_closest_and_pushed_by_cues() {
        let php = q("Qu'affiche ce script ?", Some("<?php\necho 7 / 2;"), &[], "fr");
        let found = cues(&php);
        assert!(found.contains_key("PHP"), "{found:?}");
        let neighbours = [(Some("Python"), 0.95), (Some("PHP"), 0.94), (Some("PHP"), 0.93)];
        let guess = guess_tag(&neighbours, &found, true);
        assert_eq!(guess.tag.as_deref(), Some("PHP"));
        assert!(guess.confidence > 0.5 && guess.confidence <= 1.0);
        let none = guess_tag(&[], &BTreeMap::new(), true);
        assert_eq!(none.tag, None);
    }

    #[test]
    fn languages_are_told_apart() {
        assert_eq!(detect_language("Quelle clause SQL permet de filtrer les lignes avant qu'elles soient regroupées ?"), Some("fr"));
        assert_eq!(detect_language("Which SQL clause filters the groups produced by a GROUP BY?"), Some("en"));
        assert_eq!(detect_language("Welke sleutelwoord gebruik je om een klasse niet uitbreidbaar te maken?"), Some("nl"));
    }

    #[test]
    fn pair_files_are_read_strictly() {
        let pairs = read_pairs("a\tb\tlabel\nq-1\tq-2\tduplicate\nq-1\tq-3\tlookalike\n").unwrap();
        assert_eq!(pairs.len(), 2);
        assert!(read_pairs("a\tb\tlabel\nq-1\tq-2\n").unwrap_err().contains("line 2"));
        assert!(read_pairs("a\tb\tlabel\nq-1\tq-2\tsame\n").unwrap_err().contains("unknown label"));
    }

    #[test]
    fn strings_of_any_script_keep_their_text_whatever_the_quotes() {
        assert_eq!(code_tokens("echo 'été🙂';"), code_tokens("echo \"été🙂\";"));
        assert_eq!(code_tokens("s = `日本`"), ["s", "=", "\"日本\""]);
        // An unclosed quote is a token of its own, and what follows is read as code.
        assert_eq!(code_tokens("'é"), ["'", "é"]);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn text() -> impl Strategy<Value = String> {
            // Any Unicode, and the characters the code reader cuts on, often.
            prop_oneof![any::<String>(), "[a-zé'\"`\\$_=<>!;(){}\\[\\] \n0-9\u{301}🙂日]{0,120}"]
        }

        fn question() -> impl Strategy<Value = Question> {
            (text(), proptest::option::of(text()), proptest::collection::vec(text(), 0..3)).prop_map(|(text, code, options)| Question {
                source: "p".into(),
                text,
                code,
                options,
                ..Default::default()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn comparing_any_two_questions_never_panics(a in question(), b in question(), similarity in 0.0f32..=1.0, cosine in any::<bool>()) {
                let (ra, rb) = (Reading::new(&a, language_of(&a)), Reading::new(&b, language_of(&b)));
                let (_, reasons) = judge(&ra, &rb, similarity, false, cosine);
                prop_assert!(!reasons.is_empty());
                let _ = cues(&a);
                let _ = held_out(&a.text);
            }
        }
    }
}
