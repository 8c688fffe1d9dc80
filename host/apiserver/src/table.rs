//! Server-side `meta.k8s.io/v1` `Table` rendering for `kubectl get`.
//!
//! When a client sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
//! kube-apiserver answers with a `Table` whose column definitions and cell
//! values come from its printers (`pkg/printers/internalversion/printers.go`,
//! Kubernetes 1.32). This module reproduces those columns and cells for the
//! kinds Wharf serves, working on plain Kubernetes JSON (`serde_json::Value`):
//!
//! * [`columns`] gives the column definitions of a kind (names, types,
//!   formats, descriptions and priorities exactly as kube-apiserver sends
//!   them; priority-1 columns are the `-o wide` ones).
//! * [`cells`] gives one row's cells, aligned with [`columns`]. Like
//!   kube-apiserver (which always prints with `Wide: true`), every column —
//!   wide ones included — gets a cell.
//!
//! Cells keep kube's JSON types: where kube puts an `int64` in a cell the cell
//! is a JSON number, even where kube labels the column `"string"` (Deployment
//! `Up-to-date`/`Available`, Secret/ConfigMap `Data`, ServiceAccount
//! `Secrets`, Event `Count`); everything else is a JSON string.
//!
//! kube-apiserver prints the *decoded and defaulted* object, so the API
//! defaults that affect a printed value are applied here when a field is
//! missing: Service `spec.type` (`ClusterIP`) and port `protocol` (`TCP`),
//! Secret `type` (`Opaque`), Namespace `status.phase` (`Active`) and
//! Deployment/ReplicaSet `spec.replicas` (1). Likewise `status.podIP` wins
//! over `status.podIPs[0]` and Secret `stringData` keys count as data keys,
//! as the v1-to-internal conversion does.
//!
//! Kinds without a dedicated printer get kube-apiserver's default table
//! convertor: `Name` and `Created At` (type `date`, an RFC 3339 UTC cell).
//!
//! This module must never fail a request: it never panics and never returns
//! an error. Missing, `null` or oddly typed fields render the way kube renders
//! the corresponding zero value (`""`, `0`, `"<none>"`, `"<unknown>"`, ...),
//! and any JSON value — even one that is not an object — yields a full row.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use wharf_api_types::custom::PrinterColumn;

/// One column of a Table, as `meta.k8s.io/v1 TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl Column {
    /// The column as `TableColumnDefinition` JSON (every field is always
    /// present, as kube serializes it).
    pub fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

// ---------------------------------------------------------------------------
// Column descriptions (the swagger docs kube-apiserver 1.32 uses).
// ---------------------------------------------------------------------------

const D_NAME: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const D_AGE: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const D_CONTAINERS: &str = "Names of each container in the template.";
const D_IMAGES: &str = "Images referenced by each container in the template.";

const D_POD_IP: &str = "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.";
const D_POD_NODE: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
const D_POD_NOMINATED: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
const D_POD_GATES: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";

const D_SVC_TYPE: &str = "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types";
const D_SVC_CLUSTER_IP: &str = "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
const D_SVC_EXTERNAL_IPS: &str = "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.";
const D_SVC_PORTS: &str = "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
const D_SVC_SELECTOR: &str = "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/";

const D_EPS_ADDRESS_TYPE: &str = "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.";
const D_EPS_PORTS: &str = "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports.";
const D_EPS_ENDPOINTS: &str = "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.";
const D_EP_SUBSETS: &str = "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.";

const D_NODE_KUBELET: &str = "Kubelet Version reported by the node.";
const D_NODE_ADDRESSES: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
const D_NODE_OS_IMAGE: &str =
    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).";
const D_NODE_KERNEL: &str =
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).";
const D_NODE_RUNTIME: &str = "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).";

const D_EV_LAST: &str = "The time at which the most recent occurrence of this event was recorded.";
const D_EV_TYPE: &str =
    "Type of this event (Normal, Warning), new types could be added in the future";
const D_EV_REASON: &str = "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.";
const D_EV_OBJECT: &str = "The object that this event is about.";
const D_EV_SUBOBJECT: &str = "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.";
const D_EV_SOURCE: &str =
    "The component reporting this event. Should be a short machine understandable string.";
const D_EV_MESSAGE: &str = "A human-readable description of the status of this operation.";
const D_EV_FIRST: &str =
    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)";
const D_EV_COUNT: &str = "The number of times this event has occurred.";

const D_SECRET_TYPE: &str = "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types";
const D_SECRET_DATA: &str = "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4";
const D_SA_SECRETS: &str = "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret";
const D_CM_DATA: &str = "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.";

const D_DEP_UPDATED: &str = "Total number of non-terminated pods targeted by this deployment that have the desired template spec.";
const D_DEP_AVAILABLE: &str = "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.";
const D_DEP_SELECTOR: &str = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.";
const D_RS_DESIRED: &str = "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
const D_RS_CURRENT: &str = "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
const D_RS_READY: &str = "The number of ready replicas for this replica set.";
const D_RS_SELECTOR: &str = "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
const D_PRIORITY_VALUE: &str = "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.";
const D_PRIORITY_GLOBAL_DEFAULT: &str = "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.";
const D_PRIORITY_PREEMPTION: &str = "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.";
const D_LEASE_HOLDER: &str = "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.";

// ---------------------------------------------------------------------------
// Column sets.
// ---------------------------------------------------------------------------

const NAME_COLUMN: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    description: D_NAME,
    priority: 0,
};

static POD_COLUMNS: [Column; 9] = [
    NAME_COLUMN,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    col("Age", "string", D_AGE),
    wide("IP", "string", D_POD_IP),
    wide("Node", "string", D_POD_NODE),
    wide("Nominated Node", "string", D_POD_NOMINATED),
    wide("Readiness Gates", "string", D_POD_GATES),
];

static NODE_COLUMNS: [Column; 10] = [
    NAME_COLUMN,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    col("Age", "string", D_AGE),
    col("Version", "string", D_NODE_KUBELET),
    wide("Internal-IP", "string", D_NODE_ADDRESSES),
    wide("External-IP", "string", D_NODE_ADDRESSES),
    wide("OS-Image", "string", D_NODE_OS_IMAGE),
    wide("Kernel-Version", "string", D_NODE_KERNEL),
    wide("Container-Runtime", "string", D_NODE_RUNTIME),
];

static NAMESPACE_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col("Status", "string", "The status of the namespace"),
    col("Age", "string", D_AGE),
];

static SERVICE_COLUMNS: [Column; 7] = [
    NAME_COLUMN,
    col("Type", "string", D_SVC_TYPE),
    col("Cluster-IP", "string", D_SVC_CLUSTER_IP),
    col("External-IP", "string", D_SVC_EXTERNAL_IPS),
    col("Port(s)", "string", D_SVC_PORTS),
    col("Age", "string", D_AGE),
    wide("Selector", "string", D_SVC_SELECTOR),
];

static ENDPOINTS_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col("Endpoints", "string", D_EP_SUBSETS),
    col("Age", "string", D_AGE),
];

static ENDPOINTSLICE_COLUMNS: [Column; 5] = [
    NAME_COLUMN,
    col("AddressType", "string", D_EPS_ADDRESS_TYPE),
    col("Ports", "string", D_EPS_PORTS),
    col("Endpoints", "string", D_EPS_ENDPOINTS),
    col("Age", "string", D_AGE),
];

static CONFIGMAP_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col("Data", "string", D_CM_DATA),
    col("Age", "string", D_AGE),
];

static SECRET_COLUMNS: [Column; 4] = [
    NAME_COLUMN,
    col("Type", "string", D_SECRET_TYPE),
    col("Data", "string", D_SECRET_DATA),
    col("Age", "string", D_AGE),
];

static SERVICEACCOUNT_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col("Secrets", "string", D_SA_SECRETS),
    col("Age", "string", D_AGE),
];

static EVENT_COLUMNS: [Column; 10] = [
    col("Last Seen", "string", D_EV_LAST),
    col("Type", "string", D_EV_TYPE),
    col("Reason", "string", D_EV_REASON),
    col("Object", "string", D_EV_OBJECT),
    wide("Subobject", "string", D_EV_SUBOBJECT),
    wide("Source", "string", D_EV_SOURCE),
    col("Message", "string", D_EV_MESSAGE),
    wide("First Seen", "string", D_EV_FIRST),
    wide("Count", "string", D_EV_COUNT),
    Column {
        priority: 1,
        ..NAME_COLUMN
    },
];

static DEPLOYMENT_COLUMNS: [Column; 8] = [
    NAME_COLUMN,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", D_DEP_UPDATED),
    col("Available", "string", D_DEP_AVAILABLE),
    col("Age", "string", D_AGE),
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide("Selector", "string", D_DEP_SELECTOR),
];

static REPLICASET_COLUMNS: [Column; 8] = [
    NAME_COLUMN,
    col("Desired", "integer", D_RS_DESIRED),
    col("Current", "integer", D_RS_CURRENT),
    col("Ready", "integer", D_RS_READY),
    col("Age", "string", D_AGE),
    wide("Containers", "string", D_CONTAINERS),
    wide("Images", "string", D_IMAGES),
    wide("Selector", "string", D_RS_SELECTOR),
];

static LEASE_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col("Holder", "string", D_LEASE_HOLDER),
    col("Age", "string", D_AGE),
];

static PRIORITYCLASS_COLUMNS: [Column; 5] = [
    NAME_COLUMN,
    col("Value", "integer", D_PRIORITY_VALUE),
    col("Global-Default", "boolean", D_PRIORITY_GLOBAL_DEFAULT),
    col("Age", "string", D_AGE),
    col("PreemptionPolicy", "string", D_PRIORITY_PREEMPTION),
];

static INGRESS_COLUMNS: [Column; 6] = [
    NAME_COLUMN,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for this Ingress",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    col("Age", "string", D_AGE),
];

static INGRESSCLASS_COLUMNS: [Column; 4] = [
    NAME_COLUMN,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    col("Age", "string", D_AGE),
];

static NETWORKPOLICY_COLUMNS: [Column; 3] = [
    NAME_COLUMN,
    col(
        "Pod-Selector",
        "string",
        "podSelector selects the pods to which this NetworkPolicy object applies.",
    ),
    col("Age", "string", D_AGE),
];

static PDB_COLUMNS: [Column; 5] = [
    NAME_COLUMN,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    col("Age", "string", D_AGE),
];

const D_BINDING_ROLE: &str = "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.";

