//! The placement cases Kubernetes documents ("Assigning Pods to Nodes", "Taints
//! and Tolerations", "Resource Management for Pods"), against the default policy.

use wharf_plugin_sdk::scheduling::SelectorOperator::{DoesNotExist, Exists, Gt, In, NotIn};
use wharf_plugin_sdk::scheduling::TaintEffect::{NoExecute, NoSchedule, PreferNoSchedule};
use wharf_plugin_sdk::testing::{Cluster, node, pod, req};
use wharf_scheduler_default::DefaultPolicy;

type C = Cluster<DefaultPolicy>;

#[test]
fn node_selector_picks_the_labelled_node() {
    // kubernetes.io/docs: nodeSelector: {disktype: ssd}
    let mut c = C::new(vec![
        node("hdd").label("disktype", "hdd"),
        node("ssd").label("disktype", "ssd"),
    ]);
    assert_eq!(
        c.place(pod("nginx").node_selector("disktype", "ssd")),
        Ok("ssd".into())
    );
    assert_eq!(
        c.place(pod("x").node_selector("disktype", "nvme")),
        Err(vec![
            "hdd: node(s) didn't match Pod's node affinity/selector".to_string(),
            "ssd: node(s) didn't match Pod's node affinity/selector".to_string(),
        ])
    );
}

#[test]
fn required_node_affinity_operators() {
    let nodes = || {
        vec![
            node("a")
                .label("topology.kubernetes.io/zone", "antarctica-east1")
                .label("cores", "4"),
            node("b")
                .label("topology.kubernetes.io/zone", "antarctica-west1")
                .label("cores", "16"),
            node("c").label("gpu", "true").label("cores", "64"),
        ]
    };
    let zone = "topology.kubernetes.io/zone";
    let mut c = C::new(nodes());
    assert_eq!(
        c.place(pod("in").require(vec![req(zone, In, &["antarctica-west1"])])),
        Ok("b".into())
    );
    // NotIn matches nodes without the label too.
    let mut c = C::new(nodes());
    let got = c.place(pod("notin").require(vec![req(
        zone,
        NotIn,
        &["antarctica-east1", "antarctica-west1"],
    )]));
    assert_eq!(got, Ok("c".into()));
    let mut c = C::new(nodes());
    assert_eq!(
        c.place(pod("exists").require(vec![req("gpu", Exists, &[])])),
        Ok("c".into())
    );
    let mut c = C::new(nodes());
    let got = c.place(pod("gt").require(vec![
        req("cores", Gt, &["8"]),
        req("gpu", DoesNotExist, &[]),
    ]));
    assert_eq!(got, Ok("b".into()));
    // Terms are ORed: either zone east or a gpu.
    let mut c = C::new(nodes());
    let p = pod("or")
        .require(vec![req(zone, In, &["antarctica-east1"])])
        .require(vec![req("gpu", Exists, &[])]);
    assert!(matches!(c.place(p).as_deref(), Ok("a") | Ok("c")));
}

#[test]
fn preferred_affinity_wins_among_feasible_nodes() {
    let mut c = C::new(vec![node("plain"), node("fast").label("disk", "ssd")]);
    assert_eq!(
        c.place(pod("p").prefer(50, vec![req("disk", In, &["ssd"])])),
        Ok("fast".into())
    );
}

#[test]
fn taints_repel_pods_without_tolerations() {
    // kubectl taint nodes node1 key1=value1:NoSchedule
    let nodes = || {
        vec![
            node("node1").taint("key1", "value1", NoSchedule),
            node("node2").taint("key2", "", NoExecute),
        ]
    };
    let mut c = C::new(nodes());
    assert_eq!(
        c.place(pod("plain")),
        Err(vec![
            "node1: node(s) had untolerated taint {key1: value1}".to_string(),
            "node2: node(s) had untolerated taint {key2: }".to_string(),
        ])
    );
    // operator Equal with the value, and operator Exists with no value.
    let mut c = C::new(nodes());
    assert_eq!(
        c.place(pod("eq").tolerate("key1", Some("value1"), Some(NoSchedule))),
        Ok("node1".into())
    );
    let mut c = C::new(nodes());
    assert_eq!(
        c.place(pod("ex").tolerate("key2", None, None)),
        Ok("node2".into())
    );
    // A wrong value or a different effect does not tolerate.
    let mut c = C::new(nodes());
    assert!(
        c.place(pod("wrong").tolerate("key1", Some("other"), None))
            .is_err()
    );
    let mut c = C::new(nodes());
    assert!(
        c.place(pod("effect").tolerate("key1", Some("value1"), Some(NoExecute)))
            .is_err()
    );
    // An empty key with Exists tolerates everything.
    let mut c = C::new(nodes());
    assert!(c.place(pod("all").tolerate("", None, None)).is_ok());
}

