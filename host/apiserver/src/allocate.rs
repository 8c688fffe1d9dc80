//! Allocation of Service cluster IPs (from 10.96.0.0/16, as a default Kubernetes
//! cluster does) and node ports (30000–32767).
//!
//! The allocator derives what is taken from the Services themselves, so there is no
//! second record to drift out of step; the caller holds the allocation lock across
//! allocation and write.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};
use wharf_api_types::resources;

use crate::error::ApiError;
use crate::request::Options;
use crate::storage::Objects;

/// The service CIDR's first address is the `kubernetes` service's.
pub const SERVICE_CIDR_BASE: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 0);
pub const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
const SERVICE_CIDR_SIZE: u32 = 1 << 16;
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

fn invalid(service: &Value, field: &str, value: &Value, why: &str) -> ApiError {
    let info = resources::find("", "v1", "services").expect("services are served");
    ApiError::invalid(
        info,
        wharf_api_types::meta::name(service).unwrap_or_default(),
        &[wharf_api_types::validation::FieldError::invalid(
            field, value, why,
        )],
    )
}

/// Fills in `spec.clusterIP(s)` and node ports of a new Service.
pub async fn service(objects: &Objects, service: &mut Value) -> Result<(), ApiError> {
    let info = resources::find("", "v1", "services")
        .ok_or_else(|| ApiError::internal("no services kind"))?;
    let ty = service
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return Ok(());
    }
    let everything = Options::parse(&Default::default(), info)?;
    let existing = objects.list(info, None, &everything).await?.items;
    let mut ips = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for s in &existing {
        if let Some(ip) = s
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        {
            ips.insert(ip);
        }
        for p in s
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(np) = p.get("nodePort").and_then(Value::as_i64) {
                ports.insert(np);
            }
        }
    }
    let requested = service
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ip = match requested.as_str() {
        "None" => None,
        "" => {
            Some(free_ip(&ips).ok_or_else(|| {
                ApiError::internal("the service IP range 10.96.0.0/16 is exhausted")
            })?)
        }
        text => {
            let ip: Ipv4Addr = text.parse().map_err(|_| {
                invalid(
                    service,
                    "spec.clusterIP",
                    &json!(text),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            })?;
            let offset = u32::from(ip).wrapping_sub(u32::from(SERVICE_CIDR_BASE));
            if offset >= SERVICE_CIDR_SIZE {
                return Err(invalid(
                    service,
                    "spec.clusterIP",
                    &json!(text),
                    "failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16",
                ));
            }
            if ips.contains(&ip) {
                return Err(invalid(
                    service,
                    "spec.clusterIP",
                    &json!(text),
                    "failed to allocate IP: provided IP is already allocated",
                ));
            }
            Some(ip)
        }
    };
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
    if ty == "NodePort" || ty == "LoadBalancer" {
        let mut next = *NODE_PORTS.start();
        if let Some(list) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in list {
                match p.get("nodePort").and_then(Value::as_i64) {
                    Some(np) if np != 0 => {
                        if !NODE_PORTS.contains(&np) || !ports.insert(np) {
                            return Err(ApiError::new(
                                422,
                                "Invalid",
                                format!(
                                    "spec.ports.nodePort: Invalid value: {np}: provided port is already allocated or outside 30000-32767"
                                ),
                            ));
                        }
                    }
                    _ => {
                        while ports.contains(&next) {
                            next += 1;
                        }
                        if !NODE_PORTS.contains(&next) {
                            return Err(ApiError::internal(
                                "the node port range 30000-32767 is exhausted",
                            ));
                        }
                        ports.insert(next);
                        p["nodePort"] = json!(next);
                    }
                }
            }
        }
    }
    Ok(())
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
}