/// RoleBindings and ClusterRoleBindings alike (`roleBindingsColumnDefinitions`).
static BINDING_COLUMNS: [Column; 6] = [
    NAME_COLUMN,
    col("Role", "string", D_BINDING_ROLE),
    col("Age", "string", D_AGE),
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

static COMPONENTSTATUS_COLUMNS: [Column; 4] = [
    NAME_COLUMN,
    col("Status", "string", "Status of the component conditions"),
    col("Message", "string", "Message of the component conditions"),
    col("Error", "string", "Error of the component conditions"),
];

static PLUGIN_COLUMNS: [Column; 8] = [
    NAME_COLUMN,
    col(
        "Kind",
        "string",
        "The role the plugin fills: scheduler-policy or controller.",
    ),
    col("Phase", "string", "Loaded, Failed or Pending."),
    col(
        "Module",
        "string",
        "The running module's digest (shortened).",
    ),
    col(
        "Shadow",
        "string",
        "The shadow candidate's digest (shortened), if any.",
    ),
    col(
        "Agreement",
        "string",
        "How often the shadow chose what the active module chose.",
    ),
    col("Age", "string", D_AGE),
    wide(
        "Message",
        "string",
        "Why the last change was refused or the module failed, if it was.",
    ),
];

/// kube-apiserver's default table convertor (k8s.io/apiserver
/// `registry/rest/table.go`), used for kinds without a printer.
static DEFAULT_COLUMNS: [Column; 2] = [NAME_COLUMN, col("Created At", "date", D_AGE)];

/// Columns for a kind (by its Kind string, e.g. "Pod"). Kinds without a
/// printer get kube-apiserver's default convertor columns: `Name` and
/// `Created At`.
pub fn columns(kind: &str) -> &'static [Column] {
    match kind {
        "Pod" => &POD_COLUMNS,
        "Node" => &NODE_COLUMNS,
        "Namespace" => &NAMESPACE_COLUMNS,
        "Service" => &SERVICE_COLUMNS,
        "Endpoints" => &ENDPOINTS_COLUMNS,
        "EndpointSlice" => &ENDPOINTSLICE_COLUMNS,
        "ConfigMap" => &CONFIGMAP_COLUMNS,
        "Secret" => &SECRET_COLUMNS,
        "ServiceAccount" => &SERVICEACCOUNT_COLUMNS,
        "Event" => &EVENT_COLUMNS,
        "Deployment" => &DEPLOYMENT_COLUMNS,
        "ReplicaSet" => &REPLICASET_COLUMNS,
        "Lease" => &LEASE_COLUMNS,
        "PriorityClass" => &PRIORITYCLASS_COLUMNS,
        "RoleBinding" | "ClusterRoleBinding" => &BINDING_COLUMNS,
        "PodDisruptionBudget" => &PDB_COLUMNS,
        "Ingress" => &INGRESS_COLUMNS,
        "IngressClass" => &INGRESSCLASS_COLUMNS,
        "NetworkPolicy" => &NETWORKPOLICY_COLUMNS,
        "ComponentStatus" => &COMPONENTSTATUS_COLUMNS,
        "Plugin" => &PLUGIN_COLUMNS,
        _ => &DEFAULT_COLUMNS,
    }
}

/// The cells of one row, aligned with `columns(kind)`. `now` is the server's
/// clock; Age-like cells are relative strings ("5s", "3m12s", "2d") computed
/// like apimachinery's `duration.HumanDuration`, "<unknown>" when absent.
pub fn cells(kind: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    match kind {
        "Pod" => pod_cells(obj, now),
        "Node" => node_cells(obj, now),
        "Namespace" => namespace_cells(obj, now),
        "Service" => service_cells(obj, now),
        "Endpoints" => endpoints_cells(obj, now),
        "EndpointSlice" => endpointslice_cells(obj, now),
        "ConfigMap" => configmap_cells(obj, now),
        "Secret" => secret_cells(obj, now),
        "ServiceAccount" => serviceaccount_cells(obj, now),
        "Event" => event_cells(obj, now),
        "Deployment" => deployment_cells(obj, now),
        "ReplicaSet" => replicaset_cells(obj, now),
        "Lease" => lease_cells(obj, now),
        "PriorityClass" => priorityclass_cells(obj, now),
        "RoleBinding" | "ClusterRoleBinding" => binding_cells(obj, now),
        "PodDisruptionBudget" => pdb_cells(obj, now),
        "Ingress" => ingress_cells(obj, now),
        "IngressClass" => ingressclass_cells(obj, now),
        "NetworkPolicy" => vec![
            name_of(obj),
            Value::from(format_label_selector(get(obj, &["spec", "podSelector"]))),
            age_of(obj, now),
        ],
        "ComponentStatus" => componentstatus_cells(obj),
        "Plugin" => plugin_cells(obj, now),
        _ => default_cells(obj),
    }
}

// ---------------------------------------------------------------------------
// Lenient JSON access: anything missing or of the wrong type reads as the Go
// zero value.
// ---------------------------------------------------------------------------

static EMPTY_ARRAY: Vec<Value> = Vec::new();

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get(v, path).and_then(Value::as_str).unwrap_or("")
}

fn int_at(v: &Value, path: &[&str]) -> i64 {
    get(v, path).map_or(0, value_to_int)
}

fn value_to_int(v: &Value) -> i64 {
    if let Some(i) = v.as_i64() {
        return i;
    }
    if v.as_u64().is_some() {
        return i64::MAX;
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.is_finite() => f as i64,
        _ => 0,
    }
}

fn bool_at(v: &Value, path: &[&str]) -> bool {
    get(v, path).and_then(Value::as_bool).unwrap_or(false)
}

fn arr_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map_or(EMPTY_ARRAY.as_slice(), Vec::as_slice)
}

fn obj_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(v, path).and_then(Value::as_object)
}

