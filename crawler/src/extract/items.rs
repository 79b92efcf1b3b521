//! Offers and programmes of a page for the `offers` and `programmes` sources: schema.org JSON-LD
//! first, the source's CSS selectors second (when the page has no usable JSON-LD of the kind),
//! plus the links to follow (`follow`: list page -> item page; `next_page`: the next list page).
//! Also the rules that tell whether a page needs the browser (`render = "auto"`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use schemas::{Company, ContractType, Offer, Person, Programme};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::contacts::ContactExtractor;
use super::jsonld::{self, ROME_CODE, clean_text, contract_type};
use super::links::selected_links;
use super::text::{squash, visible_text};

/// Selector names of an `offers` source.
pub const OFFER_SELECTORS: &[&str] = &[
    "title",
    "reference",
    "company",
    "city",
    "region",
    "country",
    "contract",
    "level",
    "description",
    "skills",
    "date_posted",
    "valid_through",
    "contact_name",
    "contact_role",
    "contact_email",
    "contact_phone",
    "occupations",
    "next_page",
];

/// Selector names of a `programmes` source.
pub const PROGRAMME_SELECTORS: &[&str] = &[
    "title",
    "reference",
    "school",
    "level",
    "domain",
    "city",
    "region",
    "country",
    "duration",
    "description",
    "skills",
    "work_study",
    "contact_name",
    "contact_role",
    "contact_email",
    "contact_phone",
    "occupations",
    "next_page",
];

static FRENCH_DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b").expect("pattern"));
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})(?:\b|T)").expect("pattern"));
static SCRIPT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script").expect("selector"));
static BODY: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").expect("selector"));

/// The parsed selectors of an `offers` or `programmes` source.
pub struct ItemSelectors {
    selectors: BTreeMap<String, Selector>,
    follow: Option<Selector>,
}

/// How the records of a page were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemMethod {
    /// schema.org JSON-LD in the page.
    JsonLd,
    /// The source's CSS selectors.
    Css,
}

impl ItemMethod {
    /// The name used in the crawl summary (`json-ld`, `css`).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemMethod::JsonLd => "json-ld",
            ItemMethod::Css => "css",
        }
    }
}

/// What an item page gave.
#[derive(Debug, Default)]
pub struct ItemPage {
    /// Offers read (an `offers` source).
    pub offers: Vec<Offer>,
    /// Programmes read (a `programmes` source).
    pub programmes: Vec<Programme>,
    /// The companies that posted the offers (from `hiringOrganization`, or the company field).
    pub companies: Vec<Company>,
    /// How the items were read, when there were any.
    pub method: Option<ItemMethod>,
    /// Item pages to visit (`follow`).
    pub follow: Vec<Url>,
    /// Further list pages (`next_page`).
    pub next: Vec<Url>,
    /// JSON-LD scripts that did not parse.
    pub broken_json_ld: usize,
    /// Items refused (no title...), with why.
    pub refused: Vec<String>,
}

impl ItemSelectors {
    /// Parses the selectors (the config check has already validated them).
    pub fn new(select: &BTreeMap<String, String>, follow: Option<&str>) -> Self {
        let selectors = select.iter().filter_map(|(k, v)| Some((k.clone(), Selector::parse(v).ok()?))).collect();
        ItemSelectors { selectors, follow: follow.and_then(|f| Selector::parse(f).ok()) }
    }

    fn get(&self, key: &str) -> Option<&Selector> {
        self.selectors.get(key)
    }

