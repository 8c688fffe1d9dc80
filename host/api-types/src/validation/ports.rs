//! Ports, as Kubernetes checks them: container ports (names unique within a
//! container, host ports unique within a pod), Service ports (each protocol and
//! port once) and references to a port by number or by name (a Service's
//! `targetPort`, a probe's `port`).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{FieldError, PROTOCOLS};

/// An IANA service name, as a port's name must be (Kubernetes'
/// `IsValidPortName`): every rule it breaks, each a message of its own.
pub fn port_name(name: &str) -> Vec<&'static str> {
    let mut why = Vec::new();
    if name.len() > 15 {
        why.push("must be no more than 15 characters");
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        why.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        why.push("must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        why.push("must not contain consecutive hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') {
        why.push("must not begin or end with a hyphen");
    }
    why
}

/// A port number, 1–65535, as `port` must be when it is set (or `required`).
pub fn check_number(
    port: Option<&Value>,
    field: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) {
    match port.and_then(Value::as_i64) {
        None if required => errors.push(FieldError::required(field)),
        None | Some(0) if !required => {}
        Some(p) if !(1..=65535).contains(&p) => errors.push(FieldError::invalid(
            field,
            &Value::from(p),
            "must be between 1 and 65535, inclusive",
        )),
        _ => {}
    }
}

/// A port given by number or by the name of a container's port.
pub fn check_number_or_name(port: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) {
    match port {
        None => errors.push(FieldError::required(field)),
        Some(Value::String(name)) => {
            for why in port_name(name) {
                errors.push(FieldError::invalid(field, &Value::from(name.as_str()), why));
            }
        }
        Some(number) => check_number(Some(number), field, true, errors),
    }
}

pub fn check_protocol(port: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(p) = port.get("protocol").and_then(Value::as_str)
        && !PROTOCOLS.contains(&p)
    {
        errors.push(FieldError::not_supported(
            &format!("{path}.protocol"),
            &Value::from(p),
            PROTOCOLS,
        ));
    }
}

/// One container's ports (`at` is the container's path): numbers in range,
/// names valid and unique within the container, a supported protocol.
pub fn check_container_ports(container: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let mut names = BTreeSet::new();
    for (j, port) in ports(container).enumerate() {
        let pat = format!("{at}.ports[{j}]");
        if let Some(name) = port.get("name").and_then(Value::as_str)
            && !name.is_empty()
        {
            let why = port_name(name);
            for why in &why {
                errors.push(FieldError::invalid(
                    &format!("{pat}.name"),
                    &Value::from(name),
                    why,
                ));
            }
            if why.is_empty() && !names.insert(name) {
                errors.push(FieldError::duplicate(
                    &format!("{pat}.name"),
                    &Value::from(name),
                ));
            }
        }
        check_number(
            port.get("containerPort"),
            &format!("{pat}.containerPort"),
            true,
            errors,
        );
        check_number(
            port.get("hostPort"),
            &format!("{pat}.hostPort"),
            false,
            errors,
        );
        check_protocol(port, &pat, errors);
    }
}

/// Host ports are the node's: two of a pod's containers cannot both take one
/// (the same protocol, address and port), as Kubernetes'
/// `AccumulateUniqueHostPorts` finds them.
pub fn check_host_port_conflicts(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let mut taken = BTreeSet::new();
    let containers = spec.get("containers").and_then(Value::as_array);
    for (i, container) in containers.into_iter().flatten().enumerate() {
        for (j, port) in ports(container).enumerate() {
            let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let text = |field: &str, default: &str| {
                port.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    .to_string()
            };
            let key = format!(
                "{}/{}/{host_port}",
                text("protocol", "TCP"),
                text("hostIP", "")
            );
            if !taken.insert(key.clone()) {
                errors.push(FieldError::duplicate(
                    &format!("{path}.containers[{i}].ports[{j}].hostPort"),
                    &Value::from(key),
                ));
            }
        }
    }
}

/// On the host's network a container's port is the host's: a host port, if set,
/// is the container port.
pub fn check_host_network_ports(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if spec.get("hostNetwork").and_then(Value::as_bool) != Some(true) {
        return;
    }
    for field in ["containers", "initContainers"] {
        let containers = spec.get(field).and_then(Value::as_array);
        for (i, container) in containers.into_iter().flatten().enumerate() {
            for (j, port) in ports(container).enumerate() {
                let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
                if host_port != 0
                    && Some(host_port) != port.get("containerPort").and_then(Value::as_i64)
                {
                    errors.push(FieldError::invalid(
                        &format!("{path}.{field}[{i}].ports[{j}].hostPort"),
                        &Value::from(host_port),
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
}

fn ports(container: &Value) -> impl Iterator<Item = &Value> {
    container
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A Service's ports: each (protocol, port) once, and each (protocol, nodePort)
/// asked for once; a `targetPort` a number in range or a port name.
pub fn check_service_ports(ports: &[Value], errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    let mut node_ports = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        let protocol = port
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("TCP");
        if !seen.insert((protocol, number)) {
            errors.push(FieldError::duplicate(
                &at,
                &json!({"port": number, "protocol": protocol}),
            ));
        }
        if let Some(node_port) = port
            .get("nodePort")
            .and_then(Value::as_i64)
            .filter(|&n| n != 0)
            && !node_ports.insert((protocol, node_port))
        {
            errors.push(FieldError::duplicate(
                &format!("{at}.nodePort"),
                &json!(node_port),
            ));
        }
        // Left out, it defaults to `port`.
        if let Some(target) = port.get("targetPort").filter(|t| !t.is_null()) {
            check_number_or_name(Some(target), &format!("{at}.targetPort"), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_port_is_asked_for_once_per_protocol() {
        let ports = [
            json!({"port": 80, "nodePort": 31081}),
            json!({"port": 81, "nodePort": 31081}),
            json!({"port": 82, "nodePort": 31081, "protocol": "UDP"}),
        ];
        let mut errors = Vec::new();
        check_service_ports(&ports, &mut errors);
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["spec.ports[1].nodePort: Duplicate value: 31081"]);
    }

    #[test]
    fn port_names_are_iana_service_names() {
        for good in ["http", "web-8080", "h2c", "a"] {
            assert!(port_name(good).is_empty(), "{good}");
        }
        assert_eq!(
            port_name("Bad_Name"),
            ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]
        );
        assert_eq!(
            port_name("8080"),
            ["must contain at least one letter (a-z)"]
        );
        assert_eq!(
            port_name("-a--b-"),
            [
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen"
            ]
        );
        assert_eq!(
            port_name("abcdefghijklmnop"),
            ["must be no more than 15 characters"]
        );
    }
}
