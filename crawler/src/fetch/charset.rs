//! Decoding a page: the charset of the `Content-Type` header, else the one the page declares
//! in a `<meta>`, else UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what
//! "ISO-8859-1" pages really are, and common on old school sites).

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The text of `bytes` and the name of the encoding used.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let declared = content_type.and_then(charset_param).or_else(|| meta_charset(bytes));
    let encoding = match declared.and_then(|label| Encoding::for_label(label.as_bytes())) {
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => UTF_8,
        None => WINDOWS_1252,
    };
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `<meta charset="...">` or `<meta http-equiv="Content-Type" content="...; charset=...">` in
/// the first 2 KB.
fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
    let at = head.find("charset=")?;
    let rest = &head[at + "charset=".len()..];
    let value: String = rest.trim_start_matches(['"', '\'']).chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_meta_then_sniffing() {
        let latin1 = b"<p>Secr\xe9tariat : \xe9cole</p>";
        assert_eq!(decode(latin1, Some("text/html; charset=ISO-8859-1")).0, "<p>Secrétariat : école</p>");
        let with_meta = b"<meta charset=\"iso-8859-1\"><p>\xe9t\xe9</p>";
        assert_eq!(decode(with_meta, Some("text/html")).0, "<meta charset=\"iso-8859-1\"><p>été</p>");
        assert_eq!(decode("<p>été</p>".as_bytes(), None), ("<p>été</p>".to_string(), "UTF-8"));
        assert_eq!(decode(b"<p>\xe9t\xe9</p>", None).0, "<p>été</p>");
        let with_equiv = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><p>\x80</p>";
        assert!(decode(with_equiv, None).0.contains('€'));
    }
}
