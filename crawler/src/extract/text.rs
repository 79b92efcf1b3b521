//! Visible text of a page or fragment: what a reader sees, without scripts and styles, with
//! block boundaries kept as line breaks (a label stays next to its number, not glued to the
//! next paragraph).
//!
//! "What a reader sees" also means:
//! - elements the page hides (`hidden`, `display: none`, `visibility: hidden`, placed off the
//!   screen, inline or through a class or id of the page's own `<style>`; or marked hidden by
//!   the browser from its computed styles) are not read as text: they are set apart, because an
//!   address there is a trap for harvesters, not a contact;
//! - text that CSS draws backwards (`unicode-bidi: bidi-override; direction: rtl`, `<bdo
//!   dir="rtl">`) is read the right way;
//! - invisible characters (zero-width spaces, soft hyphens, word joiners) are dropped and
//!   non-breaking hyphens read as hyphens;
//! - inline elements are separated by a space, except around `@` and before `.` (an address written
//!   `<span>info</span><span>@</span><span>ecole</span><span>.be</span>` reads as one).
//!
//! Each stretch of text carries a [`Zone`]: whether it sits in the page's header, footer or
//! navigation, in a block that credits the site's maker, under a heading about partners, or in
//! a block that names a directory. The contact extractor uses it to tell the school's contacts
//! from third parties'.

use std::collections::HashSet;

use scraper::{ElementRef, Html, Node, Selector};

const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head", "svg", "iframe", "object"];
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "address",
    "dl",
    "aside",
    "main",
    "form",
    "blockquote",
    "pre",
    "option",
];
/// Inline elements whose text must not glue to the next word ("Fax" + "081..." in two cells
/// stay on one line, so the label is read with its number).
const SPACED: &[&str] = &["a", "td", "th", "dt", "dd", "span", "label", "strong", "b", "em", "i", "small", "abbr"];
/// The page's chrome: contacts there are the site's, not necessarily the school's.
const CHROME: &[&str] = &["header", "footer", "nav"];
const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

/// Words of a block that credits who made or hosts the site. Cues are matched as whole words
/// (see [`words`]).
const CREDIT_CUES: &[&str] = &[
    "réalisé par",
    "realise par",
    "réalisation",
    "conçu par",
    "concu par",
    "conçu et développé",
    "création du site",
    "site créé par",
    "conception du site",
    "développé par",
    "developpe par",
    "propulsé par",
    "webdesign",
    "web design",
    "design by",
    "webmaster externe",
    "hébergé par",
    "heberge par",
    "hébergeur",
    "site by",
    "website by",
    "made by",
    "designed by",
    "developed by",
    "powered by",
    "hosted by",
    "gemaakt door",
    "ontworpen door",
    "ontwerp en realisatie",
    "realisatie",
    "website door",
    "conception et hébergement",
    "conception web",
    "conception graphique",
    "maintenu par",
    "maintained by",
    "hosted and maintained",
];
/// Words of a heading over other organisations' contacts: partners.
const PARTNER_CUES: &[&str] = &[
    "partenaire",
    "partenaires",
    "partenariat",
    "partenariats",
    "partner",
    "partners",
    "partnerschool",
    "partnerscholen",
    "partnership",
    "partnerships",
    "écoles associées",
    "samenwerking",
    "samenwerkingen",
];
/// Words of a block that names a school directory (whose own contacts are not the school's).
const DIRECTORY_CUES: &[&str] = &[
    "répertoire des écoles",
    "repertoire des ecoles",
    "annuaire des",
    "l annuaire",
    "annuaire national",
    "fiche de l école",
    "notre fiche",
    "référencé",
    "référencée",
    "référencement",
    "referenced by",
    "listed on",
    "schoolgids",
];
/// Words of a heading over another organisation's contacts: parents' associations, the
/// municipality, guidance centres, school networks, transport.
const OTHER_HEADING_CUES: &[&str] = &[
    "apel",
    "ouderraad",
    "oudervereniging",
    "ouderwerkgroep",
    "association des parents",
    "association de parents",
    "parents d élèves",
    "parents association",
    "parent teacher association",
    "pta",
    "clb",
    "centre pms",
    "pms",
    "mairie",
    "commune",
    "gemeente",
    "leerlingenvervoer",
    "transport scolaire",
    "notre réseau",
    "réseau",
    "ons netwerk",
    "fédération",
    "koepel",
];
/// Words of a block that gives another organisation's contacts.
const OTHER_BLOCK_CUES: &[&str] = &[
    "membre du réseau",
    "lid van het netwerk",
    "association des parents",
    "association de parents",
    "parents d élèves",
    "ouderraad",
    "oudervereniging",
    "mairie de",
    "service enfance",
    "administration communale",
    "dienst mobiliteit",
    "werkt samen met",
    "in samenwerking met",
    "en partenariat avec",
    "het clb",
    "centre pms",
    "parents association",
    // Another organisation named as the one who runs a service.
    "prestataire",
    "exploitée par",
    "exploité par",
    "exploitées par",
    "géré par",
    "gérée par",
    "gérés par",
    "organisé par",
    "organisée par",
    "organisés par",
    "organisées par",
    "assuré par",
    "assurée par",
    "fait partie de",
    "operated by",
    "run by",
    "managed by",
    "organised by",
    "organized by",
    "provided by",
    "georganiseerd door",
    "uitgebaat door",
    "beheerd door",
    "maakt deel uit van",
    // Partners and guides named in the text.
    "partenaire",
    "partenaires",
    "partner",
    "partners",
    "scholengemeenschap",
    "traiteur",
    "autocars",
    "schools guide",
    "guide des écoles",
    "listing",
    "centre psycho médico social",
];

