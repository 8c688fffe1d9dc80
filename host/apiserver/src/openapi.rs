//! The OpenAPI v3 documents kubectl reads before it writes.
//!
//! kubectl (1.27+) validates on the server when the group/version document has a
//! PATCH operation for the object's kind that accepts the `fieldValidation` query
//! parameter; it then sends `fieldValidation=Strict` and leaves the checking to us.
//! These documents describe every operation Wharf serves with its parameters.
//!
//! The PATCH request bodies deliberately list JSON patch and merge patch but not
//! strategic merge patch: kubectl computes a strategic patch from the OpenAPI
//! schema only when the document offers one, and otherwise from the Kubernetes types
//! compiled into kubectl itself — the same merge keys, without needing Wharf to
//! publish every schema. Strategic merge patches are accepted all the same.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};
use wharf_api_types::resources::{self, ResourceInfo};

/// `api/v1` or `apis/{group}/{version}`: the key of a group/version in the index.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: the index of per-group/version documents.
pub fn index() -> Value {
    let mut paths = Map::new();
    for (group, version) in resources::group_versions() {
        let doc = document(group, version).unwrap_or(Value::Null);
        let mut h = DefaultHasher::new();
        doc.to_string().hash(&mut h);
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

/// The document of one group/version, if served.
pub fn document(group: &str, version: &str) -> Option<Value> {
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
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{}.0", crate::discovery::KUBERNETES_MINOR)},
        "paths": paths,
        "components": {"schemas": {}},
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
