//! Visible text of a page or fragment: what a reader sees, without scripts and styles, with
//! block boundaries kept as line breaks (a label stays next to its number, not glued to the
//! next paragraph).

use scraper::{ElementRef, Node};

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

/// The visible text under `root`.
pub fn visible_text(root: ElementRef<'_>) -> String {
    let mut out = String::new();
    walk(root, &mut out);
    out
}

fn walk(element: ElementRef<'_>, out: &mut String) {
    let name = element.value().name();
    if HIDDEN.contains(&name) {
        return;
    }
    let block = BLOCKS.contains(&name);
    if block {
        out.push('\n');
    }
    for child in element.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(_) => {
                if let Some(e) = ElementRef::wrap(child) {
                    walk(e, out);
                }
            }
            _ => {}
        }
    }
    if block {
        out.push('\n');
    } else if SPACED.contains(&name) {
        out.push(' ');
    }
}

/// Collapses runs of white space to one space and trims.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
