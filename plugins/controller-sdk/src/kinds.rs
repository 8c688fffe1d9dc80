//! The namespaced kinds Wharf's API serves, for controllers that look through
//! all of a namespace's contents (the namespace controller empties them; the
//! garbage collector looks for an owner's dependents among them). Custom kinds
//! are found through their CustomResourceDefinitions.

use serde_json::Value;

use crate::KindRef;

/// One served kind: its apiVersion, kind and resource (plural) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
}

impl Served {
    pub fn kind_ref(&self) -> KindRef {
        KindRef {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
        }
    }

    /// The API group: `apps`, or empty for the core group.
    pub fn group(&self) -> &'static str {
        group_of(self.api_version)
    }
}

/// The group of an apiVersion: `apps` of `apps/v1`, empty for `v1`. Owner
/// references and kinds match by group and kind, whatever the version.
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// Whether two kinds are the same kind (group and kind; versions may differ).
pub fn same_kind(a: &KindRef, b: &KindRef) -> bool {
    a.kind == b.kind && group_of(&a.api_version) == group_of(&b.api_version)
}

/// Where custom kinds are defined.
pub const CUSTOM_RESOURCE_DEFINITION: Served = Served {
    api_version: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
};

const fn served(api_version: &'static str, kind: &'static str, plural: &'static str) -> Served {
    Served {
        api_version,
        kind,
        plural,
    }
}

/// Owners before what they own, so that emptying a namespace in this order does
/// not have controllers recreate what was just deleted.
pub const NAMESPACED: &[Served] = &[
    served("apps/v1", "Deployment", "deployments"),
    served("apps/v1", "ReplicaSet", "replicasets"),
    served("v1", "Pod", "pods"),
    served("v1", "Service", "services"),
    served("v1", "Endpoints", "endpoints"),
    served("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
    served("v1", "ConfigMap", "configmaps"),
    served("v1", "Secret", "secrets"),
    served("v1", "ServiceAccount", "serviceaccounts"),
    served("coordination.k8s.io/v1", "Lease", "leases"),
    served(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
    ),
    served("rbac.authorization.k8s.io/v1", "Role", "roles"),
    served("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    served("networking.k8s.io/v1", "Ingress", "ingresses"),
    served("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    served("v1", "Event", "events"),
];

/// The kind a namespaced CustomResourceDefinition serves, at its storage version,
/// and its resource (`widgets.example.com`); none for a cluster-scoped one.
pub fn custom_namespaced_kind(crd: &Value) -> Option<(KindRef, String)> {
    let spec = crd.get("spec")?;
    if spec.get("scope").and_then(Value::as_str) != Some("Namespaced") {
        return None;
    }
    let group = spec.get("group").and_then(Value::as_str)?;
    let kind = spec.pointer("/names/kind").and_then(Value::as_str)?;
    let plural = spec.pointer("/names/plural").and_then(Value::as_str)?;
    let versions = spec.get("versions").and_then(Value::as_array)?;
    let version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| versions.first())?
        .get("name")
        .and_then(Value::as_str)?;
    Some((
        KindRef {
            api_version: format!("{group}/{version}"),
            kind: kind.into(),
        },
        format!("{plural}.{group}"),
    ))
}
