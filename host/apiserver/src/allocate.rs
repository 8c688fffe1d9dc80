//! Allocation of Service cluster IPs (from 10.96.0.0/16, as a default Kubernetes
//! cluster does) and node ports (30000–32767), health-check node ports included.
//!
//! The allocator derives what is taken from the Services themselves, so there is no
//! second record to drift out of step; the caller holds the allocation lock across
//! allocation and write.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};
use wharf_api_types::{defaults, resources};

use crate::error::ApiError;
use crate::request::Options;
use crate::storage::Objects;

/// The service CIDR's first address is the `kubernetes` service's.
pub const SERVICE_CIDR_BASE: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 0);
pub const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
const SERVICE_CIDR_SIZE: u32 = 1 << 16;
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

fn invalid(service: &str, field: &str, value: &Value, why: &str) -> ApiError {
    let info = resources::find("", "v1", "services").expect("services are served");
    ApiError::invalid(
        info,
        service,
        &[wharf_api_types::validation::FieldError::invalid(
            field, value, why,
        )],
    )
}

/// Addresses and node ports in use by Services.
#[derive(Debug, Clone, Default)]
pub struct Taken {
    ips: BTreeSet<Ipv4Addr>,
    node_ports: BTreeSet<i64>,
}

/// What every Service except `except` (namespace, name) holds.
pub async fn taken(objects: &Objects, except: Option<(&str, &str)>) -> Result<Taken, ApiError> {
    let info = resources::find("", "v1", "services")
        .ok_or_else(|| ApiError::internal("no services kind"))?;
    let everything = Options::parse(&Default::default(), info)?;
    let mut taken = Taken::default();
    for s in objects.list(info, None, &everything).await?.items {
        let id = (
            wharf_api_types::meta::namespace(&s).unwrap_or_default(),
            wharf_api_types::meta::name(&s).unwrap_or_default(),
        );
        if except == Some(id) {
            continue;
        }
        if let Some(ip) = s
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        {
            taken.ips.insert(ip);
        }
        for p in s
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(np) = p.get("nodePort").and_then(Value::as_i64) {
                taken.node_ports.insert(np);
            }
        }
        if let Some(hc) = s
            .pointer("/spec/healthCheckNodePort")
            .and_then(Value::as_i64)
        {
            taken.node_ports.insert(hc);
        }
    }
    Ok(taken)
}

/// Fills in `spec.clusterIP(s)` and node ports of a new Service.
pub async fn service(objects: &Objects, service: &mut Value) -> Result<(), ApiError> {
    let mut taken = taken(objects, None).await?;
    assign(service, &mut taken, None)
}

/// Allocates what `service` lacks and checks what it asks for against `taken`. On an
/// update, `old` is the stored Service: what it already holds stays its own.
pub fn assign(service: &mut Value, taken: &mut Taken, old: Option<&Value>) -> Result<(), ApiError> {
    let ty = service
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return Ok(());
    }
    let name = wharf_api_types::meta::name(service)
        .unwrap_or_default()
        .to_string();
    let ips = &mut taken.ips;
    let ports = &mut taken.node_ports;
    let requested = service
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let unchanged_ip = old
        .and_then(|o| o.pointer("/spec/clusterIP"))
        .and_then(Value::as_str)
        == Some(requested.as_str())
        && !requested.is_empty();
    let ip = match requested.as_str() {
        "None" => None,
        "" => {
            Some(free_ip(ips).ok_or_else(|| {
                ApiError::internal("the service IP range 10.96.0.0/16 is exhausted")
            })?)
        }
        text => {
            let ip: Ipv4Addr = text.parse().map_err(|_| {
                invalid(
                    &name,
                    "spec.clusterIP",
                    &json!(text),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            })?;
            let offset = u32::from(ip).wrapping_sub(u32::from(SERVICE_CIDR_BASE));
            if offset >= SERVICE_CIDR_SIZE {
                return Err(invalid(
                    &name,
                    "spec.clusterIP",
                    &json!(text),
                    "failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16",
                ));
            }
            if !unchanged_ip && ips.contains(&ip) {
                return Err(invalid(
                    &name,
                    "spec.clusterIP",
                    &json!(text),
                    "failed to allocate IP: provided IP is already allocated",
                ));
            }
            Some(ip)
        }
    };
    if let Some(ip) = ip {
        ips.insert(ip);
    }
    let spec = &mut service["spec"];
    match ip {
        Some(ip) => {
            spec["clusterIP"] = json!(ip.to_string());
            spec["clusterIPs"] = json!([ip.to_string()]);
        }
        None => {
            spec["clusterIP"] = json!("None");
            spec["clusterIPs"] = json!(["None"]);
        }
    }
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let allocates = defaults::needs_node_ports(spec);
    // A LoadBalancer without allocated node ports keeps those its client chose.
    let has_node_ports = ty == "NodePort" || ty == "LoadBalancer";
    let mut next = *NODE_PORTS.start();
    if has_node_ports && let Some(list) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for (i, p) in list.iter_mut().enumerate() {
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) if np != 0 => {
                    if let Some(why) = claim(ports, np) {
                        let field = format!("spec.ports[{i}].nodePort");
                        return Err(invalid(&name, &field, &json!(np), why));
                    }
                }
                _ if allocates => {
                    p["nodePort"] = json!(free_node_port(ports, &mut next)?);
                }
                _ => {}
            }
        }
    }
    if defaults::needs_health_check_node_port(spec) {
        match spec.get("healthCheckNodePort").and_then(Value::as_i64) {
            Some(hc) if hc != 0 => {
                if let Some(why) = claim(ports, hc) {
                    return Err(invalid(
                        &name,
                        "spec.healthCheckNodePort",
                        &json!(hc),
                        &format!("failed to allocate requested HealthCheck NodePort {hc}: {why}"),
                    ));
                }
            }
            _ => {
                let hc = free_node_port(ports, &mut next)?;
                spec.insert("healthCheckNodePort".into(), json!(hc));
            }
        }
    }
    Ok(())
}

