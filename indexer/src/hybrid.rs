//! Fusing the keyword leg and the semantic leg into one ranking, explained.
//!
//! Reciprocal rank fusion (k = 60) by default: a document's fused score is
//! `(1 - r) / (k + keyword rank) + r / (k + semantic rank)`, where `r` is the semantic ratio
//! (0: keyword only, 1: semantic only; Meilisearch's `semanticRatio`). As an option, a convex
//! combination of the legs' min-max-normalised scores. Every fused hit keeps its rank and score
//! in each leg, so a person can see why it is where it is.

use std::collections::HashMap;

use serde::Serialize;

/// The default constant of reciprocal rank fusion.
pub const RRF_K: f32 = 60.0;

/// One hit of one leg, best first in its list.
#[derive(Debug, Clone, PartialEq)]
pub struct LegHit {
    /// The document's id.
    pub id: String,
    /// The leg's score (BM25 or cosine similarity).
    pub score: f32,
}

/// Where a hit stood in one leg (rank from 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegPosition {
    /// Place in the leg, from 1.
    pub rank: usize,
    /// The leg's score (BM25 or cosine similarity).
    pub score: f32,
}

/// A fused hit and its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusedHit {
    /// The document's id.
    pub id: String,
    /// The fused score, ranked on.
    pub fused: f32,
    /// Where the keyword leg put it, when it found it.
    pub keyword: Option<LegPosition>,
    /// Where the semantic leg put it, when it found it.
    pub semantic: Option<LegPosition>,
}

/// How the legs are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal rank fusion: ranks count, scores do not.
    Rrf {
        /// The constant added to each rank (60 by default: [`RRF_K`]).
        k: f32,
    },
    /// Weighted sum of each leg's min-max-normalised scores.
    Convex,
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k: RRF_K }
    }
}

fn positions(leg: &[LegHit]) -> HashMap<&str, LegPosition> {
    let mut out = HashMap::new();
    for (i, h) in leg.iter().enumerate() {
        out.entry(h.id.as_str()).or_insert(LegPosition { rank: i + 1, score: h.score });
    }
    out
}

/// Min-max normalisation of a leg's scores to [0, 1] (all equal: all 1).
fn normalised(leg: &[LegHit]) -> HashMap<&str, f32> {
    let (lo, hi) = leg.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| (lo.min(h.score), hi.max(h.score)));
    leg.iter().map(|h| (h.id.as_str(), if hi > lo { (h.score - lo) / (hi - lo) } else { 1.0 })).collect()
}

/// Fuses two ranked lists; `semantic_ratio` is clamped to [0, 1]. Ties keep the keyword order.
pub fn fuse(keyword: &[LegHit], semantic: &[LegHit], semantic_ratio: f32, fusion: Fusion) -> Vec<FusedHit> {
    let r = semantic_ratio.clamp(0.0, 1.0);
    let kw = positions(keyword);
    let sem = positions(semantic);
    let (kw_norm, sem_norm) = (normalised(keyword), normalised(semantic));
    let mut seen = std::collections::HashSet::new();
    let order: Vec<&str> = keyword.iter().chain(semantic).map(|h| h.id.as_str()).filter(|id| seen.insert(*id)).collect();
    let mut out: Vec<FusedHit> = order
        .into_iter()
        .map(|id| {
            let (k_pos, s_pos) = (kw.get(id).copied(), sem.get(id).copied());
            let fused = match fusion {
                Fusion::Rrf { k } => k_pos.map_or(0.0, |p| (1.0 - r) / (k + p.rank as f32)) + s_pos.map_or(0.0, |p| r / (k + p.rank as f32)),
                Fusion::Convex => (1.0 - r) * kw_norm.get(id).copied().unwrap_or(0.0) + r * sem_norm.get(id).copied().unwrap_or(0.0),
            };
            FusedHit { id: id.to_string(), fused, keyword: k_pos, semantic: s_pos }
        })
        .filter(|h| (r < 1.0 && h.keyword.is_some()) || (r > 0.0 && h.semantic.is_some()))
        .collect();
    // Stable sort: equal scores keep the keyword leg's order.
    out.sort_by(|a, b| b.fused.total_cmp(&a.fused));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(ids: &[&str]) -> Vec<LegHit> {
        ids.iter().enumerate().map(|(i, id)| LegHit { id: id.to_string(), score: 10.0 - i as f32 }).collect()
    }

    fn ids(hits: &[FusedHit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn rrf_rewards_agreement_and_explains_each_hit() {
        let fused = fuse(&leg(&["a", "b", "c"]), &leg(&["c", "d", "a"]), 0.5, Fusion::default());
        assert_eq!(ids(&fused), vec!["a", "c", "b", "d"]);
        let a = &fused[0];
        assert_eq!(a.keyword.unwrap().rank, 1);
        assert_eq!(a.semantic.unwrap().rank, 3);
        assert!((a.fused - (0.5 / 61.0 + 0.5 / 63.0)).abs() < 1e-7);
    }

    #[test]
    fn ratio_zero_and_one_keep_a_single_leg() {
        assert_eq!(ids(&fuse(&leg(&["a", "b"]), &leg(&["c", "a"]), 0.0, Fusion::default())), vec!["a", "b"]);
        assert_eq!(ids(&fuse(&leg(&["a", "b"]), &leg(&["c", "a"]), 1.0, Fusion::default())), vec!["c", "a"]);
        assert_eq!(ids(&fuse(&leg(&["a", "b"]), &leg(&["c", "a"]), 7.0, Fusion::Convex)), vec!["c", "a"]);
    }

    #[test]
    fn convex_combination_of_normalised_scores() {
        let keyword = vec![LegHit { id: "a".into(), score: 12.0 }, LegHit { id: "b".into(), score: 2.0 }];
        let semantic = vec![LegHit { id: "b".into(), score: 0.9 }, LegHit { id: "a".into(), score: 0.8 }];
        let fused = fuse(&keyword, &semantic, 0.8, Fusion::Convex);
        assert_eq!(ids(&fused), vec!["b", "a"]);
        assert!((fused[0].fused - 0.8).abs() < 1e-6 && (fused[1].fused - 0.2).abs() < 1e-6);
    }
}
