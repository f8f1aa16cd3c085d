//! Text written by someone other than the reviewer (an agent, a customer) that could make the reviewer see
//! something other than what the system acts on: characters that reorder or hide text, and JSON whose
//! duplicate keys a downstream reader could resolve differently from the one that showed the reviewer.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Direction overrides, embeddings and isolates ("Trojan Source"): they reorder what is displayed.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space: text that looks the same can differ.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}')
}

/// What an identifier (an id, a key, a name) must not contain: anything invisible, any direction mark
/// (LRM, RLM, ALM too), joiners, and control characters.
pub fn in_identifier(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| reorders(c) || invisible(c) || matches!(c, '\u{200C}'..='\u{200F}' | '\u{061C}') || c.is_control())
}

/// What free text (intent, summary, transcript) must not contain. Joiners and direction marks stay
/// allowed there: emoji sequences and Persian, Arabic and Indic writing need them, and they reorder nothing.
pub fn in_text(s: &str) -> Option<char> {
    s.chars().find(|&c| reorders(c) || invisible(c))
}

/// The most a free-form object (`action.parameters`, `case.facts`) may hold: nesting, and values in all.
pub const MAX_DEPTH: usize = 8;
pub const MAX_ELEMENTS: usize = 500;

/// Why a free-form object, given by its values, is too big to show a reviewer (or to walk cheaply), if it is.
pub fn oversized<'v>(values: impl IntoIterator<Item = &'v serde_json::Value>) -> Option<String> {
    fn walk(v: &serde_json::Value, depth: usize, count: &mut usize) -> bool {
        *count += 1;
        if depth > MAX_DEPTH || *count > MAX_ELEMENTS {
            return false;
        }
        match v {
            serde_json::Value::Array(items) => items.iter().all(|i| walk(i, depth + 1, count)),
            serde_json::Value::Object(map) => map.values().all(|i| walk(i, depth + 1, count)),
            _ => true,
        }
    }
    let mut count = 0;
    (!values.into_iter().all(|v| walk(v, 1, &mut count)))
        .then(|| format!("may nest at most {MAX_DEPTH} deep and hold at most {MAX_ELEMENTS} values"))
}

/// Names the character for a message: "U+202E".
pub fn code(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The path of the first key that appears twice in one object of `raw` (`None`: no duplicates, or not
/// JSON at all, which the parser reports on its own).
pub fn duplicate_key(raw: &str) -> Option<String> {
    let mut de = serde_json::Deserializer::from_str(raw);
    match (Walk { path: String::new() }).deserialize(&mut de) {
        Err(e) => {
            e.to_string().strip_prefix(DUPLICATE).map(|rest| rest.split(" at line").next().unwrap_or(rest).to_string())
        }
        Ok(()) => None,
    }
}

const DUPLICATE: &str = "duplicate key: ";

struct Walk {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path) })?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if !seen.insert(key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{path}")));
            }
            map.next_value_seed(Walk { path })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reordering_and_invisible_characters_are_found() {
        assert_eq!(in_text("refund \u{202E}09.921"), Some('\u{202E}'));
        assert_eq!(in_text("pay\u{200B}pal"), Some('\u{200B}'));
        assert_eq!(in_text("👨\u{200D}👩\u{200D}👧 family, سلام\u{200F}"), None, "joiners and marks are writing");
        assert_eq!(in_identifier("cus_\u{200D}123"), Some('\u{200D}'));
        assert_eq!(in_identifier("cus_123\u{0007}"), Some('\u{0007}'));
        assert_eq!(in_identifier("CS-8812"), None);
        assert_eq!(code('\u{202E}'), "U+202E");
    }

    #[test]
    fn free_form_objects_have_a_depth_and_a_size() {
        let fine = serde_json::json!({"order": "A-1", "lines": [1, 2, 3]});
        assert_eq!(oversized(fine.as_object().unwrap().values()), None);
        let mut deep = serde_json::json!(1);
        for _ in 0..MAX_DEPTH {
            deep = serde_json::json!([deep]);
        }
        assert!(oversized([&deep]).is_some());
        assert!(oversized([&serde_json::json!(vec![0; MAX_ELEMENTS])]).is_some());
    }

    #[test]
    fn a_duplicate_key_is_named_by_its_path() {
        assert_eq!(duplicate_key(r#"{"a":1,"b":{"c":[{"d":1,"d":2}]}}"#).as_deref(), Some("b.c[0].d"));
        assert_eq!(duplicate_key(r#"{"amount":"1","amount":"900"}"#).as_deref(), Some("amount"));
        assert_eq!(duplicate_key(r#"{"a":{"x":1},"b":{"x":1}}"#), None, "the same key in two objects is fine");
        assert_eq!(duplicate_key("{nope"), None);
    }
}
