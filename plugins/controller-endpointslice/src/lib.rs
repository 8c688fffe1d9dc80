//! The EndpointSlice controller: for each Service with a selector, the
//! `discovery.k8s.io/v1` EndpointSlices that list its pods, as Kubernetes'
//! endpointslice controller keeps them (and as `kubectl describe service` and
//! kube-proxy read them).
//!
//! Every slice carries the `kubernetes.io/service-name` label, is marked as
//! managed by this controller and is owned by its Service. Endpoints are grouped
//! by address family and by the ports the Service's ports resolve to in each pod,
//! at most `maxEndpointsPerSlice` per slice. Each endpoint reports Kubernetes'
//! conditions: `ready` (Ready and not terminating, or the Service publishes
//! not-ready addresses), `serving` (Ready) and `terminating`.
//!
//! Config (`spec.config` of the Plugin): `maxEndpointsPerSlice` (100, at most
//! 1,000), as kube-controller-manager's `--max-endpoints-per-slice`; `mirror: true`
//! makes the module Kubernetes' EndpointSlice *mirroring* controller instead (see
//! [`mirroring`]), which copies the Endpoints a user writes for a selector-less
//! Service into slices.

pub mod mirroring;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_controller_sdk::ownership::{controller_reference, skip_lost_race};
use wharf_controller_sdk::pods::{is_ready, target_port};
use wharf_controller_sdk::{
    Context, Error, Key, Mapping, Outcome, Reconciler, Registration, registration, watch,
};

/// The label naming a slice's Service.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label (empty) marking the endpoints of a headless Service, which proxies
/// skip; the endpoints controller sets it too.
pub const HEADLESS: &str = "service.kubernetes.io/headless";
/// The node label an endpoint's `zone` comes from.
pub const ZONE: &str = "topology.kubernetes.io/zone";
/// The label naming the controller that manages a slice; slices of another
/// manager (mirrored or hand-made ones) are left alone.
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGER: &str = "endpointslice-controller.k8s.io";
/// Kubernetes' default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS: usize = 100;
/// The most `maxEndpointsPerSlice` may be, as in Kubernetes.
pub const MAX_ENDPOINTS_LIMIT: usize = 1000;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    #[serde(default = "default_max_endpoints")]
    max_endpoints_per_slice: usize,
    #[serde(default)]
    mirror: bool,
}

fn default_max_endpoints() -> usize {
    MAX_ENDPOINTS
}

pub struct EndpointSliceController {
    max_endpoints: usize,
    /// Mirror users' Endpoints rather than list selected pods.
    mirror: bool,
}

impl Reconciler for EndpointSliceController {
    fn configure(config: &str) -> Result<Self, String> {
        let config: Config = wharf_controller_sdk::config::parse("endpointslice", config)?;
        let max = config.max_endpoints_per_slice;
        if !(1..=MAX_ENDPOINTS_LIMIT).contains(&max) {
            return Err(format!(
                "config of the endpointslice controller: maxEndpointsPerSlice must be between 1 and {MAX_ENDPOINTS_LIMIT}, not {max}"
            ));
        }
        Ok(EndpointSliceController {
            max_endpoints: max,
            mirror: config.mirror,
        })
    }

    fn registration(&self) -> Registration {
        if self.mirror {
            return mirroring::registration();
        }
        registration::<Service>(vec![
            watch::<Pod>(Mapping::Selector("spec.selector".into())),
            watch::<EndpointSlice>(Mapping::Owner),
            // Read for each endpoint's zone.
            watch::<Node>(Mapping::None),
        ])
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        if self.mirror {
            return mirroring::reconcile(ctx, key, self.max_endpoints);
        }
        let existing: Vec<EndpointSlice> = ctx.list(
            &key.namespace,
            &format!("{SERVICE_NAME}={},{MANAGED_BY}={MANAGER}", key.name),
        )?;
        let svc = ctx.get::<Service>(&key.namespace, &key.name)?;
        let selector = svc
            .as_ref()
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.selector.clone())
            .filter(|s| !s.is_empty());
        let (Some(svc), Some(selector)) = (svc, selector) else {
            // No Service, or one whose endpoints are its user's: no managed slices.
            sync(ctx, &key.namespace, existing, Vec::new())?;
            return Ok(Outcome::Done);
        };
        let spec = svc.spec.clone().unwrap_or_default();
        let query: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pods: Vec<Pod> = ctx.list(&key.namespace, &query.join(","))?;
        let mut zones = BTreeMap::new();
        for pod in &pods {
            if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
                && !zones.contains_key(node)
            {
                let zone = ctx
                    .get::<Node>("", node)?
                    .and_then(|n| n.metadata.labels.and_then(|mut l| l.remove(ZONE)));
                zones.insert(node.to_string(), zone);
            }
        }
        let groups = groups(
            &pods,
            spec.ports.as_deref().unwrap_or_default(),
            spec.publish_not_ready_addresses.unwrap_or(false),
            &|node| zones.get(node).cloned().flatten(),
        );

