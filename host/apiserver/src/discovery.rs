//! Discovery documents: `/version`, `/api`, `/apis`, and the resource list of each
//! group/version, derived from the resource table. kubectl reads these to map kinds
//! to paths, short names (`po`, `deploy`) and categories (`all`).

use serde_json::{Value, json};
use wharf_api_types::resources::{self, ResourceInfo, Subresource};

/// The Kubernetes version whose API Wharf serves.
pub const KUBERNETES_MINOR: &str = "32";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": KUBERNETES_MINOR,
        "gitVersion": format!("v1.{KUBERNETES_MINOR}.0-wharf.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a (Rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/api`: the core group's versions.
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    })
}

/// Every group/version served: the stored kinds' and the reviews'.
fn served_group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out = resources::group_versions();
    for gv in crate::review::group_versions() {
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

fn group_json(group: &str) -> Value {
    let mut versions: Vec<(&str, &str)> = served_group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .collect();
    // In Kubernetes' version priority: the first is the preferred one, which
    // kubectl uses for a kind served in several.
    versions.sort_by_key(|(_, v)| wharf_api_types::custom::version_priority(v));
    let versions: Vec<Value> = versions
        .into_iter()
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

/// `/apis`: every named group.
pub fn groups() -> Value {
    let mut names: Vec<&str> = Vec::new();
    for (g, _) in served_group_versions() {
        if !g.is_empty() && !names.contains(&g) {
            names.push(g);
        }
    }
    let groups: Vec<Value> = names.into_iter().map(group_json).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if the group is served.
pub fn group(group: &str) -> Option<Value> {
    served_group_versions()
        .iter()
        .any(|(g, _)| *g == group && !g.is_empty())
        .then(|| {
            let mut doc = group_json(group);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            doc
        })
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entry(info: &ResourceInfo) -> Value {
    let mut entry = json!({
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": VERBS,
    });
    if (info.group, info.kind) == ("", "Namespace") {
        // As Kubernetes lists them: namespaces have no deletecollection.
        entry["verbs"] = json!(
            VERBS
                .iter()
                .filter(|v| **v != "deletecollection")
                .collect::<Vec<_>>()
        );
    }
    if !info.short_names.is_empty() {
        entry["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        entry["categories"] = json!(info.categories);
    }
    entry
}

fn subresource_entry(info: &ResourceInfo, sub: Subresource) -> Value {
    let (kind, group, version, verbs): (&str, Option<&str>, Option<&str>, &[&str]) = match sub {
        Subresource::Status => (info.kind, None, None, &["get", "patch", "update"]),
        Subresource::Scale => (
            "Scale",
            Some("autoscaling"),
            Some("v1"),
            &["get", "patch", "update"],
        ),
        Subresource::Binding => ("Binding", None, None, &["create"]),
        Subresource::Finalize => (info.kind, None, None, &["update"]),
        Subresource::Eviction => ("Eviction", Some("policy"), Some("v1"), &["create"]),
    };
    let mut entry = json!({
        "name": format!("{}/{}", info.plural, sub.name()),
        "singularName": "",
        "namespaced": info.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let (Some(g), Some(v)) = (group, version) {
        entry["group"] = json!(g);
        entry["version"] = json!(v);
    }
    entry
}

/// `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for info in resources::all()
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(resource_entry(info));
        for sub in info.subresources {
            resources.push(subresource_entry(info, *sub));
        }
    }
    // Component statuses are probed when read, never stored or watched; a
    // Binding is created (binding the pod it names) and never stored.
    if (group, version) == ("", "v1") {
        resources.push(json!({
            "name": "bindings",
            "singularName": "binding",
            "namespaced": true,
            "kind": "Binding",
            "verbs": ["create"],
        }));
        resources.push(json!({
            "name": crate::components::PLURAL,
            "singularName": "componentstatus",
            "namespaced": false,
            "kind": crate::components::KIND,
            "verbs": ["get", "list"],
            "shortNames": crate::components::SHORT_NAMES,
        }));
    }
    // Reviews are created and answered, never stored: `create` is their one verb.
    for review in crate::review::REVIEWS
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(json!({
            "name": review.plural,
            "singularName": "",
            "namespaced": false,
            "kind": review.kind,
            "verbs": ["create"],
        }));
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_has_pods_with_short_names_and_subresources() {
        let doc = resource_list("", "v1").unwrap();
        let pods = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods")
            .unwrap();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        let names: Vec<&str> = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"pods/status") && names.contains(&"pods/binding"));
        assert!(resource_list("nope", "v1").is_none());
    }

    #[test]
    fn groups_list_named_groups_only() {
        let doc = groups();
        let names: Vec<&str> = doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "apps",
                "discovery.k8s.io",
                "coordination.k8s.io",
                "scheduling.k8s.io",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "apiextensions.k8s.io",
                "wharf.dev",
                "authorization.k8s.io",
                "authentication.k8s.io"
            ]
        );
        assert_eq!(
            group("apps").unwrap()["preferredVersion"]["groupVersion"],
            "apps/v1"
        );
        assert!(group("").is_none());
    }

    #[test]
    fn reviews_are_listed_as_create_only() {
        let doc = resource_list("authorization.k8s.io", "v1").unwrap();
        let ssar = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "selfsubjectaccessreviews")
            .unwrap();
        assert_eq!(ssar["kind"], "SelfSubjectAccessReview");
        assert_eq!(ssar["verbs"], json!(["create"]));
        assert_eq!(ssar["namespaced"], false);
        assert_eq!(
            group("authentication.k8s.io").unwrap()["preferredVersion"]["groupVersion"],
            "authentication.k8s.io/v1"
        );
    }
}
