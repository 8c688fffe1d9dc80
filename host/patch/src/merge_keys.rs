//! How each list of the built-in kinds merges under a strategic merge patch.
//!
//! kube-apiserver reads this from the `patchStrategy` and `patchMergeKey` struct tags of the Go
//! type it decodes into. Wharf has no Go types at runtime, so the tags are copied here, for the
//! kinds Wharf serves: core/v1 Pod, Service, Endpoints, Node, Namespace, ConfigMap, Secret,
//! ServiceAccount, Event; apps/v1 Deployment, ReplicaSet (whose pod templates are PodSpecs);
//! coordination.k8s.io/v1 Lease; and ObjectMeta, which they all share.
//!
//! A list is found by its field name and the name of the field that holds it (its *parent*:
//! the enclosing object's field, or the list field for elements of a list; `""` at the top of
//! the object). That is enough to tell apart every list of those kinds, e.g. a container's
//! `ports` (`containers` → `ports`) from a Service's (`spec` → `ports`), or Pod
//! `spec.imagePullSecrets` (merged) from ServiceAccount `imagePullSecrets` (replaced). A list
//! not in the table is replaced wholesale, which is what kube does for a list without a
//! `patchStrategy` tag. Maps need no entry: the only map strategy in k8s.io/api besides plain
//! merging is PodDisruptionBudget's `replace` selector, not served, and `retainKeys` (Deployment
//! `spec.strategy`, Pod volumes) only matters when a client computes a patch; applying one
//! honours whatever `$retainKeys` it carries. For those clients the API server publishes the
//! table, `retainKeys` included, in its OpenAPI v2 document ([`published_strategy`]).
//!
//! Sources, all read for this table (line numbers at those commits):
//! * `k8s.io/api` core/v1/types.go and apps/v1/types.go, kubernetes/api@10b39a39bcee;
//! * `k8s.io/apimachinery` pkg/apis/meta/v1/types.go, kubernetes/apimachinery@eed236ceee2c.
//!
//! coordination/v1 (Lease), and core/v1 Event, ConfigMap, Secret and Endpoints, have no
//! `patchStrategy` tags at all.

/// How a list field merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStrategy {
    /// No `patchStrategy`: the patch's list replaces the stored one.
    Replace,
    /// `patchStrategy:"merge"` without a merge key: a list of scalars, unioned.
    MergePrimitives,
    /// `patchStrategy:"merge"` with `patchMergeKey`: elements matched on that key and merged.
    MergeByKey(&'static str),
}

impl ListStrategy {
    /// The merge key as strategicpatch holds it: the empty string when there is none.
    pub(crate) fn merge_key(self) -> &'static str {
        match self {
            ListStrategy::MergeByKey(key) => key,
            ListStrategy::Replace | ListStrategy::MergePrimitives => "",
        }
    }
}

struct Rule {
    parents: &'static [&'static str],
    field: &'static str,
    strategy: ListStrategy,
}

use ListStrategy::{MergeByKey, MergePrimitives, Replace};

/// Fields holding a `Container` or an `EphemeralContainer` (whose `EphemeralContainerCommon`
/// carries the same tags).
const CONTAINERS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];
/// Fields holding a `ContainerStatus`.
const CONTAINER_STATUSES: &[&str] = &[
    "containerStatuses",
    "initContainerStatuses",
    "ephemeralContainerStatuses",
];
/// Fields holding a `PodSpec`: Pod `spec` and every pod template's `spec`.
const POD_SPEC: &[&str] = &["spec"];
/// Fields holding a status: Pod, Node, Namespace, Service, Deployment, ReplicaSet `status`.
const STATUS: &[&str] = &["status"];

