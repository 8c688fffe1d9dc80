//! The ReplicaSet controller, as Kubernetes' replication controller behaves:
//! keeps `spec.replicas` active pods matching the selector, adopting orphans that
//! match and releasing owned pods that no longer do; creates pods from the
//! template in slow-start batches (1, 2, 4, … up to `burstReplicas` per pass,
//! stopping at the first failure, so a broken template costs one error rather than
//! hundreds);
//! deletes the least useful pods first when scaling down (unassigned before
//! assigned, pending before running, not ready before ready, newer before older);
//! and reports replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
//! and observedGeneration.
//!
//! Config (`spec.config` of the Plugin): `burstReplicas` (500), the most pods
//! created or deleted in one pass; Kubernetes fixes it at 500 (`BurstReplicas` in
//! its replicaset package), Wharf lets it be set.

mod pods;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use wharf_controller_sdk::ownership;
use wharf_controller_sdk::{
    Context, Error, EventType, Key, Mapping, Outcome, Reconciler, Registration, omit_zero,
    registration, watch,
};

pub use pods::{is_active, is_available, is_ready, rank_for_deletion, slow_start_batches};

/// Most pods created or deleted in one pass unless configured (Kubernetes'
/// `burstReplicas`); the rest follow in the next pass, which the creations' own
/// events trigger.
pub const BURST: usize = 500;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    #[serde(default = "default_burst")]
    burst_replicas: usize,
}

fn default_burst() -> usize {
    BURST
}

pub struct ReplicaSetController {
    burst: usize,
}

impl Reconciler for ReplicaSetController {
    fn configure(config: &str) -> Result<Self, String> {
        let config: Config = wharf_controller_sdk::config::parse("replicaset", config)?;
        if config.burst_replicas == 0 {
            return Err(
                "config of the replicaset controller: burstReplicas must be at least 1".into(),
            );
        }
        Ok(ReplicaSetController {
            burst: config.burst_replicas,
        })
    }

