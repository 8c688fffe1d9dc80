//! Kubernetes' scoring plugins, each on the 0..=100 scale.

use super::view::{DEFAULT_MEMORY_BYTES, DEFAULT_MILLI_CPU};
use super::{NodeInfo, Pod, TaintEffect, filters};

pub const MAX_NODE_SCORE: i64 = 100;

/// (requested, allocatable) for cpu and memory once `pod` is added, with the
/// non-zero defaults standing in for unset requests, as kube-scheduler's resource
/// scorers compute them. Resources a node does not offer (allocatable 0) are
/// left out, as Kubernetes leaves them out.
#[inline]
fn requested_and_allocatable(pod: &Pod, node: &NodeInfo) -> [(u64, u64); 2] {
    let alloc = &node.node.allocatable;
    let used = &node.usage.nonzero_requested;
    let cpu_req = if pod.requests.milli_cpu == 0 {
        DEFAULT_MILLI_CPU
    } else {
        pod.requests.milli_cpu
    };
    let mem_req = if pod.requests.memory_bytes == 0 {
        DEFAULT_MEMORY_BYTES
    } else {
        pod.requests.memory_bytes
    };
    [
        (used.milli_cpu.saturating_add(cpu_req), alloc.milli_cpu),
        (
            used.memory_bytes.saturating_add(mem_req),
            alloc.memory_bytes,
        ),
    ]
}

/// The mean of `per_resource` over the resources the node offers, in integers as
/// kube-scheduler computes it.
#[inline]
fn resource_score(pod: &Pod, node: &NodeInfo, per_resource: impl Fn(u64, u64) -> u64) -> i64 {
    let (mut sum, mut counted) = (0u64, 0u64);
    for (requested, allocatable) in requested_and_allocatable(pod, node) {
        if allocatable > 0 {
            sum += per_resource(requested, allocatable);
            counted += 1;
        }
    }
    sum.checked_div(counted).unwrap_or(0) as i64
}

/// `part` (at most `whole`, which is not 0) on the 0..=100 scale, truncated. An
/// overflow check on the multiplication would cost WebAssembly a 128-bit multiply
/// per node, so the rare huge `whole` is divided first instead.
#[inline]
fn scaled(part: u64, whole: u64) -> u64 {
    const MAX: u64 = MAX_NODE_SCORE as u64;
    if whole <= u64::MAX / MAX {
        part * MAX / whole
    } else {
        part / (whole / MAX)
    }
}

/// NodeResourcesFit with the LeastAllocated strategy: prefer emptier nodes.
#[inline]
pub fn least_allocated(pod: &Pod, node: &NodeInfo) -> i64 {
    resource_score(pod, node, |requested, allocatable| {
        scaled(allocatable.saturating_sub(requested), allocatable)
    })
}

/// NodeResourcesFit with the MostAllocated strategy: prefer fuller nodes (bin packing).
#[inline]
pub fn most_allocated(pod: &Pod, node: &NodeInfo) -> i64 {
    resource_score(pod, node, |requested, allocatable| {
        scaled(requested.min(allocatable), allocatable)
    })
}

/// NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory stay in step.
#[inline]
pub fn balanced_allocation(pod: &Pod, node: &NodeInfo) -> i64 {
    let mut fractions = [0f64; 2];
    let mut offered = 0;
    for (requested, allocatable) in requested_and_allocatable(pod, node) {
        if allocatable > 0 {
            let f = requested as f64 / allocatable as f64;
            // A comparison rather than `f64::min`, which compiles to a libm call
            // in WebAssembly (wasm's own `min` treats NaN differently).
            fractions[offered] = if f > 1.0 { 1.0 } else { f };
            offered += 1;
        }
    }
    let std_dev = if offered == 2 {
        (fractions[0] - fractions[1]).abs() / 2.0
    } else {
        0.0
    };
    ((1.0 - std_dev) * MAX_NODE_SCORE as f64) as i64
}

/// NodeAffinity's preferred terms: the matched share of the total weight.
#[inline]
pub fn preferred_affinity(pod: &Pod, node: &NodeInfo) -> i64 {
    let total: i64 = pod
        .preferred_terms
        .iter()
        .map(|t| t.weight.max(0) as i64)
        .sum();
    if total == 0 {
        return 0;
    }
    let matched: i64 = pod
        .preferred_terms
        .iter()
        .filter(|t| filters::term_matches(&t.term, node))
        .map(|t| t.weight.max(0) as i64)
        .sum();
    matched * MAX_NODE_SCORE / total
}

/// TaintToleration's score: fewer untolerated PreferNoSchedule taints is better.
#[inline]
pub fn taint_toleration(pod: &Pod, node: &NodeInfo) -> i64 {
    let untolerated = node
        .node
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !pod.tolerations.iter().any(|tol| filters::tolerates(tol, t)))
        .count() as i64;
    // Nearly every node has none; skip the division (a slow instruction per node).
    match untolerated {
        0 => MAX_NODE_SCORE,
        n => MAX_NODE_SCORE / (1 + n),
    }
}
