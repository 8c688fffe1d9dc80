//! Which taints a node's state gives it, and how they merge with the taints
//! others set.

use k8s_openapi::api::core::v1::{Node, NodeCondition, NodeSpec, NodeStatus, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use wharf_controller_nodelifecycle::{
    NOT_READY, UNREACHABLE, UNSCHEDULABLE, merge_taints, wanted_taints,
};

fn node(unschedulable: bool, conditions: &[(&str, &str)]) -> Node {
    Node {
        spec: Some(NodeSpec {
            unschedulable: unschedulable.then_some(true),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            conditions: Some(
                conditions
                    .iter()
                    .map(|(t, s)| NodeCondition {
                        type_: t.to_string(),
                        status: s.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        value: None,
        time_added: None,
    }
}

#[test]
fn a_cordoned_node_is_tainted_unschedulable() {
    let cordoned = node(true, &[("Ready", "True")]);
    assert_eq!(
        wanted_taints(&cordoned, false, false),
        [(UNSCHEDULABLE, "NoSchedule")]
    );
    assert!(wanted_taints(&node(false, &[("Ready", "True")]), false, false).is_empty());
}

#[test]
fn pressure_conditions_taint_only_a_node_that_heartbeats() {
    let pressed = node(
        false,
        &[
            ("Ready", "True"),
            ("MemoryPressure", "True"),
            ("DiskPressure", "False"),
            ("PIDPressure", "True"),
        ],
    );
    assert_eq!(
        wanted_taints(&pressed, false, false),
        [
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ]
    );
    // Unreachable: its conditions are stale, only the lifecycle taints count.
    assert_eq!(
        wanted_taints(&pressed, true, false),
        [(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")]
    );
    assert_eq!(
        wanted_taints(&node(true, &[]), false, true),
        [
            (NOT_READY, "NoSchedule"),
            (NOT_READY, "NoExecute"),
            (UNSCHEDULABLE, "NoSchedule"),
        ]
    );
}

#[test]
fn merging_keeps_what_others_set_and_when_a_taint_came() {
    let now: Timestamp = "2026-12-08T10:00:00Z".parse().unwrap();
    let earlier: Timestamp = "2026-12-08T09:00:00Z".parse().unwrap();
    let mut kept = taint(NOT_READY, "NoExecute");
    kept.time_added = Some(Time(earlier));
    let current = vec![
        taint("dedicated", "NoSchedule"),
        kept.clone(),
        taint(NOT_READY, "NoSchedule"),
        taint(UNSCHEDULABLE, "NoSchedule"),
    ];
    // Uncordoned, still not ready: the unschedulable taint goes, the rest stay.
    let merged = merge_taints(
        &current,
        &[(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
        now,
    );
    assert_eq!(
        merged,
        vec![
            taint("dedicated", "NoSchedule"),
            kept,
            taint(NOT_READY, "NoSchedule")
        ]
    );
    // Unreachable now: a new NoExecute taint is stamped with the time.
    let merged = merge_taints(&current, &[(UNREACHABLE, "NoExecute")], now);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0], taint("dedicated", "NoSchedule"));
    assert_eq!(merged[1].key, UNREACHABLE);
    assert_eq!(merged[1].time_added, Some(Time(now)));
}