    fn registration(&self) -> Registration {
        let mut r = registration::<ReplicaSet>(vec![watch::<Pod>(Mapping::OwnerOrSelector(
            "spec.selector".into(),
        ))]);
        r.resync_seconds = 300;
        r
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(rs) = ctx.get::<ReplicaSet>(&key.namespace, &key.name)? else {
            // Deleted: its pods are the garbage collector's business.
            return Ok(Outcome::Done);
        };
        let selector = rs
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        let candidates = ownership::candidates::<_, Pod>(ctx, &rs, &selector)?;
        let owned = ownership::claim(ctx, &rs, &selector, candidates)?;
        let active: Vec<&Pod> = owned.iter().filter(|p| is_active(p)).collect();

        let spec = rs.spec.as_ref();
        let want = spec.and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
        let manage_error = if rs.metadata.deletion_timestamp.is_none() {
            manage(ctx, &rs, &active, want, self.burst).err()
        } else {
            None
        };

        let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
        let now = k8s_openapi::jiff::Timestamp::now();
        let status = status(
            &rs,
            &active,
            min_ready,
            now,
            manage_error.as_ref().map(|(r, e)| (*r, e)),
        );
        if rs.status.as_ref() != Some(&status) {
            let mut updated = rs.clone();
            updated.status = Some(status);
            match ctx.update_status(&updated) {
                Ok(_) => {}
                // Changed since the cache saw it: the change brings another pass.
                Err(e) if e.reason() == Some(wharf_controller_sdk::ErrorReason::Conflict) => {}
                Err(e) if e.reason() == Some(wharf_controller_sdk::ErrorReason::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some((_, e)) = manage_error {
            return Err(e);
        }
        // A ready pod becomes available after minReadySeconds: look again then.
        if min_ready > 0
            && active
                .iter()
                .any(|p| is_ready(p) && !is_available(p, min_ready, now))
        {
            return Ok(Outcome::RequeueAfter(
                (min_ready as u32).saturating_mul(1000),
            ));
        }
        Ok(Outcome::Done)
    }
}

pub fn owner_reference(rs: &ReplicaSet) -> OwnerReference {
    ownership::controller_reference(rs)
}

/// Creates or deletes pods towards `want`, at most `burst` per pass.
/// A failure says which way it failed (`FailedCreate`, `FailedDelete`), as the
/// ReplicaFailure condition reports it.
fn manage(
    ctx: &Context<'_>,
    rs: &ReplicaSet,
    active: &[&Pod],
    want: usize,
    burst: usize,
) -> Result<(), (&'static str, Error)> {
    let have = active.len();
    if have < want {
        let missing = (want - have).min(burst);
        let pod = pod_from_template(rs).map_err(|e| ("FailedCreate", e))?;
        let mut first_error = None;
        for batch in slow_start_batches(missing) {
            let results = ctx.create_all(&vec![pod.clone(); batch]);
            for r in results {
                match r {
                    Ok(created) => ctx.event(
                        rs,
                        EventType::Normal,
                        "SuccessfulCreate",
                        &format!("Created pod: {}", created.metadata.name.unwrap_or_default()),
                    ),
                    Err(e) => {
                        if first_error.is_none() {
                            ctx.event(
                                rs,
                                EventType::Warning,
                                "FailedCreate",
                                &format!("Error creating: {}", e.message()),
                            );
                            first_error = Some(e);
                        }
                    }
                }
            }
            // Stop at the first failing batch: the rest would fail alike.
            if let Some(e) = first_error {
                return Err(("FailedCreate", e));
            }
        }
    } else if have > want {
        let mut ranked: Vec<&Pod> = active.to_vec();
        rank_for_deletion(&mut ranked);
        let victims: Vec<(String, String, Option<String>)> = ranked
            .iter()
            .take((have - want).min(burst))
            .map(|p| {
                (
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                    p.metadata.uid.clone(),
                )
            })
            .collect();
        let mut first_error = None;
        for (r, (_, name, _)) in ctx.delete_all::<Pod>(&victims).into_iter().zip(&victims) {
            match r {
                Ok(()) => ctx.event(
                    rs,
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {name}"),
                ),
                Err(e) if e.reason() == Some(wharf_controller_sdk::ErrorReason::NotFound) => {}
                Err(e) => {
                    if first_error.is_none() {
                        ctx.event(
                            rs,
                            EventType::Warning,
                            "FailedDelete",
                            &format!("Error deleting: {}", e.message()),
                        );
                        first_error = Some(e);
                    }
                }
            }
        }
        if let Some(e) = first_error {
            return Err(("FailedDelete", e));
        }
    }
    Ok(())
}

/// A pod as the template describes it, named `<replicaset>-<random>`.
pub fn pod_from_template(rs: &ReplicaSet) -> Result<Pod, Error> {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .ok_or_else(|| Error::Other("the ReplicaSet has no pod template".into()))?;
    let meta = template.metadata.unwrap_or_default();
    Ok(Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", rs.metadata.name.clone().unwrap_or_default())),
            namespace: rs.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![owner_reference(rs)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    })
}

/// The status the pods add up to.
pub fn status(
    rs: &ReplicaSet,
    active: &[&Pod],
    min_ready: i32,
    now: k8s_openapi::jiff::Timestamp,
    manage_error: Option<(&str, &Error)>,
) -> ReplicaSetStatus {
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let fully_labeled = active
        .iter()
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .count();
    let ready = active.iter().filter(|p| is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| is_available(p, min_ready, now))
        .count();
    let previous = rs.status.clone().unwrap_or_default();
    let mut conditions: Vec<ReplicaSetCondition> = previous.conditions.unwrap_or_default();
    // As Kubernetes: a failure is set once and left as it is while failures go
    // on (a new message or time on every failed pass would be a status write,
    // and a watch event, per pass: a loop), and cleared by a pass that works.
    let failing = conditions.iter().any(|c| c.type_ == "ReplicaFailure");
    match manage_error {
        Some((reason, e)) if !failing => conditions.push(ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(e.message()),
            last_transition_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now)),
        }),
        Some(_) => {}
        None => conditions.retain(|c| c.type_ != "ReplicaFailure"),
    }
    ReplicaSetStatus {
        // `replicas` is required; the other counts are omitted when zero.
        replicas: active.len() as i32,
        fully_labeled_replicas: omit_zero(fully_labeled as i32),
        ready_replicas: omit_zero(ready as i32),
        available_replicas: omit_zero(available as i32),
        observed_generation: rs.metadata.generation,
        conditions: if conditions.is_empty() {
            None
        } else {
            Some(conditions)
        },
    }
}

