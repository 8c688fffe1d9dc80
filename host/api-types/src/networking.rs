//! `networking.k8s.io/v1`: Ingresses, IngressClasses and NetworkPolicies, checked
//! and defaulted as Kubernetes checks and defaults them.
//!
//! As on a Kubernetes cluster without an ingress controller or a network plugin
//! that enforces policies, they are stored for whatever implements them; Wharf
//! itself routes no Ingress and filters no traffic (see `docs/architecture.md`).

use crate::meta::array as list;
use serde_json::{Value, json};

use crate::validation::ports::{check_number, port_name};
use crate::validation::{
    FieldError, PROTOCOLS, dns1123_subdomain, path_segment_name, validate_label_selector,
};

pub const GROUP: &str = "networking.k8s.io";

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];
const POLICY_TYPES: &[&str] = &["Ingress", "Egress"];
const PARAMETER_SCOPES: &[&str] = &["Cluster", "Namespace"];

/// `SetDefaults_NetworkPolicy` and `SetDefaults_NetworkPolicyPort`: a policy with
/// no `policyTypes` is about ingress, and egress too when it has egress rules; a
/// port's protocol is TCP.
pub fn apply_policy_defaults(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let spec = map.entry("spec").or_insert_with(|| json!({}));
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    if !spec.contains_key("podSelector") {
        spec.insert("podSelector".into(), json!({}));
    }
    for direction in ["ingress", "egress"] {
        for rule in spec
            .get_mut(direction)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            for port in rule
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                if port.get("protocol").is_none_or(Value::is_null) {
                    port.insert("protocol".into(), Value::from("TCP"));
                }
            }
        }
    }
    let empty = |v: Option<&Value>| v.and_then(Value::as_array).is_none_or(Vec::is_empty);
    if empty(spec.get("policyTypes")) {
        let mut types = vec![Value::from("Ingress")];
        if !empty(spec.get("egress")) {
            types.push(Value::from("Egress"));
        }
        spec.insert("policyTypes".into(), Value::Array(types));
    }
}

/// `ValidateIngressSpec`: a default backend or rules; hosts that are DNS names
/// (a leading `*.` allowed), not addresses; each path typed, absolute where its
/// type needs it, with one backend naming a Service port by name or number.
pub fn validate_ingress(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let rules = list(spec, "rules");
    let default_backend = spec.get("defaultBackend").filter(|b| !b.is_null());
    if rules.is_empty() && default_backend.is_none() {
        errors.push(FieldError::invalid(
            "spec",
            spec.get("rules").unwrap_or(&Value::Null),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(backend) = default_backend {
        validate_backend(backend, "spec.defaultBackend", errors);
    }
    if let Some(class) = spec.get("ingressClassName").and_then(Value::as_str)
        && let Err(why) = dns1123_subdomain(class)
    {
        errors.push(FieldError::invalid(
            "spec.ingressClassName",
            &Value::from(class),
            &why,
        ));
    }
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("spec.rules[{i}]");
        if let Some(host) = rule
            .get("host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
        {
            validate_host(host, &format!("{at}.host"), errors);
        }
        let Some(http) = rule.get("http").filter(|h| !h.is_null()) else {
            continue;
        };
        let paths = list(http, "paths");
        if paths.is_empty() {
            errors.push(FieldError::required(&format!("{at}.http.paths")));
        }
        for (j, path) in paths.iter().enumerate() {
            validate_path(path, &format!("{at}.http.paths[{j}]"), errors);
        }
    }
    let annotated = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("kubernetes.io/ingress.class"))
        .and_then(Value::as_str);
    if let (Some(annotated), Some(class)) = (
        annotated,
        spec.get("ingressClassName").and_then(Value::as_str),
    ) && annotated != class
    {
        errors.push(FieldError::invalid(
            "annotations.kubernetes.io/ingress.class",
            &Value::from(annotated),
            "must match `ingressClassName` when both are specified",
        ));
    }
    for (i, point) in obj
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        validate_load_balancer_point(point, &format!("status.loadBalancer.ingress[{i}]"), errors);
    }
    for (i, tls) in list(spec, "tls").iter().enumerate() {
        for (j, host) in list(tls, "hosts").iter().enumerate() {
            if let Some(host) = host.as_str() {
                validate_host(host, &format!("spec.tls[{i}].hosts[{j}]"), errors);
            }
        }
        if let Some(secret) = tls
            .get("secretName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            && let Err(why) = dns1123_subdomain(secret)
        {
            errors.push(FieldError::invalid(
                &format!("spec.tls[{i}].secretName"),
                &Value::from(secret),
                &why,
            ));
        }
    }
}

/// An address an ingress controller reports: an IP, or a DNS name that is not one.
fn validate_load_balancer_point(point: &Value, at: &str, errors: &mut Vec<FieldError>) {
    if let Some(ip) = point
        .get("ip")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        errors.push(FieldError::invalid(
            &format!("{at}.ip"),
            &Value::from(ip),
            "must be a valid IP address",
        ));
    }
    let Some(host) = point
        .get("hostname")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        errors.push(FieldError::invalid(
            &format!("{at}.hostname"),
            &Value::from(host),
            "must be a DNS name, not an IP address",
        ));
    } else if let Err(why) = dns1123_subdomain(host) {
        errors.push(FieldError::invalid(
            &format!("{at}.hostname"),
            &Value::from(host),
            &why,
        ));
    }
}