    /// Reads an offers page: JSON-LD `JobPosting`s, else one offer through the selectors.
    pub fn offers(&self, html: &Html, page: &Url, source: &str) -> ItemPage {
        let mut out = self.navigation(html, page);
        let ld = jsonld::json_ld(html);
        out.broken_json_ld = ld.broken;
        for node in jsonld::of_type(&ld.nodes, &["JobPosting"]) {
            match jsonld::offer(node, source, page.as_str()) {
                Ok(mut offer) => {
                    if let Some(company) = node.get("hiringOrganization").and_then(|c| company_of(c, source)) {
                        offer.company_key = Some(company.source_key.clone());
                        offer.company_name = offer.company_name.or(Some(company.name.clone()));
                        push_company(&mut out.companies, company);
                    }
                    out.offers.push(offer);
                }
                Err(why) => out.refused.push(why),
            }
        }
        if !out.offers.is_empty() {
            out.method = Some(ItemMethod::JsonLd);
            return out;
        }
        if let Some(offer) = self.css_offer(html, page, source) {
            if let Some(name) = &offer.company_name {
                let company = Company { source: source.to_string(), source_key: company_key(name), name: name.clone(), ..Default::default() };
                push_company(&mut out.companies, company);
            }
            out.offers.push(offer);
            out.method = Some(ItemMethod::Css);
        }
        out
    }

    /// Reads a programmes page: JSON-LD programmes or courses, else one through the selectors.
    pub fn programmes(&self, html: &Html, page: &Url, source: &str) -> ItemPage {
        let mut out = self.navigation(html, page);
        let ld = jsonld::json_ld(html);
        out.broken_json_ld = ld.broken;
        for node in jsonld::of_type(&ld.nodes, &["EducationalOccupationalProgram", "Course"]) {
            match jsonld::programme(node, source, page.as_str()) {
                Ok(p) => out.programmes.push(p),
                Err(why) => out.refused.push(why),
            }
        }
        if !out.programmes.is_empty() {
            out.method = Some(ItemMethod::JsonLd);
            return out;
        }
        if let Some(p) = self.css_programme(html, page, source) {
            out.programmes.push(p);
            out.method = Some(ItemMethod::Css);
        }
        out
    }

    fn navigation(&self, html: &Html, page: &Url) -> ItemPage {
        let mut out = ItemPage::default();
        if let Some(s) = &self.follow {
            out.follow = selected_links(html, page, s);
        }
        if let Some(s) = self.get("next_page") {
            out.next = selected_links(html, page, s);
        }
        out
    }

    /// Whether the page shows anything this source looks for: JSON-LD items, an item title, or
    /// links to follow. A page that shows none of it may need its scripts run.
    pub fn finds_anything(page: &ItemPage) -> bool {
        !page.offers.is_empty() || !page.programmes.is_empty() || !page.follow.is_empty() || !page.next.is_empty()
    }

    /// The text of the first element matched by `key`.
    fn text(&self, root: ElementRef<'_>, key: &str) -> Option<String> {
        let el = root.select(self.get(key)?).next()?;
        let t = squash(&visible_text(el));
        (!t.is_empty()).then_some(t)
    }

