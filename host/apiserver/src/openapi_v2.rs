//! The OpenAPI v2 (Swagger 2.0) document at `/openapi/v2`, which kubectl 1.32 still
//! reads where the v3 documents do not serve it:
//!
//! - Client-side validation of a `kind: List` manifest (what `kubectl get -o yaml`
//!   writes for several objects): kubectl validates each item against the v2
//!   definitions before it creates any. Without this document,
//!   `kubectl create -f list.yaml` stopped at "the server could not find the
//!   requested resource".
//! - `kubectl apply` computes its strategic merge patch from the v2 definition of
//!   the object's kind when the v3 document offers no strategic PATCH (see
//!   `openapi.rs`), so the definitions carry Kubernetes' patch strategies
//!   (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`), taken from the
//!   same table the server merges with (`wharf_patch::published_strategy`). Without
//!   them kubectl would replace lists such as a pod's containers wholesale.
//! - `kubectl explain --output=plaintext-openapiv2`.
//!
//! kubectl asks for it as protobuf (gnostic's `openapi.v2.Document`); anything
//! else gets JSON. The definitions are the v3 documents' schemas written the v2
//! way (`#/definitions/` references, no `allOf` wrappers). `paths` is empty:
//! kubectl reads operations from the v3 documents, which list them all.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};
use wharf_patch::PublishedStrategy;

/// The `Content-Type` of the protobuf form. kubectl asks for
/// `...spec.v2@v1.0+protobuf`, but an `@` is not allowed in a media type and
/// client-go refuses a response that carries one; kube-apiserver answers with this.
pub const PROTOBUF_MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The types kubectl's OpenAPI v2 reader accepts.
const V2_TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean"];

const V3_PREFIX: &str = "#/components/schemas/";
const V2_PREFIX: &str = "#/definitions/";

/// The whole document, as JSON.
pub fn document() -> Value {
    let (schemas, roots) = crate::openapi::all_schemas();
    let mut definitions: Map<String, Value> = schemas
        .iter()
        .map(|(name, schema)| (name.clone(), to_v2(schema)))
        .collect();
    annotate_patch_strategies(&mut definitions, &roots);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{}.0", crate::discovery::KUBERNETES_MINOR)},
        "paths": {},
        "definitions": definitions,
    })
}

/// Whether a request's `Accept` asks for the protobuf form.
pub fn wants_protobuf(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/com.github.proto-openapi.spec.v2"))
}

/// The reference a v3 schema makes, directly or as the single member of `allOf`
/// (how a field with its own description refers to a type).
fn v3_reference(schema: &Map<String, Value>) -> Option<&str> {
    let reference = match schema.get("allOf") {
        Some(Value::Array(all)) if all.len() == 1 => all[0].get("$ref"),
        _ => schema.get("$ref"),
    };
    reference?.as_str()?.strip_prefix(V3_PREFIX)
}