/// `text` lower-cased, every run of characters that are not letters or digits made one space,
/// with a space at each end: cues are then matched as whole words (`" apel "` is not in
/// `" chapelle "`).
pub fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// A list of cues as [`words`], made once (every block of every page is matched against them).
struct Cues {
    list: &'static [&'static str],
    words: std::sync::OnceLock<Vec<String>>,
}

impl Cues {
    const fn new(list: &'static [&'static str]) -> Self {
        Cues { list, words: std::sync::OnceLock::new() }
    }

    fn words(&self) -> &[String] {
        self.words.get_or_init(|| self.list.iter().map(|c| words(c)).collect())
    }
}

static CREDIT: Cues = Cues::new(CREDIT_CUES);
static PARTNER: Cues = Cues::new(PARTNER_CUES);
static DIRECTORY: Cues = Cues::new(DIRECTORY_CUES);
static OTHER_HEADING: Cues = Cues::new(OTHER_HEADING_CUES);
static OTHER_BLOCK: Cues = Cues::new(OTHER_BLOCK_CUES);

fn says(words_of_text: &str, cues: &Cues) -> bool {
    cues.words().iter().any(|cue| words_of_text.contains(cue.as_str()))
}

/// [`says`], also at the end of a compound word (Dutch `stagepartners`, `sportpartner`).
fn says_compound(words_of_text: &str, cues: &Cues) -> bool {
    cues.words().iter().any(|cue| words_of_text.contains(cue.trim_start()))
}

/// Characters nobody sees: dropped from the text (and from `mailto:` addresses).
pub fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' | '\u{2061}'..='\u{2064}')
}

/// Where a stretch of text sits on the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Zone {
    /// In the page's header, footer or navigation.
    pub chrome: bool,
    /// In a block crediting the site's maker or host ("site réalisé par ...").
    pub credit: bool,
    /// Under a heading about partners ("Nos écoles partenaires").
    pub partner: bool,
    /// In a block naming a school directory ("fiche sur le Répertoire des écoles").
    pub directory: bool,
    /// In a block, or under a heading, about another organisation (the parents' association,
    /// the municipality, a guidance centre, a school network).
    pub other: bool,
    /// The innermost block's index in the reading's block words (0: none).
    pub block: u32,
}

/// The classes and ids a page's own `<style>` hides or draws backwards.
#[derive(Debug, Clone, Default)]
pub struct PageStyle {
    hidden: HashSet<String>,
    reversed: HashSet<String>,
}

