//! The OpenAPI v3 documents kubectl reads before it writes.
//!
//! kubectl (1.27+) validates on the server when the group/version document has a
//! PATCH operation for the object's kind that accepts the `fieldValidation` query
//! parameter; it then sends `fieldValidation=Strict` and leaves the checking to us.
//! These documents describe every operation Wharf serves with its parameters.
//!
//! The PATCH request bodies deliberately list JSON patch and merge patch but not
//! strategic merge patch: kubectl then computes a strategic patch from the v2
//! document's definitions (`openapi_v2.rs`), which carry the merge keys. Strategic
//! merge patches are accepted all the same.
//!
//! `components.schemas` holds every kind's schema, marked with
//! `x-kubernetes-group-version-kind` as Kubernetes marks them, which is how
//! `kubectl explain` finds a kind's fields and their descriptions. The built-in
//! kinds' schemas come from k8s-openapi (Kubernetes' own descriptions) and are
//! generated once; a custom kind's is its definition's `openAPIV3Schema`.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use wharf_api_types::custom;
use wharf_api_types::resources::{self, ResourceInfo};

/// `api/v1` or `apis/{group}/{version}`: the key of a group/version in the index.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: the index of per-group/version documents. Each URL carries a
/// hash of its document, so clients re-read a document only when it changed.
pub fn index() -> Value {
    let mut paths = Map::new();
    for (group, version) in resources::group_versions() {
        let mut h = DefaultHasher::new();
        Value::Object(operations(group, version))
            .to_string()
            .hash(&mut h);
        Value::Object(custom_components(group, version))
            .to_string()
            .hash(&mut h);
        if let Some(builtin) = builtin_components().get(&(group, version)) {
            builtin.hash.hash(&mut h);
        }
        let path = gv_path(group, version);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={:016X}", h.finish())}),
        );
    }
    json!({"paths": paths})
}

fn param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
           "schema": {"type": "string", "uniqueItems": true}})
}

