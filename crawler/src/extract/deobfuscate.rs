//! Finds email addresses written to fool harvesters: `info [at] ecole [dot] be`,
//! `info(at)ecole(point)be`, `info arobase ecole point fr`, `info AT ecole DOT be`, the Dutch
//! `info(apenstaartje)school(punt)be`, spaced
//! `info @ ecole . be`, Cloudflare's `data-cfemail`, percent-encoded `mailto:`. HTML entities
//! (`&#64;`) are already decoded by the HTML parser.

use std::sync::LazyLock;

use regex::Regex;

const AT: &str = r"(?:\s*@\s*|\s*[\[\(\{<]\s*(?:at|@|arobase|chez|apenstaartje|apestaartje)\s*[\]\)\}>]\s*|\s+(?:at|arobase|apenstaartje|apestaartje)\s+)";
const DOT: &str = r"(?:\.|\s+\.\s+|\s*[\[\(\{<]\s*(?:dot|point|punt|\.)\s*[\]\)\}>]\s*|\s+(?:dot|point|punt)\s+)";

/// Dots inside the local part: plain or bracketed only (a spaced "point" there is prose).
const LOCAL_DOT: &str = r"(?:\.|\s*[\[\(\{<]\s*(?:dot|point|punt|\.)\s*[\]\)\}>]\s*)";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)([a-z0-9][a-z0-9_%+'-]*(?:{LOCAL_DOT}[a-z0-9_%+'-]+)*){AT}([a-z0-9][a-z0-9-]*(?:{DOT}[a-z0-9][a-z0-9-]*)+)"))
        .expect("valid regex")
});
static DOT_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("(?i){DOT}")).expect("valid regex"));

/// Candidate addresses in `text`: (address as written normally, whether it was obfuscated).
pub fn email_candidates(text: &str) -> Vec<(String, bool)> {
    email_candidates_at(text).into_iter().map(|(_, e, o)| (e, o)).collect()
}

/// [`email_candidates`] with the byte offset where each starts in `text`.
pub fn email_candidates_at(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    for caps in EMAIL.captures_iter(text) {
        let start = caps.get(0).map_or(0, |m| m.start());
        let whole = caps.get(0).map_or("", |m| m.as_str());
        let local = DOT_RE.replace_all(&caps[1], ".");
        let domain = DOT_RE.replace_all(&caps[2], ".");
        let obfuscated = !whole.contains('@') || whole.chars().any(char::is_whitespace) || caps[2].len() != domain.len();
        out.push((start, format!("{local}@{domain}"), obfuscated));
    }
    out
}

/// Decodes Cloudflare's email protection: hex pairs, the first is the XOR key.
pub fn decode_cfemail(hex: &str) -> Option<String> {
    let hex = hex.trim();
    if hex.len() < 4 || hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect::<Option<_>>()?;
    let key = bytes[0];
    String::from_utf8(bytes[1..].iter().map(|b| b ^ key).collect()).ok()
}

/// Decodes `%XX` escapes (as in `mailto:info%40ecole.be`). A `%` not followed by two hex
/// digits stays as written (`100%`); bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        email_candidates(text).into_iter().map(|(e, _)| e.to_lowercase()).collect()
    }

    #[test]
    fn undoes_the_usual_disguises() {
        assert_eq!(found("Écrivez à info [at] ecole [dot] be."), vec!["info@ecole.be"]);
        assert_eq!(found("info(at)ecole(point)be"), vec!["info@ecole.be"]);
        assert_eq!(found("secretariat arobase lycee-x point fr"), vec!["secretariat@lycee-x.fr"]);
        assert_eq!(found("info AT ecole DOT be"), vec!["info@ecole.be"]);
        assert_eq!(found("direction @ ecole . be"), vec!["direction@ecole.be"]);
        assert_eq!(found("mail: info@ecole.be. Merci"), vec!["info@ecole.be"]);
        assert_eq!(found("contact{at}ath-namur{dot}be"), vec!["contact@ath-namur.be"]);
        assert_eq!(found("Mél ce.0440005s@ac-nantes.fr"), vec!["ce.0440005s@ac-nantes.fr"]);
        assert_eq!(found("ce [dot] 0440005s [at] ac-nantes [dot] fr"), vec!["ce.0440005s@ac-nantes.fr"]);
        assert_eq!(found("Direction : direction [dot] itct [at] ecoles-anderlecht [dot] be"), vec!["direction.itct@ecoles-anderlecht.be"]);
        assert_eq!(found("secretariaat(apenstaartje)sintjozef(punt)be"), vec!["secretariaat@sintjozef.be"]);
        assert_eq!(found("directie apenstaartje kaa-gent punt be"), vec!["directie@kaa-gent.be"]);
        assert_eq!(found("info [apestaartje] school [dot] be"), vec!["info@school.be"]);
        assert!(!email_candidates("a@b.be")[0].1);
        assert!(email_candidates("a [at] b.be")[0].1);
    }

    #[test]
    fn cloudflare_and_percent_encoding() {
        // key 0x42 XOR "a@b.be"
        let hex: String = std::iter::once(0x42u8).chain(b"a@b.be".iter().map(|b| b ^ 0x42)).map(|b| format!("{b:02x}")).collect();
        assert_eq!(decode_cfemail(&hex).as_deref(), Some("a@b.be"));
        assert_eq!(decode_cfemail("zz"), None);
        assert_eq!(percent_decode("info%40ecole.be"), "info@ecole.be");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn percent_before_a_multibyte_character_is_kept_as_written() {
        // Used to slice the two bytes after `%` and panic inside `é`, `—` or `€`.
        for text in ["%é", "%éa", "%1é", "%aé", "info%é@ecole.be", "100%—", "%€", "%4😀", "%"] {
            assert_eq!(percent_decode(text), text);
        }
        assert_eq!(percent_decode("%C3%A9cole%40ecole.be"), "école@ecole.be");
        assert_eq!(percent_decode("%C3"), "\u{fffd}", "invalid UTF-8 is decoded lossily");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