fn validate_host(host: &str, field: &str, errors: &mut Vec<FieldError>) {
    if host.parse::<std::net::IpAddr>().is_ok() {
        errors.push(FieldError::invalid(
            field,
            &Value::from(host),
            "must be a DNS name, not an IP address",
        ));
        return;
    }
    let (name, wildcard) = match host.strip_prefix("*.") {
        Some(rest) => (rest, true),
        None => (host, false),
    };
    if let Err(why) = dns1123_subdomain(name) {
        let why = if wildcard {
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()
        } else {
            why
        };
        errors.push(FieldError::invalid(field, &Value::from(host), &why));
    }
}

fn validate_path(path: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let value = path.get("path").and_then(Value::as_str).unwrap_or_default();
    match path.get("pathType").and_then(Value::as_str) {
        None | Some("") => errors.push(FieldError::required_because(
            &format!("{at}.pathType"),
            "pathType must be specified",
        )),
        Some(t) if !PATH_TYPES.contains(&t) => errors.push(FieldError::not_supported(
            &format!("{at}.pathType"),
            &Value::from(t),
            PATH_TYPES,
        )),
        Some(t) => {
            let must_be_absolute = t != "ImplementationSpecific" || !value.is_empty();
            if must_be_absolute && !value.starts_with('/') {
                errors.push(FieldError::invalid(
                    &format!("{at}.path"),
                    &Value::from(value),
                    "must be an absolute path",
                ));
            }
            // Exact and Prefix paths are matched as written: no sequences a
            // proxy would normalise away (`validateIngressHTTPPath`).
            if t != "ImplementationSpecific" {
                let contained = ["//", "/./", "/../", "%2f", "%2F"]
                    .into_iter()
                    .filter(|bad| value.contains(bad))
                    .map(|bad| format!("must not contain '{bad}'"));
                let ending = ["/..", "/."]
                    .into_iter()
                    .filter(|bad| value.ends_with(bad))
                    .map(|bad| format!("cannot end with '{bad}'"));
                for why in contained.chain(ending) {
                    errors.push(FieldError::invalid(
                        &format!("{at}.path"),
                        &Value::from(value),
                        &why,
                    ));
                }
            }
        }
    }
    match path.get("backend").filter(|b| !b.is_null()) {
        Some(backend) => validate_backend(backend, &format!("{at}.backend"), errors),
        None => errors.push(FieldError::invalid(
            &format!("{at}.backend"),
            &Value::from(""),
            "resource or service backend is required",
        )),
    }
}