fn operation_id(verb: &str, info: &ResourceInfo, namespaced_path: bool) -> String {
    let group: String = if info.group.is_empty() {
        "Core".into()
    } else {
        info.group
            .split('.')
            .next()
            .map(|g| {
                let mut c = g.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let version = {
        let mut c = info.version.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let scope = if namespaced_path { "Namespaced" } else { "" };
    format!("{verb}{group}{version}{scope}{}", info.kind)
}

fn gvk(info: &ResourceInfo) -> Value {
    json!({"group": info.group, "version": info.version, "kind": info.kind})
}

fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "When present, indicates that modifications should not be persisted. Valid values: All",
        ),
        param(
            "fieldManager",
            "A name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "How the server treats unknown and duplicate fields: Ignore, Warn (default) or Strict.",
        ),
    ]
}

fn item_operations(info: &ResourceInfo, namespaced: bool) -> Value {
    let body = json!({"content": {"application/json": {"schema": {"type": "object"}},
                                  "application/yaml": {"schema": {"type": "object"}}}});
    let ok = json!({"200": {"description": "OK"}, "401": {"description": "Unauthorized"}});
    let mut patch_params = write_params();
    patch_params.push(param(
        "force",
        "Force is going to \"force\" Apply requests.",
    ));
    json!({
        "get": {"operationId": operation_id("read", info, namespaced), "responses": ok,
                "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk(info)},
        "put": {"operationId": operation_id("replace", info, namespaced), "parameters": write_params(),
                "requestBody": body, "responses": ok,
                "x-kubernetes-action": "put", "x-kubernetes-group-version-kind": gvk(info)},
        "patch": {"operationId": operation_id("patch", info, namespaced),
                  "parameters": patch_params,
                  "requestBody": {"content": {
                      "application/json-patch+json": {"schema": {"type": "object"}},
                      "application/merge-patch+json": {"schema": {"type": "object"}}}},
                  "responses": ok,
                  "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk(info)},
        "delete": {"operationId": operation_id("delete", info, namespaced), "parameters": [
                       param("dryRun", "When present, indicates that modifications should not be persisted."),
                       param("gracePeriodSeconds", "The duration in seconds before the object should be deleted."),
                       param("propagationPolicy", "Whether and how garbage collection will be performed.")],
                   "responses": ok,
                   "x-kubernetes-action": "delete", "x-kubernetes-group-version-kind": gvk(info)},
        "parameters": [
            {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}
        ],
    })
}

fn collection_operations(info: &ResourceInfo, namespaced: bool) -> Value {
    let list_params: Vec<Value> = [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "timeoutSeconds",
    ]
    .iter()
    .map(|p| param(p, p))
    .collect();
    let ok = json!({"200": {"description": "OK"}});
    json!({
        "get": {"operationId": operation_id("list", info, namespaced), "parameters": list_params,
                "responses": ok, "x-kubernetes-action": "list",
                "x-kubernetes-group-version-kind": gvk(info)},
        "post": {"operationId": operation_id("create", info, namespaced), "parameters": write_params(),
                 "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                 "responses": {"201": {"description": "Created"}},
                 "x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk(info)},
        "delete": {"operationId": operation_id("deletecollection", info, namespaced),
                   "responses": ok, "x-kubernetes-action": "deletecollection",
                   "x-kubernetes-group-version-kind": gvk(info)},
    })
}

/// The paths of one group/version's kinds, with their operations.
fn operations(group: &str, version: &str) -> Map<String, Value> {
    let base = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    for info in resources::all()
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let (collection, namespaced) = if info.namespaced {
            (
                format!("{base}/namespaces/{{namespace}}/{}", info.plural),
                true,
            )
        } else {
            (format!("{base}/{}", info.plural), false)
        };
        paths.insert(collection.clone(), collection_operations(info, namespaced));
        paths.insert(
            format!("{collection}/{{name}}"),
            item_operations(info, namespaced),
        );
        for sub in info.subresources {
            paths.insert(
                format!("{collection}/{{name}}/{}", sub.name()),
                item_operations(info, namespaced),
            );
        }
    }
    paths
}

/// The schemas of one group/version's built-in kinds and of everything they
/// refer to, and a hash of them.
struct Components {
    schemas: Map<String, Value>,
    hash: u64,
}

/// Generated on first use (a few milliseconds) and kept: built-in kinds never
/// change while the server runs.
fn builtin_components() -> &'static HashMap<(&'static str, &'static str), Components> {
    static BUILTIN: OnceLock<HashMap<(&'static str, &'static str), Components>> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let mut by_gv: HashMap<(&'static str, &'static str), Vec<&'static ResourceInfo>> =
            HashMap::new();
        for info in resources::RESOURCES {
            by_gv
                .entry((info.group, info.version))
                .or_default()
                .push(info);
        }
        by_gv
            .into_iter()
            .map(|(gv, infos)| {
                let schemas = schemas_of(&infos);
                let mut h = DefaultHasher::new();
                Value::Object(schemas.clone()).to_string().hash(&mut h);
                let hash = h.finish();
                (gv, Components { schemas, hash })
            })
            .collect()
    })
}

