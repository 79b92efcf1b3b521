//! Browser figures on the fixture sites: rendered pages per second (1 and 2 sessions), memory
//! per browser session, the share of pages `render = "auto"` sent to the browser in the
//! demo's crawl (every fixture site), and the crawl of the harder contact sites (`hard.toml`)
//! with `auto` and with `static`: what the extra rendering costs.
//!
//! ```text
//! cargo run -p passerelle-crawler --example bench_render
//! ```
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: chromium, chromium-driver).

use std::path::Path;
use std::time::{Duration, Instant};

use passerelle_crawler::browser::{BrowserConfig, BrowserPool, DEFAULT_CHROMEDRIVER, DEFAULT_CHROMIUM};

fn config(sessions: usize) -> BrowserConfig {
    BrowserConfig {
        webdriver_url: None,
        chromedriver: DEFAULT_CHROMEDRIVER.into(),
        chromium: DEFAULT_CHROMIUM.into(),
        sessions,
        page_load_timeout: Duration::from_secs(20),
        settle: Duration::from_millis(300),
        settle_max: Duration::from_secs(5),
        user_agent: "passerelle-bench/0.1".into(),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites");
    if let Some(why) = config(1).unavailable() {
        eprintln!("bench_render: {why}");
        std::process::exit(2);
    }
    let sites = sitefixtures::FixtureSites::start(&root).await.expect("fixture sites");
    let truth: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("careers-truth.json")).expect("truth")).expect("truth JSON");
    let pages: Vec<url::Url> = truth["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .filter(|o| o["needs_browser"] == true)
        .map(|o| {
            let host = sites.addr(o["host"].as_str().expect("host")).expect("known host");
            url::Url::parse(&format!("http://{host}{}", o["path"].as_str().expect("path"))).expect("url")
        })
        .collect();
    println!(
        "machine: {} cores; {} board offer pages (built by JavaScript from a JSON file)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        pages.len()
    );

    for sessions in [1usize, 2] {
        let pool = std::sync::Arc::new(BrowserPool::new(config(sessions)).expect("pool"));
        // Start the sessions (timed apart), then render every page.
        let start = Instant::now();
        let warm: Vec<_> = (0..sessions)
            .map(|i| {
                let (pool, url) = (pool.clone(), pages[i].clone());
                tokio::spawn(async move { pool.render(&url).await.map(|_| ()) })
            })
            .collect();
        for w in warm {
            w.await.expect("task").expect("render");
        }
        let startup = start.elapsed();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for chunk in 0..sessions {
            let pool = pool.clone();
            let mine: Vec<url::Url> = pages.iter().skip(chunk).step_by(sessions).cloned().collect();
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                for u in mine {
                    let r = pool.render(&u).await.expect("render");
                    assert!(r.html.contains("job-title"), "rendered {u}");
                    n += 1;
                }
                n
            }));
        }
        let mut rendered = 0;
        for t in tasks {
            rendered += t.await.expect("task");
        }
        let took = start.elapsed();
        let memory = pool.session_memory();
        println!(
            "{sessions} session(s): started in {:.2} s; {rendered} pages in {:.2} s = {:.1} pages/s; memory (PSS) per session: {}",
            startup.as_secs_f64(),
            took.as_secs_f64(),
            rendered as f64 / took.as_secs_f64(),
            memory.iter().map(|m| format!("{:.0} MiB", mib(*m))).collect::<Vec<_>>().join(", ")
        );
        pool.shutdown().await;
    }

    // The demo's crawl: which share of the pages `auto` sent to the browser.
    let data = tempfile::tempdir().expect("temp dir");
    let text = sites.render_file("demo.toml").expect("demo.toml");
    let path = data.path().join("demo.toml");
    std::fs::write(&path, &text).expect("write");
    let config = passerelle_crawler::CrawlConfig::parse(&text, &path).expect("config");
    let start = Instant::now();
    let summary = passerelle_crawler::crawl(&config, "demo.toml", data.path(), false).await.expect("crawl");
    println!("demo crawl ({:.1} s):\n{summary}", start.elapsed().as_secs_f64());
    println!(
        "auto sent {} of {} statically fetched pages to the browser ({:.1}%)",
        summary.rendered,
        summary.fetched,
        100.0 * summary.rendered as f64 / summary.fetched.max(1) as f64
    );
    if let Some(b) = &summary.browser {
        println!("browser time in the demo crawl: {:.1} s (all sessions)", b.render_secs);
    }

    // The harder contact sites (`hard.toml`): what `auto` costs over a static crawl.
    for render in ["auto", "static"] {
        let data = tempfile::tempdir().expect("temp dir");
        let text = sites.render_file("hard.toml").expect("hard.toml").replace("render = \"auto\"", &format!("render = \"{render}\""));
        let path = data.path().join("hard.toml");
        std::fs::write(&path, &text).expect("write");
        let config = passerelle_crawler::CrawlConfig::parse(&text, &path).expect("config");
        let start = Instant::now();
        let summary = passerelle_crawler::crawl(&config, "hard.toml", data.path(), false).await.expect("crawl");
        println!(
            "hard sites, render = {render}: {:.1} s, {} pages fetched, {} sent to the browser {:?}, browser time {:.1} s, contacts {}",
            start.elapsed().as_secs_f64(),
            summary.fetched,
            summary.rendered,
            summary.needed_browser,
            summary.browser.as_ref().map_or(0.0, |b| b.render_secs),
            summary.contacts_added
        );
    }
}
