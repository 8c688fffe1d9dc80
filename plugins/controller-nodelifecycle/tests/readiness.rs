//! What a pod of a node that stopped being ready looks like afterwards.

use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_controller_nodelifecycle::not_ready;

fn condition(type_: &str, status: &str, at: Timestamp) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        last_transition_time: Some(Time(at)),
        ..Default::default()
    }
}

fn pod_with(conditions: Vec<PodCondition>) -> Pod {
    Pod {
        status: Some(PodStatus {
            phase: Some("Running".into()),
            conditions: Some(conditions),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn only_the_ready_condition_turns_false() {
    let now = Timestamp::now();
    let before = now - SignedDuration::from_secs(600);
    let pod = pod_with(vec![
        condition("Initialized", "True", before),
        condition("Ready", "True", before),
        condition("ContainersReady", "True", before),
    ]);
    let marked = not_ready(&pod, now).expect("a ready pod is marked");
    let status = marked.status.unwrap();
    let conditions = status.conditions.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(conditions[1].status, "False");
    assert_eq!(conditions[1].last_transition_time, Some(Time(now)));
    // The containers' own readiness is the kubelet's to report.
    assert_eq!(
        conditions[0],
        pod.status.as_ref().unwrap().conditions.as_ref().unwrap()[0]
    );
    assert_eq!(conditions[2].status, "True");
}

#[test]
fn pods_not_ready_already_or_without_conditions_are_left_alone() {
    let now = Timestamp::now();
    assert!(not_ready(&pod_with(vec![condition("Ready", "False", now)]), now).is_none());
    assert!(not_ready(&pod_with(vec![]), now).is_none());
    assert!(not_ready(&Pod::default(), now).is_none());
}
