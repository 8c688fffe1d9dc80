//! `rbac.authorization.k8s.io/v1`: Roles, ClusterRoles and their bindings, checked
//! and defaulted as Kubernetes checks and defaults them, and the ClusterRoles every
//! cluster starts with.
//!
//! Wharf stores these objects so that manifests and charts that carry them apply,
//! and so that tools reading them find what they wrote. It does not enforce them:
//! the API server admits every request, as kube-apiserver does with
//! `--authorization-mode=AlwaysAllow` (see `docs/architecture.md`).

use crate::meta::array as list;
use serde_json::{Map, Value, json};

use crate::validation::{FieldError, path_segment_name, validate_label_selector};

pub const GROUP: &str = "rbac.authorization.k8s.io";

const SUBJECT_KINDS: &[&str] = &["ServiceAccount", "User", "Group"];

/// Whether `kind` is one of this group's, whose names are path segments.
pub fn is_rbac_kind(group: &str) -> bool {
    group == GROUP
}

/// `SetDefaults_RoleBinding` and `SetDefaults_Subject`: the role reference's group,
/// and a user's or group's subject group.
pub fn apply_binding_defaults(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    if let Some(role_ref) = map.get_mut("roleRef").and_then(Value::as_object_mut)
        && role_ref
            .get("apiGroup")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        role_ref.insert("apiGroup".into(), Value::from(GROUP));
    }
    for subject in map
        .get_mut("subjects")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(subject) = subject.as_object_mut() else {
            continue;
        };
        if subject
            .get("apiGroup")
            .and_then(Value::as_str)
            .is_some_and(|g| !g.is_empty())
        {
            continue;
        }
        // A ServiceAccount's group is the core one, "", which JSON leaves out.
        if matches!(
            subject.get("kind").and_then(Value::as_str),
            Some("User" | "Group")
        ) {
            subject.insert("apiGroup".into(), Value::from(GROUP));
        }
    }
}

