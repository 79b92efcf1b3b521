//! Crawler throughput and memory, on loopback:
//!
//! ```text
//! cargo run --release -p passerelle-crawler --example bench_crawl -- [FRONTIER_URLS]
//! ```
//!
//! 1. The fixture sites (fixtures/sites: the 65 school hosts of crawl.toml) crawled with rate limits lifted
//!    (per_host_rps 10,000, robots.txt ignored): pages per second and CPU seconds per 1,000 pages.
//! 2. A generated directory whose index links 100 list pages of FRONTIER_URLS / 100 school links
//!    each (default 100,000): the frontier holds every URL after 101 pages; the crawl stops at a
//!    5,000-page budget. Peak resident memory (VmHWM) is read from /proc.

use std::path::Path;
use std::time::Instant;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::response::Html;
use axum::routing::get;
use passerelle_crawler::{CrawlConfig, crawl};

/// (user + system) CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let frontier: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites");

    // 1. Fixture sites, limits lifted.
    let sites = sitefixtures::FixtureSites::start(&root).await.expect("fixture sites start");
    let text = sites
        .render_file("crawl.toml")
        .expect("crawl.toml")
        .replace("per_host_rps = 1.0", "per_host_rps = 10000.0")
        .replace("respect_robots = true", "respect_robots = false");
    let config = CrawlConfig::parse(&text, Path::new("crawl.toml")).expect("config parses");
    let dir = tempfile::tempdir().expect("temp dir");
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let summary = crawl(&config, "bench", dir.path(), false).await.expect("crawl runs");
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let pages = summary.fetched as f64;
    println!(
        "fixture sites: {} pages (+{} failed/skipped) on {} hosts in {wall:.2}s: {:.0} pages/s, {:.2} CPU s per 1000 pages (fixture server included)",
        summary.fetched,
        summary.failed.values().sum::<u64>() + summary.skipped.values().sum::<u64>(),
        summary.hosts,
        pages / wall,
        cpu / pages * 1000.0
    );
    drop(sites);

    // 2. A frontier of `frontier` URLs.
    let per_list = frontier / 100;
    let app = Router::new()
        .route(
            "/index.html",
            get(|| async { Html((0..100).map(|i| format!("<a class=\"list\" href=\"/list/{i}.html\">liste {i}</a>\n")).collect::<String>()) }),
        )
        .route(
            "/list/{n}",
            get(move |UrlPath(n): UrlPath<String>| async move {
                let n: usize = n.trim_end_matches(".html").parse().unwrap_or(0);
                Html((0..per_list).map(|i| format!("<a class=\"school\" href=\"/ecole/{n}-{i}.html\">École {n}-{i}</a>\n")).collect::<String>())
            }),
        )
        .route(
            "/ecole/{id}",
            get(|UrlPath(id): UrlPath<String>| async move {
                Html(format!("<h1>École {id}</h1><p class=\"phone\">081 22 33 44</p><a class=\"email\" href=\"mailto:info@ecole.be\">mail</a>"))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.2.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let text = format!(
        "[crawl]\nper_host_rps = 10000.0\nrespect_robots = false\nmax_pages = 5000\nmax_pages_per_host = 200000\n\n[[source]]\nname = \"big\"\nkind = \"school_directory\"\nstart_urls = [\"http://{addr}/index.html\"]\ncountry = \"BE\"\n[source.select]\nlist_link = \"a.list\"\nschool_link = \"a.school\"\nname = \"h1\"\nphone = \".phone\"\nemail = \".email\"\n"
    );
    let config = CrawlConfig::parse(&text, Path::new("big.toml")).expect("config parses");
    let dir = tempfile::tempdir().expect("temp dir");
    let before = peak_rss_mib();
    let t = Instant::now();
    let summary = crawl(&config, "big", dir.path(), false).await.expect("crawl runs");
    println!(
        "frontier of {} URLs: {} pages fetched in {:.1}s ({:.0} pages/s, one host); peak RSS {:.0} MiB (before this crawl: {before:.0} MiB)",
        frontier + 101,
        summary.fetched,
        t.elapsed().as_secs_f64(),
        summary.fetched as f64 / t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}