impl PageStyle {
    /// Reads the page's `<style>` elements (rules under `@media` and other at-rules are not: the
    /// page is read as on a desktop screen).
    pub fn of(html: &Html) -> Self {
        static STYLE: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| Selector::parse("style").expect("static selector"));
        let mut out = PageStyle::default();
        for style in html.select(&STYLE) {
            let css: String = style.text().collect();
            for (selectors, body) in rules(&css) {
                let hides = declarations_hide(&body);
                let reverses = declarations_reverse(&body);
                if !hides && !reverses {
                    continue;
                }
                for key in selectors.split(',').filter_map(simple_key) {
                    if hides {
                        out.hidden.insert(key.clone());
                    }
                    if reverses {
                        out.reversed.insert(key);
                    }
                }
            }
        }
        out
    }

    fn keys(element: &ElementRef<'_>) -> impl Iterator<Item = String> {
        let e = element.value();
        e.classes().map(|c| format!(".{c}")).chain(e.id().map(|i| format!("#{i}")))
    }

    fn hides(&self, element: &ElementRef<'_>) -> bool {
        !self.hidden.is_empty() && Self::keys(element).any(|k| self.hidden.contains(&k))
    }

    fn reverses(&self, element: &ElementRef<'_>) -> bool {
        !self.reversed.is_empty() && Self::keys(element).any(|k| self.reversed.contains(&k))
    }
}

/// `(selectors, declarations)` of the top-level rules of a style sheet; at-rules skipped.
fn rules(css: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start + 2..].split_once("*/").map_or("", |(_, r)| r);
    }
    text.push_str(rest);
    let mut depth = 0usize;
    let mut selector = String::new();
    let mut body = String::new();
    let mut skipping = false;
    for c in text.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    skipping = selector.trim_start().starts_with('@');
                    body.clear();
                }
            }
            '}' => {
                if depth == 1 && !skipping {
                    out.push((std::mem::take(&mut selector), std::mem::take(&mut body)));
                }
                if depth == 1 {
                    selector.clear();
                }
                depth = depth.saturating_sub(1);
            }
            _ if depth == 0 => selector.push(c),
            _ if depth == 1 => body.push(c),
            _ => {}
        }
    }
    out
}

/// `.name` or `#name` when a selector's last compound is a class or an id (`span.cache`,
/// `.contact .cache`), else `None`.
fn simple_key(selector: &str) -> Option<String> {
    let last = selector.trim().rsplit([' ', '>', '+', '~']).next()?.trim();
    if last.contains([':', '[']) {
        return None;
    }
    let at = last.find(['.', '#'])?;
    let key = &last[at..];
    let end = key[1..].find(['.', '#']).map_or(key.len(), |i| i + 1);
    let key = &key[..end];
    (key.len() > 1).then(|| key.to_string())
}

fn compact(declarations: &str) -> String {
    declarations.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// Whether CSS declarations hide what they apply to from a sighted reader.
fn declarations_hide(declarations: &str) -> bool {
    let d = compact(declarations);
    let has = |p: &str| d.split(';').any(|decl| decl.trim_end_matches("!important") == p);
    if has("display:none") || has("visibility:hidden") || has("font-size:0") || has("font-size:0px") || has("opacity:0") {
        return true;
    }
    let positioned = has("position:absolute") || has("position:fixed");
    let far = d.split(';').any(|decl| {
        ["left:-", "top:-", "text-indent:-", "margin-left:-"]
            .iter()
            .any(|p| decl.strip_prefix(p).is_some_and(|v| v.trim_end_matches("!important").trim_end_matches("px").parse::<f64>().is_ok_and(|n| n >= 500.0)))
    });
    far && (positioned || d.contains("text-indent:-"))
}

/// Whether CSS declarations draw text backwards.
fn declarations_reverse(declarations: &str) -> bool {
    let d = compact(declarations);
    d.contains("direction:rtl") && d.contains("unicode-bidi:bidi-override")
}

/// The text of a page as read, with the zones of its stretches, its links and what it hides.
#[derive(Debug)]
pub struct Reading<'a> {
    /// The visible text.
    pub text: String,
    /// (offset in `text` where a zone starts, the zone), in order.
    zones: Vec<(usize, Zone)>,
    /// Visible `<a href>` and `[data-cfemail]` elements, with their zone, in document order.
    pub links: Vec<(ElementRef<'a>, Zone)>,
    /// The outermost hidden elements (their contacts are traps, not the school's).
    pub hidden: Vec<ElementRef<'a>>,
    /// The words of each block (see [`Zone::block`]), addresses and web addresses left out,
    /// accents folded; empty for a block too long to be one statement.
    blocks: Vec<String>,
}

impl Reading<'_> {
    /// The words of the block a zone is in (addresses left out, accents folded).
    pub fn block_words(&self, zone: Zone) -> &str {
        self.blocks.get(zone.block as usize).map_or("", String::as_str)
    }

    /// The zone of the text at `offset`.
    pub fn zone_at(&self, offset: usize) -> Zone {
        let i = self.zones.partition_point(|(start, _)| *start <= offset);
        i.checked_sub(1).map_or_else(Zone::default, |i| self.zones[i].1)
    }
}

