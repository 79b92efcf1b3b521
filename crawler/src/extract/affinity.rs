//! Whose contact is it? A contact read on a school's own pages is kept as the school's, or left
//! out as a third party's, with the reason either way (it goes in the contact's provenance).
//!
//! In this order:
//! 1. An address at the school's own domain is the school's (`school_domain`), wherever it
//!    sits: a school's webmaster signs the footer too. The school's domains are its website's
//!    host, the host its pages name as canonical (`<link rel="canonical">`, `og:url`), and the
//!    domains of the addresses the directory listed for it; a domain many share (the official
//!    mailbox domains below, mail providers such as `gmail.com`) is nobody's own.
//!    An address at a domain that spells the school's name (a distinctive part of it, or its
//!    words run together) is the school's too (`school_name_domain`).
//! 2. A contact in a block crediting the site's maker or host ("site réalisé par ...") is the
//!    agency's (`third_party: web agency credit`).
//! 3. A contact under a heading about partners ("Nos écoles partenaires") is a partner's
//!    (`third_party: partner`).
//! 4. A contact in a block naming a school directory ("fiche sur le Répertoire des écoles") is
//!    the directory's (`third_party: directory`).
//! 5. A contact in a block, or under a heading, about another organisation (the parents'
//!    association, the municipality, a guidance centre (PMS, CLB), a school network) is that
//!    organisation's (`third_party: other organisation`).
//! 6. An address at an official school mailbox domain (the Fédération Wallonie-Bruxelles'
//!    `adm.cfwb.be`, the French academies' `ac-<name>.fr`) is the school's (`official_mailbox`).
//! 7. Anything else on the school's own pages is the school's (`school_page`).
//!
//! Placeholders, premium-rate numbers and hidden contacts are refused before this (see
//! [`super::contacts`]); their reasons are kept the same way.

use schemas::ContactKind;

use super::contacts::FoundContact;

/// Kept: the address is at the school's domain.
pub const SCHOOL_DOMAIN: &str = "school_domain";
/// Kept: the domain spells the school's name.
pub const SCHOOL_NAME_DOMAIN: &str = "school_name_domain";
/// Kept: an official school mailbox domain.
pub const OFFICIAL_MAILBOX: &str = "official_mailbox";
/// Kept: on the school's own page, nothing says otherwise.
pub const SCHOOL_PAGE: &str = "school_page";
/// Kept: read in the school's field of a directory.
pub const DIRECTORY_FIELD: &str = "directory_field";
/// Left out: in the site maker's credit.
pub const WEB_AGENCY: &str = "third_party: web agency credit";
/// Left out: under a partners heading.
pub const PARTNER: &str = "third_party: partner";
/// Left out: in a block naming a directory.
pub const DIRECTORY: &str = "third_party: directory";
/// Left out: in a block or under a heading about another organisation.
pub const OTHER_ORGANISATION: &str = "third_party: other organisation";

/// The decision on one contact: `Ok(why kept)` or `Err(why left out)`.
pub type Decision = Result<&'static str, &'static str>;

/// Decides whether `contact`, read on a page of the school whose domains are `domains`, is the
/// school's.
pub fn decide(contact: &FoundContact, domains: &[String], school_names: &[String]) -> Decision {
    let email_domain = (contact.kind == ContactKind::Email).then(|| contact.value.rsplit_once('@').map_or("", |(_, d)| d));
    if let Some(domain) = email_domain {
        if !is_shared_domain(domain) && domains.iter().any(|d| !is_shared_domain(d) && same_site(domain, d)) {
            return Ok(SCHOOL_DOMAIN);
        }
        // A domain that spells the school's own name (`ufa-vilaine.fr` for the "Lycée de la
        // Vilaine", `sintservaas.be` for the "Sint-Servaascollege") is the school's.
        let spelt = school_names.iter().any(|n| block_names_domain(&crate::extract::text::fold_accents(&crate::extract::text::words(n)), domain));
        if spelt {
            return Ok(SCHOOL_NAME_DOMAIN);
        }
    }
    let zone = contact.zone;
    if zone.credit {
        return Err(WEB_AGENCY);
    }
    if zone.partner {
        return Err(PARTNER);
    }
    if zone.directory {
        return Err(DIRECTORY);
    }
    if zone.other || contact.named {
        return Err(OTHER_ORGANISATION);
    }
    if email_domain.is_some_and(is_official_mailbox_domain) {
        return Ok(OFFICIAL_MAILBOX);
    }
    Ok(SCHOOL_PAGE)
}

