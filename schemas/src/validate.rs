use crate::record::*;

/// Why a record was refused, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct ValidationError {
    /// The field's JSON name (`name`, `date_posted`...).
    pub field: &'static str,
    /// What is wrong with it, worded to follow the field name.
    pub message: String,
}

/// Longest text field accepted (a description, a question): larger ones are refused, not cut.
pub const MAX_TEXT_BYTES: usize = 100_000;
/// Longest short field (a name, a city).
pub const MAX_SHORT_BYTES: usize = 1_000;
/// Most items in a list field.
pub const MAX_LIST_ITEMS: usize = 200;

fn err(field: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError { field, message: message.into() }
}

fn required(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(err(field, "is required and may not be empty"));
    }
    short(field, value)
}

fn short(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.len() > MAX_SHORT_BYTES {
        return Err(err(field, format!("is {} bytes long, at most {MAX_SHORT_BYTES} allowed", value.len())));
    }
    Ok(())
}

fn short_opt(field: &'static str, value: &Option<String>) -> Result<(), ValidationError> {
    value.as_deref().map_or(Ok(()), |v| short(field, v))
}

fn long(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.len() > MAX_TEXT_BYTES {
        return Err(err(field, format!("is {} bytes long, at most {MAX_TEXT_BYTES} allowed", value.len())));
    }
    Ok(())
}

fn list(field: &'static str, values: &[String]) -> Result<(), ValidationError> {
    if values.len() > MAX_LIST_ITEMS {
        return Err(err(field, format!("has {} items, at most {MAX_LIST_ITEMS} allowed", values.len())));
    }
    values.iter().try_for_each(|v| short(field, v))
}

fn date(field: &'static str, value: &Option<String>) -> Result<(), ValidationError> {
    let Some(v) = value else { return Ok(()) };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v.trim(), &format).map(|_| ()).map_err(|_| err(field, format!("`{v}` is not a date of the form YYYY-MM-DD")))
}

fn country(value: &Option<String>) -> Result<(), ValidationError> {
    match value {
        Some(c) if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) => {
            Err(err("country", format!("`{c}` is not an ISO 3166 two-letter code such as BE or FR")))
        }
        _ => Ok(()),
    }
}

impl Record {
    /// Checks required fields, sizes and formats; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ValidationError> {
        required("source", self.source())?;
        match self {
            Record::School(r) => {
                required("name", &r.name)?;
                for (f, v) in [
                    ("school_type", &r.school_type),
                    ("street", &r.street),
                    ("postal_code", &r.postal_code),
                    ("city", &r.city),
                    ("region", &r.region),
                    ("website", &r.website),
                ] {
                    short_opt(f, v)?;
                }
                country(&r.country)?;
                list("emails", &r.emails)?;
                list("phones", &r.phones)?;
            }
            Record::Programme(r) => {
                required("title", &r.title)?;
                long("description", &r.description)?;
                list("skills", &r.skills)?;
                list("occupations", &r.occupations)?;
                for (f, v) in [("level", &r.level), ("domain", &r.domain), ("city", &r.city), ("region", &r.region)] {
                    short_opt(f, v)?;
                }
                country(&r.country)?;
            }
            Record::Offer(r) => {
                required("title", &r.title)?;
                long("description", &r.description)?;
                list("skills", &r.skills)?;
                list("occupations", &r.occupations)?;
                for (f, v) in [("company_name", &r.company_name), ("level", &r.level), ("city", &r.city), ("region", &r.region)] {
                    short_opt(f, v)?;
                }
                country(&r.country)?;
                date("date_posted", &r.date_posted)?;
                date("valid_through", &r.valid_through)?;
            }
            Record::Company(r) => {
                required("name", &r.name)?;
                short_opt("sector", &r.sector)?;
                country(&r.country)?;
            }
            Record::Question(r) => {
                if r.text.trim().is_empty() {
                    return Err(err("text", "is required and may not be empty"));
                }
                long("text", &r.text)?;
                long("code", r.code.as_deref().unwrap_or(""))?;
                list("options", &r.options)?;
                if let Some(a) = r.answer
                    && a >= r.options.len()
                {
                    return Err(err("answer", format!("is {a} but there are {} options", r.options.len())));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Record {
        serde_json::from_str(line).expect("test line parses")
    }

    #[test]
    fn accepts_a_plain_school() {
        let r = parse(r#"{"kind":"school","source":"s","name":"Athénée royal de Namur","country":"BE"}"#);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn names_the_bad_field() {
        let r = parse(r#"{"kind":"school","source":"s","name":"  "}"#);
        assert_eq!(r.validate().unwrap_err().field, "name");
        let r = parse(r#"{"kind":"offer","source":"s","title":"Stage","contract_type":"internship","date_posted":"2025-13-01"}"#);
        assert_eq!(r.validate().unwrap_err().field, "date_posted");
        let r = parse(r#"{"kind":"company","source":"s","name":"X","country":"Belgique"}"#);
        assert_eq!(r.validate().unwrap_err().field, "country");
        let r = parse(r#"{"kind":"question","source":"s","text":"?","options":["a"],"answer":3}"#);
        assert_eq!(r.validate().unwrap_err().field, "answer");
    }

    #[test]
    fn refuses_huge_text() {
        let text = "a".repeat(MAX_TEXT_BYTES + 1);
        let r = Record::Question(Question { source: "s".into(), text, ..Default::default() });
        assert_eq!(r.validate().unwrap_err().field, "text");
    }
}
