use sha2::{Digest, Sha256};

use crate::RecordKind;

/// The id of a record: `<kind>-<16 hex digits>`, a hash of (kind, source, key).
///
/// The same (kind, source, key) always gives the same id, on every crawl or import.
pub fn stable_id(kind: RecordKind, source: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(source.trim().as_bytes());
    hasher.update([0]);
    hasher.update(key.trim().as_bytes());
    let digest = hasher.finalize();
    format!("{}-{}", kind.as_str(), hex(&digest[..8]))
}

/// Lower-case hexadecimal of bytes (hash digests in ids, cache keys and checksums).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The current time as RFC 3339 (UTC), as records and provenance store it.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Lower-cased text with runs of whitespace and punctuation folded to one space: two entries of
/// the same text that differ only by spacing, case or punctuation normalise to the same string.
pub fn normalized_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = stable_id(RecordKind::School, "annuaire", "0441151M");
        assert_eq!(a, stable_id(RecordKind::School, "annuaire", " 0441151M "));
        assert_ne!(a, stable_id(RecordKind::School, "annuaire", "0441153P"));
        assert_ne!(a, stable_id(RecordKind::Offer, "annuaire", "0441151M"));
        // Pinned: an id must never change between releases, or re-imports duplicate records.
        assert_eq!(a.len(), "school-".len() + 16);
        assert_eq!(stable_id(RecordKind::Question, "s", "k"), stable_id(RecordKind::Question, "s", "k"));
    }

    #[test]
    fn normalized_text_ignores_case_spacing_and_punctuation() {
        assert_eq!(normalized_text("  Que vaut  X ?\n"), "que vaut x");
        assert_eq!(normalized_text("Que vaut x?"), "que vaut x");
        assert_eq!(normalized_text("Élève, été"), "élève été");
    }
}
