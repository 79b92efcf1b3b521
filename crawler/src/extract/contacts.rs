//! `ContactExtractor`: the emails, phones and faxes of a page or of a part of it.
//!
//! Order of trust: `mailto:` and `tel:` links, Cloudflare-protected addresses, then the text a
//! person sees (see [`super::text`]: hidden elements set apart, backwards text turned round,
//! invisible characters dropped) after de-obfuscation. Scripts are not read (addresses that only
//! exist once JavaScript runs need the browser). Every address is validated, every number
//! parsed in the page's country and refused when invalid or premium-rate.
//!
//! What is refused but worth counting comes back in [`PageContacts::refused`] with its reason:
//! placeholders (`prenom.nom@ecole.be`), premium-rate numbers, and contacts a visitor never
//! sees (`trap: hidden`). Each contact found carries the [`Zone`] it was read in, for
//! [`super::affinity`] to decide whose it is.

use phonenumber::country::Id;
use schemas::ContactKind;
use scraper::{ElementRef, Html};

use super::deobfuscate::{decode_cfemail, email_candidates_at, percent_decode};
use super::emails::{self, is_administrative_mailbox};
use super::phones::{self, Phone};
use super::text::{self, PageStyle, Zone};

/// A placeholder address (a scheme explained, a form's example).
pub const PLACEHOLDER: &str = "placeholder";
/// A premium-rate number.
pub const TRAP_PREMIUM: &str = "trap: premium-rate number";
/// A contact in an element a visitor never sees.
pub const TRAP_HIDDEN: &str = "trap: hidden";

/// A contact found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundContact {
    /// Email, phone or fax.
    pub kind: ContactKind,
    /// Lower-cased email or E.164 number.
    pub value: String,
    /// National form of a number.
    pub display: Option<String>,
    /// The words written before a number on its line ("Secrétariat", "Tél."), if short.
    pub label: Option<String>,
    /// `mailto`, `tel`, `cfemail`, `text`, `deobfuscated`.
    pub method: &'static str,
    /// `administrative_mailbox`, `mobile`, `toll_free`.
    pub flags: Vec<String>,
    /// Where on the page it was read.
    pub zone: Zone,
    /// Why it was refused ([`PLACEHOLDER`], [`TRAP_PREMIUM`], [`TRAP_HIDDEN`]); `None` for a
    /// contact found.
    pub refused: Option<&'static str>,
    /// An address whose domain names an organisation the text around it speaks of ("exploitée
    /// par les Autocars Duval" beside `info@autocars-duval.fr`).
    pub named: bool,
}

/// The contacts of a page: those found, and those refused with their reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContacts {
    /// Valid contacts, in order of trust then of the page.
    pub found: Vec<FoundContact>,
    /// Placeholders, premium-rate numbers and hidden contacts, each once.
    pub refused: Vec<FoundContact>,
}

/// Reads the contacts of pages of one country (the default region of national numbers).
#[derive(Debug, Clone, Copy)]
pub struct ContactExtractor {
    country: Option<Id>,
}

impl ContactExtractor {
    /// `country` is the default region of national phone numbers (the page's country).
    pub fn new(country: Option<Id>) -> Self {
        Self { country }
    }

    /// Every contact of a whole page.
    pub fn from_html(&self, html: &Html) -> Vec<FoundContact> {
        self.read_page(html).found
    }

    /// Every contact of a whole page, and what was refused on it.
    pub fn read_page(&self, html: &Html) -> PageContacts {
        self.read(html.root_element(), &PageStyle::of(html))
    }

    /// Every contact inside one element (a directory field, say), the element itself included
    /// when it is the link (`a.email` whose address is only in its `href`).
    pub fn from_element(&self, root: ElementRef<'_>) -> Vec<FoundContact> {
        self.read(root, &PageStyle::default()).found
    }

    /// The contacts under `root` read with the page's `style`.
    pub fn read(&self, root: ElementRef<'_>, style: &PageStyle) -> PageContacts {
        let mut page = PageContacts::default();
        let reading = text::read(root, style);
        self.read_into(&reading, &mut page.found, &mut page.refused);
        // What the page hides: a contact there (and nowhere visible) is a trap.
        let mut hidden = Vec::new();
        let mut hidden_refused = Vec::new();
        for element in &reading.hidden {
            let inside = text::read_revealed(*element, style);
            self.read_into(&inside, &mut hidden, &mut hidden_refused);
        }
        for mut c in hidden {
            if !page.found.iter().any(|f| f.value == c.value) {
                c.refused = Some(TRAP_HIDDEN);
                push_refused(&mut page.refused, c);
            }
        }
        page
    }