    /// Every element matched by `key`, as text (a list of skills, say).
    fn texts(&self, root: ElementRef<'_>, key: &str) -> Vec<String> {
        let Some(s) = self.get(key) else { return Vec::new() };
        let mut out: Vec<String> = Vec::new();
        for t in root.select(s).map(|e| squash(&visible_text(e))).filter(|t| !t.is_empty()) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// A long text with its paragraphs kept.
    fn paragraphs(&self, root: ElementRef<'_>, key: &str) -> Option<String> {
        let el = root.select(self.get(key)?).next()?;
        let t = clean_text(&el.inner_html());
        (!t.is_empty()).then_some(t)
    }

    /// A date `YYYY-MM-DD` from a `datetime` or `content` attribute, or the text (`dd/mm/yyyy`).
    fn date(&self, root: ElementRef<'_>, key: &str) -> Option<String> {
        let el = root.select(self.get(key)?).next()?;
        let attr = el.value().attr("datetime").or_else(|| el.value().attr("content")).unwrap_or("");
        parse_date(attr).or_else(|| parse_date(&visible_text(el)))
    }

    /// The first e-mail in the element, read like any contact (mailto, Cloudflare, obfuscated
    /// text; validated).
    fn email(&self, root: ElementRef<'_>, key: &str) -> Option<String> {
        let el = root.select(self.get(key)?).next()?;
        ContactExtractor::new(None).from_element(el).into_iter().find(|c| c.kind == schemas::ContactKind::Email).map(|c| c.value)
    }

    fn person(&self, root: ElementRef<'_>) -> Option<Person> {
        let p = Person {
            name: self.text(root, "contact_name"),
            role: self.text(root, "contact_role"),
            email: self.email(root, "contact_email"),
            phone: self.text(root, "contact_phone"),
        };
        (p.name.is_some() || p.email.is_some() || p.phone.is_some()).then_some(p)
    }

    fn codes(&self, root: ElementRef<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.texts(root, "occupations") {
            for m in ROME_CODE.find_iter(&t) {
                if !out.iter().any(|c| c == m.as_str()) {
                    out.push(m.as_str().to_string());
                }
            }
        }
        out
    }

    fn css_offer(&self, html: &Html, page: &Url, source: &str) -> Option<Offer> {
        let root = html.root_element();
        let title = self.text(root, "title")?;
        let contract = self.texts(root, "contract");
        Some(Offer {
            id: String::new(),
            source: source.to_string(),
            source_key: self.text(root, "reference").unwrap_or_else(|| page.to_string()),
            title,
            company_key: self.text(root, "company").map(|c| company_key(&c)),
            company_id: None,
            company_name: self.text(root, "company"),
            contract_type: if contract.is_empty() { ContractType::Other } else { contract_type(&contract) },
            level: self.text(root, "level"),
            description: self.paragraphs(root, "description").unwrap_or_default(),
            skills: self.texts(root, "skills"),
            city: self.text(root, "city"),
            region: self.text(root, "region"),
            country: self.text(root, "country").map(|c| c.to_uppercase()),
            date_posted: self.date(root, "date_posted"),
            valid_through: self.date(root, "valid_through"),
            duration: None,
            language: None,
            url: Some(page.to_string()),
            contact: self.person(root),
            occupations: self.codes(root),
        })
    }

    fn css_programme(&self, html: &Html, page: &Url, source: &str) -> Option<Programme> {
        let root = html.root_element();
        let title = self.text(root, "title")?;
        Some(Programme {
            id: String::new(),
            source: source.to_string(),
            source_key: page.to_string(),
            title,
            school_key: None,
            school_id: None,
            school_name: self.text(root, "school"),
            level: self.text(root, "level"),
            domain: self.text(root, "domain"),
            skills: self.texts(root, "skills"),
            description: self.paragraphs(root, "description").unwrap_or_default(),
            city: self.text(root, "city"),
            region: self.text(root, "region"),
            country: self.text(root, "country").map(|c| c.to_uppercase()),
            duration: self.text(root, "duration"),
            language: None,
            work_study: self.text(root, "work_study").is_some(),
            url: Some(page.to_string()),
            contact: self.person(root),
            occupations: self.codes(root),
        })
    }
}

/// `YYYY-MM-DD` from an ISO date (or date-time) or a `dd/mm/yyyy` date.
pub fn parse_date(text: &str) -> Option<String> {
    let valid = |y: u32, m: u32, d: u32| (1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d);
    if let Some(c) = ISO_DATE.captures(text) {
        let (y, m, d) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        if valid(y, m, d) {
            return Some(format!("{y:04}-{m:02}-{d:02}"));
        }
    }
    let c = FRENCH_DATE.captures(text)?;
    let (d, m, y): (u32, u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    valid(y, m, d).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// A company's key in its source: its name, lower-cased, spaces collapsed.
pub fn company_key(name: &str) -> String {
    squash(name).to_lowercase()
}

fn company_of(node: &Value, source: &str) -> Option<Company> {
    let name = match node {
        Value::String(s) => clean_text(s),
        _ => node.get("name").and_then(Value::as_str).map(clean_text)?,
    };
    if name.is_empty() {
        return None;
    }
    let field = |k: &str| node.get(k).and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_array()?.first()?.as_str().map(str::to_string)));
    let address = node.get("address");
    let part = |k: &str| address.and_then(|a| a.get(k)).and_then(Value::as_str).map(clean_text).filter(|s| !s.is_empty());
    Some(Company {
        source: source.to_string(),
        source_key: company_key(&name),
        website: field("sameAs").or_else(|| field("url")),
        description: field("description").map(|d| clean_text(&d)).filter(|d| !d.is_empty()),
        city: part("addressLocality"),
        region: part("addressRegion"),
        country: part("addressCountry").map(|c| if c.len() == 2 { c.to_uppercase() } else { c }),
        name,
        ..Default::default()
    })
}

fn push_company(list: &mut Vec<Company>, company: Company) {
    if !list.iter().any(|c| c.source_key == company.source_key) {
        list.push(company);
    }
}

/// Why a statically fetched page should be rendered by the browser, or `None`.
///
/// Only pages with scripts qualify (without scripts a browser shows nothing more). Then: an
/// (almost) empty body; for a school site's page, a script that could build an address
/// (`mailto`, `@`, `fromCharCode`, `atob`, a reversed string, written into the page), a menu
/// the scripts must build (no link to the site's own pages), and for its contact page no
/// contact found, a script that writes into the page, or a script file of the site's own
/// (which may write the addresses); for offers and programmes, nothing the source looks for
/// (no JSON-LD, no item title, no link to follow).
pub fn needs_browser(html: &Html, rule: BrowserRule) -> Option<&'static str> {
    let scripts: Vec<ElementRef<'_>> = html
        .select(&SCRIPT)
        .filter(|s| {
            let kind = s.value().attr("type").unwrap_or("").trim().to_ascii_lowercase();
            kind.is_empty() || kind.contains("javascript") || kind == "module"
        })
        .collect();
    if scripts.is_empty() {
        return None;
    }
    let body_text = html.select(&BODY).next().map(|b| squash(&visible_text(b))).unwrap_or_default();
    if body_text.chars().count() < 100 {
        return Some("empty body");
    }
    let code: Vec<String> = scripts.iter().map(|s| s.text().collect()).collect();
    let writes = || code.iter().any(|c| WRITES.iter().any(|w| c.contains(w)));
    match rule {
        BrowserRule::SitePage { contact_page, contacts_found, site_links } => {
            let builds_address = code.iter().any(|c| WRITES.iter().any(|w| c.contains(w)) && ADDRESS_BUILDING.iter().any(|w| c.contains(w)));
            if builds_address {
                return Some("a script builds an address");
            }
            if site_links == 0 {
                return Some("no link to the site's pages: a script builds the menu");
            }
            if !contact_page {
                return None;
            }
            if !contacts_found {
                return Some("contact page with scripts and no contact");
            }
            if writes() {
                return Some("contact page whose scripts write into it");
            }
            let own_file = scripts.iter().filter_map(|s| s.value().attr("src")).any(|src| {
                let src = src.trim().to_ascii_lowercase();
                !(src.starts_with("http:") || src.starts_with("https:") || src.starts_with("//") || COMMON_LIBRARIES.iter().any(|l| src.contains(l)))
            });
            own_file.then_some("contact page with a script file of its own")
        }
        BrowserRule::Items { found_anything } => (!found_anything).then_some("selectors found nothing"),
    }
}

