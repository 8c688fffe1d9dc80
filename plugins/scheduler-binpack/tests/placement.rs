//! `binpack` fills the fullest node that fits before starting another.

use wharf_plugin_sdk::testing::{Cluster, node, pod};
use wharf_scheduler_binpack::BinpackPolicy;

#[test]
fn fills_one_node_before_the_next() {
    let mut c = Cluster::<BinpackPolicy>::new(vec![node("a").cpu(2000), node("b").cpu(2000)]);
    let first = c.place(pod("p0").cpu(500)).unwrap();
    for i in 1..4 {
        assert_eq!(c.place(pod(&format!("p{i}")).cpu(500)).unwrap(), first);
    }
    // Full: the next pod opens the other node.
    let next = c.place(pod("p4").cpu(500)).unwrap();
    assert_ne!(next, first);
}

#[test]
fn prefers_the_fuller_node() {
    let mut c = Cluster::<BinpackPolicy>::new(vec![node("big").cpu(8000), node("small").cpu(2000)]);
    assert_eq!(c.place(pod("p").cpu(1000)), Ok("small".into()));
}
