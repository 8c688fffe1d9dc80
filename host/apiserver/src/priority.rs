//! Kubernetes' `Priority` admission plugin: a new pod's `priorityClassName` is
//! resolved to its `priority` and `preemptionPolicy` (what the scheduler's queue
//! orders by), a pod naming no class gets the global default class, and at most
//! one class is the global default. The two system classes are created on first
//! start (`bootstrap.rs`) and may not be deleted.

use serde_json::Value;
use wharf_api_types::ResourceInfo;
use wharf_api_types::meta;
use wharf_api_types::priority::{DEFAULT_PREEMPTION_POLICY, SYSTEM_CLASSES, system_class};
use wharf_api_types::resources;

use crate::error::ApiError;
use crate::storage::Objects;

/// What a pod gets from its class.
#[derive(Debug, Clone, PartialEq)]
struct Resolved {
    /// The class the pod ends up naming (the global default's, when it named none).
    class_name: Option<String>,
    priority: i64,
    preemption_policy: Value,
}

fn classes() -> Result<&'static ResourceInfo, ApiError> {
    resources::find("scheduling.k8s.io", "v1", "priorityclasses")
        .ok_or_else(|| ApiError::internal("no PriorityClass kind"))
}

/// The system classes as first start creates them.
pub fn system_objects() -> impl Iterator<Item = Value> {
    SYSTEM_CLASSES.iter().map(|c| {
        serde_json::json!({
            "metadata": {"name": c.name},
            "value": c.value,
            "globalDefault": false,
            "description": c.description,
        })
    })
}

/// The global default class, if any: the one with the lowest value should a race
/// have made two (as Kubernetes picks). Only classes whose stored JSON says
/// `"globalDefault":true` are decoded: every pod naming no class asks this.
async fn global_default(objects: &Objects) -> Result<Option<Value>, ApiError> {
    let info = classes()?;
    let page = objects
        .store()
        .list(&info.key_prefix(None), None, 0)
        .await
        .map_err(|e| ApiError::from_store(info, "", e))?;
    let mut best: Option<Value> = None;
    for kv in page.items {
        if !contains(&kv.value, b"\"globalDefault\":true") {
            continue;
        }
        let class = Objects::decode(&kv.value, kv.mod_revision)?;
        if class.get("globalDefault") != Some(&Value::Bool(true)) {
            continue;
        }
        if best.as_ref().is_none_or(|b| value_of(&class) < value_of(b)) {
            best = Some(class);
        }
    }
    Ok(best)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn value_of(class: &Value) -> i64 {
    class.get("value").and_then(Value::as_i64).unwrap_or(0)
}

fn policy_of(class: &Value) -> Value {
    class
        .get("preemptionPolicy")
        .cloned()
        .unwrap_or_else(|| Value::from(DEFAULT_PREEMPTION_POLICY))
}

async fn resolve(
    objects: &Objects,
    pods: &ResourceInfo,
    pod: &Value,
    pod_name: &str,
) -> Result<Resolved, ApiError> {
    let named = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let Some(name) = named else {
        return Ok(match global_default(objects).await? {
            Some(class) => Resolved {
                class_name: meta::name(&class).map(str::to_string),
                priority: value_of(&class),
                preemption_policy: policy_of(&class),
            },
            None => Resolved {
                class_name: None,
                priority: 0,
                preemption_policy: Value::from(DEFAULT_PREEMPTION_POLICY),
            },
        });
    };
    let class = match objects.try_get(classes()?, None, name).await? {
        Some((class, _)) => class,
        // Known even before first start's bootstrap has stored them.
        None => match system_class(name) {
            Some(c) => serde_json::json!({"value": c.value}),
            None => {
                return Err(ApiError::forbidden(
                    pods,
                    pod_name,
                    &format!("no PriorityClass with name {name} was found"),
                ));
            }
        },
    };
    Ok(Resolved {
        class_name: Some(name.to_string()),
        priority: value_of(&class),
        preemption_policy: policy_of(&class),
    })
}

/// Resolves a new pod's priority from its class. A priority or preemption policy
/// the pod already states must be the one its class gives (a manifest exported
/// from a cluster carries both), else the pod is refused, as Kubernetes does.
/// Errors name the pod `pod_name` (its generateName if the server names it).
pub async fn admit_pod(
    objects: &Objects,
    pods: &ResourceInfo,
    pod: &mut Value,
    pod_name: &str,
) -> Result<(), ApiError> {
    let resolved = resolve(objects, pods, pod, pod_name).await?;
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if let Some(stated) = spec.get("priority").filter(|p| !p.is_null())
        && stated.as_i64() != Some(resolved.priority)
    {
        return Err(ApiError::forbidden(
            pods,
            pod_name,
            &format!(
                "the integer value of priority ({stated}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                resolved.priority
            ),
        ));
    }
    if let Some(stated) = spec.get("preemptionPolicy").and_then(Value::as_str)
        && Some(stated) != resolved.preemption_policy.as_str()
    {
        return Err(ApiError::forbidden(
            pods,
            pod_name,
            &format!(
                "the string value of PreemptionPolicy ({stated}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                resolved.preemption_policy.as_str().unwrap_or_default()
            ),
        ));
    }
    if let Some(class) = resolved.class_name {
        spec.insert("priorityClassName".into(), Value::from(class));
    }
    spec.insert("priority".into(), Value::from(resolved.priority));
    spec.insert("preemptionPolicy".into(), resolved.preemption_policy);
    Ok(())
}

/// A PriorityClass about to be created, or to replace `old`: only one class may
/// be the global default.
pub async fn check_class(
    objects: &Objects,
    info: &ResourceInfo,
    class: &Value,
) -> Result<(), ApiError> {
    if class.get("globalDefault") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    let name = meta::name(class).unwrap_or_default();
    if let Some(current) = global_default(objects).await?
        && meta::name(&current) != Some(name)
    {
        return Err(ApiError::forbidden(
            info,
            name,
            &format!(
                "PriorityClass {} is already marked as default. Only one default can exist",
                meta::name(&current).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// Refuses to delete a system class.
pub fn check_delete(info: &ResourceInfo, name: &str) -> Result<(), ApiError> {
    if (info.group, info.kind) == ("scheduling.k8s.io", "PriorityClass")
        && system_class(name).is_some()
    {
        return Err(ApiError::forbidden(
            info,
            name,
            "this is a system priority class and cannot be deleted",
        ));
    }
    Ok(())
}

/// A pod update that leaves out the priority its create was given keeps it, as
/// Kubernetes' plugin does (a client's PUT of a manifest without them would
/// otherwise read as changing an immutable field).
pub fn keep_on_update(new: &mut Value, old: &Value) {
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["priority", "preemptionPolicy"] {
        if spec.get(field).is_none_or(Value::is_null)
            && let Some(was) = old.pointer(&format!("/spec/{field}"))
        {
            spec.insert(field.into(), was.clone());
        }
    }
}
