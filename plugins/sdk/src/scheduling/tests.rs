use super::*;
use crate::testing::{Cluster, node, pod};
use TaintEffect::NoSchedule;

#[derive(Default)]
struct Standard;

impl Policy for Standard {
    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        filters::standard(view, pod, node)
    }
    fn score(&self, _: &View, _: &Pod, _: &NodeInfo) -> i64 {
        0
    }
}

#[test]
fn filtering_rotates_so_equal_nodes_take_turns() {
    let mut c = Cluster::<Standard>::new(vec![node("a"), node("b"), node("c")]);
    let picks: Vec<String> = (0..3)
        .map(|i| c.place(pod(&format!("p{i}"))).unwrap())
        .collect();
    let distinct: std::collections::HashSet<_> = picks.iter().collect();
    assert_eq!(distinct.len(), 3, "{picks:?}");
}

#[test]
fn a_policy_without_configuration_refuses_any_but_the_framework_key() {
    let mut i = Instance::<Standard>::default();
    assert_eq!(i.configure("{}"), Ok(()));
    assert_eq!(i.configure(r#"{"percentageOfNodesToScore": 30}"#), Ok(()));
    let err = i.configure(r#"{"weights": "nope"}"#).unwrap_err();
    assert!(err.contains("\"weights\""), "{err}");
    let err = i
        .configure(r#"{"percentageOfNodesToScore": "fifty"}"#)
        .unwrap_err();
    assert!(err.contains("percentageOfNodesToScore"), "{err}");
}

#[test]
fn no_nodes_means_unschedulable_with_no_rejections() {
    let mut c = Cluster::<Standard>::new(vec![]);
    assert_eq!(c.place(pod("p")), Err(vec![]));
}

#[test]
fn a_changed_taint_is_reported_in_its_new_words() {
    let mut c = Cluster::<Standard>::new(vec![node("a").taint("k1", "v1", NoSchedule)]);
    assert_eq!(
        c.place(pod("p")),
        Err(vec![
            "a: node(s) had untolerated taint {k1: v1}".to_string()
        ])
    );
    c.upsert(node("a").taint("k2", "v2", NoSchedule));
    assert_eq!(
        c.place(pod("p")),
        Err(vec![
            "a: node(s) had untolerated taint {k2: v2}".to_string()
        ])
    );
    c.upsert(node("a"));
    assert_eq!(c.place(pod("p")), Ok("a".to_string()));
}