struct Walk<'a, 's> {
    style: &'s PageStyle,
    out: String,
    pending_space: bool,
    zones: Vec<(usize, Zone)>,
    links: Vec<(ElementRef<'a>, Zone)>,
    hidden: Vec<ElementRef<'a>>,
    /// What the open headings (levels 1 to 6) announce: (partners, another organisation).
    headings: [(bool, bool); 6],
    /// Read hidden elements too (to know what a hidden element holds).
    reveal: bool,
    /// The words of each block met (index 0: none).
    blocks: Vec<String>,
}

/// Reads `root` as a person sees it, with the page's `style`.
pub fn read<'a>(root: ElementRef<'a>, style: &PageStyle) -> Reading<'a> {
    read_with(root, style, false)
}

/// Reads `root` whole, hidden elements included (what a hidden element holds).
pub fn read_revealed<'a>(root: ElementRef<'a>, style: &PageStyle) -> Reading<'a> {
    read_with(root, style, true)
}

fn read_with<'a>(root: ElementRef<'a>, style: &PageStyle, reveal: bool) -> Reading<'a> {
    let mut w = Walk {
        style,
        out: String::new(),
        pending_space: false,
        zones: Vec::new(),
        links: Vec::new(),
        hidden: Vec::new(),
        headings: [(false, false); 6],
        reveal,
        blocks: vec![String::new()],
    };
    w.walk(root, Zone::default());
    Reading { text: w.out, zones: w.zones, links: w.links, hidden: w.hidden, blocks: w.blocks }
}

/// The visible text under `root` (inline styles and `hidden` honoured; no page style sheet).
pub fn visible_text(root: ElementRef<'_>) -> String {
    read(root, &PageStyle::default()).text
}

/// Whether the element is hidden from a sighted reader.
pub fn is_hidden(element: &ElementRef<'_>, style: &PageStyle) -> bool {
    let e = element.value();
    e.attr("hidden").is_some()
        || e.attr("data-passerelle-hidden").is_some()
        || e.attr("style").is_some_and(declarations_hide)
        || (e.name() == "input" && e.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
        || style.hides(element)
}

fn is_reversed(element: &ElementRef<'_>, style: &PageStyle) -> bool {
    let e = element.value();
    e.attr("data-passerelle-reversed").is_some()
        || (e.name() == "bdo" && e.attr("dir").is_some_and(|d| d.eq_ignore_ascii_case("rtl")))
        || e.attr("style").is_some_and(declarations_reverse)
        || style.reverses(element)
}

/// The words of a text without its addresses and web addresses (what names the organisations it
/// speaks of), accents folded.
fn names_of(text: &str) -> String {
    let kept: Vec<&str> =
        text.split_whitespace().filter(|w| !w.contains('@') && !w.contains("://") && !w.trim_end_matches(['.', ',', ';', ')']).contains('.')).collect();
    fold_accents(&words(&kept.join(" ")))
}

/// `é` -> `e`, `ô` -> `o`... for the letters of French and Dutch.
pub fn fold_accents(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            other => other,
        })
        .collect()
}

