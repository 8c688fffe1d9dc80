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
        path: String::new(),
        dups: &mut dups,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, dups))
}

struct Seed<'a> {
    path: String,
    dups: &'a mut Vec<String>,
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
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
            let path = format!("{}[{}]", self.path, out.len());
            match seq.next_element_seed(Seed {
                path,
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
            let path = child(&self.path, &key);
            let value = map.next_value_seed(Seed {
                path: path.clone(),
                dups: &mut *self.dups,
            })?;
            if out.insert(key, value).is_some() {
                self.dups.push(path);
            }
        }
        Ok(Value::Object(out))
    }
}

/// Paths present (and non-null) in `input` but absent from `decoded`: the fields the
/// typed decode did not know. Arrays are compared element by element.
pub fn unknown_fields(input: &Value, decoded: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, decoded, "", &mut out);
    out
}

fn walk(input: &Value, decoded: &Value, path: &str, out: &mut Vec<String>) {
    match (input, decoded) {
        (Value::Object(i), Value::Object(d)) => {
            for (k, v) in i {
                if v.is_null() {
                    continue;
                }
                let p = child(path, k);
                match d.get(k) {
                    Some(dv) => walk(v, dv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(i), Value::Array(d)) => {
            for (n, (iv, dv)) in i.iter().zip(d).enumerate() {
                walk(iv, dv, &format!("{path}[{n}]"), out);
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
