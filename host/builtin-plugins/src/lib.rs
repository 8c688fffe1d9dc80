//! The plugins Wharf ships, embedded in the binary. Operators replace them at run
//! time by installing a Plugin of the same name; these are what a fresh cluster
//! starts with and what a roll back reaches when nothing else is left.

/// A plugin carried inside the binary.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The profile name and Plugin name it serves under.
    pub name: &'static str,
    pub description: &'static str,
    pub wasm: &'static [u8],
    /// The Plugin's `spec.config` (JSON): one module can serve several roles
    /// (the garbage collector, once per kind).
    pub config: &'static str,
}

macro_rules! artifact {
    ($file:literal) => {
        include_bytes!(concat!(env!("WHARF_PLUGIN_ARTIFACTS"), "/", $file))
    };
}

/// The scheduling policies, one per scheduler profile.
pub const SCHEDULER_POLICIES: &[Builtin] = &[
    Builtin {
        name: "default",
        description: "kube-scheduler's default profile: standard filters, least-allocated scoring",
        wasm: artifact!("wharf_scheduler_default.wasm"),
        config: "{}",
    },
    Builtin {
        name: "binpack",
        description: "standard filters, most-allocated scoring (fill nodes before using new ones)",
        wasm: artifact!("wharf_scheduler_binpack.wasm"),
        config: "{}",
    },
    Builtin {
        name: "spread",
        description: "standard filters, spreads a controller's pods evenly over nodes and zones",
        wasm: artifact!("wharf_scheduler_spread.wasm"),
        config: "{}",
    },
];

pub fn scheduler_policy(name: &str) -> Option<&'static Builtin> {
    SCHEDULER_POLICIES.iter().find(|b| b.name == name)
}

/// A garbage collector for one kind of dependent whose owners may be of any kind.
/// Owners of the built-in kinds that commonly own things are watched, so their
/// deletion is acted on at once; an owner of any other kind (a custom resource's
/// operator is the usual one) is noticed by the minute's resync (which looks only
/// at objects with such owners), or at once when the dependent itself changes.
macro_rules! collector {
    ($plural:literal, $kind:literal, $what:literal) => {
        Builtin {
            name: concat!("garbage-collector-", $plural),
            description: concat!("deletes ", $what, " whose owners (of any kind) are gone"),
            wasm: artifact!("wharf_controller_gc.wasm"),
            config: concat!(
                r#"{"kind": ""#,
                $kind,
                r#"", "resyncSeconds": 60, "owners": ["v1/Pod", "apps/v1/ReplicaSet", "apps/v1/Deployment", "v1/Service", "v1/ConfigMap", "v1/Secret", "v1/ServiceAccount", "v1/Node"]}"#
            ),
        }
    };
}

/// The controllers, one per Plugin name.
pub const CONTROLLERS: &[Builtin] = &[
    Builtin {
        name: "replicaset",
        description: "keeps each ReplicaSet's pods at spec.replicas, adopting and releasing by selector",
        wasm: artifact!("wharf_controller_replicaset.wasm"),
        config: "{}",
    },
    Builtin {
        name: "deployment",
        description: "rolls each Deployment's ReplicaSets (RollingUpdate, Recreate), keeps revisions",
        wasm: artifact!("wharf_controller_deployment.wasm"),
        config: "{}",
    },
    Builtin {
        name: "serviceaccount",
        description: "gives every namespace a default ServiceAccount",
        wasm: artifact!("wharf_controller_serviceaccount.wasm"),
        config: "{}",
    },
    Builtin {
        name: "endpoints",
        description: "lists each selecting Service's ready and not-ready pod addresses in its Endpoints",
        wasm: artifact!("wharf_controller_endpoints.wasm"),
        config: "{}",
    },
    Builtin {
        name: "endpointslice",
        description: "lists each selecting Service's pods in discovery.k8s.io EndpointSlices",
        wasm: artifact!("wharf_controller_endpointslice.wasm"),
        config: "{}",
    },
    Builtin {
        name: "endpointslice-mirroring",
        description: "mirrors the Endpoints users write for selector-less Services into EndpointSlices",
        wasm: artifact!("wharf_controller_endpointslice.wasm"),
        config: r#"{"mirror": true, "maxEndpointsPerSlice": 1000}"#,
    },
    Builtin {
        name: "namespace",
        description: "empties a deleted namespace, then lets it go",
        wasm: artifact!("wharf_controller_namespace.wasm"),
        config: "{}",
    },
    Builtin {
        name: "node-lifecycle",
        description: "marks silent nodes unreachable, taints them, evicts their pods after their toleration",
        wasm: artifact!("wharf_controller_nodelifecycle.wasm"),
        config: "{}",
    },
    Builtin {
        name: "disruption",
        description: "keeps each PodDisruptionBudget's healthy pods and allowed disruptions current",
        wasm: artifact!("wharf_controller_disruption.wasm"),
        config: "{}",
    },
    Builtin {
        name: "clusterrole-aggregation",
        description: "gives each ClusterRole with an aggregationRule the rules of the ClusterRoles it selects",
        wasm: artifact!("wharf_controller_clusterrole_aggregation.wasm"),
        config: "{}",
    },
    Builtin {
        name: "garbage-collector-pods",
        description: "deletes pods whose owners are gone",
        wasm: artifact!("wharf_controller_gc.wasm"),
        config: r#"{"kind": "v1/Pod", "owners": ["apps/v1/ReplicaSet", "v1/Node"], "resyncSeconds": 60}"#,
    },
    Builtin {
        name: "garbage-collector-replicasets",
        description: "deletes ReplicaSets whose owners are gone; foreground and orphan deletion of their pods",
        wasm: artifact!("wharf_controller_gc.wasm"),
        config: r#"{"kind": "apps/v1/ReplicaSet", "owners": ["apps/v1/Deployment"], "dependents": ["v1/Pod"], "resyncSeconds": 60}"#,
    },
    Builtin {
        name: "garbage-collector-deployments",
        description: "deletes Deployments whose owners are gone; foreground and orphan deletion of their ReplicaSets",
        wasm: artifact!("wharf_controller_gc.wasm"),
        config: r#"{"kind": "apps/v1/Deployment", "dependents": ["apps/v1/ReplicaSet"], "resyncSeconds": 60}"#,
    },
    collector!("configmaps", "v1/ConfigMap", "ConfigMaps"),
    collector!("secrets", "v1/Secret", "Secrets"),
    collector!("services", "v1/Service", "Services"),
    collector!("serviceaccounts", "v1/ServiceAccount", "ServiceAccounts"),
    collector!(
        "endpointslices",
        "discovery.k8s.io/v1/EndpointSlice",
        "EndpointSlices"
    ),
    collector!(
        "leases",
        "coordination.k8s.io/v1/Lease",
        "Leases (a node's, once the node is gone)"
    ),
];

pub fn controller(name: &str) -> Option<&'static Builtin> {
    CONTROLLERS.iter().find(|b| b.name == name)
}

/// Where the guest build leaves its components, including ones that are not
/// embedded (the deliberately faulty policy and controller the tests use).
pub const ARTIFACT_DIR: &str = env!("WHARF_PLUGIN_ARTIFACTS");
