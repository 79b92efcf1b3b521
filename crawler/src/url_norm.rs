//! URL canonicalisation: one spelling per page, so the seen set recognises it.

use url::Url;

/// Query parameters that only track visitors.
const TRACKING: &[&str] = &["fbclid", "gclid", "mc_cid", "mc_eid", "msclkid", "_ga"];

/// The canonical form of a URL: no fragment, no tracking parameters, no empty query, host
/// lower-cased and default port dropped (done by the parser). `None` for other schemes.
pub fn canonical(url: &Url) -> Option<Url> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return None;
    }
    let mut u = url.clone();
    u.set_fragment(None);
    let pairs: Vec<(String, String)> =
        u.query_pairs().filter(|(k, _)| !k.starts_with("utm_") && !TRACKING.contains(&k.as_ref())).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Some(u)
}

/// `host:port`, the key of per-host politeness.
pub fn host_key(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_page() {
        let c = |s: &str| canonical(&Url::parse(s).unwrap()).map(|u| u.to_string());
        assert_eq!(c("HTTP://Ecole.BE:80/a/../contact.html#top").as_deref(), Some("http://ecole.be/contact.html"));
        assert_eq!(c("https://ecole.be/?utm_source=x&id=3&fbclid=y").as_deref(), Some("https://ecole.be/?id=3"));
        assert_eq!(c("https://ecole.be/?utm_source=x").as_deref(), Some("https://ecole.be/"));
        assert_eq!(c("mailto:x@y.be"), None);
        assert_eq!(host_key(&Url::parse("http://127.0.1.3:8080/x").unwrap()), "127.0.1.3:8080");
    }
}