/// Script calls that change the page.
const WRITES: &[&str] = &["document.write", "innerHTML", "textContent", "insertAdjacentHTML", "appendChild", "innerText", "setAttribute", ".href"];
/// Signs that a script assembles an address.
const ADDRESS_BUILDING: &[&str] = &["mailto", "'@'", "\"@\"", "fromCharCode", "atob(", ".reverse()", "&#64;", "\\x40", "\\u0040"];
/// Script files that are libraries, not the site's own code.
const COMMON_LIBRARIES: &[&str] = &["jquery", "bootstrap", "analytics", "gtag", "matomo", "piwik", "cookie", "tarteaucitron", "recaptcha", "fontawesome"];

/// What the page was fetched for, for [`needs_browser`].
#[derive(Debug, Clone, Copy)]
pub enum BrowserRule {
    /// A page of a school's site.
    SitePage {
        /// Whether it looks like the contact page (by its URL or title).
        contact_page: bool,
        /// Whether the static page gave any contact.
        contacts_found: bool,
        /// Links to the site's own pages in the static page.
        site_links: usize,
    },
    /// A directory, offers or programmes page.
    Items {
        /// Whether the static page gave what the source looks for.
        found_anything: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selectors() -> ItemSelectors {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("title", "h1.job-title"),
            ("reference", "p.reference"),
            ("company", ".company"),
            ("city", ".location"),
            ("contract", ".contract"),
            ("date_posted", "time.posted"),
            ("valid_through", "time.valid-through"),
            ("description", "div.description"),
            ("skills", "ul.skills li"),
            ("contact_email", "a.recruiter-email"),
            ("next_page", "a.next"),
        ] {
            m.insert(k.to_string(), v.to_string());
        }
        ItemSelectors::new(&m, Some("a.offer"))
    }