/// The component name a schema reference points at.
fn ref_name(reference: &Value) -> Option<&str> {
    reference
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

fn schemas_of(infos: &[&'static ResourceInfo]) -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut kinds = Vec::new();
    for info in infos {
        if let Some(schema_fn) = info.schema {
            let reference = schema_fn(&mut generator);
            if let Some(name) = ref_name(reference.as_value()) {
                kinds.push((name.to_string(), *info));
            }
        }
    }
    let mut schemas = generator.take_definitions(true);
    for schema in schemas.values_mut() {
        without_nulls(schema);
    }
    for (name, info) in kinds {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert("x-kubernetes-group-version-kind".into(), json!([gvk(info)]));
            // The server fills metadata in (a generated name, say), so Kubernetes
            // does not publish it as required; k8s-openapi's schemas do.
            if let Some(Value::Array(required)) = schema.get_mut("required") {
                required.retain(|r| r != "metadata");
                if required.is_empty() {
                    schema.remove("required");
                }
            }
        }
    }
    schemas
}

/// Kubernetes publishes an optional field with its plain schema, while schemars
/// marks `Option<T>` as nullable (`nullable`, or `anyOf` with a null schema);
/// kubectl's explain cannot follow the `anyOf`.
fn without_nulls(schema: &mut Value) {
    let is_null =
        |s: &Value| s.get("type") == Some(&json!("null")) || s.get("enum") == Some(&json!([null]));
    match schema {
        Value::Object(map) => {
            if map.get("nullable").is_some_and(Value::is_boolean) {
                map.remove("nullable");
            }
            if let Some(Value::Array(any)) = map.get("anyOf") {
                let rest: Vec<Value> = any.iter().filter(|s| !is_null(s)).cloned().collect();
                if rest.len() == 1 && any.len() == 2 {
                    map.remove("anyOf");
                    match rest.into_iter().next() {
                        Some(only) if only.get("$ref").is_some() => {
                            map.insert("allOf".into(), json!([only]));
                        }
                        Some(Value::Object(only)) => {
                            for (k, v) in only {
                                map.entry(k).or_insert(v);
                            }
                        }
                        _ => {}
                    }
                }
            }
            for child in map.values_mut() {
                without_nulls(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_nulls),
        _ => {}
    }
}

/// Kubernetes' name for a custom kind's schema: the group reversed, then the
/// version and the kind (`com.example.v1.Greeting`).
fn custom_schema_name(info: &ResourceInfo) -> String {
    let group: Vec<&str> = info.group.split('.').rev().collect();
    format!("{}.{}.{}", group.join("."), info.version, info.kind)
}

/// The schemas of one group/version's custom kinds: each definition's schema,
/// with the `apiVersion`, `kind` and `metadata` every object has, as the
/// Kubernetes API server publishes them.
fn custom_components(group: &str, version: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let kinds: Vec<custom::CustomKind> = custom::registered()
        .into_iter()
        .filter(|c| c.info.group == group && c.info.version == version)
        .collect();
    if kinds.is_empty() {
        return out;
    }
    let mut generator = SchemaSettings::openapi3().into_generator();
    let meta = generator.subschema_for::<ObjectMeta>();
    for kind in &kinds {
        let mut schema = match &*kind.schema {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        schema.entry("type").or_insert_with(|| json!("object"));
        let properties = schema.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(properties) = properties {
            properties.insert(
                "apiVersion".into(),
                json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}),
            );
            properties.insert(
                "kind".into(),
                json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}),
            );
            properties.insert(
                "metadata".into(),
                json!({"allOf": [meta.as_value()], "description": "Standard object's metadata."}),
            );
        }
        schema.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk(kind.info)]),
        );
        out.insert(custom_schema_name(kind.info), Value::Object(schema));
    }
    out.extend(generator.take_definitions(true));
    out
}

/// Every schema of every served group/version, by component name, and the names of
/// the built-in kinds' own schemas (the roots of their objects): what the OpenAPI v2
/// document is made of (see `openapi_v2.rs`).
pub(crate) fn all_schemas() -> (Map<String, Value>, Vec<String>) {
    let mut schemas = Map::new();
    let mut roots = Vec::new();
    for (group, version) in resources::group_versions() {
        if let Some(builtin) = builtin_components().get(&(group, version)) {
            for (name, schema) in &builtin.schemas {
                if schema.get("x-kubernetes-group-version-kind").is_some() {
                    roots.push(name.clone());
                }
                schemas.insert(name.clone(), schema.clone());
            }
        }
        schemas.extend(custom_components(group, version));
    }
    roots.sort();
    roots.dedup();
    (schemas, roots)
}

/// The document of one group/version, if served.
pub fn document(group: &str, version: &str) -> Option<Value> {
    let paths = operations(group, version);
    if paths.is_empty() {
        return None;
    }
    let mut schemas = builtin_components()
        .get(&(group, version))
        .map(|c| c.schemas.clone())
        .unwrap_or_default();
    schemas.extend(custom_components(group, version));
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{}.0", crate::discovery::KUBERNETES_MINOR)},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_patch_operation_offers_field_validation() {
        let doc = document("", "v1").unwrap();
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
        let names: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"));
        assert_eq!(patch["operationId"], "patchCoreV1NamespacedPod");
    }

    #[test]
    fn kinds_have_schemas_that_kubectl_explain_finds() {
        let doc = document("", "v1").unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let pod = &schemas["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["x-kubernetes-group-version-kind"],
            json!([{"group": "", "version": "v1", "kind": "Pod"}])
        );
        assert!(pod["description"].as_str().unwrap().contains("containers"));
        // Every reference resolves within the document.
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        let apps = document("apps", "v1").unwrap();
        assert_eq!(
            apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]
                [0]["kind"],
            "Deployment"
        );
        let plugins = document("wharf.dev", "v1alpha1").unwrap();
        assert_eq!(
            plugins["components"]["schemas"]["dev.wharf.v1alpha1.Plugin"]["x-kubernetes-group-version-kind"]
                [0]["kind"],
            "Plugin"
        );
    }

    #[test]
    fn index_points_at_every_group_version() {
        let idx = index();
        for key in ["api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1"] {
            let url = idx["paths"][key]["serverRelativeURL"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("/openapi/v3/{key}?hash=")),
                "{url}"
            );
        }
    }
}