/// `validateIngressBackend`: a Service (by name, with a port name or number) or
/// a typed resource, not both.
fn validate_backend(backend: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let service = backend.get("service").filter(|s| !s.is_null());
    let resource = backend.get("resource").filter(|r| !r.is_null());
    match (service, resource) {
        (Some(_), Some(_)) => errors.push(FieldError::invalid(
            at,
            &Value::from(""),
            "cannot set both resource and service backends",
        )),
        (None, None) => errors.push(FieldError::invalid(
            at,
            &Value::from(""),
            "resource or service backend is required",
        )),
        (None, Some(resource)) => {
            validate_typed_reference(resource, &format!("{at}.resource"), errors)
        }
        (Some(service), None) => {
            match service
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
            {
                "" => errors.push(FieldError::required(&format!("{at}.service.name"))),
                name => {
                    if let Err(why) = crate::validation::dns1035_label(name) {
                        errors.push(FieldError::invalid(
                            &format!("{at}.service.name"),
                            &Value::from(name),
                            &why,
                        ));
                    }
                }
            }
            let port = service.get("port").unwrap_or(&Value::Null);
            let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
            let number = port.get("number").and_then(Value::as_i64).unwrap_or(0);
            match (name.is_empty(), number == 0) {
                (false, false) => errors.push(FieldError::invalid(
                    at,
                    &Value::from(""),
                    "cannot set both port name & port number",
                )),
                (true, true) => errors.push(FieldError::required_because(
                    at,
                    "port name or number is required",
                )),
                (false, true) => {
                    for why in port_name(name) {
                        errors.push(FieldError::invalid(
                            &format!("{at}.service.port.name"),
                            &Value::from(name),
                            why,
                        ));
                    }
                }
                (true, false) => check_number(
                    port.get("number"),
                    &format!("{at}.service.port.number"),
                    false,
                    errors,
                ),
            }
        }
    }
}

/// `ValidateIngressClassSpec`: a controller named by a domain-prefixed path of at
/// most 250 characters, and parameters that name their kind, name and scope.
pub fn validate_ingress_class(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    match spec
        .get("controller")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "" => errors.push(FieldError::required("spec.controller")),
        controller => {
            if controller.len() > 250 {
                errors.push(FieldError::too_long("spec.controller", 250));
            }
            let domain_prefixed = controller.split_once('/').is_some_and(|(domain, path)| {
                dns1123_subdomain(domain).is_ok() && !path.is_empty()
            });
            if !domain_prefixed {
                errors.push(FieldError::invalid(
                    "spec.controller",
                    &Value::from(controller),
                    "must be a domain-prefixed path (such as \"acme.io/foo\")",
                ));
            }
        }
    }
    let Some(parameters) = spec.get("parameters").filter(|p| !p.is_null()) else {
        return;
    };
    validate_typed_reference(parameters, "spec.parameters", errors);
    let scope = parameters
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("Cluster");
    let namespace = parameters
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !PARAMETER_SCOPES.contains(&scope) {
        errors.push(FieldError::not_supported(
            "spec.parameters.scope",
            &Value::from(scope),
            PARAMETER_SCOPES,
        ));
    } else if scope == "Namespace" && namespace.is_empty() {
        errors.push(FieldError::required_because(
            "spec.parameters.namespace",
            "`parameters.scope` is set to 'Namespace'",
        ));
    } else if scope == "Cluster" && !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            "spec.parameters.namespace",
            "`parameters.scope` is set to 'Cluster'",
        ));
    } else if scope == "Namespace"
        && let Err(why) = crate::validation::dns1123_label(namespace)
    {
        errors.push(FieldError::invalid(
            "spec.parameters.namespace",
            &Value::from(namespace),
            &why,
        ));
    }
}

