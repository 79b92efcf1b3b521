//! Serves fixtures/sites on loopback until Ctrl-C, and writes the crawl config with the real
//! addresses: `cargo run -p passerelle-sitefixtures -- [FIXTURE_DIR] [CONFIG_OUT] [CONFIG]`, where
//! CONFIG is one of the fixture configs: `crawl.toml` (default: directories and school sites),
//! `careers.toml` (offers and programmes) or `demo.toml` (everything, as the demo crawls it).

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("fixtures/sites"));
    let out = PathBuf::from(args.get(2).map(String::as_str).unwrap_or("crawl.fixtures.toml"));
    let config_name = args.get(3).map(String::as_str).unwrap_or("crawl.toml");
    let sites = match passerelle_sitefixtures::FixtureSites::start(&root).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("passerelle-sites: {e}");
            std::process::exit(1);
        }
    };
    match sites.render_file(config_name) {
        Ok(config) => {
            if let Err(e) = std::fs::write(&out, config) {
                eprintln!("passerelle-sites: cannot write {}: {e}", out.display());
                std::process::exit(1);
            }
        }
        Err(e) => eprintln!("passerelle-sites: no {config_name}: {e}"),
    }
    println!("serving {} hosts; crawl config written to {}", sites.hosts().len(), out.display());
    let _ = tokio::signal::ctrl_c().await;
}
