//! PodDisruptionBudgets at the eviction subresource, as Kubernetes' eviction
//! handler applies them: an eviction the pod's budget cannot afford is refused with
//! `429 Too Many Requests` (which `kubectl drain` waits out and retries); one it
//! can afford takes a disruption off the budget's status and records the pod in
//! `disruptedPods` before the pod is deleted. The disruption controller
//! (`plugins/controller-disruption`) keeps the rest of that status current.

use serde_json::{Value, json};
use wharf_api_types::meta;
use wharf_api_types::resources::{self, ResourceInfo};
use wharf_api_types::selector::from_label_selector_object;

use crate::error::ApiError;
use crate::storage::Objects;

/// The message of every refusal, as Kubernetes words it.
const REFUSED: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// More pending evictions than this in one budget stops further ones
/// (Kubernetes' `MaxDisruptedPodSize`): its controller is not keeping up.
const MAX_DISRUPTED_PODS: usize = 2000;

/// Tries before an eviction gives up on a budget other evictions keep changing.
const ATTEMPTS: usize = 5;

fn budgets() -> Result<&'static ResourceInfo, ApiError> {
    resources::find(wharf_api_types::policy::GROUP, "v1", "poddisruptionbudgets")
        .ok_or_else(|| ApiError::internal("no PodDisruptionBudget kind"))
}