/// A reference to an object by group, kind and name, as an Ingress backend's
/// `resource` and an IngressClass's `parameters` give it
/// (`validateIngressTypedLocalObjectReference`): a DNS subdomain for a group, and
/// a kind and a name that can stand in a URL path.
fn validate_typed_reference(reference: &Value, at: &str, errors: &mut Vec<FieldError>) {
    if let Some(group) = reference.get("apiGroup").and_then(Value::as_str)
        && let Err(why) = dns1123_subdomain(group)
    {
        errors.push(FieldError::invalid(
            &format!("{at}.apiGroup"),
            &Value::from(group),
            &why,
        ));
    }
    for field in ["kind", "name"] {
        match reference
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "" => errors.push(FieldError::required_because(
                &format!("{at}.{field}"),
                &format!("{field} is required"),
            )),
            value => {
                if let Err(why) = path_segment_name(value) {
                    errors.push(FieldError::invalid(
                        &format!("{at}.{field}"),
                        &Value::from(value),
                        &why,
                    ));
                }
            }
        }
    }
}

/// `ValidateNetworkPolicySpec`: selectors, peers that say what they select, ports
/// with a known protocol and a range that runs upward from a numbered port, and
/// policy types that are Ingress or Egress.
pub fn validate_network_policy(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    if let Some(selector) = spec.get("podSelector").filter(|s| !s.is_null()) {
        validate_label_selector(selector, "spec.podSelector", errors);
    }
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in list(spec, direction).iter().enumerate() {
            let at = format!("spec.{direction}[{i}]");
            for (j, port) in list(rule, "ports").iter().enumerate() {
                validate_policy_port(port, &format!("{at}.ports[{j}]"), errors);
            }
            for (j, peer) in list(rule, peers).iter().enumerate() {
                validate_peer(peer, &format!("{at}.{peers}[{j}]"), errors);
            }
        }
    }
    let types = list(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if !POLICY_TYPES.contains(&t) {
            errors.push(FieldError::not_supported(
                &format!("spec.policyTypes[{i}]"),
                &Value::from(t),
                POLICY_TYPES,
            ));
        }
    }
    if types.len() > POLICY_TYPES.len() {
        errors.push(FieldError::invalid(
            "spec.policyTypes",
            &Value::Array(types.to_vec()),
            "may not specify more than two policyTypes",
        ));
    }
}

