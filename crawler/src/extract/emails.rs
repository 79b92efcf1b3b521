//! Email validation: the shape of an address, and the strings that look like one but are not
//! (retina images `logo@2x.png`, package versions `jquery@3.7.1`, placeholders).

/// File extensions that end "addresses" found in `src` attributes and asset names (retina
/// images `logo@2x.png` are refused here, by what they end with, not by their `2x`: `4x4.be` is
/// a domain). `zip` and `mov` are top-level domains too, but not ones schools write to.
const NOT_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "jpe", "jfif", "gif", "svg", "webp", "avif", "apng", "bmp", "ico", "cur", "tif", "tiff", "heic", "heif", "jxl", "psd", "eps", "css",
    "js", "mjs", "map", "json", "pdf", "zip", "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "ogg", "mp3", "wav", "avi", "mov", "php", "html", "htm",
    "asp", "aspx", "txt", "xml",
];
/// Domains used in examples and forms.
const PLACEHOLDER_DOMAINS: &[&str] =
    &["example.com", "example.org", "example.net", "exemple.com", "exemple.fr", "exemple.be", "domain.com", "domaine.fr", "email.com", "test.com"];
/// Local parts that explain a scheme rather than name a mailbox.
const PLACEHOLDER_LOCALS: &[&str] = &[
    "prenom.nom",
    "nom.prenom",
    "prénom.nom",
    "firstname.lastname",
    "first.last",
    "voornaam.achternaam",
    "voornaam.familienaam",
    "voornaam.naam",
    "naam.voornaam",
    "familienaam.voornaam",
    "achternaam.voornaam",
    "jouw.naam",
    "uw.naam",
    "naam",
    "voornaam",
    "nom.prénom",
    "prenom_nom",
    "lastname.firstname",
    "votre.nom",
    "your.name",
    "votre.adresse",
    "xxx",
    "nom",
    "prenom",
    "user",
    "utilisateur",
    "email",
    "e-mail",
    "adresse",
];

/// A valid address, lower-cased, or `None`.
pub fn validate(candidate: &str) -> Option<String> {
    check(candidate).ok()
}

/// Why a candidate is not an address to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not an address (or a look-alike: `logo@2x.png`, `jquery@3.7.1`).
    Invalid,
    /// A well-formed address that explains a scheme or fills a form (`prenom.nom@ecole.be`,
    /// `user@example.com`), lower-cased.
    Placeholder(String),
}

/// A valid address, lower-cased, or why not.
pub fn check(candidate: &str) -> Result<String, Refused> {
    let email = shape(candidate).ok_or(Refused::Invalid)?;
    let (local, domain) = email.split_once('@').ok_or(Refused::Invalid)?;
    if PLACEHOLDER_DOMAINS.contains(&domain) || PLACEHOLDER_LOCALS.contains(&local) {
        return Err(Refused::Placeholder(email));
    }
    Ok(email)
}

/// A well-formed address, lower-cased (placeholders included).
fn shape(candidate: &str) -> Option<String> {
    let email = candidate.trim().trim_matches(|c: char| matches!(c, '.' | ',' | ';' | ':' | '<' | '>' | '"' | '\'' | '(' | ')'));
    let email = email.to_lowercase();
    if email.len() > 254 || email.matches('@').count() != 1 {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || local.len() > 64 || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return None;
    }
    if !local.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-'".contains(c)) {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return None;
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) || NOT_TLDS.contains(&tld) {
        return None;
    }
    Some(email)
}

/// The administrative mailbox of the Fédération Wallonie-Bruxelles schools: reserved for the
/// ministry, so an outreach export must flag it.
pub fn is_administrative_mailbox(email: &str) -> bool {
    let Some(digits) = email.strip_suffix("@adm.cfwb.be").and_then(|local| local.strip_prefix("ec")) else { return false };
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_addresses() {
        assert_eq!(validate("Secretariat@Athenee-Namur.be").as_deref(), Some("secretariat@athenee-namur.be"));
        assert_eq!(validate("<info.ecole@ac-nantes.fr>.").as_deref(), Some("info.ecole@ac-nantes.fr"));
    }

    #[test]
    fn refuses_lookalikes() {
        for bad in ["logo@2x.png", "jquery@3.7.1", "user@example.com", "prenom.nom@ecole.be", "a@b", "a@@b.be", "x@y.c", "@ecole.be", "a..b@ecole.be"] {
            assert_eq!(validate(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_domain_made_of_digits_and_x_is_a_domain() {
        // `4x4.be` used to be refused as if it were an image size (`logo@2x.png`).
        for good in ["info@4x4.be", "secretariat@12x.fr", "contact@12x.fr", "direction@3x3.be", "ecole@163.com", "info@2x2-asbl.be"] {
            assert_eq!(validate(good).as_deref(), Some(good), "{good}");
        }
        // Retina image names and package versions are still not addresses.
        for bad in [
            "logo@2x.png",
            "icon@3x.webp",
            "sprite@2x.jpg",
            "banner@1.5x.jpeg",
            "hero@2x.avif",
            "photo@3x.tiff",
            "logo@2x.svg",
            "Logo@2X.PNG",
            "bg@2x.min.css",
            "bootstrap@5.3.3",
            "vue@3",
        ] {
            assert_eq!(validate(bad), None, "{bad}");
        }
    }

    #[test]
    fn placeholders_are_told_apart_from_non_addresses() {
        assert_eq!(check("voornaam.familienaam@sintlucas.be"), Err(Refused::Placeholder("voornaam.familienaam@sintlucas.be".into())));
        assert_eq!(check("Prenom.Nom@ecole.be"), Err(Refused::Placeholder("prenom.nom@ecole.be".into())));
        assert_eq!(check("user@example.com"), Err(Refused::Placeholder("user@example.com".into())));
        assert_eq!(check("logo@2x.png"), Err(Refused::Invalid));
        assert_eq!(check("info@ecole.be"), Ok("info@ecole.be".into()));
    }

    #[test]
    fn flags_the_ministry_mailbox() {
        assert!(is_administrative_mailbox("ec004318@adm.cfwb.be"));
        assert!(!is_administrative_mailbox("direction@adm.cfwb.be"));
    }
}
