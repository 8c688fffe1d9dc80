//! `spread` places a controller's pods evenly over nodes and zones.

use std::collections::HashMap;

use wharf_plugin_sdk::testing::{Cluster, node, pod};
use wharf_scheduler_spread::SpreadPolicy;

const ZONE: &str = "topology.kubernetes.io/zone";

#[test]
fn spreads_over_zones_then_nodes() {
    // Zone a has three nodes, zone b one: zones count first, so b's single node
    // takes as many pods as all of a.
    let mut c = Cluster::<SpreadPolicy>::new(vec![
        node("a1").label(ZONE, "a"),
        node("a2").label(ZONE, "a"),
        node("a3").label(ZONE, "a"),
        node("b1").label(ZONE, "b"),
    ]);
    let mut per_zone: HashMap<char, u32> = HashMap::new();
    for i in 0..6 {
        let n = c.place(pod(&format!("p{i}")).owner("rs-1")).unwrap();
        *per_zone.entry(n.chars().next().unwrap()).or_default() += 1;
    }
    assert_eq!(per_zone[&'a'], 3);
    assert_eq!(per_zone[&'b'], 3);
}

#[test]
fn distinct_nodes_for_one_owner_other_owners_ignored() {
    let mut c = Cluster::<SpreadPolicy>::new(vec![node("n1"), node("n2"), node("n3")]);
    // Another owner's pods pile on n1 (pinned there) ...
    for i in 0..3 {
        c.place(pod(&format!("other{i}")).owner("rs-other").on("n1"))
            .unwrap();
    }
    // ... and do not stop rs-1 from using every node once.
    let mut seen = std::collections::HashSet::new();
    for i in 0..3 {
        seen.insert(c.place(pod(&format!("mine{i}")).owner("rs-1")).unwrap());
    }
    assert_eq!(seen.len(), 3);
}