/// Mail providers many people share: an address there says nothing of whose it is.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.be",
    "hotmail.fr",
    "outlook.com",
    "outlook.be",
    "outlook.fr",
    "live.be",
    "live.fr",
    "live.com",
    "yahoo.com",
    "yahoo.fr",
    "icloud.com",
    "skynet.be",
    "telenet.be",
    "proximus.be",
    "scarlet.be",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "gmx.fr",
    "gmx.com",
];

/// A domain many schools or people share (an official school mailbox domain, a mail
/// provider): it is nobody's own domain.
pub fn is_shared_domain(domain: &str) -> bool {
    is_official_mailbox_domain(domain) || FREE_MAIL.contains(&domain)
}

/// Parts of domain names that name no one in particular.
const GENERIC_LABELS: &[&str] = &[
    "ecole",
    "ecoles",
    "school",
    "schools",
    "lycee",
    "college",
    "colleges",
    "institut",
    "institute",
    "athenee",
    "atheneum",
    "campus",
    "info",
    "contact",
    "service",
    "services",
    "mail",
    "formation",
    "formations",
    "scolaire",
    "enseignement",
    "onderwijs",
    "basisschool",
    "sint",
    "saint",
    "sainte",
    "notre",
    "dame",
    "centre",
    "center",
    "groupe",
    "group",
    "asbl",
    "vzw",
    "online",
    "site",
    "web",
    "www",
    "mairie",
    "ville",
    "stad",
    "gemeente",
    "commune",
];

