//! `ContactExtractor`: the emails, phones and faxes of a page or of a part of it.
//!
//! Order of trust: `mailto:` and `tel:` links, Cloudflare-protected addresses, then the visible
//! text after de-obfuscation. Scripts are not read (addresses that only exist once JavaScript
//! runs need the browser). Every address is validated, every number parsed in the page's
//! country and refused when invalid or premium-rate.

use phonenumber::country::Id;
use schemas::ContactKind;
use scraper::{ElementRef, Html, Selector};

use super::deobfuscate::{decode_cfemail, email_candidates, percent_decode};
use super::emails::{is_administrative_mailbox, validate};
use super::phones::{self, Phone};
use super::text::visible_text;

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
}

/// Reads the contacts of pages of one country (the default region of national numbers).
#[derive(Debug, Clone, Copy)]
pub struct ContactExtractor {
    country: Option<Id>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

impl ContactExtractor {
    /// `country` is the default region of national phone numbers (the page's country).
    pub fn new(country: Option<Id>) -> Self {
        Self { country }
    }

    /// Every contact of a whole page.
    pub fn from_html(&self, html: &Html) -> Vec<FoundContact> {
        self.from_element(html.root_element())
    }

    /// Every contact inside one element (a directory field, say), the element itself included
    /// when it is the link (`a.email` whose address is only in its `href`).
    pub fn from_element(&self, root: ElementRef<'_>) -> Vec<FoundContact> {
        let mut out: Vec<FoundContact> = Vec::new();
        let itself = (root.value().name() == "a" && root.value().attr("href").is_some()).then_some(root);
        for a in itself.into_iter().chain(root.select(&selector("a[href]"))) {
            let href = a.value().attr("href").unwrap_or("").trim();
            let lower = href.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("mailto:").map(|_| &href[7..]) {
                let addresses = percent_decode(rest.split('?').next().unwrap_or(""));
                for address in addresses.split([',', ';']) {
                    self.push_email(&mut out, address, "mailto");
                }
            } else if lower.starts_with("tel:") || lower.starts_with("callto:") {
                let number = percent_decode(href.split_once(':').map_or("", |(_, n)| n));
                let context = a.text().collect::<String>();
                if let Some(mut phone) = phones::parse(&number, self.country) {
                    phone.fax = context.to_lowercase().contains("fax");
                    push_phone(&mut out, phone, "tel");
                }
            } else if let Some((_, hex)) = href.split_once("/cdn-cgi/l/email-protection#") {
                if let Some(address) = decode_cfemail(hex) {
                    self.push_email(&mut out, &address, "cfemail");
                }
            }
        }
        for el in root.select(&selector("[data-cfemail]")) {
            if let Some(address) = el.value().attr("data-cfemail").and_then(decode_cfemail) {
                self.push_email(&mut out, &address, "cfemail");
            }
        }
        let text = visible_text(root);
        for (address, obfuscated) in email_candidates(&text) {
            self.push_email(&mut out, &address, if obfuscated { "deobfuscated" } else { "text" });
        }
        for phone in phones::find(&text, self.country) {
            push_phone(&mut out, phone, "text");
        }
        out
    }

    fn push_email(&self, out: &mut Vec<FoundContact>, candidate: &str, method: &'static str) {
        let Some(email) = validate(candidate) else { return };
        if out.iter().any(|c| c.kind == ContactKind::Email && c.value == email) {
            return;
        }
        let flags = if is_administrative_mailbox(&email) { vec!["administrative_mailbox".to_string()] } else { vec![] };
        out.push(FoundContact { kind: ContactKind::Email, value: email, display: None, label: None, method, flags });
    }
}

fn push_phone(out: &mut Vec<FoundContact>, phone: Phone, method: &'static str) {
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
    out.push(FoundContact { kind, value: phone.e164, display: Some(phone.national), label: phone.label, method, flags });
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
    fn ministry_mailbox_is_flagged() {
        let doc = Html::parse_document("<p>ec004318@adm.cfwb.be</p>");
        let c = ContactExtractor::new(Some(Id::BE)).from_html(&doc);
        assert_eq!(c[0].flags, vec!["administrative_mailbox"]);
    }
}