/// One v3 schema written as v2. Keeps what a v2 schema can say and Kubernetes
/// publishes (references, types, formats, descriptions, required fields,
/// properties, items, additional properties, `x-kubernetes-*` extensions). An
/// array without `items` loses its type, since kubectl refuses such an array; a
/// schema without a type (IntOrString, Quantity) accepts any value, as in
/// Kubernetes' own v2 document. A type kubectl does not know is left out too.
fn to_v2(schema: &Value) -> Value {
    let Value::Object(v3) = schema else {
        return json!({});
    };
    let mut out = Map::new();
    if let Some(name) = v3_reference(v3) {
        out.insert("$ref".into(), Value::from(format!("{V2_PREFIX}{name}")));
    }
    for key in ["description", "format"] {
        if let Some(Value::String(s)) = v3.get(key) {
            out.insert(key.into(), Value::from(s.clone()));
        }
    }
    if let Some(Value::Array(required)) = v3.get("required") {
        out.insert("required".into(), Value::Array(required.clone()));
    }
    if let Some(Value::Object(properties)) = v3.get("properties") {
        let converted: Map<String, Value> = properties
            .iter()
            .map(|(name, s)| (name.clone(), to_v2(s)))
            .collect();
        out.insert("properties".into(), Value::Object(converted));
    }
    if let Some(items) = v3.get("items").filter(|i| i.is_object()) {
        out.insert("items".into(), to_v2(items));
    }
    match v3.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            out.insert("additionalProperties".into(), Value::Bool(*b));
        }
        Some(more @ Value::Object(_)) => {
            out.insert("additionalProperties".into(), to_v2(more));
        }
        _ => {}
    }
    // kubectl refuses the whole document over one type it does not know, so a
    // custom kind's schema with an odd type cannot take everyone's validation down.
    if let Some(Value::String(t)) = v3.get("type")
        && V2_TYPES.contains(&t.as_str())
        && (t != "array" || out.contains_key("items"))
    {
        out.insert("type".into(), Value::from(t.clone()));
    }
    for (key, value) in v3 {
        if key.starts_with("x-kubernetes-") {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// The definition a v2 schema refers to.
fn v2_reference(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(V2_PREFIX)
}

/// Marks every field of the built-in kinds that has a patch strategy, walking each
/// kind's definitions from its root the way a strategic merge patch walks an
/// object: a field is named by the field that holds it (`""` at the top, the list
/// field for a list's elements).
fn annotate_patch_strategies(definitions: &mut Map<String, Value>, roots: &[String]) {
    let mut found = BTreeMap::new();
    let mut seen = HashSet::new();
    for root in roots {
        collect_strategies(definitions, root, "", &mut seen, &mut found);
    }
    for ((definition, field), strategy) in found {
        let Some(Value::Object(property)) = definitions
            .get_mut(&definition)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(&field))
        else {
            continue;
        };
        property.insert(
            "x-kubernetes-patch-strategy".into(),
            Value::from(strategy.strategy),
        );
        if let Some(key) = strategy.merge_key {
            property.insert("x-kubernetes-patch-merge-key".into(), Value::from(key));
        }
    }
}

fn collect_strategies(
    definitions: &Map<String, Value>,
    name: &str,
    parent: &str,
    seen: &mut HashSet<(String, String)>,
    found: &mut BTreeMap<(String, String), PublishedStrategy>,
) {
    if !seen.insert((name.to_string(), parent.to_string())) {
        return;
    }
    let Some(Value::Object(properties)) = definitions.get(name).and_then(|d| d.get("properties"))
    else {
        return;
    };
    for (field, schema) in properties {
        let is_list = schema.get("type").and_then(Value::as_str) == Some("array");
        if let Some(strategy) = wharf_patch::published_strategy(parent, field, is_list) {
            found
                .entry((name.to_string(), field.clone()))
                .or_insert(strategy);
        }
        let holds = if is_list {
            schema.get("items")
        } else {
            Some(schema)
        };
        if let Some(next) = holds.and_then(v2_reference) {
            collect_strategies(definitions, next, field, seen, found);
        }
    }
}

/// The document as gnostic's `openapi.v2.Document` protobuf message, which is what
/// client-go's `OpenAPISchema()` decodes.
pub fn protobuf(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    pb::string(&mut out, 1, doc["swagger"].as_str().unwrap_or("2.0"));
    pb::message(&mut out, 2, |info| {
        pb::string(info, 1, doc["info"]["title"].as_str().unwrap_or_default());
        pb::string(info, 2, doc["info"]["version"].as_str().unwrap_or_default());
    });
    pb::message(&mut out, 8, |_paths| {});
    pb::message(&mut out, 9, |definitions| {
        if let Some(Value::Object(defs)) = doc.get("definitions") {
            for (name, schema) in defs {
                named_schema(definitions, 1, name, schema);
            }
        }
    });
    out
}

/// A `NamedSchema` (name 1, value 2) in field `field`.
fn named_schema(out: &mut Vec<u8>, field: u32, name: &str, schema: &Value) {
    pb::message(out, field, |named| {
        pb::string(named, 1, name);
        pb::message(named, 2, |s| encode_schema(s, schema));
    });
}

/// The fields of a `Schema` message that [`to_v2`] produces.
fn encode_schema(out: &mut Vec<u8>, schema: &Value) {
    let Value::Object(s) = schema else { return };
    let text = |key: &str| s.get(key).and_then(Value::as_str).unwrap_or_default();
    pb::string(out, 1, text("$ref"));
    pb::string(out, 2, text("format"));
    pb::string(out, 4, text("description"));
    if let Some(Value::Array(required)) = s.get("required") {
        for r in required.iter().filter_map(Value::as_str) {
            pb::string_always(out, 19, r);
        }
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => pb::message(out, 21, |item| pb::boolean(item, 2, *b)),
        Some(more @ Value::Object(_)) => pb::message(out, 21, |item| {
            pb::message(item, 1, |inner| encode_schema(inner, more));
        }),
        _ => {}
    }
    if let Some(Value::String(t)) = s.get("type") {
        pb::message(out, 22, |types| pb::string_always(types, 1, t));
    }
    if let Some(items) = s.get("items") {
        pb::message(out, 23, |item| {
            pb::message(item, 1, |inner| encode_schema(inner, items));
        });
    }
    if let Some(Value::Object(properties)) = s.get("properties") {
        pb::message(out, 25, |props| {
            for (name, property) in properties {
                named_schema(props, 1, name, property);
            }
        });
    }
    for (key, value) in s.iter().filter(|(k, _)| k.starts_with("x-")) {
        // `NamedAny` (name 1, value 2) whose `Any` holds the value as YAML
        // (field 2); JSON is YAML.
        pb::message(out, 31, |named| {
            pb::string(named, 1, key);
            pb::message(named, 2, |any| pb::string(any, 2, &value.to_string()));
        });
    }
}

/// The few protobuf wire encodings the document needs.
mod pb {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn tag(out: &mut Vec<u8>, field: u32, wire_type: u8) {
        varint(out, (u64::from(field) << 3) | u64::from(wire_type));
    }

    /// A string field; proto3 leaves an empty one out.
    pub fn string(out: &mut Vec<u8>, field: u32, s: &str) {
        if !s.is_empty() {
            string_always(out, field, s);
        }
    }

    /// A string in a repeated field, where an empty one is still an element.
    pub fn string_always(out: &mut Vec<u8>, field: u32, s: &str) {
        tag(out, field, 2);
        varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    pub fn boolean(out: &mut Vec<u8>, field: u32, b: bool) {
        tag(out, field, 0);
        varint(out, u64::from(b));
    }

    /// A message field, written even when empty: presence matters (a schema with
    /// `properties`, even none, is an object kind to kubectl).
    pub fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
        let mut inner = Vec::new();
        body(&mut inner);
        tag(out, field, 2);
        varint(out, inner.len() as u64);
        out.extend_from_slice(&inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_resolve_and_name_their_kinds() {
        let doc = document();
        let defs = doc["definitions"].as_object().unwrap();
        let text = doc.to_string();
        assert!(!text.contains(V3_PREFIX), "every reference is rewritten");
        for reference in text.split("\"$ref\":\"#/definitions/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(defs.contains_key(name), "dangling reference to {name}");
        }
        assert_eq!(
            defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        // A field with its own description refers to its type directly.
        let spec = &defs["io.k8s.api.core.v1.Pod"]["properties"]["spec"];
        assert_eq!(spec["$ref"], "#/definitions/io.k8s.api.core.v1.PodSpec");
        assert!(spec.get("allOf").is_none());
        // kubectl refuses an array without items.
        fn arrays_have_items(schema: &Value) -> bool {
            match schema {
                Value::Object(m) => {
                    (m.get("type") != Some(&json!("array")) || m.contains_key("items"))
                        && m.values().all(arrays_have_items)
                }
                Value::Array(a) => a.iter().all(arrays_have_items),
                _ => true,
            }
        }
        assert!(arrays_have_items(&doc["definitions"]));
    }

    #[test]
    fn types_kubectl_cannot_read_are_left_out() {
        // A custom kind stored before its schema was checked may hold these;
        // kubectl would refuse the whole document over either.
        assert_eq!(
            to_v2(&json!({"type": "foo", "description": "d"})),
            json!({"description": "d"})
        );
        assert_eq!(to_v2(&json!({"type": "array"})), json!({}));
        assert_eq!(
            to_v2(&json!({"type": "array", "items": {"type": "null"}})),
            json!({"type": "array", "items": {}})
        );
    }

    #[test]
    fn fields_carry_kubernetes_patch_strategies() {
        let doc = document();
        let defs = &doc["definitions"];
        let field = |def: &str, field: &str| defs[def]["properties"][field].clone();
        let containers = field("io.k8s.api.core.v1.PodSpec", "containers");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        let volumes = field("io.k8s.api.core.v1.PodSpec", "volumes");
        assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
        let ports = field("io.k8s.api.core.v1.Container", "ports");
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
        let service_ports = field("io.k8s.api.core.v1.ServiceSpec", "ports");
        assert_eq!(service_ports["x-kubernetes-patch-merge-key"], "port");
        let strategy = field("io.k8s.api.apps.v1.DeploymentSpec", "strategy");
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        let finalizers = field(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        );
        assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
        assert!(finalizers.get("x-kubernetes-patch-merge-key").is_none());
        // Lists without a tag are replaced: nothing is published for them.
        let tolerations = field("io.k8s.api.core.v1.PodSpec", "tolerations");
        assert!(tolerations.get("x-kubernetes-patch-strategy").is_none());
        let subsets = field("io.k8s.api.core.v1.Endpoints", "subsets");
        assert!(subsets.get("x-kubernetes-patch-strategy").is_none());
    }

    #[test]
    fn protobuf_starts_with_the_version_and_holds_every_definition() {
        let doc = document();
        let bytes = protobuf(&doc);
        // Field 1 (swagger), length 3, "2.0".
        assert_eq!(&bytes[..5], b"\x0a\x032.0");
        let defs = doc["definitions"].as_object().unwrap();
        for name in defs.keys() {
            let needle = name.as_bytes();
            assert!(
                bytes.windows(needle.len()).any(|w| w == needle),
                "{name} is in the protobuf form"
            );
        }
    }
}