/// A Role's or ClusterRole's rules (`ValidatePolicyRule`), and a ClusterRole's
/// aggregation rule.
pub fn validate_role(obj: &Value, namespaced: bool, errors: &mut Vec<FieldError>) {
    for (i, rule) in list(obj, "rules").iter().enumerate() {
        validate_rule(rule, namespaced, &format!("rules[{i}]"), errors);
    }
    if namespaced {
        return;
    }
    match obj.get("aggregationRule") {
        None | Some(Value::Null) => {}
        Some(rule) => {
            let selectors = list(rule, "clusterRoleSelectors");
            if selectors.is_empty() {
                errors.push(FieldError::required_because(
                    "aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                ));
            }
            for (i, selector) in selectors.iter().enumerate() {
                validate_label_selector(
                    selector,
                    &format!("aggregationRule.clusterRoleSelectors[{i}]"),
                    errors,
                );
            }
        }
    }
}

fn validate_rule(rule: &Value, namespaced: bool, path: &str, errors: &mut Vec<FieldError>) {
    if list(rule, "verbs").is_empty() {
        errors.push(FieldError::required_because(
            &format!("{path}.verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = list(rule, "nonResourceURLs");
    if !urls.is_empty() {
        let shown = Value::Array(urls.to_vec());
        if namespaced {
            errors.push(FieldError::invalid(
                &format!("{path}.nonResourceURLs"),
                &shown,
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if ["apiGroups", "resources", "resourceNames"]
            .iter()
            .any(|field| !list(rule, field).is_empty())
        {
            errors.push(FieldError::invalid(
                &format!("{path}.nonResourceURLs"),
                &shown,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if list(rule, "apiGroups").is_empty() {
        errors.push(FieldError::required_because(
            &format!("{path}.apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if list(rule, "resources").is_empty() {
        errors.push(FieldError::required_because(
            &format!("{path}.resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

/// A RoleBinding's or ClusterRoleBinding's role reference and subjects
/// (`ValidateRoleBinding`, `ValidateClusterRoleBinding`); a ClusterRoleBinding
/// names a ClusterRole, and its ServiceAccount subjects name their namespace.
pub fn validate_binding(obj: &Value, namespaced: bool, errors: &mut Vec<FieldError>) {
    let role_ref = obj.get("roleRef");
    let field = |name: &str| {
        role_ref
            .and_then(|r| r.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    if field("apiGroup") != GROUP {
        errors.push(FieldError::not_supported(
            "roleRef.apiGroup",
            &Value::from(field("apiGroup")),
            &[GROUP],
        ));
    }
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&field("kind")) {
        errors.push(FieldError::not_supported(
            "roleRef.kind",
            &Value::from(field("kind")),
            kinds,
        ));
    }
    match field("name") {
        "" => errors.push(FieldError::required("roleRef.name")),
        name => {
            if let Err(why) = path_segment_name(name) {
                errors.push(FieldError::invalid(
                    "roleRef.name",
                    &Value::from(name),
                    &why,
                ));
            }
        }
    }
    for (i, subject) in list(obj, "subjects").iter().enumerate() {
        validate_subject(subject, namespaced, &format!("subjects[{i}]"), errors);
    }
}

fn validate_subject(subject: &Value, namespaced: bool, path: &str, errors: &mut Vec<FieldError>) {
    let field = |name: &str| {
        subject
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let name = field("name");
    if name.is_empty() {
        errors.push(FieldError::required(&format!("{path}.name")));
    }
    let group = field("apiGroup");
    match field("kind") {
        "ServiceAccount" => {
            if !name.is_empty()
                && let Err(why) = crate::validation::dns1123_subdomain(name)
            {
                errors.push(FieldError::invalid(
                    &format!("{path}.name"),
                    &Value::from(name),
                    &why,
                ));
            }
            if !group.is_empty() {
                errors.push(FieldError::not_supported(
                    &format!("{path}.apiGroup"),
                    &Value::from(group),
                    &[""],
                ));
            }
            if !namespaced && field("namespace").is_empty() {
                errors.push(FieldError::required(&format!("{path}.namespace")));
            }
        }
        "User" | "Group" => {
            if group != GROUP {
                errors.push(FieldError::not_supported(
                    &format!("{path}.apiGroup"),
                    &Value::from(group),
                    &[GROUP],
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            &format!("{path}.kind"),
            &Value::from(other),
            SUBJECT_KINDS,
        )),
    }
}

/// A binding's role reference may not change (`ValidateRoleBindingUpdate`): what a
/// binding grants is fixed; to grant another role, make another binding.
pub fn check_binding_update(new: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    if new.get("roleRef") != old.get("roleRef") {
        errors.push(FieldError::invalid(
            "roleRef",
            new.get("roleRef").unwrap_or(&Value::Null),
            "cannot change roleRef",
        ));
    }
}

/// The label that adds a ClusterRole's rules to the user-facing role `to`
/// (`admin`, `edit` or `view`), through its aggregation rule.
pub fn aggregate_to(to: &str) -> String {
    format!("{GROUP}/aggregate-to-{to}")
}

/// The ClusterRoles a new cluster has, as kube-apiserver's RBAC bootstrap policy
/// builds them: `cluster-admin` (everything), bound to `system:masters`; and the
/// user-facing `admin`, `edit` and `view`, which `kubectl create rolebinding
/// --clusterrole=…` usually names, aggregated (by the `clusterrole-aggregation`
/// controller) from `system:aggregate-to-{admin,edit,view}` and from each other:
/// `view` feeds `edit`, which feeds `admin`. Their rules cover the kinds Wharf
/// serves.
pub fn bootstrap_cluster_roles() -> Vec<Value> {
    let read = ["get", "list", "watch"];
    let write = ["create", "delete", "deletecollection", "patch", "update"];
    let readable_core = [
        "configmaps",
        "endpoints",
        "events",
        "namespaces",
        "pods",
        "pods/log",
        "pods/status",
        "serviceaccounts",
        "services",
        "services/status",
    ];
    let workloads = [
        "deployments",
        "deployments/scale",
        "replicasets",
        "replicasets/scale",
    ];
    let view_rules = vec![
        rule(&[""], &readable_core, &read),
        rule(&["apps"], &workloads, &read),
        rule(&["discovery.k8s.io"], &["endpointslices"], &read),
        rule(&["policy"], &["poddisruptionbudgets"], &read),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
            &read,
        ),
    ];
    let edit_rules = vec![
        rule(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "pods",
                "pods/eviction",
                "secrets",
                "serviceaccounts",
                "services",
            ],
            &write,
        ),
        rule(&[""], &["secrets"], &read),
        rule(&["apps"], &workloads, &write),
        rule(&["policy"], &["poddisruptionbudgets"], &write),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            &write,
        ),
    ];
    let admin_rules = vec![rule(
        &[GROUP],
        &["rolebindings", "roles"],
        &[&write[..], &read[..]].concat(),
    )];
    let aggregated = |name: &str, feeds: Option<&str>| {
        let mut role = cluster_role(name, vec![]);
        role["aggregationRule"] = json!({"clusterRoleSelectors": [
            {"matchLabels": {aggregate_to(name): "true"}}]});
        if let Some(to) = feeds {
            role["metadata"]["labels"][aggregate_to(to)] = json!("true");
        }
        role
    };
    let part = |to: &str, rules: Vec<Value>| {
        let mut role = cluster_role(&format!("system:aggregate-to-{to}"), rules);
        role["metadata"]["labels"][aggregate_to(to)] = json!("true");
        role
    };
    vec![
        cluster_role(
            "cluster-admin",
            vec![
                rule(&["*"], &["*"], &["*"]),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
        ),
        aggregated("admin", None),
        aggregated("edit", Some("admin")),
        aggregated("view", Some("edit")),
        part("admin", admin_rules),
        part("edit", edit_rules),
        part("view", view_rules),
    ]
}

/// `cluster-admin` for the `system:masters` group, as on every Kubernetes cluster.
pub fn bootstrap_cluster_role_binding() -> Value {
    json!({
        "metadata": {
            "name": "cluster-admin",
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": "system:masters"}],
    })
}

fn cluster_role(name: &str, rules: Vec<Value>) -> Value {
    json!({
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    })
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    let mut map = Map::new();
    map.insert("apiGroups".into(), json!(groups));
    map.insert("resources".into(), json!(resources));
    map.insert("verbs".into(), json!(verbs));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(f: impl FnOnce(&mut Vec<FieldError>)) -> Vec<String> {
        let mut errors = Vec::new();
        f(&mut errors);
        errors.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn rules_need_verbs_groups_and_resources_or_urls_alone() {
        let role = json!({"rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"resources": ["pods"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"], "resources": ["pods"]},
        ]});
        let found = messages(|e| validate_role(&role, true, e));
        assert_eq!(
            found,
            [
                "rules[1].verbs: Required value: verbs must contain at least one value",
                "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[2].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs",
                "rules[2].nonResourceURLs: Invalid value: [\"/healthz\"]: rules cannot apply to both regular resources and non-resource URLs",
            ]
        );
        // A ClusterRole may name URLs; an aggregation rule needs a selector.
        let cluster = json!({"rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
                             "aggregationRule": {"clusterRoleSelectors": []}});
        assert_eq!(
            messages(|e| validate_role(&cluster, false, e)),
            [
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
            ]
        );
    }

    #[test]
    fn bindings_are_defaulted_then_checked_as_kubernetes_does() {
        let mut binding = json!({
            "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [
                {"kind": "User", "name": "jane"},
                {"kind": "ServiceAccount", "name": "bot"},
                {"kind": "Robot", "name": "r2"},
            ],
        });
        apply_binding_defaults(&mut binding);
        assert_eq!(binding["roleRef"]["apiGroup"], GROUP);
        assert_eq!(binding["subjects"][0]["apiGroup"], GROUP);
        assert!(binding["subjects"][1].get("apiGroup").is_none());
        assert!(binding["subjects"][2].get("apiGroup").is_none());
        assert_eq!(
            messages(|e| validate_binding(&binding, true, e)),
            [
                "subjects[2].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
            ]
        );
        // Cluster-wide: only ClusterRoles, and service accounts name their namespace.
        assert_eq!(
            messages(|e| validate_binding(&binding, false, e))[..2],
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[1].namespace: Required value",
            ]
        );
        let bad = json!({"roleRef": {"apiGroup": "x", "kind": "ClusterRole", "name": "a/b"}});
        assert_eq!(
            messages(|e| validate_binding(&bad, true, e)),
            [
                "roleRef.apiGroup: Unsupported value: \"x\": supported values: \"rbac.authorization.k8s.io\"",
                "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
            ]
        );
    }

    #[test]
    fn a_binding_keeps_its_role() {
        let old = json!({"roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "a"}});
        let new = json!({"roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "b"}});
        assert_eq!(
            messages(|e| check_binding_update(&new, &old, e)),
            [
                "roleRef: Invalid value: {\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"b\"}: cannot change roleRef"
            ]
        );
        assert!(messages(|e| check_binding_update(&old, &old, e)).is_empty());
    }

    #[test]
    fn bootstrap_roles_pass_their_own_checks() {
        for role in bootstrap_cluster_roles() {
            assert!(
                messages(|e| validate_role(&role, false, e)).is_empty(),
                "{role}"
            );
        }
        let binding = bootstrap_cluster_role_binding();
        assert!(messages(|e| validate_binding(&binding, false, e)).is_empty());
    }
}
