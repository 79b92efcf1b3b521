//! Fetching one URL, politely and defensively: a timeout, a size cap read while streaming,
//! conditional requests, the charset found and decoded, non-HTML refused. Redirects and retries
//! are not followed here: the crawl loop queues them, so they pass through the per-host limiter
//! like any other request.

pub mod charset;

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};
use url::Url;

/// Validators of a previous fetch, for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    /// Sent as `If-None-Match`.
    pub etag: Option<String>,
    /// Sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// A fetched HTML page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL asked for (redirects are not followed here).
    pub url: Url,
    /// The HTTP status (a 2xx).
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `ETag` header, for the next conditional request.
    pub etag: Option<String>,
    /// The `Last-Modified` header, for the next conditional request.
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
    /// 2xx: the page.
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
    Retryable {
        /// What happened (`http 503`, `timeout`...).
        reason: String,
        /// The server's `Retry-After`, read as a wait.
        retry_after: Option<Duration>,
    },
    /// 4xx, too large, not HTML, bad redirect: give up on this URL.
    Permanent {
        /// What happened (`http 404`, `too large`, `not html (application/pdf)`...).
        reason: String,
    },
}

impl FetchError {
    /// What happened, as recorded with the URL.
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
    /// A client that sends `user_agent`, gives up after `timeout` and reads at most
    /// `max_bytes` of a body.
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
        if !(is_html || (accept_text && mime.starts_with("text/"))) {
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

/// The longest `Retry-After` honoured: a server asking for more is retried after this anyway.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// `Retry-After` as a wait, or `None` when the header is absent or unreadable.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(headers.get(header::RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

/// A `Retry-After` value read at `now`: delay-seconds, or an HTTP date to wait until (a date
/// already past means no wait); capped at [`MAX_RETRY_AFTER`].
fn retry_after_value(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let at = |offset: i64| {
            let secs = Duration::from_secs(offset.unsigned_abs());
            httpdate::fmt_http_date(if offset < 0 { now - secs } else { now + secs })
        };
        assert_eq!(retry_after_value("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after_value(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after_value("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after_value(&at(90), now), Some(Duration::from_secs(90)));
        assert_eq!(retry_after_value(&at(7200), now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after_value(&at(-30), now), Some(Duration::ZERO), "a date in the past means no wait");
        // The two obsolete date formats HTTP still allows.
        assert_eq!(retry_after_value("Sunday, 06-Nov-94 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after_value("Sun Nov  6 08:49:37 1994", now), Some(Duration::ZERO));
        for unreadable in ["", "soon", "-5", "1.5", "Fri, 32 Feb 2026 25:00:00 GMT"] {
            assert_eq!(retry_after_value(unreadable, now), None, "{unreadable:?}");
        }
    }

    #[test]
    fn retry_after_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(header::RETRY_AFTER, soon.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(110) && wait <= Duration::from_secs(120), "{wait:?}");
    }
}