/// Whether `block_words` (a block's words, accents folded, addresses left out) name the
/// organisation of `domain`: a distinctive part of the domain (`duval` in `autocars-duval.fr`)
/// is a word of the block, or the domain's name is some of its words run together
/// (`museumduvivant` for "Muséum du Vivant").
pub fn block_names_domain(block_words: &str, domain: &str) -> bool {
    if block_words.trim().is_empty() || is_shared_domain(domain) {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(name) = labels.len().checked_sub(2).and_then(|i| labels.get(i)) else { return false };
    let distinctive = name.split(['-', '_']).filter(|t| t.len() >= 4 && !t.chars().all(|c| c.is_ascii_digit()) && !GENERIC_LABELS.contains(t));
    for token in distinctive {
        if block_words.contains(&format!(" {token} ")) {
            return true;
        }
    }
    let joined: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let words: Vec<&str> = block_words.split_whitespace().collect();
    (0..words.len()).any(|i| {
        let mut run = String::new();
        for w in words.iter().skip(i).take(4) {
            run.push_str(w);
            if run.len() >= 6 && run == joined {
                return true;
            }
        }
        false
    })
}

/// `adm.cfwb.be` and the French academies' `ac-<name>.fr`.
pub fn is_official_mailbox_domain(domain: &str) -> bool {
    domain == "adm.cfwb.be" || domain.strip_suffix(".fr").is_some_and(|d| d.starts_with("ac-") && !d.contains('.'))
}

/// A domain without its `www.`, lower-cased; `None` for an IP address or a bare name.
pub fn domain_of_host(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    (!is_ip && host.contains('.')).then_some(host)
}

/// Whether two domains are the same site: equal, one under the other, or sharing their last two
/// labels (`secretariat.ecole.be` and `www.ecole.be`).
pub fn same_site(a: &str, b: &str) -> bool {
    let a = a.trim_start_matches("www.");
    let b = b.trim_start_matches("www.");
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let base = |d: &str| {
        let labels: Vec<&str> = d.rsplitn(3, '.').collect();
        if labels.len() >= 2 { format!("{}.{}", labels[1], labels[0]) } else { d.to_string() }
    };
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}")) || base(a) == base(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::text::Zone;

    fn decide_(c: &FoundContact, domains: &[String]) -> Decision {
        decide(c, domains, &["Athénée royal X".to_string()])
    }

    fn contact(value: &str, zone: Zone) -> FoundContact {
        let kind = if value.contains('@') { ContactKind::Email } else { ContactKind::Phone };
        FoundContact { kind, value: value.into(), display: None, label: None, method: "text", flags: vec![], zone, refused: None, named: false }
    }

    #[test]
    fn the_schools_domain_wins_then_the_zone_decides() {
        let domains = vec!["athenee-x.be".to_string()];
        let credit = Zone { credit: true, chrome: true, ..Zone::default() };
        assert_eq!(decide_(&contact("webmaster@athenee-x.be", credit), &domains), Ok(SCHOOL_DOMAIN));
        assert_eq!(decide_(&contact("hello@pixelweb.be", credit), &domains), Err(WEB_AGENCY));
        assert_eq!(decide_(&contact("+3281405060", credit), &domains), Err(WEB_AGENCY));
        assert_eq!(decide_(&contact("info@autre.be", Zone { partner: true, ..Zone::default() }), &domains), Err(PARTNER));
        assert_eq!(decide_(&contact("info@repertoire.be", Zone { directory: true, ..Zone::default() }), &domains), Err(DIRECTORY));
        assert_eq!(decide_(&contact("apel.ecole@gmail.com", Zone { other: true, ..Zone::default() }), &domains), Err(OTHER_ORGANISATION));
        assert_eq!(decide_(&contact("ce.0440005s@ac-nantes.fr", Zone::default()), &domains), Ok(OFFICIAL_MAILBOX));
        assert_eq!(decide_(&contact("ec004318@adm.cfwb.be", Zone::default()), &domains), Ok(OFFICIAL_MAILBOX));
        assert_eq!(decide_(&contact("direction@gmail.com", Zone::default()), &domains), Ok(SCHOOL_PAGE));
        // A shared domain is nobody's own: a partner at the same academy is still a partner.
        let academy = vec!["ac-nantes.fr".to_string()];
        assert_eq!(decide_(&contact("ce.0440006t@ac-nantes.fr", Zone { partner: true, ..Zone::default() }), &academy), Err(PARTNER));
        assert_eq!(decide_(&contact("+3281223344", Zone { chrome: true, ..Zone::default() }), &domains), Ok(SCHOOL_PAGE));
    }

    #[test]
    fn a_domain_that_spells_the_schools_name_is_the_schools() {
        let named = FoundContact { named: true, ..contact("apprentissage@ufa-vilaine.fr", Zone::default()) };
        assert_eq!(decide(&named, &[], &["Lycée de la Vilaine".to_string()]), Ok(SCHOOL_NAME_DOMAIN));
        assert_eq!(decide(&named, &[], &["Lycée Chevrollier".to_string()]), Err(OTHER_ORGANISATION));
    }

    #[test]
    fn a_block_naming_the_domains_organisation() {
        assert!(block_names_domain(" la ligne est exploitee par les autocars duval garonne ", "autocars-duval.fr"));
        assert!(block_names_domain(" reservations au museum du vivant ", "museumduvivant.be"));
        assert!(!block_names_domain(" ecrivez au secretariat de l ecole ", "ecole-x.be"), "generic parts name no one");
        assert!(!block_names_domain(" ecrivez nous ", "gmail.com"));
        assert!(!block_names_domain("", "autocars-duval.fr"));
    }

    #[test]
    fn domains_and_sites() {
        assert_eq!(domain_of_host("www.Ecole.be").as_deref(), Some("ecole.be"));
        assert_eq!(domain_of_host("127.0.1.4"), None);
        assert_eq!(domain_of_host("localhost"), None);
        assert!(same_site("secretariat.ecole.be", "ecole.be"));
        assert!(same_site("ecole.be", "www.ecole.be"));
        assert!(same_site("a.ecole.be", "b.ecole.be"));
        assert!(!same_site("ecole.be", "autre-ecole.be"));
        assert!(!same_site("", "ecole.be"));
        assert!(!is_official_mailbox_domain("ac-nantes.fr.evil.com"));
    }
}
