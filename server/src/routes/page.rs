//! The site: one page per person the service is for, served at `/` (Recherche) and under
//! `/{page}`, with their styles and scripts under `/assets/{file}`.
//!
//! Every page is the same shell (`assets/layout.html`: the navigation bar, naming each page, and
//! a `<main>`) around the page's own fragment (`assets/pages/*.html`), filled once at first use.
//! The interface strings are in one place, `assets/strings.fr.json`: the templates name them as
//! `{{key}}` (replaced here, HTML-escaped) and the scripts import the same file as
//! `/assets/strings.js`. Dutch or English is one more file of the same keys.
//!
//! Records are drawn by the scripts with `textContent` and DOM nodes; only the server-escaped
//! `snippet` / `title_html` of a search hit (text with `<mark>`) is set as HTML. The pages'
//! Content-Security-Policy allows their own scripts, styles and API, nothing inline, nothing
//! else.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The site pages' Content-Security-Policy: their own scripts, styles and API, nothing inline.
pub(crate) const CSP: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The API reference's (`/api/docs`): the same, but for its inline style sheet.
pub(crate) const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const LAYOUT: &str = include_str!("../../assets/layout.html");
const STRINGS_FR: &str = include_str!("../../assets/strings.fr.json");

/// A page of the site: its path segment (empty for `/`), the key of its name in the strings, its
/// fragment and its script.
struct Page {
    slug: &'static str,
    name_key: &'static str,
    fragment: &'static str,
    script: &'static str,
}

/// The pages, in the navigation bar's order.
const PAGES: &[Page] = &[
    Page { slug: "", name_key: "nav.search", fragment: include_str!("../../assets/pages/recherche.html"), script: "recherche.js" },
    Page { slug: "recruteur", name_key: "nav.recruiter", fragment: include_str!("../../assets/pages/recruteur.html"), script: "recruteur.js" },
    Page { slug: "etudiant", name_key: "nav.student", fragment: include_str!("../../assets/pages/etudiant.html"), script: "etudiant.js" },
    Page { slug: "contributeur", name_key: "nav.contributor", fragment: include_str!("../../assets/pages/contributeur.html"), script: "contributeur.js" },
    Page {
        slug: "tableau-de-bord",
        name_key: "nav.dashboard",
        fragment: include_str!("../../assets/pages/tableau-de-bord.html"),
        script: "tableau-de-bord.js",
    },
    Page { slug: "marketing", name_key: "nav.marketing", fragment: include_str!("../../assets/pages/marketing.html"), script: "marketing.js" },
    Page { slug: "transmissions", name_key: "nav.transmissions", fragment: include_str!("../../assets/pages/transmissions.html"), script: "transmissions.js" },
];

/// The files under `/assets/`: name, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    ("site.css", "text/css; charset=utf-8", include_str!("../../assets/site.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/common.js")),
    ("recherche.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/recherche.js")),
    ("recruteur.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/recruteur.js")),
    ("etudiant.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/etudiant.js")),
    ("contributeur.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/contributeur.js")),
    ("tableau-de-bord.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/tableau-de-bord.js")),
    ("marketing.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/marketing.js")),
    ("transmissions.js", "text/javascript; charset=utf-8", include_str!("../../assets/js/transmissions.js")),
];

/// The French strings, by key.
fn strings() -> &'static HashMap<String, String> {
    static STRINGS: OnceLock<HashMap<String, String>> = OnceLock::new();
    // The file is ours and a test reads it: a broken file is a build mistake, shown as its keys.
    STRINGS.get_or_init(|| serde_json::from_str(STRINGS_FR).unwrap_or_default())
}

/// `/assets/strings.js`: the strings as a module the scripts import.
fn strings_module() -> &'static str {
    static MODULE: OnceLock<String> = OnceLock::new();
    MODULE.get_or_init(|| {
        format!("// The interface strings (assets/strings.fr.json).\nexport const LANG = \"fr\";\nexport const T = Object.freeze({});\n", STRINGS_FR.trim())
    })
}

