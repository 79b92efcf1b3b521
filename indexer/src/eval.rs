//! Relevance evaluation on BEIR-style datasets: `corpus.jsonl` (`_id`, `title`, `text`),
//! `queries.jsonl` (`_id`, `text`), `qrels.tsv` (`query-id`, `corpus-id`, `score`, header line).
//!
//! The corpus is indexed on its own, in a temporary index with the service's analysis, and each
//! query is run as a matcher runs a long text: every word may match (OR), BM25 ranks. Metrics
//! follow BEIR / pytrec_eval: MAP and MRR over the top 100, nDCG@10 with graded gains,
//! Recall@1/10/100. Queries without judgements are left out.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::schema::Value;
use tantivy::{Index, TantivyDocument};

use crate::analysis::{self, Analyzers, Lang};
use crate::embed::{Embedder, TextRole};
pub use crate::semantic::embed_cached;
use crate::hybrid::{Fusion, LegHit, fuse};
use crate::vectors::VectorIndex;
use crate::error::{IndexError, io};
use crate::query::{MAX_TEXT_QUERY_WORDS, QueryPlan};
use crate::schema::IndexFields;

/// How deep each ranking goes.
pub const DEPTH: usize = 100;

/// A loaded dataset.
#[derive(Debug, Default)]
pub struct Dataset {
    pub corpus: Vec<(String, String, String)>,
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
    IndexError::BadRequest(format!("{}:{line}: {message}", path.display()))
}

fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, IndexError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
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
            return Err(IndexError::BadRequest(format!("{}: empty corpus, queries or qrels", dir.display())));
        }
        Ok(d)
    }
}

/// The figures of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub map: f64,
    pub mrr: f64,
    pub ndcg_10: f64,
    pub recall_1: f64,
    pub recall_10: f64,
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

/// Indexes the corpus in a temporary index and ranks every judged query with BM25.
/// `progress` is called with the number of queries done.
pub fn rank_bm25(dataset: &Dataset, lang: Lang, mut progress: impl FnMut(usize)) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    let fields = IndexFields::build();
    let dir = tempfile::tempdir().map_err(io(std::env::temp_dir()))?;
    let index = Index::create_in_dir(dir.path(), fields.schema.clone())?;
    analysis::register(&index);
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(2, 128 * 1024 * 1024)?;
    for (id, title, text) in &dataset.corpus {
        writer.add_document(fields.text_document(id, title, text, lang))?;
    }
    writer.commit()?;
    let searcher = index.reader()?.searcher();
    let mut analyzers = Analyzers::default();
    let mut out = HashMap::new();
    for (i, (qid, text)) in dataset.queries.iter().filter(|(q, _)| dataset.qrels.contains_key(q)).enumerate() {
        let plan = QueryPlan::with_max_words(&mut analyzers, text, false, MAX_TEXT_QUERY_WORDS);
        let mut ranking = Vec::new();
        if !plan.is_empty() {
            let query = plan.to_query(&fields, &searcher, 0);
            for (score, address) in searcher.search(&query, &TopDocs::with_limit(DEPTH).order_by_score())? {
                let doc: TantivyDocument = searcher.doc(address)?;
                if let Some(id) = doc.get_first(fields.id).and_then(|v| v.as_str()) {
                    ranking.push(LegHit { id: id.to_string(), score });
                }
            }
        }
        out.insert(qid.clone(), ranking);
        progress(i + 1);
    }
    Ok(out)
}

/// Just the ids of scored rankings.
pub fn ids(rankings: &HashMap<String, Vec<LegHit>>) -> HashMap<String, Vec<String>> {
    rankings.iter().map(|(q, r)| (q.clone(), r.iter().map(|h| h.id.clone()).collect())).collect()
}

