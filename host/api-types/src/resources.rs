//! The kinds Wharf serves, with the names, scopes and subresources Kubernetes gives
//! them. Discovery, routing, storage keys and printing are all derived from this one
//! table, so adding a kind is adding a row.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use k8s_openapi::api::{
    apps::v1 as apps, coordination::v1 as coordination, core::v1 as core,
    discovery::v1 as discovery, networking::v1 as networking, policy::v1 as policy,
    rbac::v1 as rbac, scheduling::v1 as scheduling,
};

/// A subresource a kind exposes under `.../{name}/{subresource}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// `status`: writes change only `.status`; writes to the main resource ignore it.
    Status,
    /// `scale`: an `autoscaling/v1 Scale` view of `.spec.replicas`.
    Scale,
    /// `binding` (pods): assigns the pod to a node.
    Binding,
    /// `finalize` (namespaces): writes change only `.spec.finalizers`.
    Finalize,
    /// `eviction` (pods): a `policy/v1 Eviction` deletes the pod, as `kubectl
    /// drain` asks.
    Eviction,
}

impl Subresource {
    pub fn name(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
            Subresource::Binding => "binding",
            Subresource::Finalize => "finalize",
            Subresource::Eviction => "eviction",
        }
    }
}

/// Decodes an object through its typed struct and encodes it back: type errors come
/// out as errors naming the field, and fields the kind does not have are dropped.
/// Borrows the input, so callers can compare it with the result.
pub type Decoder = fn(&Value) -> Result<Value, DecodeError>;

/// The fast way for the common, clean body: decodes JSON text straight into the
/// typed struct and encodes that, without building the body's own tree first.
/// `None` when the text does not decode or has a field the kind does not know;
/// the caller then takes the [`Decoder`] path, which explains what is wrong.
pub type JsonDecoder = fn(&[u8]) -> Option<Value>;

/// Registers a kind's schema, and every schema it refers to, with an OpenAPI
/// generator, and returns a reference to it: what `kubectl explain` reads.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// Dotted JSON path of the offending field (`.` for the object itself).
    pub path: String,
    pub message: String,
}

/// One kind, as served at `/{prefix}/{group}/{version}/...{plural}`.
#[derive(Debug)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// Field selector labels beyond `metadata.name` and `metadata.namespace`.
    pub field_labels: &'static [&'static str],
    /// `metadata.generation` counts changes to the desired state.
    pub tracks_generation: bool,
    pub decode: Decoder,
    /// Built-in kinds only; custom kinds have no typed struct.
    pub decode_json: Option<JsonDecoder>,
    /// The OpenAPI schema of the kind's objects; a custom kind's comes from its
    /// definition instead.
    pub schema: Option<SchemaFn>,
}

impl ResourceInfo {
    /// `v1` for the core group, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_subresource(&self, sub: Subresource) -> bool {
        self.subresources.contains(&sub)
    }

    /// The storage key prefix of this kind: `/registry/<group>/<plural>/`, and with a
    /// namespace `/registry/<group>/<plural>/<namespace>/`.
    pub fn key_prefix(&self, namespace: Option<&str>) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        match namespace {
            Some(ns) if self.namespaced => format!("/registry/{group}/{}/{ns}/", self.plural),
            _ => format!("/registry/{group}/{}/", self.plural),
        }
    }

    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.key_prefix(namespace))
    }

    /// Whether `label` may be used in a field selector for this kind.
    pub fn supports_field_label(&self, label: &str) -> bool {
        label == "metadata.name"
            || (self.namespaced && label == "metadata.namespace")
            || self.field_labels.contains(&label)
    }
}

fn typed<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, DecodeError> {
    // Path tracking costs on every field; pay for it only to explain a failure.
    let typed: T = match T::deserialize(value) {
        Ok(typed) => typed,
        Err(plain) => {
            return Err(match serde_path_to_error::deserialize::<_, T>(value) {
                Err(e) => DecodeError {
                    path: e.path().to_string(),
                    message: e.inner().to_string(),
                },
                Ok(_) => DecodeError {
                    path: ".".into(),
                    message: plain.to_string(),
                },
            });
        }
    };
    serde_json::to_value(typed).map_err(|e| DecodeError {
        path: ".".into(),
        message: e.to_string(),
    })
}

