//! The labelled school pages of `fixtures/contact-pages` (static pages in other markups than the
//! fixture sites: Elementor, Joomla, Drupal, tables, microdata; split, Dutch, hidden, reversed,
//! third parties), read as the crawler reads a school's page: e-mails and phones at precision
//! ≥ .98 and recall ≥ .95 per case, and no contact of another organisation kept.

use std::path::Path;

#[test]
fn labelled_pages_per_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/contact-pages");
    let evaluation = passerelle_crawler::contact_eval::evaluate(&dir).unwrap();
    eprintln!("{evaluation}");
    assert!(evaluation.counts.len() >= 12, "every case, e-mails and phones");
    for ((case, kind), c) in &evaluation.counts {
        assert!(c.precision() >= 0.98 && c.recall() >= 0.95, "{case} {kind}: precision {:.3}, recall {:.3}\n{evaluation}", c.precision(), c.recall());
    }
    assert_eq!(evaluation.not_school.1, 0, "{evaluation}");
    assert!(evaluation.not_school.0 >= 40);
}
