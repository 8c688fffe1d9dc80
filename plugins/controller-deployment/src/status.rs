//! A Deployment's status: counts summed over its ReplicaSets, and the
//! `Available` and `Progressing` conditions, with the reasons and messages
//! `kubectl rollout status` and `kubectl describe` show.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_controller_sdk::{Context, Error, ErrorReason, Outcome, omit_zero};

use crate::rollout;

fn counts(new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> (i32, i32, i32, i32) {
    let field = |rs: &ReplicaSet, f: fn(&k8s_openapi::api::apps::v1::ReplicaSetStatus) -> i32| {
        rs.status.as_ref().map_or(0, f)
    };
    let all: Vec<&ReplicaSet> = old.iter().chain(new).collect();
    let replicas = all.iter().map(|r| field(r, |s| s.replicas)).sum();
    let ready = all
        .iter()
        .map(|r| field(r, |s| s.ready_replicas.unwrap_or(0)))
        .sum();
    let available = all
        .iter()
        .map(|r| field(r, |s| s.available_replicas.unwrap_or(0)))
        .sum();
    let updated = new.map_or(0, |r| field(r, |s| s.replicas));
    (replicas, updated, ready, available)
}

fn desired(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

/// Every pod is of the current template and available, and this generation is
/// the one observed.
pub fn complete(d: &Deployment, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> bool {
    let (replicas, updated, _, available) = counts(new, old);
    let want = desired(d);
    updated == want && replicas == want && available == want
}

fn condition(
    status: &str,
    type_: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Puts `c` into `conditions`: a condition whose status, reason and message are
/// unchanged keeps its times (so a status write does not cause another);
/// `touch` refreshes the update time of an unchanged one (progress was made).
fn set(conditions: &mut Vec<DeploymentCondition>, mut c: DeploymentCondition, touch: bool) {
    if let Some(existing) = conditions.iter_mut().find(|x| x.type_ == c.type_) {
        if existing.status == c.status
            && existing.reason == c.reason
            && existing.message == c.message
        {
            if touch {
                existing.last_update_time = c.last_update_time;
            }
            return;
        }
        if existing.status == c.status {
            c.last_transition_time = existing.last_transition_time.clone();
        }
        *existing = c;
    } else {
        conditions.push(c);
    }
}

/// Writes the status the ReplicaSets add up to, and says when to look again (a
/// rollout in progress is checked against its progress deadline).
pub fn sync(
    ctx: &Context<'_>,
    d: &Deployment,
    new: Option<&ReplicaSet>,
    old: &[ReplicaSet],
    created: bool,
) -> Result<Outcome, Error> {
    let now = Timestamp::now();
    let spec = d.spec.clone().unwrap_or_default();
    let want = desired(d);
    let (replicas, updated, ready, available) = counts(new, old);
    let previous = d.status.clone().unwrap_or_default();
    let mut conditions = previous.conditions.clone().unwrap_or_default();

    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let max_unavailable = if recreate {
        0
    } else {
        let ru = spec
            .strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref());
        rollout::fenceposts(
            ru.and_then(|r| r.max_surge.as_ref()),
            ru.and_then(|r| r.max_unavailable.as_ref()),
            want,
        )
        .1
        .min(want)
    };
    set(
        &mut conditions,
        if available >= want - max_unavailable {
            condition(
                "True",
                "Available",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
                now,
            )
        } else {
            condition(
                "False",
                "Available",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
                now,
            )
        },
        false,
    );

    let new_name = new
        .and_then(|r| r.metadata.name.clone())
        .unwrap_or_default();
    let deadline = spec.progress_deadline_seconds.unwrap_or(600);
    let paused = spec.paused.unwrap_or(false);
    let is_complete = complete(d, new, old);
    let progressing = conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .cloned();
    let mut requeue = None;
    if paused {
        set(
            &mut conditions,
            condition(
                "Unknown",
                "Progressing",
                "DeploymentPaused",
                "Deployment is paused".into(),
                now,
            ),
            false,
        );
    } else if progressing.as_ref().and_then(|c| c.reason.as_deref()) == Some("DeploymentPaused") {
        set(
            &mut conditions,
            condition(
                "Unknown",
                "Progressing",
                "DeploymentResumed",
                "Deployment is resumed".into(),
                now,
            ),
            false,
        );
    } else if created {
        set(
            &mut conditions,
            condition(
                "True",
                "Progressing",
                "NewReplicaSetCreated",
                format!("Created new replica set {new_name:?}"),
                now,
            ),
            false,
        );
    } else if is_complete {
        set(
            &mut conditions,
            condition(
                "True",
                "Progressing",
                "NewReplicaSetAvailable",
                format!("ReplicaSet {new_name:?} has successfully progressed."),
                now,
            ),
            false,
        );
    } else {
        let old_before = previous.replicas.unwrap_or(0) - previous.updated_replicas.unwrap_or(0);
        let moved = updated > previous.updated_replicas.unwrap_or(0)
            || replicas - updated < old_before
            || ready > previous.ready_replicas.unwrap_or(0)
            || available > previous.available_replicas.unwrap_or(0);
        let since = progressing
            .as_ref()
            .and_then(|c| c.last_update_time.as_ref())
            .map(|t| t.0)
            .unwrap_or(now);
        let timed_out = !moved
            && progressing.as_ref().is_some_and(|c| c.status == "True")
            && now.duration_since(since) >= SignedDuration::from_secs(deadline.into());
        if timed_out {
            set(
                &mut conditions,
                condition(
                    "False",
                    "Progressing",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet {new_name:?} has timed out progressing."),
                    now,
                ),
                false,
            );
        } else if progressing.as_ref().is_none_or(|c| c.status != "False") {
            set(
                &mut conditions,
                condition(
                    "True",
                    "Progressing",
                    "ReplicaSetUpdated",
                    format!("ReplicaSet {new_name:?} is progressing."),
                    now,
                ),
                moved,
            );
            let last = if moved { now } else { since };
            let left = SignedDuration::from_secs(deadline.into()) - now.duration_since(last);
            requeue = Some(left.as_millis().clamp(1_000, u32::MAX.into()) as u32);
        }
    }

    // As Kubernetes: a ReplicaSet failing to create or delete pods says so on its
    // Deployment too (the new one's failure first), and the condition goes when
    // none fails.
    let failure = new
        .into_iter()
        .chain(old)
        .filter_map(|rs| rs.status.as_ref()?.conditions.as_ref())
        .flatten()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True");
    match failure {
        Some(f) => set(
            &mut conditions,
            DeploymentCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: f.reason.clone(),
                message: f.message.clone(),
                last_update_time: f.last_transition_time.clone(),
                last_transition_time: f.last_transition_time.clone(),
            },
            false,
        ),
        None => conditions.retain(|c| c.type_ != "ReplicaFailure"),
    }

    let status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: omit_zero(replicas),
        updated_replicas: omit_zero(updated),
        ready_replicas: omit_zero(ready),
        available_replicas: omit_zero(available),
        unavailable_replicas: omit_zero((want - available).max(0)),
        collision_count: previous.collision_count,
        conditions: Some(conditions),
    };
    if d.status.as_ref() != Some(&status) {
        let mut written = d.clone();
        written.status = Some(status);
        match ctx.update_status(&written) {
            Ok(_) => {}
            // The Deployment changed meanwhile; its change brings another pass.
            Err(e)
                if matches!(
                    e.reason(),
                    Some(ErrorReason::Conflict | ErrorReason::NotFound)
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match requeue {
        Some(ms) => Outcome::RequeueAfter(ms),
        None => Outcome::Done,
    })
}
