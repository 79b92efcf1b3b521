//! The fixtures' records in a data directory, indexed (keyword leg), as `passerelle import` and
//! `passerelle index` leave it: shared by the server's end-to-end tests.

use std::path::Path;

/// Imports the fixtures' records into `data` and publishes an index generation.
pub fn build_index(data: &Path) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data");
    let mut store = store::RecordStore::open_dir(data).unwrap();
    for name in ["schools", "programmes", "companies", "offers", "questions"] {
        let file = fixtures.join(format!("{name}.jsonl"));
        let report = store::import_reader(&mut store, std::fs::File::open(&file).unwrap(), name, store::OnError::Reject).unwrap();
        assert!(report.errors.is_empty(), "{}: {:?}", file.display(), report.errors);
    }
    indexer::build_generation(data, &mut store, |_| {}).unwrap();
}