const RULES: &[Rule] = &[
    // meta/v1 ObjectMeta (types.go:271, :289).
    rule(&["metadata"], "ownerReferences", MergeByKey("uid")),
    rule(&["metadata"], "finalizers", MergePrimitives),
    // core/v1 PodSpec.
    rule(POD_SPEC, "volumes", MergeByKey("name")), // :4366, merge,retainKeys
    rule(POD_SPEC, "initContainers", MergeByKey("name")), // :4384
    rule(POD_SPEC, "containers", MergeByKey("name")), // :4393
    rule(POD_SPEC, "ephemeralContainers", MergeByKey("name")), // :4403
    rule(POD_SPEC, "imagePullSecrets", MergeByKey("name")), // :4493
    rule(POD_SPEC, "hostAliases", MergeByKey("ip")), // :4521
    rule(
        POD_SPEC,
        "topologySpreadConstraints",
        MergeByKey("topologyKey"),
    ), // :4586
    rule(POD_SPEC, "schedulingGates", MergeByKey("name")), // :4651
    rule(POD_SPEC, "resourceClaims", MergeByKey("name")), // :4668, merge,retainKeys
    rule(POD_SPEC, "evictionResponders", MergeByKey("name")), // :4744
    rule(POD_SPEC, "tolerations", Replace),        // :4513, no tag
    rule(POD_SPEC, "readinessGates", Replace),     // :4548, no tag
    // core/v1 Container (:3175-3250) and EphemeralContainerCommon (:5397-5450).
    rule(CONTAINERS, "ports", MergeByKey("containerPort")),
    rule(CONTAINERS, "env", MergeByKey("name")),
    rule(CONTAINERS, "volumeMounts", MergeByKey("mountPath")),
    rule(CONTAINERS, "volumeDevices", MergeByKey("devicePath")),
    rule(CONTAINERS, "resizePolicy", Replace), // :3203, no tag
    // core/v1 PodStatus.
    rule(STATUS, "conditions", MergeByKey("type")), // Pod :5617, see below for the others
    rule(STATUS, "hostIPs", MergeByKey("ip")),      // :5649
    rule(STATUS, "podIPs", MergeByKey("ip")),       // :5664
    rule(STATUS, "resourceClaimStatuses", MergeByKey("name")), // :5731, merge,retainKeys
    rule(
        STATUS,
        "nodeAllocatableResourceClaimStatuses",
        MergeByKey("resourceClaimName"),
    ), // :5765
    rule(STATUS, "containerStatuses", Replace),     // :5694, no tag
    // core/v1 NodeAllocatableResourceClaimStatus (:8911, :8922).
    rule(
        &["nodeAllocatableResourceClaimStatuses"],
        "mapping",
        MergeByKey("name"),
    ),
    rule(
        &["nodeAllocatableResourceClaimStatuses"],
        "overhead",
        MergeByKey("name"),
    ),
    // core/v1 ContainerStatus (:3601, :3614). Never reached while the status lists that hold
    // them are replaced wholesale, but kept so the table says what the tags say.
    rule(CONTAINER_STATUSES, "volumeMounts", MergeByKey("mountPath")),
    rule(
        CONTAINER_STATUSES,
        "allocatedResourcesStatus",
        MergeByKey("name"),
    ),
    // `conditions` under `status` also covers ServiceStatus (:6179), NodeStatus (:7095),
    // NamespaceStatus (:7445), apps/v1 DeploymentStatus (:566) and ReplicaSetStatus (:973):
    // all merge on `type`.
    // core/v1 ServiceSpec (:6273); LoadBalancerIngress `ports` (:6217) has no tag.
    rule(&["spec"], "ports", MergeByKey("port")),
    rule(&["ingress"], "ports", Replace),
    // core/v1 ServiceAccount (:6654, :6662).
    rule(&[""], "secrets", MergeByKey("name")),
    rule(&[""], "imagePullSecrets", Replace),
    // core/v1 Endpoints (:6724): subsets, and so their addresses and ports, are replaced.
    rule(&[""], "subsets", Replace),
    // core/v1 NodeSpec (:6846, :6861) and NodeStatus (:7111).
    rule(&["spec"], "podCIDRs", MergePrimitives),
    rule(&["spec"], "taints", Replace),
    rule(STATUS, "addresses", MergeByKey("type")),
    // core/v1 NamespaceSpec (:7429): unlike metadata.finalizers, not merged.
    rule(&["spec"], "finalizers", Replace),
];

const fn rule(
    parents: &'static [&'static str],
    field: &'static str,
    strategy: ListStrategy,
) -> Rule {
    Rule {
        parents,
        field,
        strategy,
    }
}

/// Lists whose tag adds `retainKeys` to `merge`: PodSpec `volumes` and `resourceClaims`,
/// PodStatus `resourceClaimStatuses` (marked in [`RULES`]).
const RETAIN_KEYS_LISTS: &[(&[&str], &str)] = &[
    (POD_SPEC, "volumes"),
    (POD_SPEC, "resourceClaims"),
    (STATUS, "resourceClaimStatuses"),
];

/// Objects tagged `patchStrategy:"retainKeys"`: apps/v1 DeploymentSpec `strategy`.
const RETAIN_KEYS_OBJECTS: &[(&[&str], &str)] = &[(&["spec"], "strategy")];

/// A field's merge strategy as Kubernetes publishes it in its OpenAPI documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedStrategy {
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys` or `merge,retainKeys`.
    pub strategy: &'static str,
    /// `x-kubernetes-patch-merge-key`, for lists merged on a key.
    pub merge_key: Option<&'static str>,
}

/// What Kubernetes publishes for `field`, held by `parent` (named as in [`lookup`]): for a
/// list (`is_list`) from the table above, for an object only `retainKeys`; `None` for a field
/// without a `patchStrategy` tag. Clients that compute strategic merge patches from the
/// OpenAPI documents (kubectl apply) read these.
pub fn published_strategy(parent: &str, field: &str, is_list: bool) -> Option<PublishedStrategy> {
    let listed = |table: &[(&[&str], &str)]| {
        table
            .iter()
            .any(|(parents, f)| *f == field && parents.contains(&parent))
    };
    if !is_list {
        return listed(RETAIN_KEYS_OBJECTS).then_some(PublishedStrategy {
            strategy: "retainKeys",
            merge_key: None,
        });
    }
    let strategy = if listed(RETAIN_KEYS_LISTS) {
        "merge,retainKeys"
    } else {
        "merge"
    };
    match lookup(parent, field) {
        Replace => None,
        MergePrimitives => Some(PublishedStrategy {
            strategy,
            merge_key: None,
        }),
        MergeByKey(key) => Some(PublishedStrategy {
            strategy,
            merge_key: Some(key),
        }),
    }
}

/// How the list `field`, held by `parent`, merges.
pub(crate) fn lookup(parent: &str, field: &str) -> ListStrategy {
    RULES
        .iter()
        .find(|r| r.field == field && r.parents.contains(&parent))
        .map_or(Replace, |r| r.strategy)
}

#[cfg(test)]
pub(crate) fn rules() -> impl Iterator<Item = (&'static [&'static str], &'static str, ListStrategy)>
{
    RULES.iter().map(|r| (r.parents, r.field, r.strategy))
}
