//! Reading and writing `metadata` on JSON objects, and the server-set values in it
//! (uids, timestamps, generated names).

use serde_json::{Map, Value};

/// `metadata` as a map, created if absent or not an object.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Value::Object(map) = obj else {
        unreachable!("made an object above")
    };
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    match meta {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

pub fn str_field<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

pub fn name(obj: &Value) -> Option<&str> {
    str_field(obj, "/metadata/name").filter(|s| !s.is_empty())
}

pub fn namespace(obj: &Value) -> Option<&str> {
    str_field(obj, "/metadata/namespace").filter(|s| !s.is_empty())
}

pub fn resource_version(obj: &Value) -> Option<&str> {
    str_field(obj, "/metadata/resourceVersion").filter(|s| !s.is_empty())
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// Sets `metadata.<field>`.
pub fn set(obj: &mut Value, field: &str, value: impl Into<Value>) {
    metadata_mut(obj).insert(field.to_string(), value.into());
}

/// Now, as Kubernetes writes timestamps (RFC 3339, whole seconds, UTC).
pub fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

/// A `MicroTime` (Lease renewTime, Event eventTime): RFC 3339 with microseconds.
pub fn now_micro_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The random suffix `generateName` gets: five characters from the alphabet
/// Kubernetes uses (no vowels, no confusable digits).
pub fn generated_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let random = uuid::Uuid::new_v4();
    random.as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The name `generateName` yields: the prefix, cut so the whole fits 63 characters,
/// plus the suffix.
pub fn generate_name(prefix: &str) -> String {
    let max_prefix = 63 - 5;
    let mut end = prefix.len().min(max_prefix);
    // Never cut inside a character (validation rejects non-ASCII names anyway).
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &prefix[..end];
    format!("{cut}{}", generated_suffix())
}

/// The array at `obj[field]`, or an empty slice when it is missing or not an array.
pub fn array<'a>(obj: &'a Value, field: &str) -> &'a [Value] {
    obj.get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generate_name_keeps_prefix_and_bounds_length() {
        let n = generate_name("web-");
        assert!(n.starts_with("web-") && n.len() == 9, "{n}");
        assert_eq!(generate_name(&"x".repeat(100)).len(), 63);
        assert!(generate_name(&"€".repeat(30)).starts_with('€'));
    }

    #[test]
    fn metadata_is_created_on_demand() {
        let mut obj = json!({"kind": "Pod"});
        set(&mut obj, "name", "p");
        assert_eq!(name(&obj), Some("p"));
        assert_eq!(namespace(&obj), None);
        assert!(!is_deleting(&obj));
    }

    #[test]
    fn timestamps_are_whole_seconds_utc() {
        let t: jiff::Timestamp = "2024-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(rfc3339(t), "2024-01-02T03:04:05Z");
    }
}