/// The element's own text, when short enough to be one statement.
fn short_text(element: &ElementRef<'_>) -> Option<String> {
    let mut text = String::new();
    for t in element.text() {
        text.push_str(t);
        text.push(' ');
        if text.len() > 600 {
            return None;
        }
    }
    Some(text)
}

impl<'a> Walk<'a, '_> {
    fn walk(&mut self, element: ElementRef<'a>, zone: Zone) {
        let name = element.value().name();
        if HIDDEN.contains(&name) {
            return;
        }
        if !self.reveal && is_hidden(&element, self.style) {
            self.hidden.push(element);
            return;
        }
        let block = BLOCKS.contains(&name);
        let chrome = CHROME.contains(&name);
        let mut zone = zone;
        if block && name != "br" {
            let own = short_text(&element);
            let own_words = own.as_deref().map(words);
            let cue = |cues: &Cues| own_words.as_deref().is_some_and(|t| says(t, cues));
            let index = self.blocks.len() as u32;
            self.blocks.push(own.as_deref().map(names_of).unwrap_or_default());
            zone = Zone {
                chrome: zone.chrome || chrome,
                credit: cue(&CREDIT),
                partner: false,
                directory: cue(&DIRECTORY),
                other: cue(&OTHER_BLOCK),
                block: index,
            };
        }
        let saved_headings = self.headings;
        if chrome {
            self.headings = [(false, false); 6];
        }
        if block {
            self.out.push('\n');
            self.pending_space = false;
        }
        if (name == "a" && element.value().attr("href").is_some()) || element.value().attr("data-cfemail").is_some() {
            self.links.push((element, self.under_headings(zone)));
        }
        let reversed = is_reversed(&element, self.style);
        let start = self.out.len();
        for child in element.children() {
            match child.value() {
                Node::Text(t) => self.text(t, self.under_headings(zone)),
                Node::Element(_) => {
                    if let Some(e) = ElementRef::wrap(child) {
                        self.walk(e, zone);
                    }
                }
                _ => {}
            }
        }
        if reversed {
            // Only the text is turned round: the spaces around it stay where they are.
            let segment = &self.out[start..];
            let lead = segment.len() - segment.trim_start().len();
            let core_end = start + segment.trim_end().len();
            if start + lead < core_end {
                let backwards: String = self.out[start + lead..core_end].chars().rev().collect();
                self.out.replace_range(start + lead..core_end, &backwards);
            }
        }
        if chrome {
            self.headings = saved_headings;
        }
        if let Some(level) = HEADINGS.iter().position(|h| *h == name) {
            let heading = words(&short_text(&element).unwrap_or_default());
            self.headings[level] = (says_compound(&heading, &PARTNER), says(&heading, &OTHER_HEADING));
            for deeper in &mut self.headings[level + 1..] {
                *deeper = (false, false);
            }
        }
        if block {
            self.out.push('\n');
            self.pending_space = false;
        } else if SPACED.contains(&name) {
            self.pending_space = true;
        }
    }

    /// `zone` with what the open headings announce.
    fn under_headings(&self, zone: Zone) -> Zone {
        let partner = self.headings.iter().any(|h| h.0);
        let other = self.headings.iter().any(|h| h.1);
        Zone { partner, other: zone.other || other, ..zone }
    }

    fn text(&mut self, text: &str, zone: Zone) {
        let clean: String = text.chars().filter(|c| !invisible(*c)).map(|c| if matches!(c, '\u{2010}' | '\u{2011}') { '-' } else { c }).collect();
        if clean.is_empty() {
            return;
        }
        if self.pending_space {
            // Glued: around `@`, `-` and `_`, and before a `.` (`ecole` + `.be`); a label
            // ending with a dot ("Tél.") stays apart from what follows.
            let last = self.out.chars().next_back();
            let first = clean.chars().next();
            let glued = last.is_none_or(|c| matches!(c, '@' | '-' | '_') || c.is_whitespace())
                || first.is_some_and(|c| matches!(c, '@' | '.' | '-' | '_') || c.is_whitespace());
            if !glued {
                self.out.push(' ');
            }
            self.pending_space = false;
        }
        if self.zones.last().is_none_or(|(_, z)| *z != zone) {
            self.zones.push((self.out.len(), zone));
        }
        self.out.push_str(&clean);
    }
}

