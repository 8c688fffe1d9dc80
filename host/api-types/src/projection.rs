//! Decoding only the parts of a stored object that selectors read.
//!
//! A watch or list with a field selector (the scheduler's `spec.nodeName=`, a
//! kubelet's `spec.nodeName=NODE`) must test every change of its kind. Decoding a
//! whole pod into a `serde_json::Value` to read one field costs an allocation per
//! key and string; a [`Projection`] instead walks the JSON once, skipping every
//! branch no selector reads, and builds a sparse `Value` that
//! [`LabelSelector::matches`] and [`FieldSelector::matches`] read exactly as they
//! read the whole object.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::selector::{FieldSelector, LabelSelector, field_path};

/// The paths of an object that some selectors read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    root: PathTree,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PathTree {
    /// This value is read as a whole (a selector's leaf).
    whole: bool,
    children: BTreeMap<String, PathTree>,
}

impl PathTree {
    fn insert<'a>(&mut self, mut parts: impl Iterator<Item = &'a str>) {
        if self.whole {
            return;
        }
        match parts.next() {
            None => {
                self.whole = true;
                self.children.clear();
            }
            Some(part) => self
                .children
                .entry(part.to_string())
                .or_default()
                .insert(parts),
        }
    }
}

impl Projection {
    /// What `labels` and `fields` read: `metadata.labels` and each field's path.
    pub fn for_selectors(labels: &LabelSelector, fields: &FieldSelector) -> Self {
        let mut root = PathTree::default();
        if !labels.is_empty() {
            root.insert(["metadata", "labels"].into_iter());
        }
        for r in &fields.requirements {
            root.insert(field_path(&r.field).split('.'));
        }
        Self { root }
    }

    /// Reads nothing: the selectors match every object.
    pub fn is_empty(&self) -> bool {
        !self.root.whole && self.root.children.is_empty()
    }

    /// The object's projected parts. Fails only if `json` is not valid JSON.
    pub fn decode(&self, json: &[u8]) -> serde_json::Result<Value> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let value = Sparse(&self.root).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// Deserializes the paths in a tree, skipping everything else.
struct Sparse<'t>(&'t PathTree);

impl<'de> DeserializeSeed<'de> for Sparse<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

/// Anything but an object has no fields to descend into: selectors read it as
/// absent, as they read `null`.
impl<'de> Visitor<'de> for Sparse<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            match self.0.children.get(key.as_ref()) {
                Some(child) => {
                    let value = map.next_value_seed(Sparse(child))?;
                    out.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// An object key, borrowed from the input unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::selector::field_value;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "prod",
                         "labels": {"app": "web", "tier": "fe"},
                         "annotations": {"a": "b"}},
            "spec": {"nodeName": "n\"1", "containers": [{"name": "c", "image": "i"}],
                     "hostNetwork": true, "priority": 7},
            "status": {"phase": "Running", "conditions": [{"type": "Ready"}]}
        })
    }

    fn projection(labels: &str, fields: &str) -> Projection {
        Projection::for_selectors(
            &LabelSelector::parse(labels).unwrap(),
            &FieldSelector::parse(fields).unwrap(),
        )
    }

    #[test]
    fn keeps_only_what_selectors_read() {
        let p = projection("app=web", "spec.nodeName=x,status.phase=Running");
        let bytes = serde_json::to_vec(&pod()).unwrap();
        assert_eq!(
            p.decode(&bytes).unwrap(),
            json!({"metadata": {"labels": {"app": "web", "tier": "fe"}},
                   "spec": {"nodeName": "n\"1"}, "status": {"phase": "Running"}})
        );
        assert!(projection("", "").is_empty());
        assert_eq!(projection("", "").decode(&bytes).unwrap(), json!({}));
    }

    #[test]
    fn selectors_read_the_projection_as_they_read_the_object() {
        let whole = pod();
        let bytes = serde_json::to_vec(&whole).unwrap();
        for (labels, fields) in [
            ("app=web", ""),
            ("app in (db),tier", ""),
            ("!canary", "metadata.name=web-1"),
            ("", "spec.nodeName=n\"1,status.phase!=Pending"),
            ("", "spec.hostNetwork=true,spec.priority=7"),
            ("", "spec.unschedulable=false,metadata.namespace=prod"),
            ("", "spec.containers=x,status.conditions.type=Ready"),
            ("", "spec.nodeName.deeper=,metadata=x"),
        ] {
            let l = LabelSelector::parse(labels).unwrap();
            let f = FieldSelector::parse(fields).unwrap();
            let sparse = Projection::for_selectors(&l, &f).decode(&bytes).unwrap();
            assert_eq!(l.matches(&sparse), l.matches(&whole), "{labels}");
            assert_eq!(f.matches(&sparse), f.matches(&whole), "{fields}");
            for r in &f.requirements {
                assert_eq!(
                    field_value(&sparse, &r.field),
                    field_value(&whole, &r.field)
                );
            }
        }
    }

    #[test]
    fn invalid_json_is_an_error() {
        let p = projection("", "spec.nodeName=x");
        assert!(p.decode(b"{\"spec\": {").is_err());
        assert!(p.decode(b"{} trailing").is_err());
        assert_eq!(p.decode(b"null").unwrap(), Value::Null);
    }
}
