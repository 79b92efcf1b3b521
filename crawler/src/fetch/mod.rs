//! Fetching one URL, politely and defensively: a timeout, a size cap read while streaming,
//! conditional requests, the charset found and decoded, non-HTML refused. Redirects and retries
//! are not followed here: the crawl loop queues them, so they pass through the per-host limiter
//! like any other request.

pub mod charset;

use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use url::Url;

/// Validators of a previous fetch, for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched HTML page.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The body as received (for the cache).
    pub raw: Vec<u8>,
    /// The body decoded to text.
    pub text: String,
    /// The charset it was decoded with.
    pub encoding: &'static str,
}

/// What one request gave.
#[derive(Debug)]
pub enum Fetched {
    Page(Page),
    /// 304: the cached copy is current.
    NotModified,
    /// 3xx with a location.
    Redirect(Url),
}

/// Why a request failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// 408, 429, 5xx, timeouts, connection errors: retry later (after `retry_after` when given).
    Retryable { reason: String, retry_after: Option<Duration> },
    /// 4xx, too large, not HTML, bad redirect: give up on this URL.
    Permanent { reason: String },
}

impl FetchError {
    pub fn reason(&self) -> &str {
        match self {
            FetchError::Retryable { reason, .. } | FetchError::Permanent { reason } => reason,
        }
    }
}

/// The HTTP client of a crawl.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

impl Fetcher {
    pub fn new(user_agent: &str, timeout: Duration, max_bytes: usize) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Fetcher { client, max_bytes })
    }

    /// Fetches `url` as an HTML page (or `accept_text` for robots.txt).
    pub async fn fetch(&self, url: &Url, validators: &Validators, accept_text: bool) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url.clone()).header(header::ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5");
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut response = request.send().await.map_err(|e| network_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if status == 304 {
            return Ok(Fetched::NotModified);
        }
        if (300..400).contains(&status) {
            let location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
            return match url.join(location) {
                Ok(to) if !location.is_empty() => Ok(Fetched::Redirect(to)),
                _ => Err(FetchError::Permanent { reason: format!("redirect {status} without a usable location") }),
            };
        }
        if status == 408 || status == 429 || status >= 500 {
            return Err(FetchError::Retryable { reason: format!("http {status}"), retry_after: retry_after(&headers) });
        }
        if status >= 400 {
            return Err(FetchError::Permanent { reason: format!("http {status}") });
        }
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mime = content_type.as_deref().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let is_html = mime.is_empty() || mime == "text/html" || mime == "application/xhtml+xml";
        if !is_html && !(accept_text && mime.starts_with("text/")) {
            return Err(FetchError::Permanent { reason: format!("not html ({mime})") });
        }
        if response.content_length().is_some_and(|n| n as usize > self.max_bytes) {
            return Err(FetchError::Permanent { reason: "too large".into() });
        }
        let mut raw = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if raw.len() + chunk.len() > self.max_bytes {
                        return Err(FetchError::Permanent { reason: "too large".into() });
                    }
                    raw.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(network_error(&e)),
            }
        }
        let (text, encoding) = charset::decode(&raw, content_type.as_deref());
        Ok(Fetched::Page(Page {
            url: url.clone(),
            status,
            etag: headers.get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string),
            last_modified: headers.get(header::LAST_MODIFIED).and_then(|v| v.to_str().ok()).map(str::to_string),
            content_type,
            raw,
            text,
            encoding,
        }))
    }
}

fn network_error(e: &reqwest::Error) -> FetchError {
    let reason = if e.is_timeout() {
        "timeout".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        format!("network error: {e}")
    };
    FetchError::Retryable { reason, retry_after: None }
}

/// `Retry-After` in seconds (an HTTP date is read as "a minute"), capped at 10 minutes.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = v.parse::<u64>().unwrap_or(60);
    Some(Duration::from_secs(secs.min(600)))
}
