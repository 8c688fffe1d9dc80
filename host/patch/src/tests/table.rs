//! The merge-key table and the Go-compatible ordering underneath the strategic merge.

use std::collections::HashSet;

use crate::merge_keys::{ListStrategy, lookup, rules};
use crate::order::go_stable_sort;

use ListStrategy::{MergeByKey, MergePrimitives, Replace};

#[test]
fn the_table_says_what_the_go_struct_tags_say() {
    let cases = [
        // ObjectMeta
        ("metadata", "ownerReferences", MergeByKey("uid")),
        ("metadata", "finalizers", MergePrimitives),
        ("metadata", "managedFields", Replace),
        // PodSpec, in a Pod or in any pod template
        ("spec", "containers", MergeByKey("name")),
        ("spec", "initContainers", MergeByKey("name")),
        ("spec", "ephemeralContainers", MergeByKey("name")),
        ("spec", "volumes", MergeByKey("name")),
        ("spec", "imagePullSecrets", MergeByKey("name")),
        ("spec", "hostAliases", MergeByKey("ip")),
        (
            "spec",
            "topologySpreadConstraints",
            MergeByKey("topologyKey"),
        ),
        ("spec", "schedulingGates", MergeByKey("name")),
        ("spec", "resourceClaims", MergeByKey("name")),
        ("spec", "tolerations", Replace),
        ("spec", "readinessGates", Replace),
        // Container and EphemeralContainer
        ("containers", "ports", MergeByKey("containerPort")),
        ("initContainers", "env", MergeByKey("name")),
        (
            "ephemeralContainers",
            "volumeMounts",
            MergeByKey("mountPath"),
        ),
        ("containers", "volumeDevices", MergeByKey("devicePath")),
        ("containers", "envFrom", Replace),
        ("containers", "command", Replace),
        ("containers", "args", Replace),
        ("containers", "resizePolicy", Replace),
        // Statuses: Pod, Node, Namespace, Service, Deployment, ReplicaSet
        ("status", "conditions", MergeByKey("type")),
        ("status", "podIPs", MergeByKey("ip")),
        ("status", "hostIPs", MergeByKey("ip")),
        ("status", "addresses", MergeByKey("type")),
        ("status", "containerStatuses", Replace),
        ("status", "images", Replace),
        // Service
        ("spec", "ports", MergeByKey("port")),
        ("ingress", "ports", Replace),
        ("spec", "externalIPs", Replace),
        // ServiceAccount
        ("", "secrets", MergeByKey("name")),
        ("", "imagePullSecrets", Replace),
        // Endpoints
        ("", "subsets", Replace),
        ("subsets", "ports", Replace),
        ("subsets", "addresses", Replace),
        // Node
        ("spec", "podCIDRs", MergePrimitives),
        ("spec", "taints", Replace),
        // Namespace
        ("spec", "finalizers", Replace),
        // Event, Lease, ConfigMap, Secret: nothing merges.
        ("", "series", Replace),
        ("spec", "holderIdentity", Replace),
        // Not a field at all.
        ("anything", "unknown", Replace),
    ];
    for (parent, field, want) in cases {
        assert_eq!(lookup(parent, field), want, "{parent} → {field}");
    }
}

#[test]
fn the_table_is_unambiguous() {
    let mut seen = HashSet::new();
    for (parents, field, strategy) in rules() {
        assert!(!parents.is_empty(), "{field}");
        for parent in parents {
            assert!(seen.insert((*parent, field)), "{parent} → {field} twice");
        }
        if let MergeByKey(key) = strategy {
            assert!(!key.is_empty(), "{field}");
        }
    }
}

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn go_stable_sort_is_a_stable_sort() {
    let mut rng = XorShift(42);
    for _ in 0..500 {
        let len = rng.below(130);
        let items: Vec<(usize, usize)> = (0..len).map(|i| (rng.below(8), i)).collect();
        let mut ours = items.clone();
        go_stable_sort(&mut ours, &mut |a, b| a.0 < b.0);
        let mut std = items;
        std.sort_by_key(|item| item.0);
        assert_eq!(ours, std);
    }
}

#[test]
fn go_stable_sort_survives_kubes_inconsistent_comparator() {
    // strategicpatch says "less" whenever either side is missing from the reference list.
    let less = |a: &Option<usize>, b: &Option<usize>| match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    let mut rng = XorShift(7);
    for _ in 0..500 {
        let len = rng.below(90);
        let items: Vec<Option<usize>> = (0..len)
            .map(|_| Some(rng.below(10)).filter(|_| rng.below(3) > 0))
            .collect();
        let mut sorted = items.clone();
        go_stable_sort(&mut sorted, &mut |a, b| less(a, b));
        let mut a = items;
        let mut b = sorted;
        a.sort();
        b.sort();
        assert_eq!(a, b, "not a permutation");
    }
    // Insertion sort with that comparator swaps any pair that has a missing side, as Go does.
    let mut pair = [Some(0), None];
    go_stable_sort(&mut pair, &mut |a, b| less(a, b));
    assert_eq!(pair, [None, Some(0)]);
}