wharf_controller_sdk::export_controller!(ReplicaSetController);

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use wharf_controller_sdk::{Api, ApiError, EventType, KindRef, Level, Write};

    use super::*;

    /// A cluster holding one ReplicaSet and no pods; records the pods created.
    struct Cluster {
        rs: String,
        batches: RefCell<Vec<usize>>,
    }

    impl Api for Cluster {
        fn get(&self, kind: &KindRef, _key: &Key) -> Option<String> {
            (kind.kind == "ReplicaSet").then(|| self.rs.clone())
        }
        fn fetch(&self, kind: &KindRef, key: &Key) -> Result<Option<String>, ApiError> {
            Ok(self.get(kind, key))
        }
        fn fetch_list(&self, _: &KindRef, _: &str, _: &str) -> Result<Vec<String>, ApiError> {
            Ok(Vec::new())
        }
        fn list(&self, _: &KindRef, _: &str, _: &str) -> Result<Vec<String>, String> {
            Ok(Vec::new())
        }
        fn list_owned(&self, _: &KindRef, _: &str, _: &str) -> Vec<String> {
            Vec::new()
        }
        fn apply(&self, op: Write) -> Result<String, ApiError> {
            match op {
                Write::UpdateStatus(body) => Ok(body),
                other => panic!("unexpected write {other:?}"),
            }
        }
        fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>> {
            self.batches.borrow_mut().push(ops.len());
            ops.into_iter()
                .map(|op| match op {
                    Write::Create(body) => Ok(body),
                    other => panic!("unexpected write {other:?}"),
                })
                .collect()
        }
        fn event(&self, _: &str, _: EventType, _: &str, _: &str) {}
        fn log(&self, _: Level, _: &str) {}
    }

    fn created_in_one_pass(config: &str, replicas: u32) -> Vec<usize> {
        let rs = format!(
            r#"{{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {{"name": "web", "namespace": "default", "uid": "u1", "generation": 1}},
                "spec": {{"replicas": {replicas}, "selector": {{"matchLabels": {{"app": "web"}}}},
                         "template": {{"metadata": {{"labels": {{"app": "web"}}}},
                                      "spec": {{"containers": [{{"name": "c", "image": "busybox"}}]}}}}}}}}"#
        );
        let cluster = Cluster {
            rs,
            batches: RefCell::new(Vec::new()),
        };
        let controller = ReplicaSetController::configure(config).unwrap();
        let key = Key {
            namespace: "default".into(),
            name: "web".into(),
        };
        controller.reconcile(&Context::new(&cluster), &key).unwrap();
        cluster.batches.into_inner()
    }

    #[test]
    fn burst_replicas_bounds_the_pods_created_in_one_pass() {
        assert_eq!(created_in_one_pass("{}", 9), vec![1, 2, 4, 2]);
        assert_eq!(
            created_in_one_pass(r#"{"burstReplicas": 3}"#, 9),
            vec![1, 2]
        );
    }

    #[test]
    fn a_configuration_mistake_is_refused_by_name() {
        let err = ReplicaSetController::configure(r#"{"burstReplica": 3}"#)
            .err()
            .unwrap();
        assert!(err.contains("`burstReplica`"), "{err}");
        let err = ReplicaSetController::configure(r#"{"burstReplicas": 0}"#)
            .err()
            .unwrap();
        assert!(err.contains("at least 1"), "{err}");
    }
}
