//! Pod priority as Kubernetes' `scheduling.k8s.io/v1` defines it: the two system
//! PriorityClasses every cluster has, the highest value a user's class may take,
//! and how a PriorityClass and a pod's priority fields are validated.
//!
//! Resolving a pod's `priorityClassName` to its `priority` needs the stored
//! classes, so that admission step is the API server's; what is here is pure.

use serde_json::Value;

use crate::validation::{FieldError, dns1123_subdomain};

/// A PriorityClass that exists in every cluster and cannot be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemClass {
    pub name: &'static str,
    pub value: i64,
    pub description: &'static str,
}

/// Kubernetes' system classes, with its values and descriptions.
pub const SYSTEM_CLASSES: &[SystemClass] = &[
    SystemClass {
        name: "system-node-critical",
        value: 2_000_001_000,
        description: "Used for system critical pods that must not be moved from their current node.",
    },
    SystemClass {
        name: "system-cluster-critical",
        value: 2_000_000_000,
        description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    },
];

/// Names starting with this are reserved for [`SYSTEM_CLASSES`].
pub const SYSTEM_PREFIX: &str = "system-";

/// The highest value a class that is not a system class may have.
pub const HIGHEST_USER_DEFINABLE: i64 = 1_000_000_000;

/// What a pod's `preemptionPolicy` and a class's may be, in the order Kubernetes
/// lists them in its error.
pub const PREEMPTION_POLICIES: &[&str] = &["Never", "PreemptLowerPriority"];

/// The default preemption policy, of a class and of a pod with no class.
pub const DEFAULT_PREEMPTION_POLICY: &str = "PreemptLowerPriority";

pub fn system_class(name: &str) -> Option<&'static SystemClass> {
    SYSTEM_CLASSES.iter().find(|c| c.name == name)
}

/// A PriorityClass, as Kubernetes' `ValidatePriorityClass` checks it: a name with
/// the system prefix must be one of the system classes, with its value and not the
/// global default; any other class's value is at most
/// [`HIGHEST_USER_DEFINABLE`]; the preemption policy is a known one.
pub fn validate_class(obj: &Value, errors: &mut Vec<FieldError>) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let value = obj.get("value").and_then(Value::as_i64).unwrap_or(0);
    let global_default = obj
        .get("globalDefault")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if name.starts_with(SYSTEM_PREFIX) {
        let why = match system_class(name) {
            None => Some(format!("{name} is not a known system priority class")),
            Some(c) if c.value != value => {
                Some(format!("value of {name} PriorityClass must be {}", c.value))
            }
            Some(_) if global_default => Some(format!(
                "globalDefault of {name} PriorityClass must be false"
            )),
            Some(_) => None,
        };
        if let Some(why) = why {
            errors.push(FieldError::forbidden(
                "metadata.name",
                &format!(
                    "priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only. error: {why}"
                ),
            ));
        }
    } else if value > HIGHEST_USER_DEFINABLE {
        errors.push(FieldError::forbidden(
            "value",
            &format!(
                "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE}"
            ),
        ));
    }
    check_preemption_policy(obj, "preemptionPolicy", errors);
}

/// A pod spec's priority fields at `path`: the class is named as an object would
/// be, and the preemption policy is a known one. (`priority` itself is the
/// admission step's to check against the class.)
pub fn validate_pod_spec(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(name) = spec.get("priorityClassName").and_then(Value::as_str)
        && !name.is_empty()
        && let Err(why) = dns1123_subdomain(name)
    {
        errors.push(FieldError::invalid(
            &format!("{path}.priorityClassName"),
            &Value::from(name),
            &why,
        ));
    }
    check_preemption_policy(spec, &format!("{path}.preemptionPolicy"), errors);
}

fn check_preemption_policy(holder: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(policy) = holder.get("preemptionPolicy").and_then(Value::as_str)
        && !PREEMPTION_POLICIES.contains(&policy)
    {
        errors.push(FieldError::not_supported(
            path,
            &Value::from(policy),
            PREEMPTION_POLICIES,
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(obj: Value) -> Vec<String> {
        let mut errors = Vec::new();
        validate_class(&obj, &mut errors);
        errors.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn user_classes_stay_below_the_system_range() {
        assert!(messages(json!({"metadata": {"name": "high"}, "value": 1_000_000_000})).is_empty());
        assert_eq!(
            messages(json!({"metadata": {"name": "high"}, "value": 1_000_000_001})),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
    }

    #[test]
    fn the_system_prefix_is_reserved() {
        assert!(
            messages(json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000}))
                .is_empty()
        );
        assert_eq!(
            messages(json!({"metadata": {"name": "system-mine"}, "value": 5})),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
            ]
        );
        assert_eq!(
            messages(json!({"metadata": {"name": "system-cluster-critical"}, "value": 5})),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"
            ]
        );
    }

    #[test]
    fn preemption_policies_are_known_ones() {
        assert_eq!(
            messages(
                json!({"metadata": {"name": "p"}, "value": 1, "preemptionPolicy": "Sometimes"})
            ),
            [
                "preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"Never\", \"PreemptLowerPriority\""
            ]
        );
        let mut errors = Vec::new();
        validate_pod_spec(
            &json!({"priorityClassName": "Not_A_Name", "preemptionPolicy": "Never"}),
            "spec",
            &mut errors,
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .starts_with("spec.priorityClassName: Invalid value: \"Not_A_Name\"")
        );
    }
}
