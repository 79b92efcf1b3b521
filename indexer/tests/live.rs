//! Live writes on a served generation: a written record is found by both legs at once, a
//! deleted one is gone from both, and a generation opened again (after a crash, or built during
//! the writes) serves them again once it has caught up with the store's log.

use std::sync::Arc;
use std::time::Duration;

use embed::{EmbedError, Embedder, QueryEncoder};
use passerelle_indexer::{LiveChange, SearchIndex, SearchRequest, build_generation_with};
use schemas::Record;
use store::RecordStore;

/// A bag-of-letters embedder: texts sharing letters are close.
struct Letters(&'static str);

impl Embedder for Letters {
    fn model_id(&self) -> &str {
        self.0
    }
    fn dim(&self) -> usize {
        26
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| {
                let body = t.split_once(": ").map_or(*t, |(_, b)| b);
                let mut v = vec![0.01f32; 26];
                for c in body.to_lowercase().chars().filter(|c| c.is_ascii_lowercase()) {
                    v[(c as u8 - b'a') as usize] += 1.0;
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect())
    }
}

fn offer(key: &str, title: &str, description: &str) -> Record {
    serde_json::from_value(serde_json::json!({
        "kind": "offer", "source": "api", "source_key": key, "title": title,
        "contract_type": "internship", "region": "Wallonie", "description": description
    }))
    .unwrap()
}

fn ids(index: &SearchIndex, q: &str, ratio: f32, encoder: Option<&QueryEncoder>) -> Vec<String> {
    let request = SearchRequest { q: q.into(), limit: 10, prefix: false, semantic_ratio: Some(ratio), ..Default::default() };
    index.search_hybrid(&request, encoder).unwrap().hits.into_iter().map(|h| h.id).collect()
}

fn semantic_ids(index: &SearchIndex, q: &str, encoder: &QueryEncoder) -> Vec<String> {
    let request = SearchRequest { q: q.into(), limit: 10, prefix: false, semantic_ratio: Some(1.0), explain: true, ..Default::default() };
    let found = index.search_hybrid(&request, Some(encoder)).unwrap();
    found.hits.into_iter().filter(|h| h.explain.as_ref().is_some_and(|e| e.semantic.is_some())).map(|h| h.id).collect()
}

#[test]
fn written_records_are_served_at_once_and_replayed_when_the_generation_is_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let model: Arc<dyn Embedder> = Arc::new(Letters("letters"));
    let encoder = QueryEncoder::new(model.clone(), 64, Duration::from_secs(5));
    let mut store = RecordStore::open_dir(dir.path()).unwrap();
    store.upsert(offer("compta", "Stage en comptabilité", "Tenue des comptes d'une PME namuroise.")).unwrap();
    store.upsert(offer("web", "Stage développeur web", "Intégration de pages et d'un back-office.")).unwrap();
    let report = build_generation_with(dir.path(), &mut store, Some(model.as_ref()), |_, _, _| {}).unwrap();
    assert_eq!(report.manifest.live_seq, 0);
    let index = SearchIndex::open_current(dir.path()).unwrap();
    assert!(ids(&index, "boulangerie", 0.0, None).is_empty());

    // A posted offer: committed to the store, then applied.
    let written = store.upsert_live(vec![offer("pain", "Apprenti boulanger", "Pétrissage, façonnage et cuisson du pain au levain.")], "recruteur").unwrap();
    let id = written[0].id.clone();
    let stored = store.get(&id).unwrap().unwrap();
    let applied = index.apply(&[LiveChange::Upsert(Box::new(stored))], Some(model.as_ref()), Some(&mut store)).unwrap();
    assert_eq!((applied.upserted, applied.deleted, applied.embedded), (1, 0, 1));
    assert_eq!(applied.vectors_not_updated, None);
    assert_eq!(ids(&index, "boulanger", 0.0, None), vec![id.clone()], "the keyword leg finds it at once");
    assert!(semantic_ids(&index, "cuisson du pain au levain", &encoder).contains(&id), "the semantic leg finds it at once");
    assert_eq!(index.num_docs(), 3);

    // An update replaces the document instead of adding a second one.
    let changed = store.upsert_live(vec![offer("pain", "Apprenti pâtissier", "Pâte feuilletée, crèmes et entremets.")], "recruteur").unwrap();
    assert_eq!(changed[0].id, id);
    index.apply(&[LiveChange::Upsert(Box::new(store.get(&id).unwrap().unwrap()))], Some(model.as_ref()), Some(&mut store)).unwrap();
    assert!(ids(&index, "boulanger", 0.0, None).is_empty());
    assert_eq!(ids(&index, "patissier", 0.0, None), vec![id.clone()]);
    assert_eq!(index.num_docs(), 3);

    // The generation opened again (a restarted server): tantivy kept the commit, the graphs are
    // the build's until the log is replayed.
    drop(index);
    let reopened = SearchIndex::open_current(dir.path()).unwrap();
    assert_eq!(ids(&reopened, "patissier", 0.0, None), vec![id.clone()]);
    assert!(!semantic_ids(&reopened, "pate feuilletee cremes entremets", &encoder).contains(&id));
    let replayed = reopened.catch_up(&mut store, Some(model.as_ref())).unwrap();
    assert_eq!(replayed.upserted, 1, "two writes of one record replay as its current version");
    assert_eq!(replayed.embedded, 0, "the vector comes from the embedding cache");
    assert!(semantic_ids(&reopened, "pate feuilletee cremes entremets", &encoder).contains(&id));
    assert_eq!(reopened.num_docs(), 3);

    // A delete is gone from both legs at once, and stays gone after a replay.
    assert!(store.delete_live(&id, "recruteur").unwrap());
    let applied = reopened.apply(&[LiveChange::Delete(id.clone())], Some(model.as_ref()), Some(&mut store)).unwrap();
    assert_eq!(applied.deleted, 1);
    assert!(ids(&reopened, "patissier", 0.0, None).is_empty());
    assert!(!semantic_ids(&reopened, "pate feuilletee cremes entremets", &encoder).contains(&id));
    reopened.catch_up(&mut store, Some(model.as_ref())).unwrap();
    assert!(ids(&reopened, "patissier", 0.0, None).is_empty());
    assert_eq!(reopened.num_docs(), 2);

    // A generation built after the writes replays only what came after its build.
    drop(reopened);
    let report = build_generation_with(dir.path(), &mut store, Some(model.as_ref()), |_, _, _| {}).unwrap();
    assert_eq!(report.manifest.live_seq, store.live_seq().unwrap());
    let fresh = SearchIndex::open_current(dir.path()).unwrap();
    assert_eq!(fresh.catch_up(&mut store, Some(model.as_ref())).unwrap(), Default::default());
}

#[test]
fn without_the_generation_s_model_a_write_is_found_by_its_words_and_the_answer_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let model: Arc<dyn Embedder> = Arc::new(Letters("letters"));
    let encoder = QueryEncoder::new(model.clone(), 64, Duration::from_secs(5));
    let mut store = RecordStore::open_dir(dir.path()).unwrap();
    let first = store.upsert(offer("web", "Stage développeur web", "Intégration de pages et d'un back-office.")).unwrap().id;
    build_generation_with(dir.path(), &mut store, Some(model.as_ref()), |_, _, _| {}).unwrap();
    let index = SearchIndex::open_current(dir.path()).unwrap();
    assert!(semantic_ids(&index, "integration de pages back office", &encoder).contains(&first));

    store.upsert_live(vec![offer("web", "Stage en cuisine", "Brigade, mise en place, service du midi.")], "recruteur").unwrap();
    let other = Letters("another-model");
    let applied = index.apply(&[LiveChange::Upsert(Box::new(store.get(&first).unwrap().unwrap()))], Some(&other), Some(&mut store)).unwrap();
    let why = applied.vectors_not_updated.expect("the vectors could not be updated");
    assert!(why.contains("another-model") && why.contains("letters"), "{why}");
    assert_eq!(ids(&index, "cuisine", 0.0, None), vec![first.clone()]);
    // The old vector would find the offer by what it no longer says: it is hidden.
    assert!(!semantic_ids(&index, "integration de pages back office", &encoder).contains(&first));

    // Two versions of one record in one batch: one document, the last version.
    let before = index.num_docs();
    let v1 = store.get(&first).unwrap().unwrap();
    store.upsert_live(vec![offer("web", "Stage en boulangerie", "Pains et viennoiseries.")], "recruteur").unwrap();
    let v2 = store.get(&first).unwrap().unwrap();
    index.apply(&[LiveChange::Upsert(Box::new(v1)), LiveChange::Upsert(Box::new(v2))], None, Some(&mut store)).unwrap();
    assert_eq!(index.num_docs(), before);
    assert_eq!(ids(&index, "boulangerie", 0.0, None), vec![first.clone()]);
    assert!(ids(&index, "cuisine", 0.0, None).is_empty());

    let none = index.apply(&[LiveChange::Upsert(Box::new(store.get(&first).unwrap().unwrap()))], None, Some(&mut store)).unwrap();
    assert!(none.vectors_not_updated.unwrap().contains("no model"));
    assert_eq!(index.apply(&[], None, None).unwrap(), Default::default());
}
