//! Relevance evaluation on BEIR-style datasets: `corpus.jsonl` (`_id`, `title`, `text`),
//! `queries.jsonl` (`_id`, `text`), `qrels.tsv` (`query-id`, `corpus-id`, `score`, header line).
//!
//! The corpus is indexed on its own by the service's generation builder, in a temporary data
//! directory, and each query is asked through the service's search
//! ([`SearchIndex::search_hybrid`], which asks the engine's one retriever as `/api/search` does,
//! with its defaults), so the figures are those of the served pipeline. The matchers and the
//! similar-questions check are measured the same way, through their own entry points on
//! [`Features`] over a served generation, so they rank through the same retriever. Metrics follow BEIR / pytrec_eval: MAP and
//! MRR over the top 100, nDCG@10 with graded gains, Recall@1/10/100. Queries without judgements
//! are left out.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use embed::{Embedder, QueryEncoder, TextRole};
use indexer::analysis::Lang;
use indexer::generation::{Phase, build_generation_cached};
use indexer::hybrid::{Fusion, LegHit};
use indexer::query::MAX_QUERY_CHARS;
use indexer::{IndexError, MAX_LIMIT, SearchIndex, SearchRequest};
use schemas::Record;
use serde::{Deserialize, Serialize};

use crate::Features;

/// How deep each ranking goes.
pub const DEPTH: usize = 100;

/// A loaded dataset.
#[derive(Debug, Default)]
pub struct Dataset {
    /// Each document's id, title and text, in file order.
    pub corpus: Vec<(String, String, String)>,
    /// Each query's id and text, in file order.
    pub queries: Vec<(String, String)>,
    /// query id -> document id -> graded relevance (> 0).
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

#[derive(Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

fn bad(path: &Path, line: usize, message: impl std::fmt::Display) -> IndexError {
    IndexError::Dataset { path: path.to_path_buf(), line, message: message.to_string() }
}

fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, IndexError> {
    let file = std::fs::File::open(path).map_err(|source| IndexError::Io { path: path.to_path_buf(), source })?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| bad(path, i + 1, e))?;
        if !line.trim().is_empty() {
            out.push((i + 1, line));
        }
    }
    Ok(out)
}

impl Dataset {
    /// Reads a dataset folder; a bad line is reported with its file and number.
    pub fn load(dir: &Path) -> Result<Dataset, IndexError> {
        let mut d = Dataset::default();
        let path = dir.join("corpus.jsonl");
        for (n, line) in read_lines(&path)? {
            let c: CorpusLine = serde_json::from_str(&line).map_err(|e| bad(&path, n, e))?;
            d.corpus.push((c.id, c.title, c.text));
        }
        let path = dir.join("queries.jsonl");
        for (n, line) in read_lines(&path)? {
            let q: QueryLine = serde_json::from_str(&line).map_err(|e| bad(&path, n, e))?;
            d.queries.push((q.id, q.text));
        }
        let path = dir.join("qrels.tsv");
        for (n, line) in read_lines(&path)? {
            let cols: Vec<&str> = line.split('\t').collect();
            if n == 1 && cols.first().is_some_and(|c| c.contains("query")) {
                continue;
            }
            let [q, doc, score] = cols[..] else { return Err(bad(&path, n, "expected query-id<TAB>corpus-id<TAB>score")) };
            let score: i64 = score.trim().parse().map_err(|e| bad(&path, n, format!("score: {e}")))?;
            if score > 0 {
                d.qrels.entry(q.to_string()).or_default().insert(doc.to_string(), score as u32);
            }
        }
        if d.corpus.is_empty() || d.queries.is_empty() || d.qrels.is_empty() {
            return Err(IndexError::Dataset { path: dir.to_path_buf(), line: 0, message: "empty corpus, queries or qrels".into() });
        }
        Ok(d)
    }
}

/// The figures of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Mean average precision over the top 100.
    pub map: f64,
    /// Mean reciprocal rank of the first relevant document in the top 100.
    pub mrr: f64,
    /// Mean nDCG@10, the judgements' grades as gains.
    pub ndcg_10: f64,
    /// Mean share of each query's relevant documents ranked first.
    pub recall_1: f64,
    /// Mean share of each query's relevant documents in its top 10.
    pub recall_10: f64,
    /// Mean share of each query's relevant documents in its top 100.
    pub recall_100: f64,
    /// Queries evaluated (those with judgements).
    pub queries: usize,
}

