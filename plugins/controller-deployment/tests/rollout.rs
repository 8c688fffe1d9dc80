//! The rollout arithmetic, checked against what Kubernetes does.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use wharf_controller_deployment::rollout::*;

fn rs(name: &str, replicas: i32, available: i32) -> Rs {
    Rs {
        name: name.into(),
        replicas,
        available,
    }
}

#[test]
fn fenceposts_default_to_a_quarter_and_never_both_zero() {
    assert_eq!(fenceposts(None, None, 10), (3, 2));
    assert_eq!(fenceposts(None, None, 1), (1, 0));
    let zero = IntOrString::Int(0);
    assert_eq!(fenceposts(Some(&zero), Some(&zero), 5), (0, 1));
    let half = IntOrString::String("50%".into());
    assert_eq!(fenceposts(Some(&half), Some(&half), 5), (3, 2));
}

#[test]
fn the_new_set_grows_within_the_surge() {
    let old = rs("old", 10, 10);
    let new = rs("new", 0, 0);
    assert_eq!(new_rs_replicas(10, 3, &new, &[&old, &new]), 3);
    let new = rs("new", 3, 0);
    assert_eq!(
        new_rs_replicas(10, 3, &new, &[&old, &new]),
        3,
        "total at max"
    );
    let new = rs("new", 12, 0);
    assert_eq!(
        new_rs_replicas(10, 3, &new, &[&new]),
        10,
        "never above desired"
    );
}

#[test]
fn old_sets_shrink_keeping_enough_available() {
    // 10 desired, maxUnavailable 2; the new set's 3 pods are not available yet.
    let old = [rs("old", 10, 10)];
    let new = rs("new", 3, 0);
    assert_eq!(
        old_rs_scale_down(10, 2, Some(&new), &old),
        [("old".to_string(), 8)]
    );
    // Unhealthy old pods go first (two surged new pods are available, so two
    // may go), and no available one while that would dip below 10.
    let old = [rs("a", 4, 1), rs("b", 6, 6)];
    let new = rs("new", 2, 2);
    assert_eq!(
        old_rs_scale_down(10, 0, Some(&new), &old),
        [("a".to_string(), 2)]
    );
    // Nothing to shrink when availability is at the floor.
    let old = [rs("old", 8, 8)];
    let new = rs("new", 2, 0);
    assert!(old_rs_scale_down(10, 2, Some(&new), &old).is_empty());
}

#[test]
fn paused_scaling_is_proportional() {
    let sets = [rs("a", 2, 2), rs("b", 6, 6)];
    assert_eq!(proportional(16, &sets), [4, 12]);
    assert_eq!(proportional(4, &sets), [1, 3]);
    assert_eq!(proportional(9, &sets), [2, 7]);
    assert_eq!(proportional(3, &[rs("a", 0, 0)]), [3]);
}