        let mut labels = svc.metadata.labels.clone().unwrap_or_default();
        labels.insert(SERVICE_NAME.into(), key.name.clone());
        labels.insert(MANAGED_BY.into(), MANAGER.into());
        if spec.cluster_ip.as_deref() == Some("None") {
            labels.insert(HEADLESS.into(), String::new());
        }
        let owner = controller_reference(&svc);
        let slice = |address_type: &str, endpoints: Vec<Endpoint>, ports| EndpointSlice {
            metadata: ObjectMeta {
                namespace: Some(key.namespace.clone()),
                generate_name: Some(format!("{}-", key.name)),
                labels: Some(labels.clone()),
                owner_references: Some(vec![owner.clone()]),
                ..Default::default()
            },
            address_type: address_type.into(),
            endpoints,
            ports,
        };
        let mut wanted: Vec<EndpointSlice> = Vec::new();
        for ((address_type, ports), endpoints) in groups {
            for chunk in endpoints.chunks(self.max_endpoints) {
                wanted.push(slice(&address_type, chunk.to_vec(), Some(ports.clone())));
            }
        }
        // A selecting Service with no endpoints still has one (empty) slice, as
        // in Kubernetes, so readers can tell "none ready" from "not managed".
        if wanted.is_empty() {
            wanted.push(slice("IPv4", Vec::new(), None));
        }

        sync(ctx, &key.namespace, existing, wanted)?;
        Ok(Outcome::Done)
    }
}

/// Makes the `existing` slices (of one manager, for one Service) hold `wanted`:
/// existing slices are reused in name order (so the same input keeps the same
/// names), those that differ are updated, what is missing is created and what is
/// left over deleted. Annotations are compared only where `wanted` sets them.
pub(crate) fn sync(
    ctx: &Context<'_>,
    namespace: &str,
    mut existing: Vec<EndpointSlice>,
    wanted: Vec<EndpointSlice>,
) -> Result<(), Error> {
    existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut existing = existing.into_iter();
    for want in wanted {
        match existing.next() {
            Some(current) => {
                let same = current.address_type == want.address_type
                    && current.endpoints == want.endpoints
                    && current.ports == want.ports
                    && current.metadata.labels == want.metadata.labels
                    && (want.metadata.annotations.is_none()
                        || current.metadata.annotations == want.metadata.annotations);
                if !same {
                    let mut updated = current.clone();
                    updated.address_type = want.address_type;
                    updated.endpoints = want.endpoints;
                    updated.ports = want.ports;
                    updated.metadata.labels = want.metadata.labels;
                    if want.metadata.annotations.is_some() {
                        updated.metadata.annotations = want.metadata.annotations;
                    }
                    skip_lost_race(ctx.update(&updated).map(|_| ()))?;
                }
            }
            None => {
                ctx.create(&want)?;
            }
        }
    }
    for extra in existing {
        let name = extra.metadata.name.as_deref().unwrap_or_default();
        let uid = extra.metadata.uid.as_deref();
        skip_lost_race(ctx.delete::<EndpointSlice>(namespace, name, uid))?;
    }
    Ok(())
}

/// (address type, resolved ports): what the endpoints of one slice share.
type Group = ((String, Vec<EndpointPort>), Vec<Endpoint>);

/// A Service port as it resolved in one pod: (name, number, protocol).
type ResolvedPort = (String, i32, String);

