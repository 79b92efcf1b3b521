//! `passerelle serve`: the JSON API and the search page.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::{ModelArgs, load_model, runtime};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The server's config file (address, data, public scopes, limits, CORS, SMTP, the name of
    /// the master key's variable); see README "Serving". PASSERELLE_* variables override it, and
    /// --data / --addr override both.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (records store and index generations) [default: data, or the config's].
    #[arg(long = "data")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Longest wait for a query's embedding, in milliseconds; past it the search answers
    /// with the keyword leg alone and says so.
    #[arg(long, default_value_t = 1500)]
    pub embed_timeout_ms: u64,
    /// Address to listen on [default: 127.0.0.1:7800, or the config's, or PASSERELLE_ADDR].
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Check the config (file and environment) and exit.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let mut settings = match &args.config {
        Some(path) => server::config::ServerConfig::load(path)?,
        None => server::config::ServerConfig::default(),
    };
    settings.apply_env(env)?;
    if let Some(data) = args.data {
        settings.server.data = data;
    }
    if let Some(addr) = args.addr {
        settings.server.addr = addr;
    }
    let master_key = settings.master_key(env);
    if args.check {
        println!(
            "config ok: listening on {}, data in {}, public scopes: {}, master key: {}, mail: {}",
            settings.server.addr,
            settings.server.data.display(),
            if settings.server.public_scopes.is_empty() { "none".to_string() } else { settings.server.public_scopes.join(", ") },
            if master_key.is_some() {
                format!("set (from {})", settings.server.master_key_env)
            } else {
                format!("none ({} is not set)", settings.server.master_key_env)
            },
            settings.smtp.as_ref().map_or("off (transmissions are stored, not mailed)".to_string(), |s| format!("{}:{}", s.host, s.port)),
        );
        return Ok(());
    }
    if indexer::current_generation(&settings.server.data)?.is_none() {
        eprintln!("warning: no index in {} yet; /readyz answers 503 until `passerelle index` runs", settings.server.data.display());
    }
    let embedder = load_model(&args.model, false)?;
    let mut config = server::ServeConfig::from_config(&settings, master_key);
    config.encoder = embedder.map(|e| Arc::new(embed::QueryEncoder::new(e, embed::QUERY_CACHE_SIZE, Duration::from_millis(args.embed_timeout_ms.max(1)))));
    let data_dir = config.data_dir.clone();
    runtime()?.block_on(server::serve(
        config,
        move |bound| {
            // Scripts and tests read this line to learn the port when --addr ends in :0.
            println!("listening on http://{bound}/ (data in {})", data_dir.display());
            let _ = std::io::stdout().flush();
        },
        shutdown_signal(),
    ))?;
    Ok(())
}

/// Ctrl-C or SIGTERM: the server stops accepting, finishes the requests in flight (writes
/// included), then exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    eprintln!("shutting down: finishing the requests in flight");
}
