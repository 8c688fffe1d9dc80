//! The EndpointSlice mirroring controller: the Endpoints a user writes for a
//! Service without a selector, copied into EndpointSlices, as Kubernetes'
//! endpointslicemirroring controller does, so that readers of slices (`kubectl
//! describe service`, a proxy) see them too.
//!
//! An Endpoints is mirrored while a Service of its name exists that has no
//! selector (a selecting Service's slices are the endpointslice controller's), and
//! unless it opts out with the `endpointslice.kubernetes.io/skip-mirror: "true"`
//! label or is a leader-election record. Its slices carry its labels and
//! annotations (less kubectl's and the trigger time's), the
//! `kubernetes.io/service-name` label, this controller's `managed-by` mark, and are
//! owned by the Endpoints. Each subset's addresses become endpoints (`ready` and
//! `serving`), its not-ready addresses endpoints that are neither, grouped by
//! address family and ports; an address that is not an IP is skipped.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_controller_sdk::ownership::controller_reference;
use wharf_controller_sdk::{Context, Error, Key, Mapping, Outcome, Registration, watch};

use crate::{MANAGED_BY, SERVICE_NAME, sync};

/// The `managed-by` value of mirrored slices.
pub const MIRROR_MANAGER: &str = "endpointslicemirroring-controller.k8s.io";
/// The label with which an Endpoints opts out of mirroring (value `"true"`).
pub const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// The annotation of Endpoints used as leader-election records, never mirrored.
const LEADER: &str = "control-plane.alpha.kubernetes.io/leader";
/// Annotations of an Endpoints that its slices do not carry.
const NOT_COPIED: &[&str] = &[
    "endpoints.kubernetes.io/last-change-trigger-time",
    "kubectl.kubernetes.io/last-applied-configuration",
];

pub fn registration() -> Registration {
    wharf_controller_sdk::registration::<Endpoints>(vec![
        watch::<Service>(Mapping::SameName),
        watch::<EndpointSlice>(Mapping::Owner),
    ])
}

pub fn reconcile(ctx: &Context<'_>, key: &Key, max_endpoints: usize) -> Result<Outcome, Error> {
    let existing: Vec<EndpointSlice> = ctx.list(
        &key.namespace,
        &format!("{SERVICE_NAME}={},{MANAGED_BY}={MIRROR_MANAGER}", key.name),
    )?;
    let endpoints = ctx.get::<Endpoints>(&key.namespace, &key.name)?;
    let service = ctx.get::<Service>(&key.namespace, &key.name)?;
    let wanted = match (endpoints, service) {
        (Some(endpoints), Some(service)) if mirrored(&endpoints, &service) => {
            slices(&endpoints, max_endpoints)
        }
        // Nothing (any more) to mirror: no mirrored slices.
        _ => Vec::new(),
    };
    sync(ctx, &key.namespace, existing, wanted)?;
    Ok(Outcome::Done)
}

/// Whether `endpoints` is a user's, for a Service that selects no pods, and may be
/// mirrored.
pub fn mirrored(endpoints: &Endpoints, service: &Service) -> bool {
    let selects = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    let skipped = endpoints
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SKIP_MIRROR))
        .is_some_and(|v| v == "true");
    let leader = endpoints
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(LEADER));
    !selects && !skipped && !leader && endpoints.metadata.deletion_timestamp.is_none()
}

/// The slices mirroring `endpoints`: one per address family and set of ports, at
/// most `max_endpoints` endpoints each, endpoints sorted by address so that the
/// same Endpoints gives the same slices.
pub fn slices(endpoints: &Endpoints, max_endpoints: usize) -> Vec<EndpointSlice> {
    let name = endpoints.metadata.name.clone().unwrap_or_default();
    let mut labels = endpoints.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME.into(), name.clone());
    labels.insert(MANAGED_BY.into(), MIRROR_MANAGER.into());
    let mut annotations = endpoints.metadata.annotations.clone().unwrap_or_default();
    annotations.retain(|k, _| !NOT_COPIED.contains(&k.as_str()));
    let owner = controller_reference(endpoints);

    type Group = BTreeMap<(&'static str, Vec<PortKey>), Vec<Endpoint>>;
    let mut groups: Group = BTreeMap::new();
    for subset in endpoints.subsets.iter().flatten() {
        let ports: Vec<PortKey> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| PortKey {
                name: p.name.clone().unwrap_or_default(),
                port: p.port,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        let ready = subset.addresses.iter().flatten().map(|a| (a, true));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, false));
        for (address, is_ready) in ready.chain(not_ready) {
            let Some(family) = family(&address.ip) else {
                continue;
            };
            groups
                .entry((family, ports.clone()))
                .or_default()
                .push(endpoint(address, is_ready));
        }
    }

    let mut out = Vec::new();
    for ((family, ports), mut list) in groups {
        list.sort_by(|a, b| a.addresses.cmp(&b.addresses));
        list.dedup_by(|a, b| a.addresses == b.addresses);
        let ports: Vec<EndpointPort> = ports.into_iter().map(PortKey::into_port).collect();
        for chunk in list.chunks(max_endpoints.max(1)) {
            out.push(EndpointSlice {
                metadata: ObjectMeta {
                    namespace: endpoints.metadata.namespace.clone(),
                    generate_name: Some(format!("{name}-")),
                    labels: Some(labels.clone()),
                    annotations: Some(annotations.clone()),
                    owner_references: Some(vec![owner.clone()]),
                    ..Default::default()
                },
                address_type: family.into(),
                endpoints: chunk.to_vec(),
                ports: (!ports.is_empty()).then(|| ports.clone()),
            });
        }
    }
    out
}

