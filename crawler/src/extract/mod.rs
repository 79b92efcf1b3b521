//! What the crawler reads out of a page: contacts (with de-obfuscation and validation), links
//! (and which of them look like contact pages), directory fields through CSS selectors, and
//! schema.org JSON-LD (offers, programmes; not yet wired into a crawl source).

pub mod contacts;
pub mod deobfuscate;
pub mod directory;
pub mod emails;
pub mod jsonld;
pub mod links;
pub mod phones;
pub mod text;

pub use contacts::{ContactExtractor, FoundContact};