/// Scores rankings (query id -> document ids, best first) against the judgements.
pub fn evaluate(rankings: &HashMap<String, Vec<String>>, qrels: &HashMap<String, HashMap<String, u32>>) -> Metrics {
    let mut m = Metrics::default();
    for (q, relevant) in qrels {
        let empty = Vec::new();
        let ranking = rankings.get(q).unwrap_or(&empty);
        let ranking = &ranking[..ranking.len().min(DEPTH)];
        let total = relevant.len() as f64;
        let (mut hits, mut ap, mut rr) = (0.0, 0.0, 0.0);
        for (i, doc) in ranking.iter().enumerate() {
            if relevant.contains_key(doc) {
                hits += 1.0;
                ap += hits / (i + 1) as f64;
                if rr == 0.0 {
                    rr = 1.0 / (i + 1) as f64;
                }
            }
        }
        let recall_at = |k: usize| ranking.iter().take(k).filter(|d| relevant.contains_key(*d)).count() as f64 / total;
        let dcg: f64 = ranking.iter().take(10).enumerate().map(|(i, d)| relevant.get(d).copied().unwrap_or(0) as f64 / (i as f64 + 2.0).log2()).sum();
        let mut ideal: Vec<u32> = relevant.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal.iter().take(10).enumerate().map(|(i, g)| *g as f64 / (i as f64 + 2.0).log2()).sum();
        m.map += ap / total;
        m.mrr += rr;
        m.ndcg_10 += if idcg > 0.0 { dcg / idcg } else { 0.0 };
        m.recall_1 += recall_at(1);
        m.recall_10 += recall_at(10);
        m.recall_100 += recall_at(100);
        m.queries += 1;
    }
    let n = m.queries.max(1) as f64;
    Metrics {
        map: m.map / n,
        mrr: m.mrr / n,
        ndcg_10: m.ndcg_10 / n,
        recall_1: m.recall_1 / n,
        recall_10: m.recall_10 / n,
        recall_100: m.recall_100 / n,
        queries: m.queries,
    }
}

/// The dataset's corpus indexed on its own, by the service's generation builder, in a
/// temporary data directory removed when this is dropped.
pub struct CorpusIndex {
    /// The generation, opened as the server opens it.
    pub index: SearchIndex,
    _dir: tempfile::TempDir,
}

/// Each corpus document as the record the service would index: a programme page, its title
/// and its text (a document without a title is all title; `source_key` is the corpus id, so
/// rankings map back to it).
pub fn corpus_records(dataset: &Dataset, lang: Lang) -> Result<Vec<Record>, IndexError> {
    dataset
        .corpus
        .iter()
        .map(|(id, title, text)| {
            // A document without a title (a label, a job title) is all title.
            let (title, description) = if title.trim().is_empty() { (text.clone(), String::new()) } else { (title.clone(), text.clone()) };
            serde_json::from_value(serde_json::json!({
                "kind": "programme", "source": "eval", "source_key": id, "title": title,
                "description": description, "language": lang.code(),
            }))
            .map_err(|e| IndexError::Dataset { path: "corpus.jsonl".into(), line: 0, message: format!("document {id}: {e}") })
        })
        .collect()
}

/// Indexes the corpus in a temporary data directory with [`build_generation_cached`] (the
/// served pipeline's builder: analysis, vectors when `embedder` is given, through `cache`).
pub fn index_corpus(
    dataset: &Dataset,
    lang: Lang,
    embedder: Option<&dyn Embedder>,
    cache: Option<&mut store::RecordStore>,
    progress: impl FnMut(Phase, u64, u64),
) -> Result<CorpusIndex, IndexError> {
    let dir = tempfile::tempdir().map_err(|source| IndexError::Io { path: std::env::temp_dir(), source })?;
    let mut records = store::RecordStore::open_dir(dir.path())?;
    records.upsert_many(corpus_records(dataset, lang)?)?;
    build_generation_cached(dir.path(), &mut records, embedder, cache, progress)?;
    let index = SearchIndex::open_current(dir.path())?;
    Ok(CorpusIndex { index, _dir: dir })
}

/// The search box's settings for one evaluation run (what `/api/search` takes).
#[derive(Debug, Clone, Copy)]
pub struct SearchSettings {
    /// `semantic_ratio`: 0 for BM25 alone, 1 for the vectors alone.
    pub semantic_ratio: f32,
    /// `fusion`: how the two legs are combined (RRF or convex).
    pub fusion: Fusion,
}

/// The judged queries, each cut to what the search box accepts ([`MAX_QUERY_CHARS`]), and how
/// many had to be cut.
pub fn judged_queries(dataset: &Dataset) -> (Vec<(String, String)>, usize) {
    let mut cut = 0;
    let queries = dataset
        .queries
        .iter()
        .filter(|(q, _)| dataset.qrels.contains_key(q))
        .map(|(q, text)| {
            let text = match text.char_indices().nth(MAX_QUERY_CHARS) {
                Some((at, _)) => {
                    cut += 1;
                    text[..at].to_string()
                }
                None => text.clone(),
            };
            (q.clone(), text.trim().to_string())
        })
        .collect();
    (queries, cut)
}

