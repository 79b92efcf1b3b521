//! `passerelle index`: a new index generation from the records store.

use anyhow::Result;

use super::{DataArg, ModelArgs, load_model, progress_bar};

#[derive(clap::Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: IndexArgs) -> Result<()> {
    let data_dir = args.data.dir;
    let embedder = load_model(&args.model, false)?;
    let mut store = store::RecordStore::open_dir(&data_dir)?;
    let bar = progress_bar(0);
    let report = indexer::build_generation_with(&data_dir, &mut store, embedder.as_deref(), |phase, done, total| {
        bar.set_message(match phase {
            indexer::Phase::Indexing => "indexing",
            indexer::Phase::Embedding => "embedding",
            indexer::Phase::Graphs => "graphs",
        });
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let kinds: Vec<String> = report.manifest.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "published index generation {} ({} documents: {}) in {:.1}s",
        report.manifest.name,
        report.manifest.documents,
        kinds.join(", "),
        report.elapsed.as_secs_f64()
    );
    match &report.manifest.vectors {
        Some(v) => println!(
            "semantic leg: {} vectors by {} ({} embedded now, {} from the cache)",
            v.by_kind.values().sum::<usize>(),
            v.model_id,
            v.embedded,
            v.from_cache
        ),
        None => println!("semantic leg: none (no embedding model); search is keyword only"),
    }
    let places = &report.manifest.places;
    println!(
        "places: {} records located by their town{}",
        places.located,
        if places.unknown == 0 {
            String::new()
        } else {
            format!("; {} with a town the gazetteer does not know ({})", places.unknown, places.unknown_towns.join(", "))
        }
    );
    if !report.removed.is_empty() {
        println!("removed old generations: {}", report.removed.join(", "));
    }
    Ok(())
}