    #[test]
    fn css_fallback_when_json_ld_is_broken() {
        let html = Html::parse_document(
            r#"<html><head><script type="application/ld+json">{"@type": "JobPosting", "title": </script></head><body>
            <h1 class="job-title">Stage <b>data</b></h1><p class="reference">off-9</p><p class="company">Codemeuse</p>
            <p class="location">Liège</p><p class="contract">Stage</p><time class="posted" datetime="2026-03-02">2 mars</time>
            <time class="valid-through">30/04/2026</time><div class="description"><p>Un.</p><p>Deux.</p></div>
            <ul class="skills"><li>SQL</li><li>Python</li><li>SQL</li></ul><a class="recruiter-email" href="mailto:rh%40codemeuse.be">Écrire</a>
            </body></html>"#,
        );
        let page = selectors().offers(&html, &Url::parse("http://jobs.test/o/9").unwrap(), "jobs");
        assert_eq!(page.broken_json_ld, 1);
        assert_eq!(page.method, Some(ItemMethod::Css));
        let o = &page.offers[0];
        assert_eq!((o.title.as_str(), o.source_key.as_str()), ("Stage data", "off-9"));
        assert_eq!(o.contract_type, ContractType::Internship);
        assert_eq!((o.date_posted.as_deref(), o.valid_through.as_deref()), (Some("2026-03-02"), Some("2026-04-30")));
        assert_eq!(o.description, "Un.\nDeux.");
        assert_eq!(o.skills, ["SQL", "Python"]);
        assert_eq!(o.contact.as_ref().and_then(|c| c.email.as_deref()), Some("rh@codemeuse.be"));
        assert_eq!(page.companies[0].name, "Codemeuse");
        assert_eq!(o.company_key.as_deref(), Some("codemeuse"));
    }

