//! Links of a page, and which of them lead to contact information.

use scraper::{Html, Selector};
use url::Url;

/// A link: where it goes and the words on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target, resolved against the page.
    pub url: Url,
    /// Its text, `title` and `aria-label`, spaces collapsed.
    pub text: String,
}

/// Words of link text or URL that announce contact information (French, Dutch, English).
const CONTACT_CUES: &[&str] = &[
    "contact",
    "contacter",
    "contactez",
    "coordonnées",
    "coordonnees",
    "secrétariat",
    "secretariat",
    "direction",
    "infos pratiques",
    "informations pratiques",
    "info-pratique",
    "infos-pratiques",
    "infospratiques",
    "accès",
    "acces",
    "nous trouver",
    "à propos",
    "a propos",
    "a-propos",
    "apropos",
    "qui sommes",
    "l'école",
    "notre école",
    "over ons",
    "over-ons",
    "contacteer",
    "contactgegevens",
    "nous joindre",
    "nous-joindre",
    "joindre",
    "secretariaat",
    "directie",
    "onze school",
    "praktische info",
    "bereikbaarheid",
    "about",
    "contact us",
    "contact-us",
    "mentions légales",
    "mentions-legales",
    "equipe",
    "équipe",
    "administration",
    "adresse",
];

/// The URL a page's relative links resolve against: its `<base href>` when it has one (itself
/// resolved against the page's URL), else the page's URL.
pub fn base_url(html: &Html, page: &Url) -> Url {
    static BASE: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
    html.select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href.trim()).ok())
        .filter(|u| u.scheme() == "http" || u.scheme() == "https")
        .unwrap_or_else(|| page.clone())
}

/// Where a `<meta http-equiv="refresh" content="0; url=...">` sends the reader, resolved
/// against `base`.
pub fn meta_refresh(html: &Html, base: &Url) -> Option<Url> {
    static META: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| Selector::parse("meta[http-equiv][content]").expect("static selector"));
    let meta = html.select(&META).find(|m| m.value().attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")))?;
    let content = meta.value().attr("content")?;
    let (_, rest) = content.split_once(';').or_else(|| content.split_once(','))?;
    let rest = rest.trim();
    let target = match rest.get(..4) {
        Some(head) if head.eq_ignore_ascii_case("url=") => &rest[4..],
        _ => rest,
    };
    let target = target.trim().trim_matches(|c| c == '\'' || c == '"');
    if target.is_empty() {
        return None;
    }
    base.join(target).ok().filter(|u| u.scheme() == "http" || u.scheme() == "https")
}

/// Every `<a href>` of the page resolved against `page` (or its `<base href>`), http and https
/// only.
pub fn links(html: &Html, page: &Url) -> Vec<Link> {
    let selector = Selector::parse("a[href]").expect("static selector");
    let base = &base_url(html, page);
    let mut out = Vec::new();
    for a in html.select(&selector) {
        let href = a.value().attr("href").unwrap_or("").trim();
        let Ok(url) = base.join(href) else { continue };
        if url.scheme() != "http" && url.scheme() != "https" {
            continue;
        }
        let mut text: String = a.text().collect::<Vec<_>>().join(" ");
        for attr in ["title", "aria-label"] {
            if let Some(v) = a.value().attr(attr) {
                text.push(' ');
                text.push_str(v);
            }
        }
        out.push(Link { url, text: crate::extract::text::squash(&text) });
    }
    out
}

/// The `href`s selected by a CSS selector, resolved against `base`.
pub fn selected_links(html: &Html, base: &Url, selector: &Selector) -> Vec<Url> {
    html.select(selector)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|href| base.join(href.trim()).ok())
        .filter(|u| u.scheme() == "http" || u.scheme() == "https")
        .collect()
}

/// Whether a link looks like it leads to contact information.
pub fn looks_like_contact(link: &Link) -> bool {
    let text = link.text.to_lowercase();
    let mut path = percent_decoded_path(&link.url).to_lowercase();
    // `index.php?page=contact`: the query names the page.
    if let Some(q) = link.url.query() {
        path.push('?');
        path.push_str(&crate::extract::deobfuscate::percent_decode(q).to_lowercase());
    }
    CONTACT_CUES.iter().any(|cue| text.contains(cue) || path.contains(&cue.replace(' ', "-")) || path.contains(&cue.replace(' ', "_")))
}

fn percent_decoded_path(url: &Url) -> String {
    crate::extract::deobfuscate::percent_decode(url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_href_meta_refresh_and_query_pages() {
        let page = Url::parse("http://ecole.test/fr/index.html").unwrap();
        let html = Html::parse_document(
            r#"<head><base href="/fr/"><meta http-equiv="Refresh" content="0; URL='/pages/nous-joindre.html'"></head>
               <a href="contact.html">Écrire</a><a href="/index.php?page=contact">Page</a>"#,
        );
        let found: Vec<Link> = links(&html, &page);
        assert_eq!(found[0].url.as_str(), "http://ecole.test/fr/contact.html");
        assert!(looks_like_contact(&found[1]), "the query names the page");
        assert_eq!(meta_refresh(&html, &page).unwrap().as_str(), "http://ecole.test/pages/nous-joindre.html");
        assert_eq!(meta_refresh(&Html::parse_document(r#"<meta http-equiv="refresh" content="30">"#), &page), None);
    }

    #[test]
    fn recognises_contact_links_in_three_languages() {
        let base = Url::parse("http://ecole.test/").unwrap();
        let html = Html::parse_document(
            r#"<a href="/nous-contacter/">Nous écrire</a><a href="/actualites.html">Actualités</a>
               <a href="over.html">Over ons</a><a href="/a.html" aria-label="Contact us">✉</a>
               <a href="mailto:x@y.be">mail</a><a href="/infos-pratiques.html">Venir à l'école</a>
               <a href="/school/secretariaat">Secretariaat</a><a href="/team.html">Directie en team</a>"#,
        );
        let found: Vec<(String, bool)> = links(&html, &base).into_iter().map(|l| (l.url.path().to_string(), looks_like_contact(&l))).collect();
        assert_eq!(
            found,
            vec![
                ("/nous-contacter/".into(), true),
                ("/actualites.html".into(), false),
                ("/over.html".into(), true),
                ("/a.html".into(), true),
                ("/infos-pratiques.html".into(), true),
                ("/school/secretariaat".into(), true),
                ("/team.html".into(), true),
            ]
        );
    }
}
