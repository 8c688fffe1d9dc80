//! The Endpoints controller: for each Service with a selector, an Endpoints
//! object of the same name listing the matching pods' addresses (ready ones in
//! `addresses`, the others in `notReadyAddresses`) and the ports the Service's
//! target ports resolve to in each pod, kept current as pods come, go and change
//! readiness.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
    ServicePort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_controller_sdk::ownership::skip_lost_race;
use wharf_controller_sdk::pods::{is_ready, target_port};
use wharf_controller_sdk::{
    Context, Error, ErrorReason, Key, Mapping, Outcome, Reconciler, Registration, registration,
    watch,
};

/// The label marking the Endpoints this controller writes (Kubernetes' own, since
/// 1.33), so that it deletes only those when their Service is missing: Endpoints a
/// user wrote for a selector-less Service may be created before the Service, as
/// `kubectl apply -f dir/` does when `endpoints.yaml` sorts first.
pub const MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
pub const MANAGER: &str = "endpoint-controller";

pub struct EndpointsController;

impl Reconciler for EndpointsController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("endpoints", config)?;
        Ok(EndpointsController)
    }

    fn registration(&self) -> Registration {
        registration::<Service>(vec![
            watch::<Pod>(Mapping::Selector("spec.selector".into())),
            watch::<Endpoints>(Mapping::SameName),
        ])
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let existing = ctx.get::<Endpoints>(&key.namespace, &key.name)?;
        let Some(svc) = ctx.get::<Service>(&key.namespace, &key.name)? else {
            // The Service is gone: so are the endpoints written for it (the API
            // server deletes any Endpoints with their Service; this catches a
            // Service deleted while the controller was not watching).
            if existing.as_ref().is_some_and(is_managed) {
                skip_lost_race(ctx.delete::<Endpoints>(&key.namespace, &key.name, None))?;
            }
            return Ok(Outcome::Done);
        };
        let spec = svc.spec.clone().unwrap_or_default();
        let Some(selector) = spec.selector.clone().filter(|s| !s.is_empty()) else {
            // No selector: the endpoints are the user's to manage.
            return Ok(Outcome::Done);
        };
        let query: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pods: Vec<Pod> = ctx.list(&key.namespace, &query.join(","))?;
        let subsets = subsets(
            &pods,
            spec.ports.as_deref().unwrap_or_default(),
            spec.publish_not_ready_addresses.unwrap_or(false),
        );
        let mut labels = svc.metadata.labels.clone().unwrap_or_default();
        labels.insert(MANAGED_BY.into(), MANAGER.into());
        if spec.cluster_ip.as_deref() == Some("None") {
            // Proxies skip headless Services' endpoints by this label.
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let wanted = Endpoints {
            metadata: ObjectMeta {
                name: Some(key.name.clone()),
                namespace: Some(key.namespace.clone()),
                labels: Some(labels),
                ..Default::default()
            },
            subsets: if subsets.is_empty() {
                None
            } else {
                Some(subsets)
            },
        };
        match existing {
            None => match ctx.create(&wanted) {
                Ok(_) => {}
                Err(e) if e.reason() == Some(ErrorReason::AlreadyExists) => {}
                Err(e) => return Err(e),
            },
            Some(current) => {
                if current.subsets.clone().unwrap_or_default()
                    != wanted.subsets.clone().unwrap_or_default()
                    || current.metadata.labels != wanted.metadata.labels
                {
                    let mut updated = current.clone();
                    updated.subsets = wanted.subsets;
                    updated.metadata.labels = wanted.metadata.labels;
                    skip_lost_race(ctx.update(&updated).map(|_| ()))?;
                }
            }
        }
        Ok(Outcome::Done)
    }
}

fn is_managed(endpoints: &Endpoints) -> bool {
    endpoints
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY))
        .is_some_and(|v| v == MANAGER)
}

/// A Service port as it resolved in one pod: (name, number, protocol).
type ResolvedPort = (String, i32, String);

/// Addresses grouped by the ports they resolve to, as Kubernetes packs subsets;
/// addresses sorted by IP and subsets by their ports, so equal inputs give equal
/// objects.
pub fn subsets(
    pods: &[Pod],
    ports: &[ServicePort],
    publish_not_ready: bool,
) -> Vec<EndpointSubset> {
    // Ready and not-ready addresses per set of resolved ports.
    type Addresses = (Vec<EndpointAddress>, Vec<EndpointAddress>);
    let mut groups: BTreeMap<Vec<ResolvedPort>, Addresses> = BTreeMap::new();
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) else {
            continue;
        };
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        if node.is_none() {
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
        let address = EndpointAddress {
            ip,
            node_name: node,
            hostname: None,
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
        };
        let group = groups.entry(resolved).or_default();
        if publish_not_ready || is_ready(pod) {
            group.0.push(address);
        } else {
            group.1.push(address);
        }
    }
    groups
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then(|| {
                    ports
                        .into_iter()
                        .map(|(name, port, protocol)| EndpointPort {
                            name: (!name.is_empty()).then_some(name),
                            port,
                            protocol: Some(protocol),
                            app_protocol: None,
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

wharf_controller_sdk::export_controller!(EndpointsController);
