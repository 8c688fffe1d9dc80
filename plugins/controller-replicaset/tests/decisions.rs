//! The ReplicaSet controller's decisions that need no cluster.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_controller_replicaset::*;

fn pod(name: &str, node: Option<&str>, phase: &str, ready: bool, age_s: i64) -> Pod {
    let now = Timestamp::now();
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(Time(now - SignedDuration::from_secs(age_s))),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: node.map(str::to_string),
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.into()),
            conditions: ready.then(|| {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(now - SignedDuration::from_secs(age_s))),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        }),
    }
}

#[test]
fn slow_start_doubles_and_ends_with_the_rest() {
    assert_eq!(slow_start_batches(0), Vec::<usize>::new());
    assert_eq!(slow_start_batches(1), [1]);
    assert_eq!(slow_start_batches(10), [1, 2, 4, 3]);
    assert_eq!(slow_start_batches(500).iter().sum::<usize>(), 500);
}

#[test]
fn scale_down_takes_unassigned_then_pending_then_unready_then_newest() {
    let running_old = pod("running-old", Some("n"), "Running", true, 100);
    let running_new = pod("running-new", Some("n"), "Running", true, 10);
    let not_ready = pod("not-ready", Some("n"), "Running", false, 50);
    let pending = pod("pending", Some("n"), "Pending", false, 50);
    let unassigned = pod("unassigned", None, "Pending", false, 500);
    let mut pods = vec![
        &running_old,
        &running_new,
        &not_ready,
        &pending,
        &unassigned,
    ];
    rank_for_deletion(&mut pods);
    let order: Vec<&str> = pods
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "unassigned",
            "pending",
            "not-ready",
            "running-new",
            "running-old"
        ]
    );
}

#[test]
fn availability_waits_for_min_ready_seconds() {
    let now = Timestamp::now();
    let p = pod("p", Some("n"), "Running", true, 5);
    assert!(is_available(&p, 0, now));
    assert!(is_available(&p, 3, now));
    assert!(!is_available(&p, 30, now));
    assert!(!is_available(
        &pod("q", Some("n"), "Running", false, 5),
        0,
        now
    ));
}

#[test]
fn pods_from_the_template_are_owned_and_named_after_the_replicaset() {
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some("web-abc".into()),
            namespace: Some("prod".into()),
            uid: Some("u-1".into()),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(2),
            selector: LabelSelector::default(),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some([("app".to_string(), "web".to_string())].into()),
                    ..Default::default()
                }),
                spec: Some(PodSpec::default()),
            }),
            min_ready_seconds: None,
        }),
        status: None,
    };
    let p = pod_from_template(&rs).unwrap();
    assert_eq!(p.metadata.generate_name.as_deref(), Some("web-abc-"));
    assert_eq!(p.metadata.namespace.as_deref(), Some("prod"));
    let owner = &p.metadata.owner_references.unwrap()[0];
    assert_eq!((owner.uid.as_str(), owner.controller), ("u-1", Some(true)));
    let one = pod("a", Some("n"), "Running", true, 5);
    let s = status(&rs, &[&one], 0, Timestamp::now(), None);
    assert_eq!(s.replicas, 1);
    assert_eq!(s.ready_replicas, Some(1));
    assert_eq!(s.available_replicas, Some(1));
    // A zero count is left out, as Kubernetes' omitempty fields are.
    assert_eq!(s.fully_labeled_replicas, None);
}