/// Replaces every `{{key}}` of `template` with its string, escaped; an unknown key stays as it
/// is, visible (a test checks that no page has one).
fn fill(template: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = &after[..end];
                match values(key) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The page `slug`, filled: the shell, its navigation (the current page marked), its fragment.
fn render(page: &Page) -> String {
    let t = strings();
    let text = |key: &str| t.get(key).map(|s| html_escape::encode_text(s).into_owned());
    let nav: String = PAGES
        .iter()
        .map(|p| {
            let current = if p.slug == page.slug { " aria-current=\"page\"" } else { "" };
            format!("<li><a href=\"/{}\"{current}>{}</a></li>", p.slug, text(p.name_key).unwrap_or_default())
        })
        .collect();
    let main = fill(page.fragment, &text);
    let values = |key: &str| match key {
        "nav" => Some(nav.clone()),
        "main" => Some(main.clone()),
        "script" => Some(page.script.to_string()),
        "page_title" => text(page.name_key),
        "slug" => Some(if page.slug.is_empty() { "recherche".to_string() } else { page.slug.to_string() }),
        other => text(other),
    };
    fill(LAYOUT, &values)
}

fn rendered(slug: &str) -> Option<&'static str> {
    static RENDERED: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let all = RENDERED.get_or_init(|| PAGES.iter().map(|p| (p.slug, render(p))).collect());
    all.iter().find(|(s, _)| *s == slug).map(|(_, html)| html.as_str())
}

/// The search page
///
/// Recherche: hybrid search as you type over schools, programmes, offers and questions, with
/// kind tabs, facets and the reasons of each hit. `/?q=informatique` opens it with those results.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "search_page",
    tag = "service",
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"))
)]
pub async fn index() -> Response {
    site_page(rendered("").unwrap_or_default())
}

/// A page of the site
///
/// `recruteur` (an offer to the programmes that train for it, and forwarding it to their
/// managers), `etudiant` (a wish to offers, companies and programmes), `contributeur` (a new
/// question against its near-duplicates), `tableau-de-bord` (the offers' trends as charts and
/// the occupations short of programmes), `marketing` (the contacts export and the suppression
/// list), `transmissions` (the offers a programme manager received).
#[utoipa::path(
    get,
    path = "/{page}",
    operation_id = "site_page",
    tag = "service",
    params(("page" = String, Path, description = "recruteur, etudiant, contributeur, tableau-de-bord, marketing or transmissions")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn page(Path(slug): Path<String>) -> Result<Response, ApiError> {
    match rendered(&slug).filter(|_| !slug.is_empty()) {
        Some(html) => Ok(site_page(html)),
        None => Err(ApiError::not_found(format!("no page `/{slug}`; the pages are / and {}", other_pages()))),
    }
}

fn other_pages() -> String {
    PAGES.iter().filter(|p| !p.slug.is_empty()).map(|p| format!("/{}", p.slug)).collect::<Vec<_>>().join(", ")
}

/// A style sheet or script of the site
///
/// `site.css`, `strings.js` (the interface strings), `common.js` and each page's script.
#[utoipa::path(
    get,
    path = "/assets/{file}",
    operation_id = "site_asset",
    tag = "service",
    params(("file" = String, Path, description = "The file's name, as the pages link it.")),
    responses(
        (status = 200, description = "The file.", body = String),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn asset(Path(file): Path<String>, headers: axum::http::HeaderMap) -> Result<Response, ApiError> {
    let Some((mime, body, tag)) = files().iter().find(|(name, ..)| *name == file).map(|(_, mime, body, tag)| (*mime, *body, tag)) else {
        return Err(ApiError::not_found(format!("no asset `{file}`")));
    };
    // The browser revalidates (`no-cache`); an unchanged file is a 304 without a body.
    let unchanged =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim().as_bytes() == tag.as_bytes()));
    let mut response = if unchanged {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, mime), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], body).into_response()
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.headers_mut().insert(header::ETAG, tag.clone());
    Ok(response)
}