/// Ranks every judged query through the service's search ([`SearchIndex::search_hybrid`]: the
/// same retriever, query reading, skip rule and defaults as `/api/search`), 100 deep.
pub fn rank_search(
    index: &SearchIndex,
    encoder: Option<&QueryEncoder>,
    queries: &[(String, String)],
    settings: SearchSettings,
    mut progress: impl FnMut(usize),
) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    let mut out = HashMap::new();
    for (i, (qid, text)) in queries.iter().enumerate() {
        let request = SearchRequest {
            q: text.clone(),
            limit: DEPTH.min(MAX_LIMIT),
            prefix: true,
            semantic_ratio: Some(settings.semantic_ratio),
            fusion: Some(settings.fusion),
            ..Default::default()
        };
        let answer = index.search_hybrid(&request, encoder)?;
        let ranking = answer.hits.into_iter().filter_map(|h| Some(LegHit { id: h.record.get("source_key")?.as_str()?.to_string(), score: h.score })).collect();
        out.insert(qid.clone(), ranking);
        progress(i + 1);
    }
    Ok(out)
}

/// What one run of [`evaluate_search`] measured.
#[derive(Debug, Clone, Copy)]
pub struct SearchReport {
    /// The figures.
    pub metrics: Metrics,
    /// Documents of the corpus.
    pub documents: usize,
    /// Queries longer than the search box accepts, cut to its limit.
    pub queries_cut: usize,
}

/// Measures the service's search on a dataset: the corpus indexed by the generation builder
/// ([`index_corpus`]), the judged queries asked through [`rank_search`]. With an embedder the
/// corpus and the queries are embedded through `cache` (the data directory's embedding
/// cache), and the query vectors handed to a [`QueryEncoder`] without a time limit, so a slow
/// machine cannot change the figures. `progress` gets (step, done, total).
pub fn evaluate_search(
    dataset: &Dataset,
    lang: Lang,
    embedder: Option<std::sync::Arc<dyn Embedder>>,
    mut cache: Option<&mut store::RecordStore>,
    settings: SearchSettings,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<SearchReport, IndexError> {
    let (queries, queries_cut) = judged_queries(dataset);
    let corpus = index_corpus(dataset, lang, embedder.as_deref(), cache.as_deref_mut(), |phase, n, total| {
        let step = match phase {
            Phase::Indexing => "indexing",
            Phase::Embedding => "embedding",
            Phase::Graphs => "graphs",
        };
        progress(step, n, total)
    })?;
    let encoder = match embedder {
        Some(embedder) => {
            let encoder = QueryEncoder::new(embedder.clone(), queries.len().max(1), std::time::Duration::from_secs(3600));
            let texts: Vec<String> = queries.iter().map(|(_, t)| t.clone()).collect();
            let total = texts.len() as u64;
            let (vectors, _) = embed::embed_cached(embedder.as_ref(), TextRole::Query, &texts, cache, |n| progress("queries", n as u64, total))?;
            for (text, vector) in texts.iter().zip(vectors) {
                encoder.remember(TextRole::Query, text, vector);
            }
            Some(encoder)
        }
        None => None,
    };
    let total = queries.len() as u64;
    let rankings = rank_search(&corpus.index, encoder.as_ref(), &queries, settings, |n| progress("search", n as u64, total))?;
    Ok(SearchReport { metrics: evaluate(&ids(&rankings), &dataset.qrels), documents: dataset.corpus.len(), queries_cut })
}

/// Just the ids of scored rankings.
pub fn ids(rankings: &HashMap<String, Vec<LegHit>>) -> HashMap<String, Vec<String>> {
    rankings.iter().map(|(q, r)| (q.clone(), r.iter().map(|h| h.id.clone()).collect())).collect()
}

/// Ranks every judged query with one of the service's matchers, over the records of a served
/// index generation whose keys are the corpus's ids (the fixtures: `source_key`).
pub fn rank_matcher(
    index: &Features,
    encoder: Option<&QueryEncoder>,
    task: crate::matching::Task,
    dataset: &Dataset,
    mut progress: impl FnMut(usize),
) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    use crate::matching::{MAX_MATCH_LIMIT, MatchFilters, MatchRequest, Task};
    let mut out = HashMap::new();
    for (i, (qid, text)) in dataset.queries.iter().filter(|(q, _)| dataset.qrels.contains_key(q)).enumerate() {
        let request = MatchRequest { text: text.clone(), limit: MAX_MATCH_LIMIT, filters: MatchFilters::default() };
        let hits: Vec<(String, f32)> = match task {
            Task::StudentToOffers => index.match_offers(&request, encoder)?.offers.into_iter().map(|o| (o.id, o.score)).collect(),
            _ => index.match_programmes(task, &request, encoder)?.programmes.into_iter().map(|p| (p.id, p.score)).collect(),
        };
        let mut ranking = Vec::with_capacity(hits.len());
        for (id, score) in hits {
            if let Some(record) = index.record(&id)? {
                ranking.push(LegHit { id: record.key(), score });
            }
        }
        out.insert(qid.clone(), ranking);
        progress(i + 1);
    }
    Ok(out)
}

