//! What the crawler reads out of a page: contacts (with de-obfuscation and validation), links
//! (and which of them look like contact pages), directory fields through CSS selectors,
//! schema.org JSON-LD and CSS selectors for offers and programmes, and whether a page needs the
//! browser.

pub mod affinity;
pub mod contacts;
pub mod deobfuscate;
pub mod directory;
pub mod emails;
pub mod items;
pub mod jsonld;
pub mod links;
pub mod phones;
pub mod text;

pub use contacts::{ContactExtractor, FoundContact, PageContacts};