/// The Service's endpoints grouped as slices hold them, each group sorted by
/// address (and the groups by family and ports) so that equal inputs give equal
/// slices.
pub fn groups(
    pods: &[Pod],
    ports: &[ServicePort],
    publish_not_ready: bool,
    zone_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<Group> {
    let mut groups: BTreeMap<(String, Vec<ResolvedPort>), Vec<Endpoint>> = BTreeMap::new();
    for pod in pods {
        let status = pod.status.clone().unwrap_or_default();
        let Some(ip) = status.pod_ip.clone().filter(|ip| !ip.is_empty()) else {
            continue;
        };
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            continue;
        };
        if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            continue;
        }
        let mut resolved = Vec::new();
        for p in ports {
            if let Some(n) = target_port(p, pod) {
                resolved.push((
                    p.name.clone().unwrap_or_default(),
                    n,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ));
            }
        }
        if resolved.is_empty() && !ports.is_empty() {
            continue;
        }
        let terminating = pod.metadata.deletion_timestamp.is_some();
        let serving = is_ready(pod);
        let family = if ip.contains(':') { "IPv6" } else { "IPv4" };
        groups
            .entry((family.to_string(), resolved))
            .or_default()
            .push(Endpoint {
                addresses: vec![ip],
                conditions: Some(EndpointConditions {
                    ready: Some(publish_not_ready || (serving && !terminating)),
                    serving: Some(serving),
                    terminating: Some(terminating),
                }),
                zone: zone_of(&node),
                node_name: Some(node),
                target_ref: Some(ObjectReference {
                    kind: Some("Pod".into()),
                    name: pod.metadata.name.clone(),
                    namespace: pod.metadata.namespace.clone(),
                    uid: pod.metadata.uid.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            });
    }
    groups
        .into_iter()
        .map(|((family, ports), mut endpoints)| {
            endpoints.sort_by(|a, b| a.addresses.cmp(&b.addresses));
            let ports = ports
                .into_iter()
                .map(|(name, port, protocol)| EndpointPort {
                    // Always set, to "" for an unnamed port, as Kubernetes'
                    // controller does: readers (kubectl describe) dereference it.
                    name: Some(name),
                    port: Some(port),
                    protocol: Some(protocol),
                    app_protocol: None,
                })
                .collect();
            ((family, ports), endpoints)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, ServicePort};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some(ip.into()),
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    fn http() -> Vec<ServicePort> {
        vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            target_port: Some(IntOrString::Int(8080)),
            ..Default::default()
        }]
    }

    #[test]
    fn conditions_follow_readiness_and_termination() {
        let mut going = pod("c", "10.0.0.3", true);
        going.metadata.deletion_timestamp = Some(Time(Default::default()));
        let pods = [
            pod("b", "10.0.0.2", false),
            pod("a", "10.0.0.1", true),
            going,
        ];
        let groups = groups(&pods, &http(), false, &|_| None);
        assert_eq!(groups.len(), 1);
        let ((family, ports), endpoints) = groups.into_iter().next().unwrap();
        assert_eq!(family, "IPv4");
        assert_eq!(ports[0].port, Some(8080));
        let seen: Vec<(&str, bool, bool, bool)> = endpoints
            .iter()
            .map(|e| {
                let c = e.conditions.as_ref().unwrap();
                (
                    e.addresses[0].as_str(),
                    c.ready.unwrap(),
                    c.serving.unwrap(),
                    c.terminating.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("10.0.0.1", true, true, false),
                ("10.0.0.2", false, false, false),
                ("10.0.0.3", false, true, true),
            ]
        );
    }

    #[test]
    fn families_and_unresolvable_ports_are_kept_apart() {
        let mut named = http();
        named[0].target_port = Some(IntOrString::String("web".into()));
        let pods = [pod("a", "10.0.0.1", true), pod("b", "fd00::1", true)];
        // No pod has a port named "web": nothing to list.
        assert!(groups(&pods, &named, false, &|_| None).is_empty());
        let groups = groups(&pods, &http(), false, &|_| None);
        let families: Vec<&str> = groups.iter().map(|((f, _), _)| f.as_str()).collect();
        assert_eq!(families, vec!["IPv4", "IPv6"]);
    }

    #[test]
    fn an_unnamed_port_is_named_empty() {
        let mut unnamed = http();
        unnamed[0].name = None;
        let groups = groups(&[pod("a", "10.0.0.1", true)], &unnamed, false, &|_| None);
        assert_eq!(groups[0].0.1[0].name.as_deref(), Some(""));
    }

    #[test]
    fn endpoints_carry_their_nodes_zone() {
        let zone = |node: &str| (node == "n1").then(|| "zone-a".to_string());
        let groups = groups(&[pod("a", "10.0.0.1", true)], &http(), false, &zone);
        assert_eq!(groups[0].1[0].zone.as_deref(), Some("zone-a"));
    }

    #[test]
    fn publishing_not_ready_addresses_makes_them_ready() {
        let groups = groups(&[pod("a", "10.0.0.1", false)], &http(), true, &|_| None);
        let endpoint = &groups[0].1[0];
        assert_eq!(endpoint.conditions.as_ref().unwrap().ready, Some(true));
    }

    #[test]
    fn max_endpoints_per_slice_is_checked() {
        assert!(EndpointSliceController::configure("{}").is_ok_and(|c| c.max_endpoints == 100));
        let c = EndpointSliceController::configure(r#"{"maxEndpointsPerSlice": 7}"#);
        assert!(c.is_ok_and(|c| c.max_endpoints == 7));
        for bad in [0, 1001] {
            let config = format!(r#"{{"maxEndpointsPerSlice": {bad}}}"#);
            let err = EndpointSliceController::configure(&config).err().unwrap();
            assert!(err.contains("between 1 and 1000"), "{err}");
        }
        let err = EndpointSliceController::configure(r#"{"maxEndpoints": 7}"#)
            .err()
            .unwrap();
        assert!(err.contains("`maxEndpoints`"), "{err}");
    }
}

wharf_controller_sdk::export_controller!(EndpointSliceController);