/// Collapses runs of white space to one space and trims.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> String {
        let doc = Html::parse_document(html);
        squash(&read(doc.root_element(), &PageStyle::of(&doc)).text)
    }

    #[test]
    fn split_addresses_read_as_one() {
        assert_eq!(text_of("<p>secretariat<!-- x -->@<!-- -->ecole<!-- -->.be</p>"), "secretariat@ecole.be");
        assert_eq!(text_of("<p><span>direction</span><span>@</span><span>ecole</span><span>.be</span></p>"), "direction@ecole.be");
        assert_eq!(text_of("<p><b>Tél.</b><span>081 22 33 44</span></p>"), "Tél. 081 22 33 44");
        assert_eq!(text_of("<p>in\u{200b}fo@ec\u{ad}ole.be 067\u{2011}21</p>"), "info@ecole.be 067-21");
        assert_eq!(text_of("<p>office\u{200b}@<span>meridian</span>-school.be</p>"), "office@meridian-school.be");
    }

    #[test]
    fn hidden_decoys_are_set_apart() {
        let html = r#"<html><head><style>.cache { display : none } @media print { .ecran { display:none } }</style></head><body>
            <p>inscriptions<span style="display:none">-nepas</span>@ecole.be</p>
            <p>info<span class="cache">-supprimez</span>@ecole.be</p><p class="ecran">vu</p>
            <div hidden>piege@ecole.be</div><p style="position:absolute;left:-9999px">loin@ecole.be</p></body></html>"#;
        let doc = Html::parse_document(html);
        let r = read(doc.root_element(), &PageStyle::of(&doc));
        assert_eq!(squash(&r.text), "inscriptions@ecole.be info@ecole.be vu");
        assert_eq!(r.hidden.len(), 4);
    }

    #[test]
    fn text_drawn_backwards_is_read_forwards() {
        let html = r#"<html><head><style>.omgekeerd{unicode-bidi:bidi-override;direction:rtl}</style></head><body>
            <p><span class="omgekeerd">eb.loohcs@ofni</span> <bdo dir="rtl">eb.loohcs@eitcerid</bdo></p></body></html>"#;
        assert_eq!(text_of(html), "info@school.be directie@school.be");
    }

    #[test]
    fn zones_follow_credits_partners_and_chrome() {
        let html = "<body><main><h2>Nos écoles partenaires</h2><h3>École A</h3><ul><li>A a@a.be</li></ul><h2>Contact</h2><p>b@b.be</p>\
                    <h2>L'APEL</h2><p>e@gmail.com</p><h2>Accès</h2><p>Rue de la Chapelle, f@f.be</p></main>\
                    <footer><p>c@c.be</p><p class=\"credit\">Site réalisé par Pixel : d@d.be</p></footer></body>";
        let doc = Html::parse_document(html);
        let r = read(doc.root_element(), &PageStyle::of(&doc));
        let zone = |needle: &str| r.zone_at(r.text.find(needle).unwrap());
        assert!(zone("a@a.be").partner && !zone("a@a.be").chrome);
        let plain = |z: Zone| !(z.chrome || z.credit || z.partner || z.directory || z.other);
        assert!(plain(zone("b@b.be")));
        assert!(zone("c@c.be").chrome && !zone("c@c.be").credit);
        assert!(zone("d@d.be").credit);
        assert!(zone("e@gmail.com").other, "under the parents' association's heading");
        assert!(plain(zone("f@f.be")), "cues are whole words: no `apel` in `Chapelle`");
    }

    #[test]
    fn a_reversed_cell_keeps_its_space_before_it() {
        let html = r#"<table><tr><th>Secrétariat</th><td><bdo dir="rtl">eb.loohcs@ofni</bdo></td></tr></table>"#;
        assert_eq!(text_of(html), "Secrétariat info@school.be");
    }
}