    fn read_into(&self, reading: &text::Reading<'_>, out: &mut Vec<FoundContact>, refused: &mut Vec<FoundContact>) {
        for (a, zone) in &reading.links {
            let zone = *zone;
            if let Some(address) = a.value().attr("data-cfemail").and_then(decode_cfemail) {
                self.push_email(out, refused, &address, "cfemail", zone);
            }
            let Some(href) = a.value().attr("href").map(str::trim) else { continue };
            let lower = href.to_ascii_lowercase();
            if lower.starts_with("mailto:") {
                let rest = href.get(7..).unwrap_or("");
                let addresses: String =
                    percent_decode(rest.split('?').next().unwrap_or("")).chars().filter(|c| !c.is_whitespace() && !text::invisible(*c)).collect();
                for address in addresses.split([',', ';']) {
                    self.push_email(out, refused, address, "mailto", zone);
                }
            } else if lower.starts_with("tel:") || lower.starts_with("callto:") {
                let number = percent_decode(href.split_once(':').map_or("", |(_, n)| n));
                let context = a.text().collect::<String>();
                match phones::check(&number, self.country) {
                    Ok(mut phone) => {
                        phone.fax = context.to_lowercase().contains("fax");
                        push_phone(out, phone, "tel", zone);
                    }
                    Err(phones::Refused::Premium(e164)) => push_refused(refused, refusal(ContactKind::Phone, e164, TRAP_PREMIUM, zone)),
                    Err(phones::Refused::Invalid) => {}
                }
            } else if let Some((_, hex)) = href.split_once("/cdn-cgi/l/email-protection#") {
                if let Some(address) = decode_cfemail(hex) {
                    self.push_email(out, refused, &address, "cfemail", zone);
                }
            }
        }
        for (offset, address, obfuscated) in email_candidates_at(&reading.text) {
            self.push_email(out, refused, &address, if obfuscated { "deobfuscated" } else { "text" }, reading.zone_at(offset));
        }
        // An address whose domain is the name of an organisation its block speaks of.
        for c in out.iter_mut().filter(|c| c.kind == ContactKind::Email) {
            let domain = c.value.rsplit_once('@').map_or("", |(_, d)| d);
            c.named = c.named || super::affinity::block_names_domain(reading.block_words(c.zone), domain);
        }
        let (found, premium) = phones::find_checked(&reading.text, self.country);
        for (offset, phone) in found {
            push_phone(out, phone, "text", reading.zone_at(offset));
        }
        for (offset, e164) in premium {
            push_refused(refused, refusal(ContactKind::Phone, e164, TRAP_PREMIUM, reading.zone_at(offset)));
        }
    }

    fn push_email(&self, out: &mut Vec<FoundContact>, refused: &mut Vec<FoundContact>, candidate: &str, method: &'static str, zone: Zone) {
        let email = match emails::check(candidate) {
            Ok(email) => email,
            Err(emails::Refused::Placeholder(email)) => {
                push_refused(refused, FoundContact { method, ..refusal(ContactKind::Email, email, PLACEHOLDER, zone) });
                return;
            }
            Err(emails::Refused::Invalid) => return,
        };
        if out.iter().any(|c| c.kind == ContactKind::Email && c.value == email) {
            return;
        }
        let flags = if is_administrative_mailbox(&email) { vec!["administrative_mailbox".to_string()] } else { vec![] };
        out.push(FoundContact { kind: ContactKind::Email, value: email, display: None, label: None, method, flags, zone, refused: None, named: false });
    }
}

fn refusal(kind: ContactKind, value: String, reason: &'static str, zone: Zone) -> FoundContact {
    FoundContact { kind, value, display: None, label: None, method: "text", flags: Vec::new(), zone, refused: Some(reason), named: false }
}

fn push_refused(refused: &mut Vec<FoundContact>, c: FoundContact) {
    if !refused.iter().any(|r| r.value == c.value) {
        refused.push(c);
    }
}

