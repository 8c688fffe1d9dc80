//! The pods of a deleted node: quarantined, then failed and deleted, as Kubernetes'
//! pod garbage collector does it.

use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_controller_nodelifecycle::{
    DELETION_BY_POD_GC, DISRUPTION_TARGET, OrphanPlan, orphan_status, orphaned_since, plan_orphans,
    without_orphan_mark,
};

fn pod(phase: &str, conditions: Vec<PodCondition>) -> Pod {
    Pod {
        status: Some(PodStatus {
            phase: Some(phase.into()),
            conditions: Some(conditions),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn found_at(at: Timestamp) -> PodCondition {
    PodCondition {
        type_: DISRUPTION_TARGET.into(),
        status: "True".into(),
        reason: Some(DELETION_BY_POD_GC.into()),
        last_transition_time: Some(Time(at)),
        ..Default::default()
    }
}

#[test]
fn orphans_wait_out_the_quarantine_from_when_they_were_found() {
    let now = Timestamp::now();
    let quarantine = SignedDuration::from_secs(40);
    let pods = vec![
        pod("Running", vec![]),
        pod(
            "Running",
            vec![found_at(now - SignedDuration::from_secs(10))],
        ),
        pod(
            "Running",
            vec![found_at(now - SignedDuration::from_secs(41))],
        ),
        // Another component's disruption is not this controller's mark.
        pod(
            "Running",
            vec![PodCondition {
                reason: Some("PreemptionByScheduler".into()),
                ..found_at(now - SignedDuration::from_secs(600))
            }],
        ),
        // Nor is a mark from long ago: the node came back, and is gone again.
        pod(
            "Running",
            vec![found_at(now - SignedDuration::from_secs(3600))],
        ),
    ];
    assert_eq!(
        plan_orphans(&pods, quarantine, now),
        OrphanPlan {
            mark: vec![0, 3, 4],
            collect: vec![2],
            // The one found 10 s ago is the next due.
            next: Some(SignedDuration::from_secs(30)),
        }
    );
    // Without a quarantine every orphan goes at once.
    let plan = plan_orphans(&pods, SignedDuration::ZERO, now);
    assert_eq!((plan.mark, plan.collect), (vec![], vec![0, 1, 2, 3, 4]));
    assert_eq!(plan.next, None);
}

#[test]
fn an_orphan_is_marked_once_and_failed_at_the_end() {
    let then = Timestamp::now() - SignedDuration::from_secs(60);
    let now = Timestamp::now();
    let running = pod("Running", vec![]);

    let marked = orphan_status(&running, then, false);
    assert_eq!(orphaned_since(&marked), Some(then));
    let status = marked.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    let condition = &status.conditions.as_ref().unwrap()[0];
    assert_eq!(
        condition.message.as_deref(),
        Some("PodGC: node no longer exists")
    );

    // Failing it keeps the time it was found.
    let failed = orphan_status(&marked, then, true);
    assert_eq!(orphaned_since(&failed), Some(then));
    assert_eq!(
        failed.status.as_ref().unwrap().phase.as_deref(),
        Some("Failed")
    );
    assert_eq!(
        failed
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .len(),
        1
    );

    // A pod that already ended keeps its phase.
    let done = orphan_status(&pod("Succeeded", vec![]), now, true);
    assert_eq!(done.status.unwrap().phase.as_deref(), Some("Succeeded"));
    // And one with no status at all gets one.
    let bare = orphan_status(&Pod::default(), now, true);
    assert_eq!(orphaned_since(&bare), Some(now));
    // Marking again starts the clock again, with one condition still.
    let again = orphan_status(&failed, now, false);
    assert_eq!(orphaned_since(&again), Some(now));
    assert_eq!(again.status.unwrap().conditions.unwrap().len(), 1);
}

#[test]
fn the_mark_comes_off_when_the_node_is_back_and_only_the_mark() {
    let now = Timestamp::now();
    let ready = PodCondition {
        type_: "Ready".into(),
        status: "True".into(),
        ..Default::default()
    };
    let preempted = PodCondition {
        type_: DISRUPTION_TARGET.into(),
        status: "True".into(),
        reason: Some("PreemptionByScheduler".into()),
        ..Default::default()
    };
    assert!(without_orphan_mark(&pod("Running", vec![ready.clone()])).is_none());
    assert!(without_orphan_mark(&pod("Running", vec![preempted.clone()])).is_none());
    let marked = pod(
        "Running",
        vec![ready.clone(), found_at(now), preempted.clone()],
    );
    let unmarked = without_orphan_mark(&marked).expect("the mark is taken off");
    assert_eq!(
        unmarked.status.unwrap().conditions.unwrap(),
        vec![ready, preempted]
    );
}