#[test]
fn prefer_no_schedule_is_avoided_but_not_forbidden() {
    let mut c = C::new(vec![
        node("soft").taint("spot", "", PreferNoSchedule),
        node("clean"),
    ]);
    assert_eq!(c.place(pod("p")), Ok("clean".into()));
    let mut c = C::new(vec![node("soft").taint("spot", "", PreferNoSchedule)]);
    assert_eq!(c.place(pod("p")), Ok("soft".into()));
}

#[test]
fn cordoned_nodes_take_only_pods_tolerating_unschedulable() {
    let mut c = C::new(vec![node("cordoned").cordoned()]);
    assert_eq!(
        c.place(pod("p")),
        Err(vec!["cordoned: node(s) were unschedulable".to_string()])
    );
    let p = pod("ds").tolerate("node.kubernetes.io/unschedulable", None, Some(NoSchedule));
    assert_eq!(c.place(p), Ok("cordoned".into()));
}

#[test]
fn resources_fit_counts_requests_and_pod_slots() {
    let mut c = C::new(vec![node("n").cpu(1000).memory(1 << 30).pods(3)]);
    assert!(c.place(pod("a").cpu(600)).is_ok());
    assert_eq!(
        c.place(pod("b").cpu(600)),
        Err(vec!["n: Insufficient cpu".to_string()])
    );
    assert_eq!(
        c.place(pod("c").cpu(600).memory(2 << 30)),
        Err(vec!["n: Insufficient cpu\nInsufficient memory".to_string()])
    );
    // Pods without requests always fit resources, but not past the pod count.
    assert!(c.place(pod("d")).is_ok());
    assert!(c.place(pod("e")).is_ok());
    assert_eq!(c.place(pod("f")), Err(vec!["n: Too many pods".to_string()]));
}

#[test]
fn host_ports_conflict() {
    let mut c = C::new(vec![node("only")]);
    assert!(c.place(pod("a").host_port(8080)).is_ok());
    assert_eq!(
        c.place(pod("b").host_port(8080)),
        Err(vec![
            "only: node(s) didn't have free ports for the requested pod ports".to_string()
        ])
    );
    assert!(c.place(pod("c").host_port(8081)).is_ok());
}

#[test]
fn node_name_is_honoured() {
    let mut c = C::new(vec![node("a"), node("b")]);
    assert_eq!(c.place(pod("p").on("b")), Ok("b".into()));
}

#[test]
fn least_allocated_spreads_load() {
    let mut c = C::new(vec![node("a"), node("b"), node("c")]);
    let mut counts = std::collections::HashMap::new();
    for i in 0..9 {
        *counts
            .entry(c.place(pod(&format!("p{i}")).cpu(500)).unwrap())
            .or_insert(0) += 1;
    }
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [3, 3, 3]);
    // A loaded node loses to an empty one.
    let mut c = C::new(vec![node("big").cpu(8000), node("small").cpu(2000)]);
    assert_eq!(c.place(pod("p").cpu(1000)), Ok("big".into()));
}

#[test]
fn percentage_of_nodes_to_score_limits_filtering_but_not_explanations() {
    use wharf_plugin_sdk::scheduling::feasible_nodes_to_find;
    assert_eq!(feasible_nodes_to_find(50, None), 50);
    assert_eq!(feasible_nodes_to_find(1000, None), 420); // 50% - 8 points
    assert_eq!(feasible_nodes_to_find(5000, None), 500); // 10%
    assert_eq!(feasible_nodes_to_find(100_000, None), 5000); // floor of 5%
    assert_eq!(feasible_nodes_to_find(5000, Some(100)), 5000);
    let nodes: Vec<_> = (0..300).map(|i| node(&format!("n{i}")).cpu(100)).collect();
    let mut c = C::with_config(nodes, r#"{"percentageOfNodesToScore": 100}"#);
    let err = c.place(pod("huge").cpu(1000)).unwrap_err();
    assert_eq!(err.len(), 300, "every node explained");
}
