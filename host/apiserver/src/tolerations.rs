//! Kubernetes' `DefaultTolerationSeconds` admission plugin: a new pod that does
//! not tolerate its node being not ready or unreachable tolerates each for a
//! while (300 s unless the server is told otherwise), so that the node lifecycle
//! controller evicts it that long after its node fails, and not at once.

use serde_json::{Value, json};

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// How long new pods tolerate a failed node, as kube-apiserver's
/// `--default-not-ready-toleration-seconds` and
/// `--default-unreachable-toleration-seconds` set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultTolerations {
    pub not_ready_seconds: i64,
    pub unreachable_seconds: i64,
}

impl Default for DefaultTolerations {
    fn default() -> Self {
        Self {
            not_ready_seconds: 300,
            unreachable_seconds: 300,
        }
    }
}

/// Whether `toleration` already covers `key`'s NoExecute taint: it names the key
/// or every key, with the NoExecute effect or every effect.
fn covers(toleration: &Value, key: &str) -> bool {
    let field = |name: &str| toleration.get(name).and_then(Value::as_str).unwrap_or("");
    (field("key") == key || field("key").is_empty())
        && (field("effect") == "NoExecute" || field("effect").is_empty())
}

/// Adds the default tolerations a new pod lacks.
pub fn add(pod: &mut Value, defaults: DefaultTolerations) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let list = spec
        .entry("tolerations")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for (key, seconds) in [
        (NOT_READY, defaults.not_ready_seconds),
        (UNREACHABLE, defaults.unreachable_seconds),
    ] {
        if !list.iter().any(|t| covers(t, key)) {
            list.push(
                json!({"key": key, "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": seconds}),
            );
        }
    }
}

/// A pod update whose tolerations leave out the defaults its create was given
/// keeps them, as the plugin re-adds them on update in Kubernetes: `kubectl apply`
/// of a manifest with tolerations of its own replaces the whole list, and
/// dropping a toleration is not an update a pod may make.
pub fn keep_on_update(new: &mut Value, old: &Value) {
    let Some(old_list) = old.pointer("/spec/tolerations").and_then(Value::as_array) else {
        return;
    };
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let list = spec
        .entry("tolerations")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for key in [NOT_READY, UNREACHABLE] {
        let default = old_list.iter().find(|t| {
            t.get("key").and_then(Value::as_str) == Some(key)
                && t.get("effect").and_then(Value::as_str) == Some("NoExecute")
        });
        if let Some(default) = default
            && !list.iter().any(|t| covers(t, key))
        {
            list.push(default.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pod_tolerates_a_failed_node_for_a_while() {
        let mut pod = json!({"spec": {"containers": []}});
        add(&mut pod, DefaultTolerations::default());
        assert_eq!(
            pod["spec"]["tolerations"],
            json!([
                {"key": NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            ])
        );
    }

    #[test]
    fn a_pods_own_toleration_of_the_taint_is_kept_alone() {
        let own = json!({"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 5});
        let mut pod = json!({"spec": {"tolerations": [own.clone()]}});
        add(
            &mut pod,
            DefaultTolerations {
                not_ready_seconds: 30,
                unreachable_seconds: 30,
            },
        );
        let list = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], own);
        assert_eq!(list[1]["key"], NOT_READY);
        assert_eq!(list[1]["tolerationSeconds"], 30);
        // Tolerating everything covers both.
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        add(&mut pod, DefaultTolerations::default());
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn an_update_keeps_the_defaults() {
        let mut old = json!({"spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}});
        add(&mut old, DefaultTolerations::default());
        let mut new = json!({"spec": {"tolerations": [{"key": "a", "operator": "Exists"},
                                                         {"key": "b", "operator": "Exists"}]}});
        keep_on_update(&mut new, &old);
        let keys: Vec<&str> = new["spec"]["tolerations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["a", "b", NOT_READY, UNREACHABLE]);
    }
}