    #[test]
    fn json_ld_first_with_its_company() {
        let html = Html::parse_document(
            r#"<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
            {"@type": "JobPosting", "title": "Alternance réseau", "employmentType": "Contrat en alternance",
             "hiringOrganization": {"@type": "Organization", "name": "Telemeuse", "sameAs": "https://telemeuse.test", "address": {"addressLocality": "Namur", "addressCountry": "be"}}}]}
            </script></head><body><h1 class="job-title">Autre titre</h1><a class="offer" href="/o/2">x</a></body></html>"#,
        );
        let page = selectors().offers(&html, &Url::parse("http://jobs.test/o/1").unwrap(), "jobs");
        assert_eq!(page.method, Some(ItemMethod::JsonLd));
        assert_eq!(page.offers.len(), 1);
        assert_eq!(page.offers[0].title, "Alternance réseau");
        assert_eq!(page.offers[0].contract_type, ContractType::Apprenticeship);
        assert_eq!(page.offers[0].company_key.as_deref(), Some("telemeuse"));
        let c = &page.companies[0];
        assert_eq!((c.website.as_deref(), c.city.as_deref(), c.country.as_deref()), (Some("https://telemeuse.test"), Some("Namur"), Some("BE")));
        assert_eq!(page.follow, [Url::parse("http://jobs.test/o/2").unwrap()]);
    }

    #[test]
    fn which_pages_need_the_browser() {
        let site = |contact_page, contacts_found| BrowserRule::SitePage { contact_page, contacts_found, site_links: 3 };
        let shell = Html::parse_document(r#"<html><body><ul id="offres"></ul><script src="/app.js"></script></body></html>"#);
        assert_eq!(needs_browser(&shell, site(false, false)), Some("empty body"));
        let long = "Texte de la page. ".repeat(10);
        let static_page = Html::parse_document(&format!("<html><body><p>{long}</p></body></html>"));
        assert_eq!(needs_browser(&static_page, BrowserRule::Items { found_anything: false }), None, "no script, nothing to run");
        let ld_only = Html::parse_document(&format!(r#"<html><body><p>{long}</p><script type="application/ld+json">{{}}</script></body></html>"#));
        assert_eq!(needs_browser(&ld_only, site(true, false)), None, "JSON-LD is not a script that runs");
        let writer = Html::parse_document(&format!(
            r#"<html><body><p>{long}</p><script>document.write('<a href="mailto:' + 'x' + '@' + 'y.be">x</a>')</script></body></html>"#
        ));
        assert_eq!(needs_browser(&writer, site(false, true)), Some("a script builds an address"), "on any page of the site");
        assert_eq!(needs_browser(&writer, BrowserRule::Items { found_anything: true }), None);
        assert_eq!(needs_browser(&writer, BrowserRule::Items { found_anything: false }), Some("selectors found nothing"));
        let painter = Html::parse_document(&format!(r#"<html><body><p>{long}</p><script>el.innerHTML = '<b>ouvert</b>';</script></body></html>"#));
        assert_eq!(needs_browser(&painter, site(true, true)), Some("contact page whose scripts write into it"));
        assert_eq!(needs_browser(&painter, site(true, false)), Some("contact page with scripts and no contact"));
        assert_eq!(needs_browser(&painter, site(false, true)), None);
        let own = Html::parse_document(&format!(r#"<html><body><p>{long}</p><script src="/js/coordonnees.js"></script></body></html>"#));
        assert_eq!(needs_browser(&own, site(true, true)), Some("contact page with a script file of its own"));
        assert_eq!(needs_browser(&own, site(false, true)), None);
        let library = Html::parse_document(&format!(r#"<html><body><p>{long}</p><script src="/js/jquery.min.js"></script></body></html>"#));
        assert_eq!(needs_browser(&library, site(true, true)), None);
        let menu = BrowserRule::SitePage { contact_page: false, contacts_found: false, site_links: 0 };
        assert_eq!(needs_browser(&own, menu), Some("no link to the site's pages: a script builds the menu"));
    }

    #[test]
    fn dates_in_two_spellings() {
        assert_eq!(parse_date("2026-07-07T09:00:00+02:00").as_deref(), Some("2026-07-07"));
        assert_eq!(parse_date("Publiée le 7/7/2026").as_deref(), Some("2026-07-07"));
        assert_eq!(parse_date("31/13/2026"), None);
        assert_eq!(parse_date("bientôt"), None);
    }
}
