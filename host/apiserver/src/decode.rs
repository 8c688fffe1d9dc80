//! Strict decoding support: JSON parsing that notices duplicate keys, and the
//! comparison that finds fields a kind does not have.
//!
//! `serde_json::Value` silently keeps the last of two equal keys and typed decoding
//! silently drops unknown fields; `fieldValidation=Strict` (kubectl's default) must
//! reject both, and `Warn` must report them.

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
