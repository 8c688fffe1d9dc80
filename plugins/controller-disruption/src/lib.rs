//! The disruption controller: keeps each PodDisruptionBudget's status current —
//! how many of its pods there should be, how many are healthy, how many must stay
//! healthy, and so how many may be evicted now — as Kubernetes' disruption
//! controller does. The API server's eviction subresource reads that status,
//! refuses an eviction the budget cannot afford, and otherwise takes one
//! disruption off and records the pod in `disruptedPods` until this controller
//! sees it go.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{
    PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use wharf_controller_sdk::ownership::{controller_of, skip_lost_race};
use wharf_controller_sdk::pods::is_ready;
use wharf_controller_sdk::selector::to_query;
use wharf_controller_sdk::{
    Context, Error, EventType, Key, Mapping, Outcome, Reconciler, Registration, registration, watch,
};

/// How long an evicted pod counts as disrupted without being seen deleting
/// (Kubernetes' `DeletionTimeout`): an eviction whose delete never happened
/// stops holding the budget after this.
pub const DELETION_TIMEOUT: SignedDuration = SignedDuration::from_secs(120);

/// The condition the controller keeps, and its reasons.
pub const CONDITION: &str = "DisruptionAllowed";

pub struct DisruptionController;

impl Reconciler for DisruptionController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("disruption", config)?;
        Ok(DisruptionController)
    }

    fn registration(&self) -> Registration {
        let mut r = registration::<PodDisruptionBudget>(vec![
            watch::<Pod>(Mapping::Selector("spec.selector".into())),
            // Read for the scale a percentage or maxUnavailable counts against;
            // scaling them changes the pods, which wakes the budget.
            watch::<ReplicaSet>(Mapping::None),
            watch::<Deployment>(Mapping::None),
        ]);
        // A controller's scale can change without its pods changing at once.
        r.resync_seconds = 30;
        r
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(pdb) = ctx.get::<PodDisruptionBudget>(&key.namespace, &key.name)? else {
            return Ok(Outcome::Done);
        };
        if pdb.metadata.deletion_timestamp.is_some() {
            return Ok(Outcome::Done);
        }
        let spec = pdb.spec.clone().unwrap_or_default();
        // A null selector selects no pods; an empty one, every pod.
        let pods: Vec<Pod> = match &spec.selector {
            None => Vec::new(),
            Some(selector) => ctx.list(&key.namespace, &to_query(selector))?,
        };
        let now = Timestamp::now();
        let old = pdb.status.clone().unwrap_or_default();
        let (disrupted, recheck) = still_disrupted(&old, &pods, now);
        let computed = expected_pods(ctx, &key.namespace, &spec, &pods).and_then(|expected| {
            desired_healthy(&spec, expected).map(|desired| (expected, desired))
        });
        let mut status = PodDisruptionBudgetStatus {
            observed_generation: pdb.metadata.generation,
            disrupted_pods: (!disrupted.is_empty()).then(|| disrupted.clone()),
            ..Default::default()
        };
        let mut event = None;
        let condition = match computed {
            Ok((expected, desired)) => {
                let healthy = count_healthy(&pods, &disrupted);
                status.expected_pods = expected;
                status.desired_healthy = desired;
                status.current_healthy = healthy;
                status.disruptions_allowed = (healthy - desired).max(0);
                if pods.is_empty() {
                    event = Some((
                        EventType::Normal,
                        "NoPods",
                        "No matching pods found".to_string(),
                    ));
                }
                if status.disruptions_allowed > 0 {
                    ("True", "SufficientPods", String::new())
                } else {
                    ("False", "InsufficientPods", String::new())
                }
            }
            // Nothing may be evicted while the budget cannot be worked out; as
            // Kubernetes' fail-safe, the generation is not marked as seen.
            Err(why) => {
                status.observed_generation = old.observed_generation;
                event = Some((
                    EventType::Warning,
                    "CalculateExpectedPodCountFailed",
                    format!("Failed to calculate the number of expected pods: {why}"),
                ));
                ("False", "SyncFailed", why)
            }
        };
        let seen = status.observed_generation;
        status.conditions = Some(vec![condition_now(&old, condition, seen, now)]);
        if status != old {
            if let Some((kind, reason, message)) = &event {
                ctx.event(&pdb, *kind, reason, message);
            }
            let mut updated = pdb.clone();
            updated.status = Some(status);
            skip_lost_race(ctx.update_status(&updated).map(|_| ()))?;
        }
        Ok(match recheck {
            // Look again when the oldest pending eviction times out.
            Some(after) => Outcome::RequeueAfter(after),
            None => Outcome::Done,
        })
    }
}

