//! The browser pool against pages served on loopback: scripts run, e-mails they assemble are
//! found, a killed Chromium is replaced without losing the page. Needs Debian's chromium and
//! chromium-driver (`./scripts/test` installs them when missing).

use std::time::Duration;

use axum::Router;
use axum::response::Html as HtmlResponse;
use axum::routing::get;
use passerelle_crawler::browser::{BrowserConfig, BrowserPool, DEFAULT_CHROMEDRIVER, DEFAULT_CHROMIUM};
use passerelle_crawler::extract::ContactExtractor;

const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>Contact</title></head><body>
<h1>Contact</h1><p id="a"></p><p id="b"></p>
<script>document.write('<a href="mailto:' + 'secretariat' + '@' + 'ecole-test.be">écrire</a>');</script>
<script>document.getElementById('a').textContent = 'eb.tset-elocé@snoitpircsni'.split('').reverse().join('').replace('é', 'e');</script>
<script>setTimeout(function () { document.getElementById('b').innerHTML = '<a href="mailto:stages' + String.fromCharCode(64) + 'ecole-test.be">stages</a>'; }, 150);</script>
</body></html>"#;

pub fn config() -> BrowserConfig {
    let config = BrowserConfig {
        webdriver_url: None,
        chromedriver: DEFAULT_CHROMEDRIVER.into(),
        chromium: DEFAULT_CHROMIUM.into(),
        sessions: 2,
        page_load_timeout: Duration::from_secs(20),
        settle: Duration::from_millis(300),
        settle_max: Duration::from_secs(5),
        user_agent: "passerelle-test/0.1".into(),
    };
    if let Some(why) = config.unavailable() {
        panic!("the browser tests need Chromium: {why} (./scripts/test installs it)");
    }
    config
}

async fn serve() -> std::net::SocketAddr {
    let app = Router::new().route("/contact.html", get(|| async { HtmlResponse(PAGE) })).route(
        "/slow.html",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(8)).await;
            HtmlResponse("<html><body>late</body></html>")
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn emails(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut found: Vec<String> = ContactExtractor::new(None).from_html(&doc).into_iter().map(|c| c.value).collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_run_and_their_emails_are_found_even_after_a_crash() {
    let addr = serve().await;
    let page = url::Url::parse(&format!("http://{addr}/contact.html")).unwrap();
    let statically = reqwest::get(page.clone()).await.unwrap().text().await.unwrap();
    assert!(emails(&statically).is_empty(), "the addresses exist only once scripts run");

    let pool = BrowserPool::new(config()).unwrap();
    let rendered = pool.render(&page).await.unwrap();
    let expected = ["inscriptions@ecole-test.be", "secretariat@ecole-test.be", "stages@ecole-test.be"];
    assert_eq!(emails(&rendered.html), expected, "docwrite, reversed string, late innerHTML");
    assert!(!pool.chromium_pids().is_empty(), "the pool's Chromium runs under its marked profile");
    let memory = pool.session_memory();
    assert_eq!(memory.len(), 1);
    assert!(memory[0] > 10 << 20, "a Chromium session takes more than 10 MB: {memory:?}");

    // Kill every Chromium of this pool: the next page is rendered on a new session.
    for pid in pool.chromium_pids() {
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = pool.render(&page).await.unwrap();
    assert_eq!(emails(&again.html), expected);
    let stats = pool.stats();
    assert_eq!(stats.sessions_lost, 1, "{stats:?}");
    assert_eq!(stats.sessions_started, 2, "{stats:?}");
    assert_eq!(stats.rendered, 2);
    pool.shutdown().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(pool.chromium_pids().is_empty(), "shutdown leaves no Chromium behind: {:?}", pool.chromium_pids());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_does_not_load_in_time_is_a_timeout() {
    let addr = serve().await;
    let mut c = config();
    c.page_load_timeout = Duration::from_secs(2);
    let pool = BrowserPool::new(c).unwrap();
    let slow = url::Url::parse(&format!("http://{addr}/slow.html")).unwrap();
    assert_eq!(pool.render(&slow).await.unwrap_err(), passerelle_crawler::browser::RenderError::Timeout);
    // The session survives and serves the next page.
    let ok = pool.render(&url::Url::parse(&format!("http://{addr}/contact.html")).unwrap()).await.unwrap();
    assert_eq!(emails(&ok.html).len(), 3);
    assert_eq!(pool.stats().timeouts, 1);
    pool.shutdown().await;
}