fn push_phone(out: &mut Vec<FoundContact>, phone: Phone, method: &'static str, zone: Zone) {
    let kind = if phone.fax { ContactKind::Fax } else { ContactKind::Phone };
    // The same number seen as a phone elsewhere on the page stays a phone.
    if out.iter().any(|c| matches!(c.kind, ContactKind::Phone | ContactKind::Fax) && c.value == phone.e164) {
        return;
    }
    let mut flags = Vec::new();
    if phone.mobile {
        flags.push("mobile".to_string());
    }
    if phone.toll_free {
        flags.push("toll_free".to_string());
    }
    out.push(FoundContact { kind, value: phone.e164, display: Some(phone.national), label: phone.label, method, flags, zone, refused: None, named: false });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(html: &str, country: Id) -> Vec<(ContactKind, String, &'static str)> {
        let doc = Html::parse_document(html);
        ContactExtractor::new(Some(country)).from_html(&doc).into_iter().map(|c| (c.kind, c.value, c.method)).collect()
    }

    #[test]
    fn links_first_then_text_and_no_scripts() {
        let html = r#"<html><body>
            <a href="mailto:Info%40ecole.be?subject=Inscription">Écrivez-nous</a>
            <a href="tel:+3281223344">081 22 33 44</a>
            <p>Secrétariat : secretariat&#64;ecole.be — direction [at] ecole [dot] be</p>
            <p>Fax : 081 22 33 45</p>
            <img src="logo@2x.png"><input placeholder="user@example.com">
            <script>document.write('cache' + '@' + 'ecole.be')</script>
            </body></html>"#;
        let got = found(html, Id::BE);
        assert_eq!(
            got,
            vec![
                (ContactKind::Email, "info@ecole.be".into(), "mailto"),
                (ContactKind::Phone, "+3281223344".into(), "tel"),
                (ContactKind::Email, "secretariat@ecole.be".into(), "text"),
                (ContactKind::Email, "direction@ecole.be".into(), "deobfuscated"),
                (ContactKind::Fax, "+3281223345".into(), "text"),
            ]
        );
    }

    #[test]
    fn cloudflare_protected_addresses() {
        let hex: String = std::iter::once(0x2au8).chain(b"accueil@lycee.fr".iter().map(|b| b ^ 0x2a)).map(|b| format!("{b:02x}")).collect();
        let html = format!(r#"<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="{hex}">[email&#160;protected]</a>"#);
        assert_eq!(found(&html, Id::FR), vec![(ContactKind::Email, "accueil@lycee.fr".into(), "cfemail")]);
    }

    #[test]
    fn a_digits_and_x_domain_is_kept_and_a_retina_image_name_is_not() {
        let html = r#"<p>Téléchargez logo@2x.png ou icon@3x.webp — club 4x4 : info@4x4.be, secrétariat : secretariat [at] 12x [dot] fr</p>"#;
        assert_eq!(
            found(html, Id::BE),
            vec![(ContactKind::Email, "info@4x4.be".into(), "text"), (ContactKind::Email, "secretariat@12x.fr".into(), "deobfuscated")]
        );
    }

    #[test]
    fn hidden_placeholder_and_premium_are_refused_with_their_reason() {
        let html = r#"<html><body>
            <a href="mailto:robot@piege.be" style="display:none">x</a><div hidden>cache@piege.be 081 99 88 77</div>
            <p>Les adresses suivent le modèle prenom.nom@ecole.be ; infoline 0900 12 345</p>
            <p>Secrétariat : info@ecole.be</p><p hidden>info@ecole.be</p></body></html>"#;
        let page = ContactExtractor::new(Some(Id::BE)).read_page(&Html::parse_document(html));
        assert_eq!(page.found.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), vec!["info@ecole.be"]);
        let refused: Vec<(&str, &str)> = page.refused.iter().map(|c| (c.value.as_str(), c.refused.unwrap())).collect();
        assert_eq!(
            refused,
            vec![
                ("prenom.nom@ecole.be", PLACEHOLDER),
                ("+3290012345", TRAP_PREMIUM),
                ("robot@piege.be", TRAP_HIDDEN),
                ("cache@piege.be", TRAP_HIDDEN),
                ("+3281998877", TRAP_HIDDEN)
            ]
        );
    }

    #[test]
    fn ministry_mailbox_is_flagged() {
        let doc = Html::parse_document("<p>ec004318@adm.cfwb.be</p>");
        let c = ContactExtractor::new(Some(Id::BE)).from_html(&doc);
        assert_eq!(c[0].flags, vec!["administrative_mailbox"]);
    }
}
