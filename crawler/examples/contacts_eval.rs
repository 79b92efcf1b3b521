//! Precision and recall of the contact extractor and the school-affinity decision on a folder of
//! static pages with a ground truth, per case (see `passerelle_crawler::contact_eval`):
//!
//! ```text
//! cargo run -p passerelle-crawler --example contacts_eval -- fixtures/contact-pages
//! ```

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: contacts_eval DIR (with DIR/truth.json and DIR/pages/)");
        std::process::exit(2);
    };
    match passerelle_crawler::contact_eval::evaluate(std::path::Path::new(&dir)) {
        Ok(evaluation) => print!("{evaluation}"),
        Err(e) => {
            eprintln!("contacts_eval: {e}");
            std::process::exit(1);
        }
    }
}