/// Ranks every judged query with the similar-questions check (the query text as the question's
/// stem), in the order a contributor sees: duplicates, then similar, then distinct.
pub fn rank_questions(
    index: &Features,
    encoder: Option<&QueryEncoder>,
    dataset: &Dataset,
    mut progress: impl FnMut(usize),
) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    use crate::questions::{MAX_SIMILAR_LIMIT, SimilarRequest};
    let mut out = HashMap::new();
    for (i, (qid, text)) in dataset.queries.iter().filter(|(q, _)| dataset.qrels.contains_key(q)).enumerate() {
        let request = SimilarRequest { text: text.clone(), limit: Some(MAX_SIMILAR_LIMIT), ..Default::default() };
        let answer = index.similar_questions(&request, encoder)?;
        out.insert(qid.clone(), answer.questions.into_iter().map(|q| LegHit { id: q.key, score: q.similarity }).collect());
        progress(i + 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels(pairs: &[(&str, &str, u32)]) -> HashMap<String, HashMap<String, u32>> {
        let mut q: HashMap<String, HashMap<String, u32>> = HashMap::new();
        for (a, b, s) in pairs {
            q.entry(a.to_string()).or_default().insert(b.to_string(), *s);
        }
        q
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let judged = qrels(&[("q1", "a", 1), ("q1", "b", 1), ("q2", "c", 2)]);
        let mut runs = HashMap::new();
        runs.insert("q1".to_string(), vec!["x".to_string(), "a".to_string(), "b".to_string()]);
        runs.insert("q2".to_string(), vec!["c".to_string()]);
        let m = evaluate(&runs, &judged);
        // q1: AP = (1/2 + 2/3) / 2 = 0.5833, RR = 1/2; q2: AP = 1, RR = 1.
        assert!((m.map - (0.583_333 + 1.0) / 2.0).abs() < 1e-4, "{m:?}");
        assert!((m.mrr - 0.75).abs() < 1e-9);
        assert!((m.recall_1 - 0.5).abs() < 1e-9);
        assert!((m.recall_10 - 1.0).abs() < 1e-9);
        // q1 nDCG@10: (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3)) = 0.6934; q2: 1.
        assert!((m.ndcg_10 - (0.693_426 + 1.0) / 2.0).abs() < 1e-4, "{m:?}");
        assert_eq!(m.queries, 2);
    }

    #[test]
    fn the_search_box_finds_the_right_document_on_a_tiny_set() {
        let mut d = Dataset::default();
        for (id, text) in [("d1", "Développeur web front-end, JavaScript"), ("d2", "Infirmier en gériatrie"), ("d3", "Comptable en cabinet")] {
            d.corpus.push((id.into(), String::new(), text.into()));
        }
        d.queries.push(("q".into(), "je cherche un poste d'infirmière".into()));
        d.qrels = qrels(&[("q", "d2", 1)]);
        let corpus = index_corpus(&d, Lang::Fr, None, None, |_, _, _| {}).unwrap();
        let (queries, cut) = judged_queries(&d);
        assert_eq!(cut, 0);
        let settings = SearchSettings { semantic_ratio: 0.0, fusion: Fusion::default() };
        let runs = ids(&rank_search(&corpus.index, None, &queries, settings, |_| {}).unwrap());
        assert_eq!(runs["q"].first().map(String::as_str), Some("d2"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// A dataset folder with any bytes in its files loads or says which file and line is bad.
        #[test]
        fn any_dataset_file_loads_or_is_refused_with_its_place(corpus in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), qrels in "[a-z0-9\t\n -]{0,80}") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("corpus.jsonl"), &corpus).unwrap();
            std::fs::write(dir.path().join("queries.jsonl"), "{\"_id\": \"q\", \"text\": \"a\"}\n").unwrap();
            std::fs::write(dir.path().join("qrels.tsv"), &qrels).unwrap();
            if let Err(e) = Dataset::load(dir.path()) {
                proptest::prop_assert!(matches!(e, IndexError::Dataset { .. } | IndexError::Io { .. }), "{e}");
            }
            let _ = crate::questions::read_pairs(&qrels);
        }
    }
}