fn validate_policy_port(port: &Value, at: &str, errors: &mut Vec<FieldError>) {
    if let Some(protocol) = port.get("protocol").and_then(Value::as_str)
        && !PROTOCOLS.contains(&protocol)
    {
        errors.push(FieldError::not_supported(
            &format!("{at}.protocol"),
            &Value::from(protocol),
            PROTOCOLS,
        ));
    }
    let end = port.get("endPort").and_then(Value::as_i64);
    match port.get("port") {
        Some(Value::String(name)) => {
            for why in port_name(name) {
                errors.push(FieldError::invalid(
                    &format!("{at}.port"),
                    &Value::from(name.as_str()),
                    why,
                ));
            }
            if let Some(end) = end {
                errors.push(FieldError::invalid(
                    &format!("{at}.endPort"),
                    &Value::from(end),
                    "may not be specified when `port` is non-numeric",
                ));
            }
        }
        Some(number @ Value::Number(_)) => {
            check_number(Some(number), &format!("{at}.port"), true, errors);
            if let Some(end) = end
                && !(1..=65535).contains(&end)
            {
                errors.push(FieldError::invalid(
                    &format!("{at}.endPort"),
                    &Value::from(end),
                    "must be between 1 and 65535, inclusive",
                ));
            }
            if let (Some(end), Some(start)) = (end, number.as_i64())
                && end < start
            {
                errors.push(FieldError::invalid(
                    &format!("{at}.endPort"),
                    &Value::from(end),
                    "must be greater than or equal to `port`",
                ));
            }
        }
        _ => {
            if let Some(end) = end {
                errors.push(FieldError::invalid(
                    &format!("{at}.endPort"),
                    &Value::from(end),
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

fn validate_peer(peer: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let present = |field: &str| peer.get(field).is_some_and(|v| !v.is_null());
    let count = ["podSelector", "namespaceSelector", "ipBlock"]
        .iter()
        .filter(|f| present(f))
        .count();
    if count == 0 {
        errors.push(FieldError::required_because(at, "must specify a peer"));
    } else if present("ipBlock") && count > 1 {
        errors.push(FieldError::forbidden(
            at,
            "may not specify both ipBlock and another peer",
        ));
    }
    for selector in ["podSelector", "namespaceSelector"] {
        if let Some(s) = peer.get(selector).filter(|s| !s.is_null()) {
            validate_label_selector(s, &format!("{at}.{selector}"), errors);
        }
    }
    if let Some(block) = peer.get("ipBlock").filter(|b| !b.is_null()) {
        let cidr = block
            .get("cidr")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if cidr.is_empty() {
            errors.push(FieldError::required(&format!("{at}.ipBlock.cidr")));
        } else if !is_cidr(cidr) {
            errors.push(FieldError::invalid(
                &format!("{at}.ipBlock.cidr"),
                &Value::from(cidr),
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
        for (k, except) in list(block, "except").iter().enumerate() {
            let except = except.as_str().unwrap_or_default();
            if is_cidr(except) && is_cidr(cidr) && !strictly_within(except, cidr) {
                errors.push(FieldError::invalid(
                    &format!("{at}.ipBlock.except[{k}]"),
                    &Value::from(except),
                    "must be a strict subset of `cidr`",
                ));
            } else if !is_cidr(except) {
                errors.push(FieldError::invalid(
                    &format!("{at}.ipBlock.except[{k}]"),
                    &Value::from(except),
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ));
            }
        }
    }
}

/// Whether the block `inner` lies inside `outer` and is smaller (both valid CIDRs).
fn strictly_within(inner: &str, outer: &str) -> bool {
    // The address in the top bits of a u128 (so a prefix of `bits` is its top
    // `bits`), the prefix length, and the family.
    let parse = |s: &str| -> Option<(u128, u32, bool)> {
        let (addr, bits) = s.split_once('/')?;
        let bits: u32 = bits.parse().ok()?;
        Some(match addr.parse::<std::net::IpAddr>().ok()? {
            std::net::IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, bits, true),
            std::net::IpAddr::V6(a) => (u128::from(a), bits, false),
        })
    };
    let (Some((a, a_len, a_v4)), Some((b, b_len, b_v4))) = (parse(inner), parse(outer)) else {
        return false;
    };
    let mask = |len: u32| {
        if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        }
    };
    a_v4 == b_v4 && a_len > b_len && (a & mask(b_len)) == (b & mask(b_len))
}

fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let max = match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return false,
    };
    bits.parse::<u8>().is_ok_and(|b| b <= max)
}

/// An IngressClass's controller may not change (`ValidateIngressClassUpdate`).
pub fn check_ingress_class_update(new: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    let controller = |o: &Value| o.pointer("/spec/controller").cloned();
    if controller(new) != controller(old) {
        errors.push(FieldError::invalid(
            "spec.controller",
            &controller(new).unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(check: fn(&Value, &mut Vec<FieldError>), obj: Value) -> Vec<String> {
        let mut errors = Vec::new();
        check(&obj, &mut errors);
        errors.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn ingresses_are_checked_as_kubernetes_checks_them() {
        let good = json!({"spec": {"ingressClassName": "nginx", "rules": [{"host": "*.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"pathType": "ImplementationSpecific", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
        ]}}], "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}]}});
        assert!(messages(validate_ingress, good).is_empty());
        assert_eq!(
            messages(validate_ingress, json!({"spec": {}})),
            ["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"]
        );
        let bad = json!({"spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [
            {"path": "api", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80, "name": "http"}}}},
            {"path": "/", "backend": {"service": {"name": "web", "port": {}}}},
            {"path": "/", "pathType": "Regex", "backend": {}},
        ]}}]}});
        assert_eq!(
            messages(validate_ingress, bad),
            [
                "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
                "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path",
                "spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both port name & port number",
                "spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified",
                "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
                "spec.rules[0].http.paths[2].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
                "spec.rules[0].http.paths[2].backend: Invalid value: \"\": resource or service backend is required",
            ]
        );
    }

    #[test]
    fn ingress_paths_statuses_and_class_annotations_are_checked() {
        let obj = json!({"metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx"}},
            "spec": {"ingressClassName": "other", "rules": [{"http": {"paths": [
                {"path": "/a//b/..", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.500"}, {"hostname": "1.2.3.4"}]}}});
        assert_eq!(
            messages(validate_ingress, obj),
            [
                "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/..\": must not contain '//'",
                "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/..\": cannot end with '/..'",
                "annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match `ingressClassName` when both are specified",
                "status.loadBalancer.ingress[0].ip: Invalid value: \"10.0.0.500\": must be a valid IP address",
                "status.loadBalancer.ingress[1].hostname: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address",
            ]
        );
    }

    #[test]
    fn an_ip_block_excepts_only_what_it_contains() {
        assert!(strictly_within("10.0.1.0/24", "10.0.0.0/16"));
        assert!(!strictly_within("10.1.0.0/24", "10.0.0.0/16"));
        assert!(!strictly_within("10.0.0.0/16", "10.0.0.0/16"));
        assert!(!strictly_within("10.0.0.0/8", "10.0.0.0/16"));
        assert!(strictly_within("2001:db8::/64", "2001:db8::/32"));
        assert!(!strictly_within("2001:db8::/64", "10.0.0.0/8"));
    }

    #[test]
    fn ingress_classes_name_a_controller_by_domain_path() {
        assert!(
            messages(
                validate_ingress_class,
                json!({"spec": {"controller": "k8s.io/ingress-nginx"}})
            )
            .is_empty()
        );
        assert_eq!(
            messages(
                validate_ingress_class,
                json!({"spec": {"controller": "nginx",
                "parameters": {"kind": "Config", "name": "c", "scope": "Namespace"}}})
            ),
            [
                "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
                "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
            ]
        );
        assert_eq!(
            messages(
                validate_ingress_class,
                json!({"spec": {"controller": "a.io/b",
                "parameters": {"apiGroup": "Bad_Group", "kind": "K/x", "name": ""}}})
            ),
            [
                "spec.parameters.apiGroup: Invalid value: \"Bad_Group\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "spec.parameters.kind: Invalid value: \"K/x\": may not contain '/'",
                "spec.parameters.name: Required value: name is required",
            ]
        );
        let mut errors = Vec::new();
        check_ingress_class_update(
            &json!({"spec": {"controller": "b.io/x"}}),
            &json!({"spec": {"controller": "a.io/x"}}),
            &mut errors,
        );
        assert_eq!(
            errors[0].message,
            "spec.controller: Invalid value: \"b.io/x\": field is immutable"
        );
    }

    #[test]
    fn network_policies_are_defaulted_then_checked() {
        let mut policy = json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}});
        apply_policy_defaults(&mut policy);
        assert_eq!(
            policy["spec"],
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                   "egress": [{"ports": [{"port": 53, "protocol": "TCP"}]}]})
        );
        assert!(messages(validate_network_policy, policy).is_empty());
        let bad = json!({"spec": {"policyTypes": ["Ingress", "Sideways"], "ingress": [{
            "ports": [{"port": 80, "endPort": 70, "protocol": "ICMP"}, {"port": "http", "endPort": 90}],
            "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/33"}, "podSelector": {}}],
        }]}});
        assert_eq!(
            messages(validate_network_policy, bad),
            [
                "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.ingress[0].ports[0].endPort: Invalid value: 70: must be greater than or equal to `port`",
                "spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
                "spec.ingress[0].from[0]: Required value: must specify a peer",
                "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
                "spec.ingress[0].from[1].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                "spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
            ]
        );
    }
}
