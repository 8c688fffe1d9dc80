//! What a pod says about where it may run: its node selector and its
//! tolerations, checked as Kubernetes' `ValidatePodSpec` checks them.

use serde_json::Value;

use super::{FieldError, label_key, label_value, validate_labels};

const OPERATORS: &[&str] = &["Equal", "Exists"];
const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

pub fn check_node_selector(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    validate_labels(
        spec.get("nodeSelector"),
        &format!("{path}.nodeSelector"),
        errors,
    );
}

/// Each toleration: a label key (or none, with `Exists`, to tolerate every
/// taint), an operator that fits its value, a known effect, and
/// `tolerationSeconds` only with `NoExecute`.
pub fn check_tolerations(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let tolerations = spec.get("tolerations").and_then(Value::as_array);
    for (i, toleration) in tolerations.into_iter().flatten().enumerate() {
        let at = format!("{path}.tolerations[{i}]");
        let text = |field: &str| toleration.get(field).and_then(Value::as_str).unwrap_or("");
        let (key, operator, value, effect) =
            (text("key"), text("operator"), text("value"), text("effect"));
        if !key.is_empty()
            && let Err(why) = label_key(key)
        {
            errors.push(FieldError::invalid(
                &format!("{at}.key"),
                &Value::from(key),
                &why,
            ));
        }
        if key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                &format!("{at}.operator"),
                &Value::from(operator),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let seconds = toleration.get("tolerationSeconds").filter(|s| !s.is_null());
        if seconds.is_some() && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                &format!("{at}.effect"),
                &Value::from(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            // Empty means Equal.
            "" | "Equal" => {
                if let Err(why) = label_value(value) {
                    errors.push(FieldError::invalid(
                        &format!("{at}.operator"),
                        &Value::from(value),
                        &why,
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errors.push(FieldError::invalid(
                        &format!("{at}.operator"),
                        toleration,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errors.push(FieldError::not_supported(
                &format!("{at}.operator"),
                &Value::from(other),
                OPERATORS,
            )),
        }
        if !effect.is_empty() && !EFFECTS.contains(&effect) {
            errors.push(FieldError::not_supported(
                &format!("{at}.effect"),
                &Value::from(effect),
                EFFECTS,
            ));
        }
    }
}