/// Ranks every judged query by embedding similarity, through the service's HNSW index.
///
/// `symmetric`: the corpus is embedded with the query prefix too, as e5's authors advise for
/// symmetric tasks (a title against titles, a question against questions).
pub fn rank_vector(
    dataset: &Dataset,
    embedder: &dyn Embedder,
    symmetric: bool,
    mut cache: Option<&mut store::RecordStore>,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    let docs: Vec<String> = dataset.corpus.iter().map(|(_, title, text)| format!("{title} {text}").trim().to_string()).collect();
    let total = docs.len();
    let doc_role = if symmetric { TextRole::Query } else { TextRole::Passage };
    let (vectors, _) = embed_cached(embedder, doc_role, &docs, cache.as_deref_mut(), |n| progress("corpus", n, total))?;
    let items = dataset.corpus.iter().zip(vectors).map(|((id, _, _), v)| (id.clone(), v, 0u64)).collect();
    let index = VectorIndex::build(embedder.dim(), items)?;
    let judged: Vec<&(String, String)> = dataset.queries.iter().filter(|(q, _)| dataset.qrels.contains_key(q)).collect();
    let texts: Vec<String> = judged.iter().map(|(_, t)| t.clone()).collect();
    let total = texts.len();
    let (queries, _) = embed_cached(embedder, TextRole::Query, &texts, cache, |n| progress("queries", n, total))?;
    Ok(judged
        .iter()
        .zip(queries)
        .map(|((qid, _), q)| {
            let hits = index.search(&q, DEPTH, DEPTH.max(crate::vectors::EF_SEARCH), None);
            (qid.clone(), hits.into_iter().map(|n| LegHit { id: n.id, score: n.similarity }).collect())
        })
        .collect())
}

/// Fuses the two legs query by query.
pub fn rank_hybrid(
    keyword: &HashMap<String, Vec<LegHit>>,
    semantic: &HashMap<String, Vec<LegHit>>,
    semantic_ratio: f32,
    fusion: Fusion,
) -> HashMap<String, Vec<LegHit>> {
    let empty = Vec::new();
    keyword
        .keys()
        .chain(semantic.keys())
        .map(|q| {
            let fused = fuse(keyword.get(q).unwrap_or(&empty), semantic.get(q).unwrap_or(&empty), semantic_ratio, fusion);
            (q.clone(), fused.into_iter().take(DEPTH).map(|h| LegHit { id: h.id, score: h.fused }).collect())
        })
        .collect()
}

/// Ranks every judged query with one of the service's matchers, over the records of a served
/// index generation whose keys are the corpus's ids (the fixtures: `source_key`).
pub fn rank_matcher(
    index: &crate::SearchIndex,
    encoder: Option<&crate::semantic::QueryEncoder>,
    task: crate::matching::Task,
    dataset: &Dataset,
    mut progress: impl FnMut(usize),
) -> Result<HashMap<String, Vec<LegHit>>, IndexError> {
    use crate::matching::{MAX_MATCH_LIMIT, MatchFilters, MatchRequest, Task};
    let searcher = index.reader.searcher();
    let mut out = HashMap::new();
    for (i, (qid, text)) in dataset.queries.iter().filter(|(q, _)| dataset.qrels.contains_key(q)).enumerate() {
        let request = MatchRequest { text: text.clone(), limit: MAX_MATCH_LIMIT, filters: MatchFilters::default() };
        let hits: Vec<(String, f32)> = match task {
            Task::StudentToOffers => index.match_offers(&request, encoder)?.offers.into_iter().map(|o| (o.id, o.score)).collect(),
            _ => index.match_programmes(task, &request, encoder)?.programmes.into_iter().map(|p| (p.id, p.score)).collect(),
        };
        let mut ranking = Vec::with_capacity(hits.len());
        for (id, score) in hits {
            if let Some(record) = index.record_by_id(&searcher, &id)? {
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
    index: &crate::SearchIndex,
    encoder: Option<&crate::semantic::QueryEncoder>,
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
    fn bm25_finds_the_right_document_on_a_tiny_set() {
        let mut d = Dataset::default();
        for (id, text) in [("d1", "Développeur web front-end, JavaScript"), ("d2", "Infirmier en gériatrie"), ("d3", "Comptable en cabinet")] {
            d.corpus.push((id.into(), String::new(), text.into()));
        }
        d.queries.push(("q".into(), "je cherche un poste d'infirmière".into()));
        d.qrels = qrels(&[("q", "d2", 1)]);
        let runs = ids(&rank_bm25(&d, Lang::Fr, |_| {}).unwrap());
        assert_eq!(runs["q"].first().map(String::as_str), Some("d2"));
    }
}
