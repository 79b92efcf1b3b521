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

/// Every `<a href>` of the page resolved against `base` (http and https only).
pub fn links(html: &Html, base: &Url) -> Vec<Link> {
    let selector = Selector::parse("a[href]").expect("static selector");
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
    let path = percent_decoded_path(&link.url).to_lowercase();
    CONTACT_CUES.iter().any(|cue| text.contains(cue) || path.contains(&cue.replace(' ', "-")) || path.contains(&cue.replace(' ', "_")))
}

fn percent_decoded_path(url: &Url) -> String {
    crate::extract::deobfuscate::percent_decode(url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

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