/// Takes the node port a client asked for; why not, if it cannot have it.
fn claim(taken: &mut BTreeSet<i64>, port: i64) -> Option<&'static str> {
    if !NODE_PORTS.contains(&port) {
        Some("provided port is not in the valid range. The range of valid ports is 30000-32767")
    } else if !taken.insert(port) {
        Some("provided port is already allocated")
    } else {
        None
    }
}

/// Takes the lowest free node port from `next` on.
fn free_node_port(taken: &mut BTreeSet<i64>, next: &mut i64) -> Result<i64, ApiError> {
    while taken.contains(next) {
        *next += 1;
    }
    if !NODE_PORTS.contains(next) {
        return Err(ApiError::internal(
            "the node port range 30000-32767 is exhausted",
        ));
    }
    taken.insert(*next);
    Ok(*next)
}

/// The lowest free address above the reserved ones (network, `kubernetes`).
fn free_ip(taken: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let base = u32::from(SERVICE_CIDR_BASE);
    (10..SERVICE_CIDR_SIZE - 1)
        .map(|offset| Ipv4Addr::from(base + offset))
        .find(|ip| !taken.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ip_skips_reserved_and_taken() {
        let mut taken = BTreeSet::new();
        assert_eq!(free_ip(&taken), Some(Ipv4Addr::new(10, 96, 0, 10)));
        taken.insert(Ipv4Addr::new(10, 96, 0, 10));
        assert_eq!(free_ip(&taken), Some(Ipv4Addr::new(10, 96, 0, 11)));
    }

    #[test]
    fn a_node_port_taken_or_out_of_range_is_refused_with_its_field() {
        let mut taken = Taken::default();
        let svc = |name: &str, port: i64| {
            json!({"metadata": {"name": name}, "spec": {"type": "NodePort",
                   "ports": [{"port": 80}, {"port": 81, "nodePort": port}]}})
        };
        assign(&mut svc("a", 30080), &mut taken, None).unwrap();
        let e = assign(&mut svc("b", 30080), &mut taken, None).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "Service \"b\" is invalid: spec.ports[1].nodePort: Invalid value: 30080: \
             provided port is already allocated"
        );
        let e = assign(&mut svc("c", 80), &mut taken, None).unwrap_err();
        assert!(
            e.message.ends_with(
                "provided port is not in the valid range. The range of valid ports is 30000-32767"
            ),
            "{}",
            e.message
        );
        assert_eq!(
            e.details.unwrap()["causes"][0]["field"],
            "spec.ports[1].nodePort"
        );
    }

    #[test]
    fn a_local_load_balancer_gets_a_health_check_port_and_may_skip_node_ports() {
        let mut taken = Taken::default();
        let mut local = json!({"metadata": {"name": "local"}, "spec": {
            "type": "LoadBalancer", "externalTrafficPolicy": "Local",
            "ports": [{"port": 80}, {"port": 443}]}});
        assign(&mut local, &mut taken, None).unwrap();
        assert_eq!(local["spec"]["ports"][0]["nodePort"], 30000);
        assert_eq!(local["spec"]["ports"][1]["nodePort"], 30001);
        assert_eq!(local["spec"]["healthCheckNodePort"], 30002);

        // Without node ports a load balancer keeps only those it asked for; its
        // health-check port comes from the same range.
        let mut bare = json!({"metadata": {"name": "bare"}, "spec": {
            "type": "LoadBalancer", "externalTrafficPolicy": "Local",
            "allocateLoadBalancerNodePorts": false,
            "ports": [{"port": 80}, {"port": 81, "nodePort": 30500}]}});
        assign(&mut bare, &mut taken, None).unwrap();
        assert!(bare["spec"]["ports"][0].get("nodePort").is_none(), "{bare}");
        assert_eq!(bare["spec"]["ports"][1]["nodePort"], 30500);
        assert_eq!(bare["spec"]["healthCheckNodePort"], 30003);

        let mut clash = json!({"metadata": {"name": "clash"}, "spec": {
            "type": "LoadBalancer", "externalTrafficPolicy": "Local",
            "healthCheckNodePort": 30002, "ports": [{"port": 80}]}});
        let e = assign(&mut clash, &mut taken, None).unwrap_err();
        assert_eq!(
            e.message,
            "Service \"clash\" is invalid: spec.healthCheckNodePort: Invalid value: 30002: \
             failed to allocate requested HealthCheck NodePort 30002: provided port is already allocated"
        );
        // A Cluster policy needs no health check.
        let mut cluster = json!({"metadata": {"name": "cluster"}, "spec": {
            "type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "ports": [{"port": 80}]}});
        assign(&mut cluster, &mut taken, None).unwrap();
        assert!(cluster["spec"].get("healthCheckNodePort").is_none());
    }
}
