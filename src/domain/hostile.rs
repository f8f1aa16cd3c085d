//! Text written by someone other than the reviewer (an agent, a customer) that could make the reviewer see
//! something other than what the system acts on: characters that reorder or hide text, and JSON whose
//! duplicate keys a downstream reader could resolve differently from the one that showed the reviewer.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
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

/// Why a body could not be read as JSON whose objects name each key once.
#[derive(Debug)]
pub enum Unreadable {
    NotJson(serde_json::Error),
    /// The path of the first key that appears twice in one object (`b.c[0].d`).
    DuplicateKey(String),
}

/// Parses `raw` as JSON, refusing an object that names a key twice: the reviewer would be shown one value,
/// and an executor reading the same bytes could take the other. One pass builds the value and checks it; the
/// path of a duplicate is put together only when there is one.
pub fn parse_unique(raw: &str) -> Result<Value, Unreadable> {
    let trail = RefCell::new(Trail::default());
    let mut de = serde_json::Deserializer::from_str(raw);
    let parsed = Unique(&trail).deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    parsed.map_err(|e| {
        let trail = trail.into_inner();
        if !trail.duplicate {
            return Unreadable::NotJson(e);
        }
        let path = trail.steps.iter().rev().fold(String::new(), |mut path, step| {
            match step {
                Step::Key(k) if path.is_empty() => path.push_str(k),
                Step::Key(k) => path.extend([".", k.as_str()]),
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
            path
        });
        Unreadable::DuplicateKey(path)
    })
}

/// Where an error arose, innermost step first: each level adds its own as the error passes through it.
#[derive(Default)]
struct Trail {
    duplicate: bool,
    steps: Vec<Step>,
}

enum Step {
    Key(String),
    Index(usize),
}

struct Unique<'t>(&'t RefCell<Trail>);

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            match seq.next_element_seed(Unique(self.0)) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.0.borrow_mut().steps.push(Step::Index(items.len()));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                let mut trail = self.0.borrow_mut();
                trail.duplicate = true;
                trail.steps.push(Step::Key(key));
                return Err(de::Error::custom("duplicate key"));
            }
            match access.next_value_seed(Unique(self.0)) {
                Ok(value) => {
                    map.insert(key, value);
                }
                Err(e) => {
                    self.0.borrow_mut().steps.push(Step::Key(key));
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(map))
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

    fn duplicate(raw: &str) -> Option<String> {
        match parse_unique(raw) {
            Err(Unreadable::DuplicateKey(path)) => Some(path),
            _ => None,
        }
    }

    #[test]
    fn a_duplicate_key_is_named_by_its_path() {
        assert_eq!(duplicate(r#"{"a":1,"b":{"c":[{"d":1,"d":2}]}}"#).as_deref(), Some("b.c[0].d"));
        assert_eq!(duplicate(r#"{"x":[1,[2,{"y":0,"y":1}]]}"#).as_deref(), Some("x[1][1].y"));
        assert_eq!(duplicate(r#"{"amount":"1","amount":"900"}"#).as_deref(), Some("amount"));
        assert_eq!(duplicate(r#"{"a":{"x":1},"b":{"x":1}}"#), None, "the same key in two objects is fine");
        assert!(matches!(parse_unique("{nope"), Err(Unreadable::NotJson(_))));
        assert!(matches!(parse_unique(r#"{"a":[1,{"b":2}"#), Err(Unreadable::NotJson(_))));
        assert!(matches!(parse_unique("{} {}"), Err(Unreadable::NotJson(_))), "trailing content is refused");
    }

    #[test]
    fn a_unique_document_parses_as_serde_json_does() {
        let raw = r#"{"s":"t\u00e9","n":[1,-2,3.5,1e300,18446744073709551615],"o":{"b":true,"z":null},"e":[]}"#;
        let ours = parse_unique(raw).map_err(|e| format!("{e:?}"));
        assert_eq!(ours, Ok(serde_json::from_str::<Value>(raw).expect("valid")));
    }
}