/// The evictions still pending: pods the API server evicted that are still there
/// and not yet deleting, for at most [`DELETION_TIMEOUT`]. Also when to look again
/// (milliseconds), if any is pending.
pub fn still_disrupted(
    old: &PodDisruptionBudgetStatus,
    pods: &[Pod],
    now: Timestamp,
) -> (BTreeMap<String, Time>, Option<u32>) {
    let live: BTreeSet<&str> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    let mut kept = BTreeMap::new();
    let mut soonest: Option<SignedDuration> = None;
    for (name, Time(at)) in old.disrupted_pods.iter().flatten() {
        let left = DELETION_TIMEOUT - now.duration_since(*at);
        if !live.contains(name.as_str()) || left <= SignedDuration::ZERO {
            continue;
        }
        soonest = Some(soonest.map_or(left, |s| s.min(left)));
        kept.insert(name.clone(), Time(*at));
    }
    let recheck = soonest.map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX) + 1);
    (kept, recheck)
}

/// Pods that count as healthy: ready, not deleting, and not evicted a moment ago.
pub fn count_healthy(pods: &[Pod], disrupted: &BTreeMap<String, Time>) -> i32 {
    let healthy = pods.iter().filter(|p| {
        p.metadata.deletion_timestamp.is_none()
            && is_ready(p)
            && !p
                .metadata
                .name
                .as_ref()
                .is_some_and(|n| disrupted.contains_key(n))
    });
    i32::try_from(healthy.count()).unwrap_or(i32::MAX)
}

/// How many pods the budget expects (`getExpectedPodCount`): the pods there are,
/// for `minAvailable` as a count; otherwise the scale of the controllers the pods
/// belong to (a ReplicaSet's, or its Deployment's), each counted once. A pod with
/// no such controller makes a percentage meaningless: an error, as in Kubernetes.
pub fn expected_pods(
    ctx: &Context<'_>,
    namespace: &str,
    spec: &PodDisruptionBudgetSpec,
    pods: &[Pod],
) -> Result<i32, String> {
    let by_count = matches!(spec.min_available, Some(IntOrString::Int(_)));
    let neither = spec.min_available.is_none() && spec.max_unavailable.is_none();
    if by_count || neither {
        return Ok(i32::try_from(pods.len()).unwrap_or(i32::MAX));
    }
    let mut counted = BTreeSet::new();
    let mut expected = 0i32;
    for pod in pods {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let no_controller = || format!("found no controllers for pod {name:?}");
        let owner = controller_of(&pod.metadata).ok_or_else(no_controller)?;
        if owner.kind != "ReplicaSet" {
            return Err(no_controller());
        }
        let rs = ctx
            .get::<ReplicaSet>(namespace, &owner.name)
            .map_err(|e| e.message())?
            .ok_or_else(no_controller)?;
        let (uid, scale) = match controller_of(&rs.metadata).filter(|o| o.kind == "Deployment") {
            Some(owner) => {
                let deployment = ctx
                    .get::<Deployment>(namespace, &owner.name)
                    .map_err(|e| e.message())?
                    .ok_or_else(no_controller)?;
                let replicas = deployment.spec.and_then(|s| s.replicas).unwrap_or(1);
                (owner.uid.clone(), replicas)
            }
            None => {
                let replicas = rs.spec.and_then(|s| s.replicas).unwrap_or(1);
                (owner.uid.clone(), replicas)
            }
        };
        if counted.insert(uid) {
            expected = expected.saturating_add(scale);
        }
    }
    Ok(expected)
}

