//! Prints the contacts the crawler reads in an HTML file:
//! `cargo run -p passerelle-crawler --example extract_contacts -- page.html BE`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), country) = (args.get(1), args.get(2).map(String::as_str).unwrap_or("BE")) else {
        eprintln!("usage: extract_contacts FILE.html [COUNTRY]");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    });
    let (text, encoding) = passerelle_crawler::fetch::charset::decode(&bytes, None);
    let html = scraper::Html::parse_document(&text);
    let extractor = passerelle_crawler::extract::ContactExtractor::new(passerelle_crawler::config::parse_country(country));
    println!("{path} ({encoding})");
    for c in extractor.from_html(&html) {
        println!("{:?}\t{}\t{}\t{}\t{:?}", c.kind, c.value, c.display.unwrap_or_default(), c.method, c.label);
    }
}