/// Every file under `/assets/` (the strings module included) with its ETag, made once.
fn files() -> &'static [(&'static str, &'static str, &'static str, HeaderValue)] {
    static FILES: OnceLock<Vec<(&'static str, &'static str, &'static str, HeaderValue)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let strings = ("strings.js", "text/javascript; charset=utf-8", strings_module());
        ASSETS
            .iter()
            .copied()
            .chain(std::iter::once(strings))
            .map(|(name, mime, body)| (name, mime, body, HeaderValue::from_str(&etag(body)).unwrap_or(HeaderValue::from_static("\"0\""))))
            .collect()
    })
}

/// A validator for a file compiled into the server: its length and FNV-1a hash.
fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("\"{:x}-{hash:016x}\"", body.len())
}

fn site_page(page: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

/// A page of the server outside the site (the API reference): HTML under its policy.
pub(crate) fn html(page: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, DOCS_CSP), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], page)
}

/// A page's script, never sniffed as anything else.
pub(crate) fn javascript(script: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_filled_with_known_strings_and_links_its_own_files() {
        let t: HashMap<String, String> = serde_json::from_str(STRINGS_FR).expect("strings.fr.json is a flat JSON object of strings");
        assert!(t.len() > 50);
        for page in PAGES {
            let html = rendered(page.slug).unwrap();
            assert!(
                !html.contains("{{"),
                "/{}: an unknown string key is left: {}",
                page.slug,
                &html[html.find("{{").unwrap()..][..60.min(html.len() - html.find("{{").unwrap())]
            );
            assert!(!html.contains("<script>") && !html.contains(" style="), "/{}: inline script or style", page.slug);
            assert!(html.contains(&format!("src=\"/assets/{}\"", page.script)));
            assert!(ASSETS.iter().any(|(n, _, _)| *n == page.script));
            for p in PAGES {
                assert!(html.contains(&format!("href=\"/{}\"", p.slug)), "/{} does not link /{}", page.slug, p.slug);
            }
            assert_eq!(html.matches("aria-current=\"page\"").count(), 1);
        }
        // Every key a script asks for exists.
        for (name, _, body) in ASSETS.iter().filter(|(n, _, _)| n.ends_with(".js")) {
            for (at, _) in body.match_indices("t(\"") {
                if body[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue; // `p.set("kind", ...)`, not the strings' `t(...)`
                }
                let piece = &body[at + 3..];
                let key = &piece[..piece.find('"').unwrap_or(0)];
                if !key.is_empty() && !key.ends_with('.') {
                    assert!(t.contains_key(key), "{name} asks for the unknown string `{key}`");
                }
            }
        }
    }

    #[tokio::test]
    async fn an_asset_is_served_then_revalidated_and_an_unknown_one_is_a_404() {
        let first = asset(Path("common.js".into()), axum::http::HeaderMap::new()).await.unwrap();
        assert_eq!(first.status(), 200);
        assert!(first.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
        let tag = first.headers()[header::ETAG].clone();
        let mut again = axum::http::HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(asset(Path("common.js".into()), again).await.unwrap().status(), 304);
        let strings = asset(Path("strings.js".into()), axum::http::HeaderMap::new()).await.unwrap();
        assert_eq!(strings.status(), 200);
        assert!(asset(Path("../Cargo.toml".into()), axum::http::HeaderMap::new()).await.is_err());
    }

    #[test]
    fn fill_escapes_and_keeps_unknown_keys() {
        let v = |k: &str| (k == "a").then(|| html_escape::encode_text("<b>").into_owned());
        assert_eq!(fill("x{{a}}y{{b}}z{{", &v), "x&lt;b&gt;y{{b}}z{{");
        assert_ne!(etag("a"), etag("b"));
    }
}