/// How many pods must stay healthy out of `expected`: `minAvailable` (a
/// percentage rounded up), or `expected` less `maxUnavailable` (rounded up).
pub fn desired_healthy(spec: &PodDisruptionBudgetSpec, expected: i32) -> Result<i32, String> {
    if let Some(min) = &spec.min_available {
        return scaled(min, expected);
    }
    if let Some(max) = &spec.max_unavailable {
        return Ok((expected - scaled(max, expected)?).max(0));
    }
    Ok(0)
}

/// A count as itself; a percentage of `total`, rounded up
/// (`GetScaledValueFromIntOrPercent` with `roundUp`).
fn scaled(value: &IntOrString, total: i32) -> Result<i32, String> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let percent: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            let value = (percent * i64::from(total) + 99) / 100;
            Ok(i32::try_from(value).unwrap_or(i32::MAX))
        }
    }
}

/// The `DisruptionAllowed` condition, keeping its transition time while its
/// status stays.
fn condition_now(
    old: &PodDisruptionBudgetStatus,
    (status, reason, message): (&str, &str, String),
    generation: Option<i64>,
    now: Timestamp,
) -> Condition {
    let previous = old
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == CONDITION);
    let last_transition_time = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(now),
    };
    Condition {
        type_: CONDITION.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time,
    }
}

wharf_controller_sdk::export_controller!(DisruptionController);

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn spec(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudgetSpec {
        PodDisruptionBudgetSpec {
            min_available: min,
            max_unavailable: max,
            ..Default::default()
        }
    }

    #[test]
    fn budgets_round_as_kubernetes_does() {
        let pct = |s: &str| Some(IntOrString::String(s.into()));
        assert_eq!(
            desired_healthy(&spec(Some(IntOrString::Int(2)), None), 5),
            Ok(2)
        );
        assert_eq!(desired_healthy(&spec(pct("50%"), None), 5), Ok(3));
        assert_eq!(
            desired_healthy(&spec(None, Some(IntOrString::Int(1))), 5),
            Ok(4)
        );
        assert_eq!(desired_healthy(&spec(None, pct("30%")), 5), Ok(3));
        assert_eq!(
            desired_healthy(&spec(None, Some(IntOrString::Int(9))), 5),
            Ok(0)
        );
        assert_eq!(desired_healthy(&spec(None, None), 5), Ok(0));
        assert!(desired_healthy(&spec(pct("half"), None), 5).is_err());
    }

    #[test]
    fn evicted_pods_count_as_gone_until_deleted_or_timed_out() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let at = |secs: i64| Time(now - SignedDuration::from_secs(secs));
        let mut deleting = pod("c", true);
        deleting.metadata.deletion_timestamp = Some(at(1));
        let pods = [pod("a", true), pod("b", true), deleting, pod("d", false)];
        let old = PodDisruptionBudgetStatus {
            disrupted_pods: Some(BTreeMap::from([
                ("a".to_string(), at(30)),  // pending: still counted as disrupted
                ("b".to_string(), at(600)), // timed out: healthy again
                ("c".to_string(), at(5)),   // deleting: the controller saw it go
                ("z".to_string(), at(5)),   // gone
            ])),
            ..Default::default()
        };
        let (kept, recheck) = still_disrupted(&old, &pods, now);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(recheck, Some(90_001));
        // b is healthy; a was evicted, c is deleting, d is not ready.
        assert_eq!(count_healthy(&pods, &kept), 1);
    }
}