/// One Endpoints port, orderable so that subsets with the same ports share slices.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

impl PortKey {
    fn into_port(self) -> EndpointPort {
        EndpointPort {
            // "" for an unnamed port, as Kubernetes writes it (readers dereference it).
            name: Some(self.name),
            port: Some(self.port),
            protocol: Some(self.protocol),
            app_protocol: self.app_protocol,
        }
    }
}

fn family(ip: &str) -> Option<&'static str> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some("IPv4"),
        IpAddr::V6(_) => Some("IPv6"),
    }
}

fn endpoint(address: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![address.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(ready),
            terminating: Some(false),
        }),
        hostname: address.hostname.clone(),
        node_name: address.node_name.clone(),
        target_ref: address.target_ref.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EndpointPort as CorePort, EndpointSubset, ServiceSpec};

    fn endpoints(subsets: Vec<EndpointSubset>) -> Endpoints {
        Endpoints {
            metadata: ObjectMeta {
                name: Some("db".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                labels: Some([("team".to_string(), "a".to_string())].into()),
                annotations: Some(
                    [
                        ("note".to_string(), "kept".to_string()),
                        (NOT_COPIED[1].to_string(), "{}".to_string()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            subsets: Some(subsets),
        }
    }

    fn address(ip: &str) -> EndpointAddress {
        EndpointAddress {
            ip: ip.into(),
            ..Default::default()
        }
    }

    fn port(name: &str, port: i32) -> CorePort {
        CorePort {
            name: Some(name.into()),
            port,
            ..Default::default()
        }
    }

    #[test]
    fn addresses_become_endpoints_grouped_by_family_and_ports() {
        let ep = endpoints(vec![
            EndpointSubset {
                addresses: Some(vec![address("10.0.0.2"), address("fd00::1")]),
                not_ready_addresses: Some(vec![address("10.0.0.1"), address("not-an-ip")]),
                ports: Some(vec![port("pg", 5432)]),
            },
            EndpointSubset {
                addresses: Some(vec![address("10.0.0.3")]),
                not_ready_addresses: None,
                ports: Some(vec![port("pg", 5432)]),
            },
        ]);
        let slices = slices(&ep, 1000);
        let seen: Vec<(&str, Vec<(&str, bool)>)> = slices
            .iter()
            .map(|s| {
                let endpoints = s
                    .endpoints
                    .iter()
                    .map(|e| {
                        let ready = e.conditions.as_ref().and_then(|c| c.ready);
                        (e.addresses[0].as_str(), ready == Some(true))
                    })
                    .collect();
                (s.address_type.as_str(), endpoints)
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "IPv4",
                    vec![("10.0.0.1", false), ("10.0.0.2", true), ("10.0.0.3", true)]
                ),
                ("IPv6", vec![("fd00::1", true)]),
            ]
        );
        let slice = &slices[0];
        let labels = slice.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[SERVICE_NAME], "db");
        assert_eq!(labels[MANAGED_BY], MIRROR_MANAGER);
        assert_eq!(labels["team"], "a");
        let annotations = slice.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations.len(), 1, "{annotations:?}");
        let owner = &slice.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Endpoints", "u1")
        );
        let ports = slice.ports.as_ref().unwrap();
        assert_eq!(ports[0].port, Some(5432));
        assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
    }

    #[test]
    fn large_subsets_are_split_and_different_ports_kept_apart() {
        let many: Vec<EndpointAddress> = (0..5).map(|i| address(&format!("10.0.1.{i}"))).collect();
        let ep = endpoints(vec![
            EndpointSubset {
                addresses: Some(many),
                not_ready_addresses: None,
                ports: Some(vec![port("a", 1)]),
            },
            EndpointSubset {
                addresses: Some(vec![address("10.0.2.1")]),
                not_ready_addresses: None,
                ports: Some(vec![port("b", 2)]),
            },
        ]);
        let sizes: Vec<usize> = slices(&ep, 2).iter().map(|s| s.endpoints.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1, 1]);
    }

    #[test]
    fn only_a_users_endpoints_of_a_service_without_selector_are_mirrored() {
        let plain = Service::default();
        let selecting = Service {
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "db".to_string())].into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let ep = endpoints(Vec::new());
        assert!(mirrored(&ep, &plain));
        assert!(!mirrored(&ep, &selecting));
        let mut skipped = ep.clone();
        skipped
            .metadata
            .labels
            .get_or_insert_default()
            .insert(SKIP_MIRROR.into(), "true".into());
        assert!(!mirrored(&skipped, &plain));
        let mut leader = ep.clone();
        leader
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(LEADER.into(), "{}".into());
        assert!(!mirrored(&leader, &plain));
    }
}
