//! A school directory's pages read through the source's CSS selectors.

use std::collections::BTreeMap;

use scraper::{Html, Selector};
use url::Url;

use super::contacts::{ContactExtractor, FoundContact};
use super::links::selected_links;
use super::text::{squash, visible_text};

/// The parsed selectors of a directory source.
pub struct DirectorySelectors {
    selectors: BTreeMap<String, Selector>,
}

/// What a detail page says about a school.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryEntry {
    /// The `name` field; a detail page without it gives no school.
    pub name: Option<String>,
    /// The `address` field, as written.
    pub address: Option<String>,
    /// The `postal_code` field, else read from the address.
    pub postal_code: Option<String>,
    /// The `city` field, else read from the address.
    pub city: Option<String>,
    /// The `region` field.
    pub region: Option<String>,
    /// The `kind` field (school type).
    pub kind: Option<String>,
    /// The `website` link (its `href`, else its text), http(s) only.
    pub website: Option<Url>,
    /// The contacts of the `email`, `phone` and `fax` fields only.
    pub contacts: Vec<FoundContact>,
}

/// What a list page leads to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListLinks {
    /// Other list pages (regions, next pages).
    pub lists: Vec<Url>,
    /// School detail pages.
    pub details: Vec<Url>,
}

impl DirectorySelectors {
    /// Parses the selectors (the config check has already validated them).
    pub fn new(select: &BTreeMap<String, String>) -> Self {
        let selectors = select.iter().filter_map(|(k, v)| Some((k.clone(), Selector::parse(v).ok()?))).collect();
        Self { selectors }
    }

    fn get(&self, key: &str) -> Option<&Selector> {
        self.selectors.get(key)
    }

    /// Links from a list page.
    pub fn list_links(&self, html: &Html, base: &Url) -> ListLinks {
        let mut out = ListLinks::default();
        for key in ["list_link", "region_link", "next_page"] {
            if let Some(s) = self.get(key) {
                out.lists.extend(selected_links(html, base, s));
            }
        }
        if let Some(s) = self.get("school_link") {
            out.details.extend(selected_links(html, base, s));
        }
        out
    }

    /// Whether a page is a detail page: it holds the `name` selector and no school links.
    pub fn is_detail(&self, html: &Html) -> bool {
        let has_name = self.get("name").is_some_and(|s| html.select(s).next().is_some());
        let has_schools = self.get("school_link").is_some_and(|s| html.select(s).next().is_some());
        has_name && !has_schools
    }

    fn text(&self, html: &Html, key: &str) -> Option<String> {
        let el = html.select(self.get(key)?).next()?;
        let t = squash(&visible_text(el));
        (!t.is_empty()).then_some(t)
    }

    /// Reads a detail page. Contacts come only from the contact fields, never from the rest of
    /// the page (whose header and footer carry the directory's own contacts).
    pub fn entry(&self, html: &Html, base: &Url, extractor: &ContactExtractor) -> DirectoryEntry {
        let mut e = DirectoryEntry {
            name: self.text(html, "name"),
            address: self.text(html, "address"),
            region: self.text(html, "region"),
            kind: self.text(html, "kind"),
            postal_code: self.text(html, "postal_code"),
            city: self.text(html, "city"),
            ..Default::default()
        };
        if let (Some(addr), None) = (&e.address, &e.postal_code) {
            if let Some((pc, city)) = split_postal_city(addr) {
                e.postal_code = Some(pc);
                e.city.get_or_insert(city);
            }
        }
        if let Some(s) = self.get("website") {
            e.website = html.select(s).next().and_then(|el| {
                let href = el.value().attr("href").map(str::to_string).unwrap_or_else(|| squash(&visible_text(el)));
                base.join(href.trim()).ok().filter(|u| u.scheme() == "http" || u.scheme() == "https")
            });
        }
        for key in ["email", "phone", "fax"] {
            let Some(s) = self.get(key) else { continue };
            for el in html.select(s) {
                for mut c in extractor.from_element(el) {
                    if key == "fax" && c.kind == schemas::ContactKind::Phone {
                        c.kind = schemas::ContactKind::Fax;
                    }
                    if !e.contacts.iter().any(|o| o.value == c.value) {
                        e.contacts.push(c);
                    }
                }
            }
        }
        e
    }
}

/// "Rue de Fer 25, 5000 Namur" -> ("5000", "Namur").
fn split_postal_city(address: &str) -> Option<(String, String)> {
    let re = regex::Regex::new(r"(?:^|[\s,])(\d{4,5})\s+([^\d,]+?)\s*(?:\(|,|$)").ok()?;
    let caps = re.captures_iter(address).last()?;
    Some((caps[1].to_string(), caps[2].trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_keeps_the_footer_out() {
        let select: BTreeMap<String, String> =
            [("name", "h1"), ("address", ".address"), ("phone", ".phone"), ("email", ".email"), ("website", ".website a"), ("school_link", "a.school")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let sel = DirectorySelectors::new(&select);
        let html = Html::parse_document(
            r#"<h1>Athénée royal de Namur</h1><p class="address">Rue de Fer 25, 5000 Namur</p>
               <span class="phone">081 22 33 44</span><a class="email" href="mailto:info@arnamur.be">info@arnamur.be</a>
               <p class="website"><a href="http://arnamur.test/">site</a></p>
               <footer>Annuaire : 02 413 23 00 — info@annuaire.be</footer>"#,
        );
        let base = Url::parse("http://annuaire.test/ecole/1.html").unwrap();
        assert!(sel.is_detail(&html));
        let e = sel.entry(&html, &base, &ContactExtractor::new(phonenumber::country::Id::BE.into()));
        assert_eq!(e.name.as_deref(), Some("Athénée royal de Namur"));
        assert_eq!((e.postal_code.as_deref(), e.city.as_deref()), (Some("5000"), Some("Namur")));
        assert_eq!(e.website.unwrap().as_str(), "http://arnamur.test/");
        let values: Vec<&str> = e.contacts.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, vec!["info@arnamur.be", "+3281223344"]);
    }
}
