//! `passerelle demo`: the whole service on the fixture sites, in one command.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;

use super::{DataArg, ModelArgs, load_model, runtime};

#[derive(clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Address to listen on.
    #[arg(long, env = "PASSERELLE_ADDR", default_value = "127.0.0.1:7800")]
    pub addr: SocketAddr,
    /// The fixture sites to serve and crawl (default: ./fixtures/sites, else the source tree's).
    #[arg(long)]
    pub sites: Option<PathBuf>,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let embedder = load_model(&args.model, false)?;
    runtime()?.block_on(::demo::run(args.data.dir, args.addr, ::demo::sites_dir(args.sites), embedder))?;
    Ok(())
}