/// Lets the eviction of `pod` go ahead, or refuses it. On success the pod's budget
/// (if any) has been charged for it, unless `dry_run`.
pub(crate) async fn admit_eviction(
    objects: &Objects,
    namespace: &str,
    pod: &Value,
    dry_run: bool,
) -> Result<(), ApiError> {
    // A pod that is not running, or already going, disrupts nothing.
    let phase = meta::str_field(pod, "/status/phase").unwrap_or("Pending");
    if meta::is_deleting(pod) || matches!(phase, "Pending" | "Succeeded" | "Failed") {
        return Ok(());
    }
    let info = budgets()?;
    let pod_name = meta::name(pod).unwrap_or_default();
    for _ in 0..ATTEMPTS {
        let listed = objects
            .store()
            .list(&info.key_prefix(Some(namespace)), None, 0)
            .await
            .map_err(|e| ApiError::from_store(info, "", e))?;
        let mut matching: Vec<(Value, u64)> = Vec::new();
        for kv in listed.items {
            let budget = Objects::decode(&kv.value, kv.mod_revision)?;
            if selects(&budget, pod) {
                matching.push((budget, kv.mod_revision));
            }
        }
        let (mut budget, revision) = match matching.len() {
            0 => return Ok(()),
            1 => matching.remove(0),
            _ => {
                return Err(ApiError::new(
                    500,
                    "InternalError",
                    // Kubernetes' `NewInternalError`, with its prefix.
                    "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                ));
            }
        };
        let status = budget.get("status").cloned().unwrap_or(Value::Null);
        let int = |field: &str| status.get(field).and_then(Value::as_i64).unwrap_or(0);
        if !is_ready(pod) {
            // An unhealthy pod may go while the budget is met without it
            // (`IfHealthyBudget`), or always (`AlwaysAllow`).
            let policy = meta::str_field(&budget, "/spec/unhealthyPodEvictionPolicy");
            if policy == Some("AlwaysAllow")
                || (int("currentHealthy") >= int("desiredHealthy") && int("desiredHealthy") > 0)
            {
                return Ok(());
            }
        }
        let budget_name = meta::name(&budget).unwrap_or_default().to_string();
        let generation = budget
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if int("observedGeneration") < generation {
            return Err(refused(&format!(
                "The disruption budget {budget_name} is still being processed by the server."
            )));
        }
        let allowed = int("disruptionsAllowed");
        if allowed < 0 {
            return Err(ApiError::new(
                403,
                "Forbidden",
                "pdb disruptions allowed is negative",
            ));
        }
        let pending = status
            .get("disruptedPods")
            .and_then(Value::as_object)
            .map_or(0, |m| m.len());
        if pending > MAX_DISRUPTED_PODS {
            return Err(ApiError::new(
                403,
                "Forbidden",
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
            ));
        }
        if allowed == 0 {
            return Err(refused(&format!(
                "The disruption budget {budget_name} needs {} healthy pods and has {} currently",
                int("desiredHealthy"),
                int("currentHealthy")
            )));
        }
        if dry_run {
            return Ok(());
        }
        charge(&mut budget, pod_name, allowed - 1);
        match objects
            .update(info, Some(namespace), &budget_name, budget, Some(revision))
            .await
        {
            Ok(_) => return Ok(()),
            // Another eviction charged the budget first: read it again.
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        429,
        "TooManyRequests",
        "too many concurrent evictions of this disruption budget; try again",
    ))
}

/// Tells the pod why it is going before it is deleted, as Kubernetes' eviction
/// handler does: a `DisruptionTarget` condition (reason `EvictionByEvictionAPI`),
/// which a Job's pod failure policy and the pod's own controllers read. A pod
/// that changed meanwhile is marked anyway, on its newer state.
pub(crate) async fn mark_target(
    objects: &Objects,
    info: &ResourceInfo,
    namespace: &str,
    mut pod: Value,
    mut revision: u64,
) -> Result<(), ApiError> {
    let name = meta::name(&pod).unwrap_or_default().to_string();
    for _ in 0..ATTEMPTS {
        if !set_disruption_condition(&mut pod) {
            return Ok(());
        }
        match objects
            .update(info, Some(namespace), &name, pod, Some(revision))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => {
                (pod, revision) = objects.get(info, Some(namespace), &name).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sets the pod's `DisruptionTarget` condition; false when it already says so.
fn set_disruption_condition(pod: &mut Value) -> bool {
    let condition = json!({
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "EvictionByEvictionAPI",
        "message": "Eviction API: evicting",
        "lastTransitionTime": meta::now_rfc3339(),
    });
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let status = &mut pod["status"];
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let Some(conditions) = status["conditions"].as_array_mut() else {
        return false;
    };
    match conditions
        .iter_mut()
        .find(|c| c["type"] == "DisruptionTarget")
    {
        Some(c) if c["status"] == "True" && c["reason"] == "EvictionByEvictionAPI" => false,
        Some(c) => {
            *c = condition;
            true
        }
        None => {
            conditions.push(condition);
            true
        }
    }
}

/// Whether the budget's selector selects the pod: a missing selector selects no
/// pods, an empty one every pod in the namespace.
fn selects(budget: &Value, pod: &Value) -> bool {
    match budget.pointer("/spec/selector") {
        None | Some(Value::Null) => false,
        Some(selector) => from_label_selector_object(selector).is_ok_and(|s| s.matches(pod)),
    }
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// One disruption fewer, and the pod recorded as disrupted; the condition turns
/// false with the last disruption, as Kubernetes' eviction handler leaves it.
fn charge(budget: &mut Value, pod_name: &str, allowed: i64) {
    let status = &mut budget["status"];
    status["disruptionsAllowed"] = json!(allowed);
    if !status["disruptedPods"].is_object() {
        status["disruptedPods"] = json!({});
    }
    status["disruptedPods"][pod_name] = json!(meta::now_rfc3339());
    if allowed == 0
        && let Some(conditions) = status["conditions"].as_array_mut()
    {
        for c in conditions
            .iter_mut()
            .filter(|c| c["type"] == "DisruptionAllowed" && c["status"] == "True")
        {
            c["status"] = json!("False");
            c["reason"] = json!("InsufficientPods");
            c["lastTransitionTime"] = json!(meta::now_rfc3339());
        }
    }
}

/// `429 Too Many Requests` with the budget's reason as its cause, as kubectl
/// prints it and retries.
fn refused(cause: &str) -> ApiError {
    let mut e = ApiError::new(429, "TooManyRequests", REFUSED);
    e.details = Some(json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]}));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_selects_by_its_selector_and_null_selects_nothing() {
        let pod = json!({"metadata": {"labels": {"app": "web"}}});
        assert!(selects(
            &json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}}),
            &pod
        ));
        assert!(selects(&json!({"spec": {"selector": {}}}), &pod));
        assert!(!selects(&json!({"spec": {}}), &pod));
        assert!(!selects(
            &json!({"spec": {"selector": {"matchLabels": {"app": "db"}}}}),
            &pod
        ));
    }

    #[test]
    fn an_evicted_pod_is_told_once_why() {
        let mut pod = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(set_disruption_condition(&mut pod));
        let marked = &pod["status"]["conditions"][1];
        assert_eq!(marked["type"], "DisruptionTarget");
        assert_eq!(marked["reason"], "EvictionByEvictionAPI");
        assert_eq!(marked["message"], "Eviction API: evicting");
        assert!(!set_disruption_condition(&mut pod), "already marked");
        let mut bare = json!({});
        assert!(set_disruption_condition(&mut bare));
        assert_eq!(bare["status"]["conditions"][0]["status"], "True");
    }

    #[test]
    fn charging_takes_one_off_and_records_the_pod() {
        let mut budget = json!({"status": {"disruptionsAllowed": 1, "conditions": [
            {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]}});
        charge(&mut budget, "web-1", 0);
        assert_eq!(budget["status"]["disruptionsAllowed"], 0);
        assert!(budget["status"]["disruptedPods"]["web-1"].is_string());
        assert_eq!(budget["status"]["conditions"][0]["status"], "False");
        assert_eq!(
            budget["status"]["conditions"][0]["reason"],
            "InsufficientPods"
        );
        let e = refused("The disruption budget web needs 2 healthy pods and has 2 currently");
        assert_eq!(e.code, 429);
        assert_eq!(
            e.status()["details"]["causes"][0]["reason"],
            "DisruptionBudget"
        );
    }
}