fn typed_json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut clean = true;
    let typed: T = serde_ignored::deserialize(&mut de, |_| clean = false).ok()?;
    de.end().ok()?;
    if !clean {
        return None;
    }
    serde_json::to_value(typed).ok()
}

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// Every kind Wharf serves.
pub static RESOURCES: &[ResourceInfo] = &[
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        subresources: &[Subresource::Status, Subresource::Finalize],
        field_labels: &["status.phase"],
        tracks_generation: false,
        decode: typed::<core::Namespace>,
        decode_json: Some(typed_json::<core::Namespace>),
        schema: Some(schema_of::<core::Namespace>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        subresources: &[
            Subresource::Status,
            Subresource::Binding,
            Subresource::Eviction,
        ],
        field_labels: POD_FIELDS,
        tracks_generation: false,
        decode: typed::<core::Pod>,
        decode_json: Some(typed_json::<core::Pod>),
        schema: Some(schema_of::<core::Pod>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        subresources: &[Subresource::Status],
        field_labels: &["spec.clusterIP", "spec.type"],
        tracks_generation: false,
        decode: typed::<core::Service>,
        decode_json: Some(typed_json::<core::Service>),
        schema: Some(schema_of::<core::Service>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        namespaced: true,
        short_names: &["ep"],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<core::Endpoints>,
        decode_json: Some(typed_json::<core::Endpoints>),
        schema: Some(schema_of::<core::Endpoints>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        subresources: &[Subresource::Status],
        field_labels: &["spec.unschedulable"],
        tracks_generation: false,
        decode: typed::<core::Node>,
        decode_json: Some(typed_json::<core::Node>),
        schema: Some(schema_of::<core::Node>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<core::ConfigMap>,
        decode_json: Some(typed_json::<core::ConfigMap>),
        schema: Some(schema_of::<core::ConfigMap>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &["type"],
        tracks_generation: false,
        decode: typed::<core::Secret>,
        decode_json: Some(typed_json::<core::Secret>),
        schema: Some(schema_of::<core::Secret>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        namespaced: true,
        short_names: &["sa"],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<core::ServiceAccount>,
        decode_json: Some(typed_json::<core::ServiceAccount>),
        schema: Some(schema_of::<core::ServiceAccount>),
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        field_labels: EVENT_FIELDS,
        tracks_generation: false,
        decode: typed::<core::Event>,
        decode_json: Some(typed_json::<core::Event>),
        schema: Some(schema_of::<core::Event>),
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &[Subresource::Status, Subresource::Scale],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<apps::Deployment>,
        decode_json: Some(typed_json::<apps::Deployment>),
        schema: Some(schema_of::<apps::Deployment>),
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        namespaced: true,
        short_names: &["rs"],
        categories: &["all"],
        subresources: &[Subresource::Status, Subresource::Scale],
        field_labels: &["status.replicas"],
        tracks_generation: true,
        decode: typed::<apps::ReplicaSet>,
        decode_json: Some(typed_json::<apps::ReplicaSet>),
        schema: Some(schema_of::<apps::ReplicaSet>),
    },
    ResourceInfo {
        group: "discovery.k8s.io",
        version: "v1",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<discovery::EndpointSlice>,
        decode_json: Some(typed_json::<discovery::EndpointSlice>),
        schema: Some(schema_of::<discovery::EndpointSlice>),
    },
    ResourceInfo {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<coordination::Lease>,
        decode_json: Some(typed_json::<coordination::Lease>),
        schema: Some(schema_of::<coordination::Lease>),
    },
    ResourceInfo {
        group: "scheduling.k8s.io",
        version: "v1",
        kind: "PriorityClass",
        plural: "priorityclasses",
        singular: "priorityclass",
        namespaced: false,
        short_names: &["pc"],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<scheduling::PriorityClass>,
        decode_json: Some(typed_json::<scheduling::PriorityClass>),
        schema: Some(schema_of::<scheduling::PriorityClass>),
    },
    ResourceInfo {
        group: crate::networking::GROUP,
        version: "v1",
        kind: "Ingress",
        plural: "ingresses",
        singular: "ingress",
        namespaced: true,
        short_names: &["ing"],
        categories: &[],
        subresources: &[Subresource::Status],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<networking::Ingress>,
        decode_json: Some(typed_json::<networking::Ingress>),
        schema: Some(schema_of::<networking::Ingress>),
    },
    ResourceInfo {
        group: crate::networking::GROUP,
        version: "v1",
        kind: "IngressClass",
        plural: "ingressclasses",
        singular: "ingressclass",
        namespaced: false,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<networking::IngressClass>,
        decode_json: Some(typed_json::<networking::IngressClass>),
        schema: Some(schema_of::<networking::IngressClass>),
    },
    ResourceInfo {
        group: crate::networking::GROUP,
        version: "v1",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        singular: "networkpolicy",
        namespaced: true,
        short_names: &["netpol"],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<networking::NetworkPolicy>,
        decode_json: Some(typed_json::<networking::NetworkPolicy>),
        schema: Some(schema_of::<networking::NetworkPolicy>),
    },
    ResourceInfo {
        group: crate::policy::GROUP,
        version: "v1",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        namespaced: true,
        short_names: &["pdb"],
        categories: &[],
        subresources: &[Subresource::Status],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<policy::PodDisruptionBudget>,
        decode_json: Some(typed_json::<policy::PodDisruptionBudget>),
        schema: Some(schema_of::<policy::PodDisruptionBudget>),
    },
    ResourceInfo {
        group: crate::rbac::GROUP,
        version: "v1",
        kind: "Role",
        plural: "roles",
        singular: "role",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<rbac::Role>,
        decode_json: Some(typed_json::<rbac::Role>),
        schema: Some(schema_of::<rbac::Role>),
    },
    ResourceInfo {
        group: crate::rbac::GROUP,
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        singular: "clusterrole",
        namespaced: false,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<rbac::ClusterRole>,
        decode_json: Some(typed_json::<rbac::ClusterRole>),
        schema: Some(schema_of::<rbac::ClusterRole>),
    },
    ResourceInfo {
        group: crate::rbac::GROUP,
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        singular: "rolebinding",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<rbac::RoleBinding>,
        decode_json: Some(typed_json::<rbac::RoleBinding>),
        schema: Some(schema_of::<rbac::RoleBinding>),
    },
    ResourceInfo {
        group: crate::rbac::GROUP,
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        namespaced: false,
        short_names: &[],
        categories: &[],
        subresources: &[],
        field_labels: &[],
        tracks_generation: false,
        decode: typed::<rbac::ClusterRoleBinding>,
        decode_json: Some(typed_json::<rbac::ClusterRoleBinding>),
        schema: Some(schema_of::<rbac::ClusterRoleBinding>),
    },
    ResourceInfo {
        group: crate::custom::CRD_GROUP,
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        namespaced: false,
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
        subresources: &[Subresource::Status],
        field_labels: &[],
        tracks_generation: true,
        decode: typed::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>,
        decode_json: Some(typed_json::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>),
        schema: Some(schema_of::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>),
    },
    ResourceInfo {
        group: crate::plugin::GROUP,
        version: crate::plugin::VERSION,
        kind: "Plugin",
        plural: "plugins",
        singular: "plugin",
        namespaced: false,
        short_names: &["wp"],
        categories: &["wharf"],
        subresources: &[Subresource::Status],
        field_labels: &["spec.kind"],
        tracks_generation: true,
        decode: typed::<crate::plugin::Plugin>,
        decode_json: Some(typed_json::<crate::plugin::Plugin>),
        schema: Some(schema_of::<crate::plugin::Plugin>),
    },
];

/// Every kind served now: the built-in table, then the custom kinds that
/// CustomResourceDefinitions define.
pub fn all() -> Vec<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .chain(crate::custom::registered().iter().map(|c| c.info))
        .collect()
}

/// Looks a kind up by group, version and plural (as in a request path). Every
/// request does this; the plural is compared first because it alone tells nearly
/// every kind apart, where most kinds share their group and version (comparing
/// those first cost a `memcmp` or two per kind passed: 1% of the API server's
/// CPU in a profile of the scheduler's end-to-end benchmark).
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    let matches = |r: &ResourceInfo| r.plural == plural && r.group == group && r.version == version;
    RESOURCES.iter().find(|r| matches(r)).or_else(|| {
        crate::custom::registered()
            .into_iter()
            .map(|c| c.info)
            .find(|r| matches(r))
    })
}

/// Looks a kind up by group and kind name (the kind compared first, as in `find`).
pub fn find_kind(group: &str, kind: &str) -> Option<&'static ResourceInfo> {
    let matches = |r: &ResourceInfo| r.kind == kind && r.group == group;
    RESOURCES.iter().find(|r| matches(r)).or_else(|| {
        crate::custom::registered()
            .into_iter()
            .map(|c| c.info)
            .find(|r| matches(r))
    })
}

/// The group/versions served, core first, in discovery order.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in all() {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decode_reports_the_path_of_a_type_error() {
        let info = find("apps", "v1", "deployments").unwrap();
        let err = (info.decode)(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"replicas": "three", "selector": {}, "template": {}}
        }))
        .unwrap_err();
        assert_eq!(err.path, "spec.replicas");
    }

    #[test]
    fn decode_drops_unknown_fields_and_keeps_known_ones() {
        let info = find("", "v1", "configmaps").unwrap();
        let out = (info.decode)(&json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "bogus": 1}, "data": {"k": "v"}, "extra": true
        }))
        .unwrap();
        assert_eq!(
            out,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn keys_follow_the_registry_layout() {
        let pods = find("", "v1", "pods").unwrap();
        assert_eq!(
            pods.key(Some("default"), "p"),
            "/registry/core/pods/default/p"
        );
        let nodes = find("", "v1", "nodes").unwrap();
        assert_eq!(nodes.key(None, "n1"), "/registry/core/nodes/n1");
        let deploys = find_kind("apps", "Deployment").unwrap();
        assert_eq!(deploys.key_prefix(None), "/registry/apps/deployments/");
    }
}
