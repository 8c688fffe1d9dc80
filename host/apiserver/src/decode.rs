//! Strict decoding support: JSON parsing that notices duplicate keys, and the
//! comparison that finds fields a kind does not have.
//!
//! `serde_json::Value` silently keeps the last of two equal keys and typed decoding
//! silently drops unknown fields; `fieldValidation=Strict` (kubectl's default) must
//! reject both, and `Warn` must report them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses JSON, returning the value and the path of every duplicated key.
pub fn json_with_duplicates(bytes: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    let mut dups = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Seed {
        path: Path::Root,
        dups: &mut dups,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, dups))
}

/// Where a value sits in the document, as a chain of borrowed steps on the stack.
/// It is rendered ("spec.containers[0].name") only when a field is reported, so
/// that a body without problems costs no string per key.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, n) => {
                use std::fmt::Write;
                parent.render_into(out);
                let _ = write!(out, "[{n}]");
            }
        }
    }
}

struct Seed<'a, 'p> {
    path: Path<'p>,
    dups: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            match seq.next_element_seed(Seed {
                path: Path::Index(&self.path, out.len()),
                dups: &mut *self.dups,
            })? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed {
                path: Path::Key(&self.path, &key),
                dups: &mut *self.dups,
            })?;
            if out.contains_key(&key) {
                self.dups.push(Path::Key(&self.path, &key).render());
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Whether some object in the JSON text has a key twice; also true when the text is
/// not JSON at all. Builds nothing: keys are borrowed from the text where they can
/// be, so a body without duplicates costs one pass of the parser.
pub fn has_duplicate_keys(bytes: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match DuplicateScan.deserialize(&mut de) {
        Ok(found) => found || de.end().is_err(),
        Err(_) => true,
    }
}

struct DuplicateScan;

impl<'de> DeserializeSeed<'de> for DuplicateScan {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DuplicateScan {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(inner) = seq.next_element_seed(DuplicateScan)? {
            found |= inner;
        }
        Ok(found)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            keys.push(key);
            found |= map.next_value_seed(DuplicateScan)?;
        }
        // Objects are small, except maps such as a ConfigMap's data: sort those.
        if keys.len() <= 16 {
            found |= keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k));
        } else {
            keys.sort_unstable();
            found |= keys.windows(2).any(|w| w[0] == w[1]);
        }
        Ok(found)
    }
}

/// A key as it appears in the text: borrowed unless it had escapes to undo.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// Paths present (and non-null) in `input` but absent from `decoded`: the fields the
/// typed decode did not know. Arrays are compared element by element.
pub fn unknown_fields(input: &Value, decoded: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, decoded, Path::Root, &mut out);
    out
}

fn walk(input: &Value, decoded: &Value, path: Path<'_>, out: &mut Vec<String>) {
    match (input, decoded) {
        (Value::Object(i), Value::Object(d)) => {
            for (k, v) in i {
                if v.is_null() {
                    continue;
                }
                let p = Path::Key(&path, k);
                match d.get(k) {
                    Some(dv) => walk(v, dv, p, out),
                    None => out.push(p.render()),
                }
            }
        }
        (Value::Array(i), Value::Array(d)) => {
            for (n, (iv, dv)) in i.iter().zip(d).enumerate() {
                walk(iv, dv, Path::Index(&path, n), out);
            }
        }
        // Free-form values (maps of strings, raw extensions) decode as they are;
        // scalars converted by the type (int-or-string) are not unknown fields.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicate_keys_are_reported_with_paths() {
        let (v, dups) =
            json_with_duplicates(br#"{"a":1,"b":{"c":1,"c":2},"l":[{"x":1,"x":1}],"a":3}"#)
                .unwrap();
        assert_eq!(v["a"], 3, "the last occurrence wins, as in Go");
        assert_eq!(dups, ["b.c", "l[0].x", "a"]);
    }

    #[test]
    fn duplicate_keys_are_noticed_without_building_the_value() {
        assert!(!has_duplicate_keys(
            br#"{"a":1,"b":{"c":1,"d":[{"x":1},{"x":2}]}}"#
        ));
        assert!(has_duplicate_keys(br#"{"a":1,"b":{"c":1,"c":2}}"#));
        assert!(has_duplicate_keys(br#"{"l":[{"x":1,"x":1}]}"#));
        assert!(
            has_duplicate_keys(br#"{"a\u0062":1,"ab":2}"#),
            "escaped keys compare unescaped"
        );
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let clean = format!("{{{}}}", many.join(","));
        assert!(!has_duplicate_keys(clean.as_bytes()));
        let twice = format!("{{{},\"k7\":0}}", many.join(","));
        assert!(has_duplicate_keys(twice.as_bytes()), "large objects too");
        assert!(
            has_duplicate_keys(b"{not json"),
            "what is not JSON is not clean"
        );
        assert!(has_duplicate_keys(b"{} trailing"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            &b"{"[..],
            b"",
            b"{\"a\":}",
            b"[1,]",
            b"{} trailing",
            b"\xff",
        ] {
            assert!(json_with_duplicates(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_fields_are_found() {
        let input = json!({"spec": {"a": 1, "bogus": 2, "nul": null, "list": [{"k": 1, "zz": 2}]}});
        let decoded = json!({"spec": {"a": 1, "list": [{"k": 1}]}});
        assert_eq!(
            unknown_fields(&input, &decoded),
            ["spec.bogus", "spec.list[0].zz"]
        );
    }
}