/// Number of entries of a map-valued field (0 when absent).
fn map_len(v: &Value, path: &[&str]) -> i64 {
    obj_at(v, path).map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `metav1.Time` / `metav1.MicroTime` field; `None` is Go's zero time
/// (absent, `null`, unparsable, or `0001-01-01T00:00:00Z`).
fn time_at(v: &Value, path: &[&str]) -> Option<Timestamp> {
    let ts: Timestamp = str_at(v, path).parse().ok()?;
    if ts.as_second() == GO_ZERO_TIME_SECONDS && ts.subsec_nanosecond() == 0 {
        return None;
    }
    Some(ts)
}

/// `0001-01-01T00:00:00Z` (Go's zero `time.Time`) as Unix seconds.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

fn name_of(obj: &Value) -> Value {
    Value::from(str_at(obj, &["metadata", "name"]))
}

fn age_of(obj: &Value, now: Timestamp) -> Value {
    Value::from(translate_timestamp_since(
        time_at(obj, &["metadata", "creationTimestamp"]),
        now,
    ))
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "<unknown>".to_string()
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------------------
// Durations (k8s.io/apimachinery/pkg/util/duration).
// ---------------------------------------------------------------------------

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;

/// `translateTimestampSince`: "<unknown>" for a zero time, otherwise the
/// human duration from `ts` to `now`.
fn translate_timestamp_since(ts: Option<Timestamp>, now: Timestamp) -> String {
    match ts {
        None => "<unknown>".to_string(),
        Some(ts) => human_duration(since(ts, now)),
    }
}

/// `now - ts` as a Go `time.Duration` (nanoseconds saturated to `i64`).
fn since(ts: Timestamp, now: Timestamp) -> i64 {
    let nanos = now.as_nanosecond() - ts.as_nanosecond();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// `duration.HumanDuration`: a succinct duration with ~2-3 significant
/// figures. `d` is in nanoseconds.
fn human_duration(d: i64) -> String {
    // int(d.Seconds()) truncates toward zero, as does integer division.
    let seconds = d / NANOS_PER_SECOND;
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d / NANOS_PER_MINUTE;
    if minutes < 10 {
        let s = (d / NANOS_PER_SECOND) % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / NANOS_PER_HOUR;
    if hours < 8 {
        let m = (d / NANOS_PER_MINUTE) % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{}h", hours / 24, h)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{}d", hours / 24 / 365, dy)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

// ---------------------------------------------------------------------------
// Pod.
// ---------------------------------------------------------------------------

fn is_restartable_init_container(spec: Option<&Value>) -> bool {
    spec.is_some_and(|c| str_at(c, &["restartPolicy"]) == "Always")
}

/// `lastRestartDate.Before(&terminatedDate)` bookkeeping: keep the latest
/// `lastState.terminated.finishedAt` (a zero time never wins).
fn bump_last_restart(last: &mut Option<Timestamp>, status: &Value) {
    if get(status, &["lastState", "terminated"]).is_none() {
        return;
    }
    if let Some(finished) = time_at(status, &["lastState", "terminated", "finishedAt"])
        && last.is_none_or(|cur| cur < finished)
    {
        *last = Some(finished);
    }
}

fn has_condition(conditions: &[Value], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| str_at(c, &["type"]) == type_ && str_at(c, &["status"]) == "True")
}

fn is_pod_initialized_condition_true(conditions: &[Value]) -> bool {
    conditions
        .iter()
        .find(|c| str_at(c, &["type"]) == "Initialized")
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let containers = arr_at(pod, &["spec", "containers"]);
    let init_specs = arr_at(pod, &["spec", "initContainers"]);
    let conditions = arr_at(pod, &["status", "conditions"]);

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total_containers = count(containers.len());
    let mut ready_containers: i64 = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_init_restart: Option<Timestamp> = None;

    let phase = str_at(pod, &["status", "phase"]);
    let mut reason = phase.to_string();
    let status_reason = str_at(pod, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    for c in conditions {
        if str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }

    // Init container specs by name (a later duplicate wins, like a Go map).
    let init_spec = |name: &str| {
        init_specs
            .iter()
            .rev()
            .find(|c| str_at(c, &["name"]) == name)
    };
    for c in init_specs {
        if is_restartable_init_container(Some(c)) {
            total_containers += 1;
        }
    }

    let mut initializing = false;
    for (i, cs) in arr_at(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let restart_count = int_at(cs, &["restartCount"]);
        restarts += restart_count;
        bump_last_restart(&mut last_restart, cs);
        let restartable = is_restartable_init_container(init_spec(str_at(cs, &["name"])));
        if restartable {
            restartable_init_restarts += restart_count;
            bump_last_restart(&mut last_restartable_init_restart, cs);
        }
        let terminated = get(cs, &["state", "terminated"]);
        let waiting_reason = str_at(cs, &["state", "waiting", "reason"]);
        if let Some(t) = terminated
            && int_at(t, &["exitCode"]) == 0
        {
            continue;
        }
        if restartable && bool_at(cs, &["started"]) {
            if bool_at(cs, &["ready"]) {
                ready_containers += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            // Initialization failed.
            let t_reason = str_at(t, &["reason"]);
            reason = if t_reason.is_empty() {
                let signal = int_at(t, &["signal"]);
                if signal != 0 {
                    format!("Init:Signal:{signal}")
                } else {
                    format!("Init:ExitCode:{}", int_at(t, &["exitCode"]))
                }
            } else {
                format!("Init:{t_reason}")
            };
        } else if get(cs, &["state", "waiting"]).is_some()
            && !waiting_reason.is_empty()
            && waiting_reason != "PodInitializing"
        {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || is_pod_initialized_condition_true(conditions) {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for cs in arr_at(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int_at(cs, &["restartCount"]);
            bump_last_restart(&mut last_restart, cs);
            let waiting_reason = str_at(cs, &["state", "waiting", "reason"]);
            let terminated = get(cs, &["state", "terminated"]);
            if get(cs, &["state", "waiting"]).is_some() && !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                let t_reason = str_at(t, &["reason"]);
                reason = if !t_reason.is_empty() {
                    t_reason.to_string()
                } else {
                    let signal = int_at(t, &["signal"]);
                    if signal != 0 {
                        format!("Signal:{signal}")
                    } else {
                        format!("ExitCode:{}", int_at(t, &["exitCode"]))
                    }
                };
            } else if bool_at(cs, &["ready"]) && get(cs, &["state", "running"]).is_some() {
                has_running = true;
                ready_containers += 1;
            }
        }

        // Back to "Running" if at least one container is still running.
        if reason == "Completed" && has_running {
            reason = if has_condition(conditions, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    let deleting = get(pod, &["metadata", "deletionTimestamp"]).is_some();
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_str = match last_restart {
        Some(last) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                translate_timestamp_since(Some(last), now)
            )
        }
        _ => restarts.to_string(),
    };

    // Wide columns. `status.podIP` is authoritative over `podIPs[0]` (the
    // v1-to-internal conversion does this).
    let mut pod_ip = str_at(pod, &["status", "podIP"]);
    if pod_ip.is_empty() {
        pod_ip = arr_at(pod, &["status", "podIPs"])
            .first()
            .map_or("", |ip| str_at(ip, &["ip"]));
    }
    let gates = arr_at(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_conditions = gates
            .iter()
            .filter(|gate| {
                let wanted = str_at(gate, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| str_at(c, &["type"]) == wanted)
                    .is_some_and(|c| str_at(c, &["status"]) == "True")
            })
            .count();
        format!("{}/{}", true_conditions, gates.len())
    };

    vec![
        name_of(pod),
        Value::from(format!("{ready_containers}/{total_containers}")),
        Value::from(reason),
        Value::from(restarts_str),
        age_of(pod, now),
        Value::from(or_none(pod_ip)),
        Value::from(or_none(str_at(pod, &["spec", "nodeName"]))),
        Value::from(or_none(str_at(pod, &["status", "nominatedNodeName"]))),
        Value::from(readiness_gates),
    ]
}

// ---------------------------------------------------------------------------
// Node.
// ---------------------------------------------------------------------------

fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    // Only the Ready condition is reported; with duplicates the last wins.
    let ready = arr_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready");
    let mut status: Vec<&str> = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if bool_at(node, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }

    let mut roles = BTreeSet::new();
    if let Some(labels) = obj_at(node, &["metadata", "labels"]) {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if key == "kubernetes.io/role" {
                let value = value.as_str().unwrap_or("");
                if !value.is_empty() {
                    roles.insert(value.to_string());
                }
            }
        }
    }
    let roles = roles.into_iter().collect::<Vec<_>>().join(",");

    let address = |type_: &str| {
        arr_at(node, &["status", "addresses"])
            .iter()
            .find(|a| str_at(a, &["type"]) == type_)
            .map_or_else(
                || "<none>".to_string(),
                |a| str_at(a, &["address"]).to_string(),
            )
    };
    let info = |field: &str| or_unknown(str_at(node, &["status", "nodeInfo", field]));

    vec![
        name_of(node),
        Value::from(status.join(",")),
        Value::from(or_none(&roles)),
        age_of(node, now),
        Value::from(str_at(node, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(info("osImage")),
        Value::from(info("kernelVersion")),
        Value::from(info("containerRuntimeVersion")),
    ]
}

// ---------------------------------------------------------------------------
// Namespace, ConfigMap, Secret, ServiceAccount, PriorityClass, Lease.
// ---------------------------------------------------------------------------

fn namespace_cells(ns: &Value, now: Timestamp) -> Vec<Value> {
    let phase = match str_at(ns, &["status", "phase"]) {
        "" => "Active", // SetDefaults_NamespaceStatus
        phase => phase,
    };
    vec![name_of(ns), Value::from(phase), age_of(ns, now)]
}

fn configmap_cells(cm: &Value, now: Timestamp) -> Vec<Value> {
    let n = map_len(cm, &["data"]).saturating_add(map_len(cm, &["binaryData"]));
    vec![name_of(cm), Value::from(n), age_of(cm, now)]
}

fn secret_cells(secret: &Value, now: Timestamp) -> Vec<Value> {
    let type_ = match str_at(secret, &["type"]) {
        "" => "Opaque", // SetDefaults_Secret
        t => t,
    };
    // stringData is merged over data when decoding.
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    for field in ["data", "stringData"] {
        if let Some(m) = obj_at(secret, &[field]) {
            keys.extend(m.keys().map(String::as_str));
        }
    }
    vec![
        name_of(secret),
        Value::from(type_),
        Value::from(count(keys.len())),
        age_of(secret, now),
    ]
}

fn serviceaccount_cells(sa: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_of(sa),
        Value::from(count(arr_at(sa, &["secrets"]).len())),
        age_of(sa, now),
    ]
}

fn priorityclass_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let policy = match str_at(class, &["preemptionPolicy"]) {
        "" => "PreemptLowerPriority", // SetDefaults_PriorityClass
        p => p,
    };
    vec![
        name_of(class),
        Value::from(int_at(class, &["value"])),
        Value::from(bool_at(class, &["globalDefault"])),
        age_of(class, now),
        Value::from(policy),
    ]
}

/// Kubernetes' `printIngress`: the class or `<none>`; up to three hosts (`*` for
/// none); the load balancer's addresses; `80`, and `443` with TLS.
fn ingress_cells(ingress: &Value, now: Timestamp) -> Vec<Value> {
    const SHOWN: usize = 3;
    let rules = arr_at(ingress, &["spec", "rules"]);
    let hosts: Vec<&str> = rules
        .iter()
        .map(|r| str_at(r, &["host"]))
        .filter(|h| !h.is_empty())
        .take(SHOWN)
        .collect();
    let hosts = match (hosts.is_empty(), rules.len() > SHOWN) {
        (true, _) => "*".to_string(),
        (false, false) => hosts.join(","),
        (false, true) => format!("{} + {} more...", hosts.join(","), rules.len() - SHOWN),
    };
    // A sorted set, and whole: the server prints tables wide, as Kubernetes does.
    let address: std::collections::BTreeSet<&str> =
        arr_at(ingress, &["status", "loadBalancer", "ingress"])
            .iter()
            .map(|i| match str_at(i, &["ip"]) {
                "" => str_at(i, &["hostname"]),
                ip => ip,
            })
            .filter(|a| !a.is_empty())
            .collect();
    let address = address.into_iter().collect::<Vec<_>>().join(",");
    let ports = if arr_at(ingress, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name_of(ingress),
        Value::from(or_none(str_at(ingress, &["spec", "ingressClassName"]))),
        Value::from(hosts),
        Value::from(address),
        Value::from(ports),
        age_of(ingress, now),
    ]
}

/// Kubernetes' `printIngressClass`: parameters as `Kind[.group]/name`.
fn ingressclass_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = match get(class, &["spec", "parameters"]) {
        None => "<none>".to_string(),
        Some(p) => {
            let group = match str_at(p, &["apiGroup"]) {
                "" => String::new(),
                g => format!(".{g}"),
            };
            format!("{}{group}/{}", str_at(p, &["kind"]), str_at(p, &["name"]))
        }
    };
    vec![
        name_of(class),
        Value::from(str_at(class, &["spec", "controller"])),
        Value::from(parameters),
        age_of(class, now),
    ]
}

/// Kubernetes' `printPodDisruptionBudget`: each bound as written, `N/A` when unset.
fn pdb_cells(pdb: &Value, now: Timestamp) -> Vec<Value> {
    let bound = |field: &str| match get(pdb, &["spec", field]) {
        Some(Value::String(s)) => Value::from(s.as_str()),
        Some(n @ Value::Number(_)) => Value::from(n.to_string()),
        _ => Value::from("N/A"),
    };
    vec![
        name_of(pdb),
        bound("minAvailable"),
        bound("maxUnavailable"),
        Value::from(int_at(pdb, &["status", "disruptionsAllowed"])),
        age_of(pdb, now),
    ]
}

/// Kubernetes' `printRoleBinding`: the role as `Kind/name`, then the subjects by
/// kind (`rbac.SubjectsStrings`), service accounts as `namespace/name`.
fn binding_cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        str_at(binding, &["roleRef", "kind"]),
        str_at(binding, &["roleRef", "name"])
    );
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for subject in arr_at(binding, &["subjects"]) {
        let name = str_at(subject, &["name"]);
        match str_at(subject, &["kind"]) {
            "User" => users.push(name.to_string()),
            "Group" => groups.push(name.to_string()),
            "ServiceAccount" => {
                accounts.push(format!("{}/{name}", str_at(subject, &["namespace"])))
            }
            _ => {}
        }
    }
    vec![
        name_of(binding),
        Value::from(role),
        age_of(binding, now),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(accounts.join(", ")),
    ]
}

fn lease_cells(lease: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_of(lease),
        Value::from(str_at(lease, &["spec", "holderIdentity"])),
        age_of(lease, now),
    ]
}

/// Kubernetes' `printComponentStatus`: the `Healthy` condition's status, message
/// and error; `Unknown` without one.
fn componentstatus_cells(cs: &Value) -> Vec<Value> {
    let healthy = arr_at(cs, &["conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if str_at(c, &["status"]) == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            str_at(c, &["message"]),
            str_at(c, &["error"]),
        ),
        None => ("Unknown", "", ""),
    };
    vec![
        name_of(cs),
        Value::from(status),
        Value::from(message),
        Value::from(error),
    ]
}

fn short_digest(d: &str) -> String {
    match d.strip_prefix("sha256:") {
        Some(hex) if hex.len() >= 12 => format!("sha256:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

fn plugin_cells(p: &Value, now: Timestamp) -> Vec<Value> {
    let active = match str_at(p, &["status", "activeModule"]) {
        "" => str_at(p, &["spec", "module"]),
        a => a,
    };
    let shadow = str_at(p, &["spec", "shadow", "module"]);
    let agreement = str_at(p, &["status", "shadow", "agreement"]);
    let or_none = |s: String| {
        Value::from(if s.is_empty() {
            "<none>".to_string()
        } else {
            s
        })
    };
    vec![
        name_of(p),
        Value::from(str_at(p, &["spec", "kind"])),
        or_none(str_at(p, &["status", "phase"]).to_string()),
        Value::from(short_digest(active)),
        or_none(short_digest(shadow)),
        or_none(agreement.to_string()),
        age_of(p, now),
        or_none(str_at(p, &["status", "message"]).to_string()),
    ]
}

// ---------------------------------------------------------------------------
// Service and Endpoints.
// ---------------------------------------------------------------------------

fn join_str_array(values: &[Value], sep: &str) -> String {
    values
        .iter()
        .map(|v| v.as_str().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(sep)
}

fn service_cells(svc: &Value, now: Timestamp) -> Vec<Value> {
    let svc_type = match str_at(svc, &["spec", "type"]) {
        "" => "ClusterIP", // SetDefaults_Service
        t => t,
    };

    let internal_ip = match arr_at(svc, &["spec", "clusterIPs"]).first() {
        Some(ip) => ip.as_str().unwrap_or("").to_string(),
        None => or_none(str_at(svc, &["spec", "clusterIP"])),
    };

    let external_ips = arr_at(svc, &["spec", "externalIPs"]);
    let external_ip = match svc_type {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                join_str_array(external_ips, ",")
            }
        }
        "LoadBalancer" => {
            // Sorted, de-duplicated ingress points; never clipped because the
            // server always prints wide.
            let lb: BTreeSet<&str> = arr_at(svc, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|ing| {
                    let ip = str_at(ing, &["ip"]);
                    let host = str_at(ing, &["hostname"]);
                    if !ip.is_empty() {
                        Some(ip)
                    } else if !host.is_empty() {
                        Some(host)
                    } else {
                        None
                    }
                })
                .collect();
            let lb_ips = lb.into_iter().collect::<Vec<_>>().join(",");
            if !external_ips.is_empty() {
                let mut results: Vec<String> = Vec::new();
                if !lb_ips.is_empty() {
                    results.extend(lb_ips.split(',').map(str::to_string));
                }
                results.extend(
                    external_ips
                        .iter()
                        .map(|v| v.as_str().unwrap_or("").to_string()),
                );
                results.join(",")
            } else if !lb_ips.is_empty() {
                lb_ips
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    };

    let ports = arr_at(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int_at(p, &["port"]);
            let node_port = int_at(p, &["nodePort"]);
            let protocol = match str_at(p, &["protocol"]) {
                "" => "TCP",
                proto => proto,
            };
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");

    vec![
        name_of(svc),
        Value::from(svc_type),
        Value::from(internal_ip),
        Value::from(external_ip),
        Value::from(or_none(&ports)),
        age_of(svc, now),
        Value::from(format_labels(obj_at(svc, &["spec", "selector"]))),
    ]
}

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints`: up to three `ip:port` entries, then "+ N more...".
fn format_endpoints(ep: &Value) -> String {
    let subsets = arr_at(ep, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut total: usize = 0;
    for ss in subsets {
        let addresses = arr_at(ss, &["addresses"]);
        let ports = arr_at(ss, &["ports"]);
        if ports.is_empty() {
            // Headless services with no ports.
            total += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(addr, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            total += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(
                    str_at(addr, &["ip"]),
                    int_at(port, &["port"]),
                ));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", total.saturating_sub(MAX))
    } else {
        ret
    }
}

fn endpoints_cells(ep: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_of(ep),
        Value::from(format_endpoints(ep)),
        age_of(ep, now),
    ]
}

// ---------------------------------------------------------------------------
// EndpointSlice (discovery.k8s.io/v1)
// ---------------------------------------------------------------------------

fn endpointslice_cells(slice: &Value, now: Timestamp) -> Vec<Value> {
    let ports =
        arr_at(slice, &["ports"])
            .iter()
            .map(|p| match get(p, &["port"]).and_then(Value::as_i64) {
                Some(n) => n.to_string(),
                None => match get(p, &["name"]).and_then(Value::as_str) {
                    Some(name) => name.to_string(),
                    None => "*".to_string(),
                },
            });
    let addresses = arr_at(slice, &["endpoints"])
        .iter()
        .flat_map(|e| arr_at(e, &["addresses"]))
        .map(|a| a.as_str().unwrap_or_default().to_string());
    vec![
        name_of(slice),
        Value::from(str_at(slice, &["addressType"])),
        Value::from(list_with_more(ports)),
        Value::from(list_with_more(addresses)),
        age_of(slice, now),
    ]
}

/// kubectl's `listWithMoreString`: the first three, then "+ N more...";
/// `<unset>` when there are none.
fn list_with_more(items: impl Iterator<Item = String>) -> String {
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut count = 0usize;
    for item in items {
        if shown.len() < MAX {
            shown.push(item);
        }
        count += 1;
    }
    let joined = shown.join(",");
    if count > MAX {
        format!("{joined} + {} more...", count - MAX)
    } else if joined.is_empty() {
        "<unset>".to_string()
    } else {
        joined
    }
}

// ---------------------------------------------------------------------------
// Event (core/v1, and events.k8s.io/v1 which kube prints the same way after
// converting it to the internal core Event).
// ---------------------------------------------------------------------------

/// JSON field names of the Event fields the printer reads.
struct EventFields {
    involved: &'static str,
    message: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    source: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT: EventFields = EventFields {
    involved: "involvedObject",
    message: "message",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    source: "source",
    reporting_controller: "reportingComponent",
};

const EVENTS_V1_EVENT: EventFields = EventFields {
    involved: "regarding",
    message: "note",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    source: "deprecatedSource",
    reporting_controller: "reportingController",
};

fn event_cells(ev: &Value, now: Timestamp) -> Vec<Value> {
    let f = if str_at(ev, &["apiVersion"]).starts_with("events.k8s.io/") {
        &EVENTS_V1_EVENT
    } else {
        &CORE_EVENT
    };

    let first_seen = match time_at(ev, &[f.first]) {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => translate_timestamp_since(time_at(ev, &["eventTime"]), now),
    };
    let mut last_seen = match time_at(ev, &[f.last]) {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut n = int_at(ev, &[f.count]);
    if let Some(series) = get(ev, &["series"]).filter(|s| s.is_object()) {
        last_seen = translate_timestamp_since(time_at(series, &["lastObservedTime"]), now);
        n = int_at(series, &["count"]);
    } else if n == 0 {
        // Singleton events don't have a count set in the new API.
        n = 1;
    }

    let kind = str_at(ev, &[f.involved, "kind"]).to_lowercase();
    let involved_name = str_at(ev, &[f.involved, "name"]);
    let target = if involved_name.is_empty() {
        kind
    } else {
        format!("{kind}/{involved_name}")
    };

    let component = match str_at(ev, &[f.source, "component"]) {
        "" => str_at(ev, &[f.reporting_controller]),
        c => c,
    };
    let instance = match str_at(ev, &[f.source, "host"]) {
        "" => str_at(ev, &["reportingInstance"]),
        h => h,
    };
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };

    vec![
        Value::from(last_seen),
        Value::from(str_at(ev, &["type"])),
        Value::from(str_at(ev, &["reason"])),
        Value::from(target),
        Value::from(str_at(ev, &[f.involved, "fieldPath"])),
        Value::from(source),
        Value::from(str_at(ev, &[f.message]).trim()),
        Value::from(first_seen),
        Value::from(n),
        name_of(ev),
    ]
}

// ---------------------------------------------------------------------------
// Deployment and ReplicaSet.
// ---------------------------------------------------------------------------

/// `layoutContainerCells`: comma-joined container names and images.
fn layout_container_cells(containers: &[Value]) -> (String, String) {
    let names = containers
        .iter()
        .map(|c| str_at(c, &["name"]))
        .collect::<Vec<_>>()
        .join(",");
    let images = containers
        .iter()
        .map(|c| str_at(c, &["image"]))
        .collect::<Vec<_>>()
        .join(",");
    (names, images)
}

/// `spec.replicas`, defaulted to 1 when absent (apps/v1 defaulting).
fn desired_replicas(obj: &Value) -> i64 {
    get(obj, &["spec", "replicas"]).map_or(1, value_to_int)
}

fn deployment_cells(d: &Value, now: Timestamp) -> Vec<Value> {
    let desired = desired_replicas(d);
    let ready = int_at(d, &["status", "readyReplicas"]);
    let (names, images) =
        layout_container_cells(arr_at(d, &["spec", "template", "spec", "containers"]));
    let selector = label_selector_string(get(d, &["spec", "selector"]))
        .unwrap_or_else(|_| "<invalid>".to_string());
    vec![
        name_of(d),
        Value::from(format!("{ready}/{desired}")),
        Value::from(int_at(d, &["status", "updatedReplicas"])),
        Value::from(int_at(d, &["status", "availableReplicas"])),
        age_of(d, now),
        Value::from(names),
        Value::from(images),
        Value::from(selector),
    ]
}

fn replicaset_cells(rs: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) =
        layout_container_cells(arr_at(rs, &["spec", "template", "spec", "containers"]));
    vec![
        name_of(rs),
        Value::from(desired_replicas(rs)),
        Value::from(int_at(rs, &["status", "replicas"])),
        Value::from(int_at(rs, &["status", "readyReplicas"])),
        age_of(rs, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(get(rs, &["spec", "selector"]))),
    ]
}

// ---------------------------------------------------------------------------
// Labels and label selectors (k8s.io/apimachinery/pkg/labels).
// ---------------------------------------------------------------------------

/// `labels.FormatLabels`: sorted `k=v` pairs, "<none>" when empty.
fn format_labels(labels: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

/// `metav1.FormatLabelSelector`: "<none>" when empty, "<error>" when invalid.
fn format_label_selector(selector: Option<&Value>) -> String {
    match label_selector_string(selector) {
        Ok(s) => or_none(&s),
        Err(()) => "<error>".to_string(),
    }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`. A missing selector selects
/// nothing and an empty one everything; both print as "". `Err` when kube
/// would fail to build the selector.
fn label_selector_string(selector: Option<&Value>) -> Result<String, ()> {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return Ok(String::new());
    };
    let match_labels = obj_at(selector, &["matchLabels"]);
    let expressions = arr_at(selector, &["matchExpressions"]);
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (key, value) in match_labels.into_iter().flatten() {
        let value = value.as_str().unwrap_or("");
        if !is_qualified_name(key) || !is_valid_label_value(value) {
            return Err(());
        }
        requirements.push((key.clone(), format!("{key}={value}")));
    }
    for expr in expressions {
        let key = str_at(expr, &["key"]);
        let mut values: Vec<&str> = arr_at(expr, &["values"])
            .iter()
            .map(|v| v.as_str().unwrap_or(""))
            .collect();
        if !is_qualified_name(key) || !values.iter().all(|v| is_valid_label_value(v)) {
            return Err(());
        }
        let text = match str_at(expr, &["operator"]) {
            op @ ("In" | "NotIn") => {
                if values.is_empty() {
                    return Err(());
                }
                values.sort_unstable();
                let word = if op == "In" { "in" } else { "notin" };
                format!("{key} {word} ({})", values.join(","))
            }
            "Exists" if values.is_empty() => key.to_string(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return Err(()),
        };
        requirements.push((key.to_string(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(","))
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn is_label_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// DNS-1123 subdomain: dot-separated lowercase alphanumeric labels (inner
/// '-' allowed), at most 253 characters.
fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && is_lower_alnum(b[0])
                && is_lower_alnum(b[b.len() - 1])
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        })
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `validation.IsQualifiedName`: `[prefix/]name`.
fn is_qualified_name(s: &str) -> bool {
    let mut parts = s.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, None) => is_label_name_part(name),
        (Some(prefix), Some(name), None) => {
            is_dns1123_subdomain(prefix) && is_label_name_part(name)
        }
        _ => false,
    }
}

/// `validation.IsValidLabelValue`: empty or a label name part.
fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name_part(s)
}

// ---------------------------------------------------------------------------
// Kinds without a printer (k8s.io/apiserver default table convertor).
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Custom resources: the CRD version's `additionalPrinterColumns`, as the
// apiextensions server's table convertor prints them.
// ---------------------------------------------------------------------------

/// Name, then each printer column (a CRD that names none gets `Age`, as in
/// Kubernetes).
pub fn custom_columns(columns: &[PrinterColumn]) -> Vec<Value> {
    let mut out = vec![NAME_COLUMN.to_json()];
    for c in columns {
        out.push(json!({
            "name": c.name,
            "type": c.type_,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }));
    }
    out
}

pub fn custom_cells(columns: &[PrinterColumn], obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut out = vec![name_of(obj)];
    for c in columns {
        let cell = match json_path(obj, &c.json_path) {
            None | Some(Value::Null) => Value::Null,
            Some(v) => custom_cell(&c.type_, v, now),
        };
        out.push(cell);
    }
    out
}

/// The apiextensions server's `cellForJSONValue`: a value of the column's type,
/// a date as an age, anything else nothing.
fn custom_cell(type_: &str, v: &Value, now: Timestamp) -> Value {
    match (type_, v) {
        ("integer", Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Value::from)
            .unwrap_or(Value::Null),
        ("number", Value::Number(n)) => n.as_f64().map(Value::from).unwrap_or(Value::Null),
        ("boolean", Value::Bool(b)) => Value::from(*b),
        ("date", Value::String(s)) => match s.parse::<Timestamp>() {
            Ok(ts) => Value::from(translate_timestamp_since(Some(ts), now)),
            Err(_) => Value::from("<invalid>"),
        },
        // A string column prints whatever the path holds, as JSONPath would.
        ("string", Value::String(s)) => Value::from(s.as_str()),
        ("string", other) => Value::from(other.to_string()),
        _ => Value::Null,
    }
}

/// The simple JSONPath subset CRD printer columns use: `.a.b`, `.a[0].b`, and
/// filters `.a[?(@.type=="Ready")].status`; none when nothing matches.
fn json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    let mut rest = path.trim();
    rest = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let field = &r[..end];
            if !field.is_empty() {
                cur = cur.get(field)?;
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            if let Ok(i) = inner.parse::<usize>() {
                cur = cur.get(i)?;
            } else if let Some(filter) =
                inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')'))
            {
                let (field, want) = filter.split_once("==")?;
                let want = want.trim().trim_matches(['"', '\'']);
                cur = cur.as_array()?.iter().find(|item| {
                    item.get(field.trim()).is_some_and(|v| match v {
                        Value::String(s) => s == want,
                        other => serde_json::from_str::<Value>(want).ok().as_ref() == Some(other),
                    })
                })?;
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    Some(cur)
}

fn default_cells(obj: &Value) -> Vec<Value> {
    let created = match time_at(obj, &["metadata", "creationTimestamp"]) {
        Some(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    vec![name_of(obj), Value::from(created)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn printer_columns_follow_their_json_paths_and_types() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let obj = json!({
            "metadata": {"name": "db", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"replicas": 3, "ports": [{"port": 5432}]},
            "status": {"conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"}
            ]}
        });
        let column = |name: &str, type_: &str, path: &str| PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            json_path: path.into(),
            priority: 0,
            format: String::new(),
            description: String::new(),
        };
        let columns = [
            column("Replicas", "integer", ".spec.replicas"),
            column("Port", "string", ".spec.ports[0].port"),
            column(
                "Ready",
                "string",
                r#".status.conditions[?(@.type=="Ready")].status"#,
            ),
            column("Missing", "string", ".status.nothing"),
            column("Wrong", "boolean", ".spec.replicas"),
            column("Age", "date", ".metadata.creationTimestamp"),
        ];
        assert_eq!(
            custom_cells(&columns, &obj, now),
            vec![
                json!("db"),
                json!(3),
                json!("5432"),
                json!("True"),
                Value::Null,
                Value::Null,
                json!("10m"),
            ]
        );
        let definitions = custom_columns(&columns);
        assert_eq!(definitions[0]["name"], "Name");
        assert_eq!(definitions[6]["type"], "date");
    }

    const KINDS: [&str; 17] = [
        "Pod",
        "Node",
        "Namespace",
        "Service",
        "Endpoints",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Event",
        "Deployment",
        "ReplicaSet",
        "Lease",
        "PriorityClass",
        "RoleBinding",
        "ClusterRoleBinding",
        "PodDisruptionBudget",
        "Widget",
    ];

    fn now() -> Timestamp {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    /// RFC 3339 timestamp `secs` seconds before `now()`.
    fn ago(secs: i64) -> String {
        now()
            .checked_sub(SignedDuration::from_secs(secs))
            .unwrap()
            .to_string()
    }

    fn strs(values: &[&str]) -> Vec<Value> {
        values.iter().map(|s| Value::from(*s)).collect()
    }

    fn row(kind: &str, obj: Value) -> Vec<Value> {
        let cells = cells(kind, &obj, now());
        assert_eq!(cells.len(), columns(kind).len(), "{kind}: {obj}");
        cells
    }

    // ----- durations ------------------------------------------------------

    #[test]
    fn human_duration_boundaries() {
        let s = NANOS_PER_SECOND;
        let m = 60 * s;
        let h = 60 * m;
        let d = 24 * h;
        let cases: &[(i64, &str)] = &[
            (-2 * s, "<invalid>"),
            (-3 * s / 2, "0s"),
            (-s, "0s"),
            (-1, "0s"),
            (0, "0s"),
            (s - 1, "0s"),
            (5 * s, "5s"),
            (59 * s, "59s"),
            (119 * s, "119s"),
            (2 * m, "2m"),
            (2 * m + s, "2m1s"),
            (3 * m + 12 * s, "3m12s"),
            (9 * m + 59 * s, "9m59s"),
            (10 * m, "10m"),
            (10 * m + 30 * s, "10m"),
            (179 * m + 59 * s, "179m"),
            (3 * h, "3h"),
            (3 * h + m, "3h1m"),
            (7 * h + 59 * m, "7h59m"),
            (8 * h, "8h"),
            (47 * h + 59 * m, "47h"),
            (48 * h, "2d"),
            (49 * h, "2d1h"),
            (7 * d + 23 * h, "7d23h"),
            (8 * d, "8d"),
            (729 * d, "729d"),
            (730 * d, "2y"),
            (731 * d, "2y1d"),
            (8 * 365 * d - h, "7y364d"),
            (8 * 365 * d, "8y"),
            (i64::MAX, "292y"),
            (i64::MIN, "<invalid>"),
        ];
        for (nanos, want) in cases {
            assert_eq!(human_duration(*nanos), *want, "{nanos}ns");
        }
    }

    #[test]
    fn translate_timestamps() {
        let cases: &[(Value, &str)] = &[
            (json!({}), "<unknown>"),
            (
                json!({"metadata": {"creationTimestamp": null}}),
                "<unknown>",
            ),
            (
                json!({"metadata": {"creationTimestamp": "yesterday"}}),
                "<unknown>",
            ),
            (json!({"metadata": {"creationTimestamp": 12}}), "<unknown>"),
            (
                json!({"metadata": {"creationTimestamp": "0001-01-01T00:00:00Z"}}),
                "<unknown>",
            ),
            (json!({"metadata": {"creationTimestamp": ago(5)}}), "5s"),
            (
                json!({"metadata": {"creationTimestamp": ago(192)}}),
                "3m12s",
            ),
            (
                json!({"metadata": {"creationTimestamp": ago(2 * 86400)}}),
                "2d",
            ),
            // Clock skew: up to a second in the future reads as "0s".
            (json!({"metadata": {"creationTimestamp": ago(-1)}}), "0s"),
            (
                json!({"metadata": {"creationTimestamp": ago(-60)}}),
                "<invalid>",
            ),
            (
                json!({"metadata": {"creationTimestamp": "2024-06-01T13:59:30+02:00"}}),
                "30s",
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(age_of(obj, now()), json!(want), "{obj}");
        }
    }

    // ----- Pod --------------------------------------------------------------

    fn running(name: &str, restarts: i64) -> Value {
        json!({"name": name, "ready": true, "restartCount": restarts,
               "state": {"running": {"startedAt": ago(3600)}}})
    }

    #[test]
    fn pod_columns_match_kube() {
        let got: Vec<(&str, &str, &str, i32)> = columns("Pod")
            .iter()
            .map(|c| (c.name, c.type_, c.format, c.priority))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Name", "string", "name", 0),
                ("Ready", "string", "", 0),
                ("Status", "string", "", 0),
                ("Restarts", "string", "", 0),
                ("Age", "string", "", 0),
                ("IP", "string", "", 1),
                ("Node", "string", "", 1),
                ("Nominated Node", "string", "", 1),
                ("Readiness Gates", "string", "", 1),
            ]
        );
    }

    #[test]
    fn pod_rows() {
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "running with restarts",
                json!({
                    "metadata": {"name": "web-1", "creationTimestamp": ago(7200)},
                    "spec": {"nodeName": "node-a", "containers": [{"name": "app"}, {"name": "proxy"}]},
                    "status": {
                        "phase": "Running", "podIP": "10.1.0.7",
                        "podIPs": [{"ip": "10.1.0.7"}, {"ip": "fd00::7"}],
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [
                            {"name": "app", "ready": true, "restartCount": 3,
                             "state": {"running": {}},
                             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}}},
                            running("proxy", 0),
                        ],
                    },
                }),
                vec![
                    "web-1",
                    "2/2",
                    "Running",
                    "3 (5m ago)",
                    "120m",
                    "10.1.0.7",
                    "node-a",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "crashlooping",
                json!({
                    "metadata": {"name": "crash", "creationTimestamp": ago(600)},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {
                        "phase": "Running",
                        "containerStatuses": [
                            {"name": "app", "ready": false, "restartCount": 5,
                             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(30)}}},
                        ],
                    },
                }),
                vec![
                    "crash",
                    "0/1",
                    "CrashLoopBackOff",
                    "5 (30s ago)",
                    "10m",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "terminating",
                json!({
                    "metadata": {"name": "bye", "creationTimestamp": ago(86400),
                                 "deletionTimestamp": ago(-30)},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {"phase": "Running", "containerStatuses": [running("app", 0)]},
                }),
                vec![
                    "bye",
                    "1/1",
                    "Terminating",
                    "0",
                    "24h",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "deleted on a lost node",
                json!({
                    "metadata": {"name": "lost", "deletionTimestamp": ago(10)},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {"phase": "Running", "reason": "NodeLost",
                               "containerStatuses": [running("app", 0)]},
                }),
                vec![
                    "lost",
                    "1/1",
                    "Unknown",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "deleted after completion keeps its status",
                json!({
                    "metadata": {"name": "done", "deletionTimestamp": ago(10)},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {"phase": "Succeeded", "containerStatuses": [
                        {"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
                }),
                vec![
                    "done",
                    "0/1",
                    "Completed",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "init containers pending",
                json!({
                    "metadata": {"name": "init", "creationTimestamp": ago(45)},
                    "spec": {"initContainers": [{"name": "migrate"}, {"name": "seed"}],
                             "containers": [{"name": "app"}]},
                    "status": {
                        "phase": "Pending",
                        "conditions": [{"type": "Initialized", "status": "False"}],
                        "initContainerStatuses": [
                            {"name": "migrate", "restartCount": 0, "state": {"running": {}}},
                            {"name": "seed", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}},
                        ],
                        "containerStatuses": [
                            {"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}],
                    },
                }),
                vec![
                    "init", "0/1", "Init:0/2", "0", "45s", "<none>", "<none>", "<none>", "<none>",
                ],
            ),
            (
                "second init container running",
                json!({
                    "metadata": {"name": "init2"},
                    "spec": {"initContainers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "app"}]},
                    "status": {"phase": "Pending", "initContainerStatuses": [
                        {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                        {"name": "b", "state": {"running": {}}}]},
                }),
                vec![
                    "init2",
                    "0/1",
                    "Init:1/2",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "init container crashlooping",
                json!({
                    "metadata": {"name": "init-crash"},
                    "spec": {"initContainers": [{"name": "a"}], "containers": [{"name": "app"}]},
                    "status": {"phase": "Pending", "initContainerStatuses": [
                        {"name": "a", "restartCount": 4,
                         "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                         "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(20)}}}]},
                }),
                vec![
                    "init-crash",
                    "0/1",
                    "Init:CrashLoopBackOff",
                    "4 (20s ago)",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "init container failed",
                json!({
                    "metadata": {"name": "init-err"},
                    "spec": {"initContainers": [{"name": "a"}], "containers": [{"name": "app"}]},
                    "status": {"phase": "Failed", "initContainerStatuses": [
                        {"name": "a", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]},
                }),
                vec![
                    "init-err",
                    "0/1",
                    "Init:Error",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "init container killed by a signal",
                json!({
                    "metadata": {"name": "init-sig"},
                    "spec": {"initContainers": [{"name": "a"}], "containers": [{"name": "app"}]},
                    "status": {"phase": "Pending", "initContainerStatuses": [
                        {"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]},
                }),
                vec![
                    "init-sig",
                    "0/1",
                    "Init:Signal:9",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "init container exit code",
                json!({
                    "metadata": {"name": "init-exit"},
                    "spec": {"initContainers": [{"name": "a"}], "containers": [{"name": "app"}]},
                    "status": {"phase": "Pending", "initContainerStatuses": [
                        {"name": "a", "state": {"terminated": {"exitCode": 2}}}]},
                }),
                vec![
                    "init-exit",
                    "0/1",
                    "Init:ExitCode:2",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "completed job pod",
                json!({
                    "metadata": {"name": "job-x7k2p", "creationTimestamp": ago(3 * 86400),
                                 "labels": {"job-name": "job"}},
                    "spec": {"nodeName": "node-b", "restartPolicy": "Never", "containers": [{"name": "job"}]},
                    "status": {
                        "phase": "Succeeded", "podIPs": [{"ip": "10.1.0.9"}],
                        "conditions": [{"type": "Ready", "status": "False", "reason": "PodCompleted"}],
                        "containerStatuses": [
                            {"name": "job", "ready": false, "restartCount": 0,
                             "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                      "finishedAt": ago(3 * 86400 - 60)}}}],
                    },
                }),
                vec![
                    "job-x7k2p",
                    "0/1",
                    "Completed",
                    "0",
                    "3d",
                    "10.1.0.9",
                    "node-b",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "failed pod",
                json!({
                    "metadata": {"name": "fail"},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {"phase": "Failed", "containerStatuses": [
                        {"name": "app", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]},
                }),
                vec![
                    "fail",
                    "0/1",
                    "Error",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "evicted",
                json!({
                    "metadata": {"name": "evicted"},
                    "spec": {"containers": [{"name": "app"}]},
                    "status": {"phase": "Failed", "reason": "Evicted", "message": "low on memory"},
                }),
                vec![
                    "evicted",
                    "0/1",
                    "Evicted",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "image pull errors and container creation",
                json!({
                    "metadata": {"name": "pull"},
                    "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                    "status": {"phase": "Pending", "containerStatuses": [
                        {"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}},
                        {"name": "b", "state": {"waiting": {"reason": "ContainerCreating"}}}]},
                }),
                // Statuses are walked last to first, so the first one wins.
                vec![
                    "pull",
                    "0/2",
                    "ErrImagePull",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "pending, not scheduled",
                json!({
                    "metadata": {"name": "pending"},
                    "spec": {"containers": [{"name": "a"}]},
                    "status": {"phase": "Pending", "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]},
                }),
                vec![
                    "pending",
                    "0/1",
                    "Pending",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "scheduling gated",
                json!({
                    "metadata": {"name": "gated"},
                    "spec": {"containers": [{"name": "a"}], "schedulingGates": [{"name": "g"}]},
                    "status": {"phase": "Pending", "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]},
                }),
                vec![
                    "gated",
                    "0/1",
                    "SchedulingGated",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "one container done, one running, pod not ready",
                json!({
                    "metadata": {"name": "partial"},
                    "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                    "status": {"phase": "Running", "containerStatuses": [
                        running("a", 0),
                        {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
                }),
                vec![
                    "partial",
                    "1/2",
                    "NotReady",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "one container done, one running, pod ready",
                json!({
                    "metadata": {"name": "partial-ready"},
                    "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                    "status": {"phase": "Running",
                               "conditions": [{"type": "Ready", "status": "True"}],
                               "containerStatuses": [
                        running("a", 0),
                        {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
                }),
                vec![
                    "partial-ready",
                    "1/2",
                    "Running",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "container killed by a signal / exit code",
                json!({
                    "metadata": {"name": "killed"},
                    "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"name": "a", "state": {"terminated": {"exitCode": 143, "signal": 15}}},
                        {"name": "b", "state": {"terminated": {"exitCode": 137}}}]},
                }),
                vec![
                    "killed",
                    "0/2",
                    "Signal:15",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "native sidecar counts as a container",
                json!({
                    "metadata": {"name": "sidecar", "creationTimestamp": ago(7200)},
                    "spec": {"initContainers": [{"name": "mesh", "restartPolicy": "Always"}],
                             "containers": [{"name": "app"}]},
                    "status": {
                        "phase": "Running",
                        "conditions": [{"type": "Initialized", "status": "True"},
                                       {"type": "Ready", "status": "True"}],
                        "initContainerStatuses": [
                            {"name": "mesh", "ready": true, "started": true, "restartCount": 2,
                             "state": {"running": {}},
                             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(3600)}}}],
                        "containerStatuses": [running("app", 1)],
                    },
                }),
                vec![
                    "sidecar",
                    "2/2",
                    "Running",
                    "3 (60m ago)",
                    "120m",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "restarts without a finish time",
                json!({
                    "metadata": {"name": "no-finish"},
                    "spec": {"containers": [{"name": "a"}]},
                    "status": {"phase": "Running", "containerStatuses": [running("a", 7)]},
                }),
                vec![
                    "no-finish",
                    "1/1",
                    "Running",
                    "7",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "wide columns",
                json!({
                    "metadata": {"name": "wide"},
                    "spec": {"nodeName": "node-c", "containers": [{"name": "a"}],
                             "readinessGates": [{"conditionType": "example.com/lb"},
                                                {"conditionType": "example.com/dns"}]},
                    "status": {"phase": "Pending", "nominatedNodeName": "node-d",
                               "podIPs": [{"ip": "fd00::1"}],
                               "conditions": [{"type": "example.com/lb", "status": "True"},
                                              {"type": "example.com/dns", "status": "False"}]},
                }),
                vec![
                    "wide",
                    "0/1",
                    "Pending",
                    "0",
                    "<unknown>",
                    "fd00::1",
                    "node-c",
                    "node-d",
                    "1/2",
                ],
            ),
            (
                "empty object",
                json!({}),
                vec![
                    "",
                    "0/0",
                    "",
                    "0",
                    "<unknown>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("Pod", obj), strs(&want), "{what}");
        }
    }

    // ----- Node -------------------------------------------------------------

    #[test]
    fn node_rows() {
        let info = json!({"kubeletVersion": "v1.32.1", "osImage": "Ubuntu 24.04 LTS",
                          "kernelVersion": "6.8.0-45-generic",
                          "containerRuntimeVersion": "containerd://1.7.22"});
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "ready control plane",
                json!({
                    "metadata": {"name": "cp-1", "creationTimestamp": ago(30 * 86400),
                                 "labels": {"node-role.kubernetes.io/control-plane": "",
                                            "kubernetes.io/hostname": "cp-1"}},
                    "status": {
                        "conditions": [{"type": "MemoryPressure", "status": "False"},
                                       {"type": "Ready", "status": "True"}],
                        "addresses": [{"type": "Hostname", "address": "cp-1"},
                                      {"type": "InternalIP", "address": "192.168.1.10"},
                                      {"type": "ExternalIP", "address": "203.0.113.10"}],
                        "nodeInfo": info,
                    },
                }),
                vec![
                    "cp-1",
                    "Ready",
                    "control-plane",
                    "30d",
                    "v1.32.1",
                    "192.168.1.10",
                    "203.0.113.10",
                    "Ubuntu 24.04 LTS",
                    "6.8.0-45-generic",
                    "containerd://1.7.22",
                ],
            ),
            (
                "not ready and cordoned, several roles",
                json!({
                    "metadata": {"name": "w-1", "creationTimestamp": ago(5 * 3600),
                                 "labels": {"node-role.kubernetes.io/worker": "",
                                            "node-role.kubernetes.io/": "",
                                            "kubernetes.io/role": "gpu",
                                            "node-role.kubernetes.io/ingress": "true"}},
                    "spec": {"unschedulable": true},
                    "status": {"conditions": [{"type": "Ready", "status": "False"}],
                               "addresses": [{"type": "InternalIP", "address": "192.168.1.11"}],
                               "nodeInfo": info},
                }),
                vec![
                    "w-1",
                    "NotReady,SchedulingDisabled",
                    "gpu,ingress,worker",
                    "5h",
                    "v1.32.1",
                    "192.168.1.11",
                    "<none>",
                    "Ubuntu 24.04 LTS",
                    "6.8.0-45-generic",
                    "containerd://1.7.22",
                ],
            ),
            (
                "ready and cordoned",
                json!({
                    "metadata": {"name": "w-2"},
                    "spec": {"unschedulable": true},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
                }),
                vec![
                    "w-2",
                    "Ready,SchedulingDisabled",
                    "<none>",
                    "<unknown>",
                    "",
                    "<none>",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ],
            ),
            (
                "ready status unknown",
                json!({
                    "metadata": {"name": "w-3"},
                    "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
                }),
                vec![
                    "w-3",
                    "NotReady",
                    "<none>",
                    "<unknown>",
                    "",
                    "<none>",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ],
            ),
            (
                "no conditions yet",
                json!({"metadata": {"name": "new"}}),
                vec![
                    "new",
                    "Unknown",
                    "<none>",
                    "<unknown>",
                    "",
                    "<none>",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("Node", obj), strs(&want), "{what}");
        }
    }

    // ----- Namespace, ConfigMap, Secret, ServiceAccount, Lease --------------

    #[test]
    fn simple_kind_rows() {
        let cases: Vec<(&str, Value, Vec<Value>)> = vec![
            (
                "Namespace",
                json!({"metadata": {"name": "default", "creationTimestamp": ago(400 * 86400)},
                       "status": {"phase": "Active"}}),
                vec![json!("default"), json!("Active"), json!("400d")],
            ),
            (
                "Namespace",
                json!({"metadata": {"name": "old", "deletionTimestamp": ago(5)},
                       "status": {"phase": "Terminating"}}),
                vec![json!("old"), json!("Terminating"), json!("<unknown>")],
            ),
            (
                "Namespace",
                json!({"metadata": {"name": "fresh"}}),
                vec![json!("fresh"), json!("Active"), json!("<unknown>")],
            ),
            (
                "ConfigMap",
                json!({"metadata": {"name": "cfg", "creationTimestamp": ago(90)},
                       "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AAE="}}),
                vec![json!("cfg"), json!(3), json!("90s")],
            ),
            (
                "ConfigMap",
                json!({"metadata": {"name": "kube-root-ca.crt"}, "data": {}}),
                vec![json!("kube-root-ca.crt"), json!(0), json!("<unknown>")],
            ),
            (
                "Secret",
                json!({"metadata": {"name": "tls", "creationTimestamp": ago(3600)},
                       "type": "kubernetes.io/tls",
                       "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}}),
                vec![
                    json!("tls"),
                    json!("kubernetes.io/tls"),
                    json!(2),
                    json!("60m"),
                ],
            ),
            (
                "Secret",
                json!({"metadata": {"name": "mixed"},
                       "data": {"a": "MQ==", "b": "Mg=="}, "stringData": {"b": "2", "c": "3"}}),
                vec![
                    json!("mixed"),
                    json!("Opaque"),
                    json!(3),
                    json!("<unknown>"),
                ],
            ),
            (
                "ServiceAccount",
                json!({"metadata": {"name": "builder", "creationTimestamp": ago(600)},
                       "secrets": [{"name": "builder-token"}]}),
                vec![json!("builder"), json!(1), json!("10m")],
            ),
            (
                "ServiceAccount",
                json!({"metadata": {"name": "default"}}),
                vec![json!("default"), json!(0), json!("<unknown>")],
            ),
            (
                "Lease",
                json!({"metadata": {"name": "kube-scheduler", "creationTimestamp": ago(86400)},
                       "spec": {"holderIdentity": "cp-1_6f2c", "leaseDurationSeconds": 15}}),
                vec![json!("kube-scheduler"), json!("cp-1_6f2c"), json!("24h")],
            ),
            (
                "Lease",
                json!({"metadata": {"name": "free"}, "spec": {}}),
                vec![json!("free"), json!(""), json!("<unknown>")],
            ),
            (
                "PriorityClass",
                json!({"metadata": {"name": "system-node-critical", "creationTimestamp": ago(86400)},
                       "value": 2_000_001_000, "preemptionPolicy": "PreemptLowerPriority"}),
                vec![
                    json!("system-node-critical"),
                    json!(2_000_001_000),
                    json!(false),
                    json!("24h"),
                    json!("PreemptLowerPriority"),
                ],
            ),
            (
                "PriorityClass",
                json!({"metadata": {"name": "batch"}, "value": -5, "globalDefault": true,
                       "preemptionPolicy": "Never"}),
                vec![
                    json!("batch"),
                    json!(-5),
                    json!(true),
                    json!("<unknown>"),
                    json!("Never"),
                ],
            ),
            (
                "PodDisruptionBudget",
                json!({"metadata": {"name": "web", "creationTimestamp": ago(30)},
                       "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}}),
                vec![
                    json!("web"),
                    json!("2"),
                    json!("N/A"),
                    json!(1),
                    json!("30s"),
                ],
            ),
            (
                "Ingress",
                json!({"metadata": {"name": "web", "creationTimestamp": ago(30)},
                       "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.io"]}],
                                "rules": [{"host": "a.io"}, {}, {"host": "b.io"}, {"host": "c.io"}, {"host": "d.io"}]},
                       "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "10.0.0.10"}]}}}),
                strs(&[
                    "web",
                    "nginx",
                    "a.io,b.io,c.io + 2 more...",
                    "10.0.0.10,lb.example.com",
                    "80, 443",
                    "30s",
                ]),
            ),
            (
                "Ingress",
                json!({"metadata": {"name": "any"}, "spec": {"defaultBackend": {}}}),
                strs(&["any", "<none>", "*", "", "80", "<unknown>"]),
            ),
            (
                "IngressClass",
                json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
                       "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}}),
                strs(&[
                    "nginx",
                    "k8s.io/ingress-nginx",
                    "IngressParameters.k8s.example.com/external-lb",
                    "<unknown>",
                ]),
            ),
            (
                "NetworkPolicy",
                json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {"matchLabels": {"app": "db"}}}}),
                strs(&["deny", "app=db", "<unknown>"]),
            ),
            (
                "RoleBinding",
                json!({"metadata": {"name": "read", "creationTimestamp": ago(90)},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                       "subjects": [{"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"},
                                    {"kind": "Group", "name": "devs"},
                                    {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"}]}),
                strs(&[
                    "read",
                    "ClusterRole/view",
                    "90s",
                    "jane, joe",
                    "devs",
                    "ci/bot",
                ]),
            ),
        ];
        for (kind, obj, want) in cases {
            assert_eq!(row(kind, obj.clone()), want, "{kind}: {obj}");
        }
    }

    // ----- Service and Endpoints ---------------------------------------------

    #[test]
    fn service_rows() {
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "cluster IP",
                json!({
                    "metadata": {"name": "kubernetes", "creationTimestamp": ago(86400 * 10)},
                    "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                             "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
                }),
                vec![
                    "kubernetes",
                    "ClusterIP",
                    "10.96.0.1",
                    "<none>",
                    "443/TCP",
                    "10d",
                    "<none>",
                ],
            ),
            (
                "node port",
                json!({
                    "metadata": {"name": "web", "creationTimestamp": ago(300)},
                    "spec": {"type": "NodePort", "clusterIPs": ["10.96.12.34", "fd00::1234"],
                             "selector": {"tier": "fe", "app": "web"},
                             "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                                       {"port": 443, "nodePort": 30443},
                                       {"port": 53, "protocol": "UDP"}]},
                }),
                vec![
                    "web",
                    "NodePort",
                    "10.96.12.34",
                    "<none>",
                    "80:30080/TCP,443:30443/TCP,53/UDP",
                    "5m",
                    "app=web,tier=fe",
                ],
            ),
            (
                "external IPs",
                json!({
                    "metadata": {"name": "ext"},
                    "spec": {"clusterIP": "10.96.0.20", "externalIPs": ["198.51.100.7", "198.51.100.8"],
                             "ports": [{"port": 8080}]},
                }),
                vec![
                    "ext",
                    "ClusterIP",
                    "10.96.0.20",
                    "198.51.100.7,198.51.100.8",
                    "8080/TCP",
                    "<unknown>",
                    "<none>",
                ],
            ),
            (
                "load balancer pending",
                json!({
                    "metadata": {"name": "lb"},
                    "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.30"],
                             "ports": [{"port": 80, "nodePort": 31000}]},
                    "status": {"loadBalancer": {}},
                }),
                vec![
                    "lb",
                    "LoadBalancer",
                    "10.96.0.30",
                    "<pending>",
                    "80:31000/TCP",
                    "<unknown>",
                    "<none>",
                ],
            ),
            (
                "load balancer with ingress",
                json!({
                    "metadata": {"name": "lb2"},
                    "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.31"],
                             "externalIPs": ["198.51.100.9"], "ports": [{"port": 443, "nodePort": 31443}]},
                    "status": {"loadBalancer": {"ingress": [
                        {"ip": "203.0.113.5"}, {"hostname": "lb.example.com"},
                        {"ip": "203.0.113.4"}, {"ip": "203.0.113.5"}]}},
                }),
                vec![
                    "lb2",
                    "LoadBalancer",
                    "10.96.0.31",
                    "203.0.113.4,203.0.113.5,lb.example.com,198.51.100.9",
                    "443:31443/TCP",
                    "<unknown>",
                    "<none>",
                ],
            ),
            (
                "load balancer ingress, long list is not clipped",
                json!({
                    "metadata": {"name": "lb3"},
                    "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.32"]},
                    "status": {"loadBalancer": {"ingress": [{"hostname": "a-very-long-hostname.elb.example.com"}]}},
                }),
                vec![
                    "lb3",
                    "LoadBalancer",
                    "10.96.0.32",
                    "a-very-long-hostname.elb.example.com",
                    "<none>",
                    "<unknown>",
                    "<none>",
                ],
            ),
            (
                "external name",
                json!({
                    "metadata": {"name": "db"},
                    "spec": {"type": "ExternalName", "externalName": "db.example.com"},
                }),
                vec![
                    "db",
                    "ExternalName",
                    "<none>",
                    "db.example.com",
                    "<none>",
                    "<unknown>",
                    "<none>",
                ],
            ),
            (
                "headless",
                json!({
                    "metadata": {"name": "headless"},
                    "spec": {"clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"},
                             "ports": [{"port": 5432}]},
                }),
                vec![
                    "headless",
                    "ClusterIP",
                    "None",
                    "<none>",
                    "5432/TCP",
                    "<unknown>",
                    "app=db",
                ],
            ),
            (
                "unknown type",
                json!({"metadata": {"name": "odd"}, "spec": {"type": "Weird"}}),
                vec![
                    "odd",
                    "Weird",
                    "<none>",
                    "<unknown>",
                    "<none>",
                    "<unknown>",
                    "<none>",
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("Service", obj), strs(&want), "{what}");
        }
    }

    #[test]
    fn endpoints_rows() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("no subsets", json!({"metadata": {"name": "e"}}), "<none>"),
            (
                "empty subsets list",
                json!({"metadata": {"name": "e"}, "subsets": []}),
                "<none>",
            ),
            (
                "subset without addresses",
                json!({"metadata": {"name": "e"}, "subsets": [{"ports": [{"port": 80}]}]}),
                "",
            ),
            (
                "two endpoints",
                json!({"metadata": {"name": "e"}, "subsets": [{
                    "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                    "notReadyAddresses": [{"ip": "10.0.0.9"}],
                    "ports": [{"port": 80, "protocol": "TCP"}]}]}),
                "10.0.0.1:80,10.0.0.2:80",
            ),
            (
                "more than three",
                json!({"metadata": {"name": "e"}, "subsets": [{
                    "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                    "ports": [{"port": 80}, {"port": 443}]}]}),
                "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...",
            ),
            (
                "several subsets",
                json!({"metadata": {"name": "e"}, "subsets": [
                    {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]},
                    {"addresses": [{"ip": "10.0.1.1"}, {"ip": "10.0.1.2"}, {"ip": "10.0.1.3"}],
                     "ports": [{"port": 8080}]}]}),
                "10.0.0.1:80,10.0.0.2:80,10.0.1.1:8080 + 2 more...",
            ),
            (
                "headless without ports",
                json!({"metadata": {"name": "e"}, "subsets": [{
                    "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"},
                                  {"ip": "10.0.0.4"}]}]}),
                "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
            ),
            (
                "IPv6",
                json!({"metadata": {"name": "e"}, "subsets": [{
                    "addresses": [{"ip": "fd00::5"}], "ports": [{"port": 53, "protocol": "UDP"}]}]}),
                "[fd00::5]:53",
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(
                row("Endpoints", obj),
                vec![json!("e"), json!(want), json!("<unknown>")],
                "{what}"
            );
        }
    }

    // ----- Event ------------------------------------------------------------

    #[test]
    fn event_columns_match_kube() {
        let got: Vec<(&str, &str, i32)> = columns("Event")
            .iter()
            .map(|c| (c.name, c.format, c.priority))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Last Seen", "", 0),
                ("Type", "", 0),
                ("Reason", "", 0),
                ("Object", "", 0),
                ("Subobject", "", 1),
                ("Source", "", 1),
                ("Message", "", 0),
                ("First Seen", "", 1),
                ("Count", "", 1),
                ("Name", "name", 1),
            ]
        );
    }

    #[test]
    fn event_rows() {
        let cases: Vec<(&str, Value, Vec<Value>)> = vec![
            (
                "classic event",
                json!({
                    "apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "p1.17d8a", "namespace": "default"},
                    "involvedObject": {"kind": "Pod", "name": "p1", "namespace": "default",
                                       "fieldPath": "spec.containers{app}"},
                    "reason": "BackOff", "type": "Warning",
                    "message": "Back-off restarting failed container\n",
                    "source": {"component": "kubelet", "host": "node-1"},
                    "firstTimestamp": ago(3600), "lastTimestamp": ago(42), "count": 12,
                }),
                vec![
                    json!("42s"),
                    json!("Warning"),
                    json!("BackOff"),
                    json!("pod/p1"),
                    json!("spec.containers{app}"),
                    json!("kubelet, node-1"),
                    json!("Back-off restarting failed container"),
                    json!("60m"),
                    json!(12),
                    json!("p1.17d8a"),
                ],
            ),
            (
                "new-style event through core/v1",
                json!({
                    "metadata": {"name": "n.1"},
                    "involvedObject": {"kind": "Node", "name": "node-1"},
                    "reason": "Starting", "type": "Normal", "message": "Starting kubelet.",
                    "eventTime": "2024-06-01T11:59:00.123456Z",
                    "reportingComponent": "kubelet", "reportingInstance": "node-1",
                    "source": {},
                }),
                // 59.88s ago: seconds are truncated, as in Go.
                vec![
                    json!("59s"),
                    json!("Normal"),
                    json!("Starting"),
                    json!("node/node-1"),
                    json!(""),
                    json!("kubelet, node-1"),
                    json!("Starting kubelet."),
                    json!("59s"),
                    json!(1),
                    json!("n.1"),
                ],
            ),
            (
                "series",
                json!({
                    "metadata": {"name": "s.1"},
                    "involvedObject": {"kind": "Deployment"},
                    "reason": "ScalingReplicaSet", "type": "Normal", "message": "m",
                    "eventTime": ago(7200),
                    "series": {"count": 4, "lastObservedTime": ago(5)},
                    "reportingComponent": "deployment-controller",
                }),
                vec![
                    json!("5s"),
                    json!("Normal"),
                    json!("ScalingReplicaSet"),
                    json!("deployment"),
                    json!(""),
                    json!("deployment-controller"),
                    json!("m"),
                    json!("120m"),
                    json!(4),
                    json!("s.1"),
                ],
            ),
            (
                "events.k8s.io/v1",
                json!({
                    "apiVersion": "events.k8s.io/v1", "kind": "Event",
                    "metadata": {"name": "p2.1"},
                    "regarding": {"kind": "Pod", "name": "p2", "fieldPath": "spec.containers{c}"},
                    "note": "  Pulled image  ", "reason": "Pulled", "type": "Normal",
                    "eventTime": null,
                    "deprecatedFirstTimestamp": ago(600), "deprecatedLastTimestamp": ago(120),
                    "deprecatedCount": 2,
                    "deprecatedSource": {"component": "kubelet", "host": "node-2"},
                }),
                vec![
                    json!("2m"),
                    json!("Normal"),
                    json!("Pulled"),
                    json!("pod/p2"),
                    json!("spec.containers{c}"),
                    json!("kubelet, node-2"),
                    json!("Pulled image"),
                    json!("10m"),
                    json!(2),
                    json!("p2.1"),
                ],
            ),
            (
                "empty",
                json!({}),
                vec![
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!(""),
                    json!(""),
                    json!(""),
                    json!(""),
                    json!("<unknown>"),
                    json!(1),
                    json!(""),
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("Event", obj), want, "{what}");
        }
    }

    // ----- Deployment and ReplicaSet ---------------------------------------

    #[test]
    fn deployment_rows() {
        let template = json!({"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}});
        let cases: Vec<(&str, Value, Vec<Value>)> = vec![
            (
                "rolling",
                json!({
                    "metadata": {"name": "web", "creationTimestamp": ago(3 * 86400 + 3600)},
                    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                             "template": template},
                    "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3,
                               "availableReplicas": 2},
                }),
                vec![
                    json!("web"),
                    json!("2/3"),
                    json!(3),
                    json!(2),
                    json!("3d1h"),
                    json!("nginx,log"),
                    json!("nginx:1.27,busybox"),
                    json!("app=web"),
                ],
            ),
            (
                "expressions",
                json!({
                    "metadata": {"name": "api"},
                    "spec": {"replicas": 0, "selector": {
                        "matchLabels": {"tier": "api"},
                        "matchExpressions": [
                            {"key": "env", "operator": "In", "values": ["prod", "canary"]},
                            {"key": "legacy", "operator": "DoesNotExist"},
                            {"key": "app.kubernetes.io/name", "operator": "Exists"},
                            {"key": "zone", "operator": "NotIn", "values": ["b"]}]}},
                }),
                vec![
                    json!("api"),
                    json!("0/0"),
                    json!(0),
                    json!(0),
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!(
                        "app.kubernetes.io/name,env in (canary,prod),!legacy,tier=api,zone notin (b)"
                    ),
                ],
            ),
            (
                "defaults",
                json!({"metadata": {"name": "bare"}, "spec": {}}),
                vec![
                    json!("bare"),
                    json!("0/1"),
                    json!(0),
                    json!(0),
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!(""),
                ],
            ),
            (
                "invalid selector",
                json!({"metadata": {"name": "bad"}, "spec": {"replicas": 1, "selector": {
                    "matchExpressions": [{"key": "a", "operator": "Near"}]}}}),
                vec![
                    json!("bad"),
                    json!("0/1"),
                    json!(0),
                    json!(0),
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!("<invalid>"),
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("Deployment", obj), want, "{what}");
        }
    }

    #[test]
    fn replicaset_rows() {
        let cases: Vec<(&str, Value, Vec<Value>)> = vec![
            (
                "owned by a deployment",
                json!({
                    "metadata": {"name": "web-7d4b9c", "creationTimestamp": ago(600)},
                    "spec": {"replicas": 3,
                             "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"}},
                             "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
                    "status": {"replicas": 3, "readyReplicas": 1},
                }),
                vec![
                    json!("web-7d4b9c"),
                    json!(3),
                    json!(3),
                    json!(1),
                    json!("10m"),
                    json!("nginx"),
                    json!("nginx:1.27"),
                    json!("app=web,pod-template-hash=7d4b9c"),
                ],
            ),
            (
                "no selector",
                json!({"metadata": {"name": "rs"}}),
                vec![
                    json!("rs"),
                    json!(1),
                    json!(0),
                    json!(0),
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!("<none>"),
                ],
            ),
            (
                "invalid label",
                json!({"metadata": {"name": "rs"}, "spec": {"replicas": 2,
                       "selector": {"matchLabels": {"bad key!": "x"}}}}),
                vec![
                    json!("rs"),
                    json!(2),
                    json!(0),
                    json!(0),
                    json!("<unknown>"),
                    json!(""),
                    json!(""),
                    json!("<error>"),
                ],
            ),
        ];
        for (what, obj, want) in cases {
            assert_eq!(row("ReplicaSet", obj), want, "{what}");
        }
    }

    #[test]
    fn label_selector_validation() {
        let cases: &[(Value, Result<&str, ()>)] = &[
            (json!(null), Ok("")),
            (json!({}), Ok("")),
            (json!({"matchLabels": {"a": ""}}), Ok("a=")),
            (
                json!({"matchLabels": {"example.com/app": "v1.2_x"}}),
                Ok("example.com/app=v1.2_x"),
            ),
            (json!({"matchLabels": {"Example.com/app": "x"}}), Err(())),
            (json!({"matchLabels": {"/app": "x"}}), Err(())),
            (json!({"matchLabels": {"a/b/c": "x"}}), Err(())),
            (json!({"matchLabels": {"app": "-x"}}), Err(())),
            (json!({"matchLabels": {"app": "x".repeat(64)}}), Err(())),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}),
                Err(()),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                Err(()),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["z", "y", "x"]}]}),
                Ok("a in (x,y,z)"),
            ),
        ];
        for (sel, want) in cases {
            let got = label_selector_string(Some(sel).filter(|v| !v.is_null()));
            assert_eq!(got.as_deref().map_err(|_| ()), *want, "{sel}");
        }
    }

    // ----- kinds without a printer -------------------------------------------

    #[test]
    fn default_convertor() {
        let cols: Vec<Value> = columns("CustomThing").iter().map(|c| c.to_json()).collect();
        assert_eq!(cols.len(), 2);
        assert_eq!(cols[0]["name"], json!("Name"));
        assert_eq!(cols[0]["format"], json!("name"));
        assert_eq!(cols[1]["name"], json!("Created At"));
        assert_eq!(cols[1]["type"], json!("date"));
        assert_eq!(
            row(
                "CustomThing",
                json!({"metadata": {"name": "x", "creationTimestamp": "2024-05-01T08:09:10+02:00"}})
            ),
            strs(&["x", "2024-05-01T06:09:10Z"])
        );
        assert_eq!(
            row("CustomThing", json!({})),
            strs(&["", "0001-01-01T00:00:00Z"])
        );
    }

    // ----- cross-kind properties ---------------------------------------------

    #[test]
    fn column_json_shape() {
        let ip = columns("Pod")[5].to_json();
        assert_eq!(
            ip,
            json!({"name": "IP", "type": "string", "format": "", "description": D_POD_IP,
                   "priority": 1})
        );
        let name = columns("Node")[0].to_json();
        assert_eq!(name["format"], json!("name"));
        assert_eq!(name["description"], json!(D_NAME));
        assert_eq!(name["priority"], json!(0));
    }

    #[test]
    fn every_kind_has_a_full_row_for_odd_input() {
        let odd = [
            json!({}),
            json!(null),
            json!("a string"),
            json!([1, 2, 3]),
            json!(42),
            json!({"metadata": null, "spec": null, "status": null}),
            json!({"metadata": [], "spec": "x", "status": 7, "data": [1], "subsets": {"a": 1}}),
            json!({"spec": {"containers": "x", "initContainers": [null, 1, {"name": 5}],
                            "replicas": "three", "selector": "app=x", "ports": [null, {"port": "80"}]},
                   "status": {"containerStatuses": [null, {"state": "running"}, {"state": {"terminated": null}}],
                              "initContainerStatuses": [{"state": {"waiting": {}}}],
                              "conditions": [null, "Ready"], "addresses": [null]}}),
        ];
        for kind in KINDS {
            let cols = columns(kind);
            assert!(!cols.is_empty(), "{kind}");
            for obj in &odd {
                let cells = cells(kind, obj, now());
                assert_eq!(cells.len(), cols.len(), "{kind}: {obj}");
                assert!(
                    cells.iter().zip(cols).all(|(c, col)| c.is_string()
                        || c.is_i64()
                        || (col.type_ == "boolean" && c.is_boolean())),
                    "{kind}: {cells:?}"
                );
            }
        }
    }

    #[test]
    fn name_column_is_first_except_for_events() {
        for kind in KINDS {
            let cols = columns(kind);
            let name_at = if kind == "Event" { cols.len() - 1 } else { 0 };
            let c = cols[name_at];
            assert_eq!(
                (c.name, c.type_, c.format, c.description),
                ("Name", "string", "name", D_NAME),
                "{kind}"
            );
            let obj = json!({"metadata": {"name": "the-name"}});
            assert_eq!(
                cells(kind, &obj, now())[name_at],
                json!("the-name"),
                "{kind}"
            );
            // Exactly one name-formatted column.
            assert_eq!(
                cols.iter().filter(|c| c.format == "name").count(),
                1,
                "{kind}"
            );
        }
    }

    #[test]
    fn integer_cells_follow_kube_types() {
        // (kind, column, object) where kube puts an int64 in the cell.
        let numeric: &[(&str, &str)] = &[
            ("ReplicaSet", "Desired"),
            ("ReplicaSet", "Current"),
            ("ReplicaSet", "Ready"),
            ("Deployment", "Up-to-date"),
            ("Deployment", "Available"),
            ("Secret", "Data"),
            ("ConfigMap", "Data"),
            ("ServiceAccount", "Secrets"),
            ("Event", "Count"),
            ("PriorityClass", "Value"),
            ("PodDisruptionBudget", "Allowed Disruptions"),
        ];
        for kind in KINDS {
            let row = cells(kind, &json!({}), now());
            for (col, cell) in columns(kind).iter().zip(&row) {
                let want_number = numeric.contains(&(kind, col.name));
                assert_eq!(cell.is_i64(), want_number, "{kind}/{}", col.name);
                if col.type_ == "integer" {
                    assert!(cell.is_i64(), "{kind}/{}", col.name);
                }
            }
        }
    }

    #[test]
    fn priorities_are_kube_wide_columns() {
        let wide_of = |kind: &str| -> Vec<&str> {
            columns(kind)
                .iter()
                .filter(|c| c.priority == 1)
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(
            wide_of("Pod"),
            ["IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        assert_eq!(
            wide_of("Node"),
            [
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime"
            ]
        );
        assert_eq!(wide_of("Service"), ["Selector"]);
        assert_eq!(wide_of("Deployment"), ["Containers", "Images", "Selector"]);
        assert_eq!(wide_of("ReplicaSet"), ["Containers", "Images", "Selector"]);
        assert_eq!(
            wide_of("Event"),
            ["Subobject", "Source", "First Seen", "Count", "Name"]
        );
        for kind in [
            "Namespace",
            "Endpoints",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "Lease",
        ] {
            assert!(wide_of(kind).is_empty(), "{kind}");
        }
    }
}
