//! The occupation pivot: ROME v4.60 occupation codes, their titles and their parent sheet.
//!
//! Offers and programmes carry ROME codes (`occupations`); the matchers credit a programme
//! whose codes are those of the offer (or share their parent sheet) and name the occupations in
//! the explanation. The table (code, parent code, title: facts) is compiled in from
//! `features/data/rome-v460.tsv`: ROME v4.60, France Travail, via
//! mission-apprentissage/labonnealternance (MIT licence).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

const TABLE: &str = include_str!("../data/rome-v460.tsv");

/// One ROME occupation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Occupation {
    /// The ROME code, as the table writes it (`M1805`).
    pub code: &'static str,
    /// The occupation sheet this code belongs to (itself for a main sheet).
    pub parent: &'static str,
    /// As France Travail writes it, e.g. "Développeur / Développeuse informatique".
    pub title: &'static str,
}

fn table() -> &'static HashMap<&'static str, Occupation> {
    static MAP: OnceLock<HashMap<&'static str, Occupation>> = OnceLock::new();
    MAP.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut parts = l.split('\t');
                let (code, parent, title) = (parts.next()?, parts.next()?, parts.next()?);
                Some((code, Occupation { code, parent, title }))
            })
            .collect()
    })
}

/// The occupation of a code (`M1805`, case and spaces ignored), if ROME v4.60 has it.
pub fn lookup(code: &str) -> Option<Occupation> {
    let code = code.trim();
    table().get(code).or_else(|| table().get(code.to_ascii_uppercase().as_str())).copied()
}

/// How many occupations the table holds.
pub fn len() -> usize {
    table().len()
}

/// How close two codes are: 1 for the same code, 0.5 for two codes of the same occupation sheet,
/// 0 otherwise (or when either is unknown and they differ).
pub fn closeness(a: &str, b: &str) -> f32 {
    let (a, b) = (a.trim(), b.trim());
    if a.eq_ignore_ascii_case(b) {
        return 1.0;
    }
    match (lookup(a), lookup(b)) {
        (Some(x), Some(y)) if x.parent == y.parent => 0.5,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_complete_and_relates_codes() {
        assert_eq!(len(), 1584);
        let dev = lookup("m1805").unwrap();
        assert_eq!(dev.code, "M1805");
        assert!(dev.title.contains("informatique"), "{dev:?}");
        assert_eq!(closeness("M1805", "M1805"), 1.0);
        // A1102 (forestry machines) hangs under A1101 (agricultural machines).
        assert_eq!(lookup("A1102").unwrap().parent, "A1101");
        assert_eq!(closeness("A1102", "A1101"), 0.5);
        assert_eq!(closeness("A1101", "M1805"), 0.0);
        assert_eq!(closeness("Z9999", "M1805"), 0.0);
        assert!(lookup("Z9999").is_none());
    }
}
