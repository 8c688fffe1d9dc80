//! Kubernetes' scoring plugins, each on the 0..=100 scale.

use super::view::{DEFAULT_MEMORY_BYTES, DEFAULT_MILLI_CPU};
use super::{NodeInfo, Pod, TaintEffect, filters};

pub const MAX_NODE_SCORE: i64 = 100;

/// (cpu, memory) fractions of allocatable requested once `pod` is added, using the
/// non-zero defaults for unset requests.
fn fractions(pod: &Pod, node: &NodeInfo) -> (f64, f64) {
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
    let frac = |used: u64, req: u64, alloc: u64| {
        if alloc == 0 {
            1.0
        } else {
            ((used + req) as f64 / alloc as f64).min(1.0)
        }
    };
    (
        frac(used.milli_cpu, cpu_req, alloc.milli_cpu),
        frac(used.memory_bytes, mem_req, alloc.memory_bytes),
    )
}

/// NodeResourcesFit with the LeastAllocated strategy: prefer emptier nodes.
pub fn least_allocated(pod: &Pod, node: &NodeInfo) -> i64 {
    let (cpu, mem) = fractions(pod, node);
    (((1.0 - cpu) + (1.0 - mem)) / 2.0 * MAX_NODE_SCORE as f64) as i64
}

/// NodeResourcesFit with the MostAllocated strategy: prefer fuller nodes (bin packing).
pub fn most_allocated(pod: &Pod, node: &NodeInfo) -> i64 {
    let (cpu, mem) = fractions(pod, node);
    ((cpu + mem) / 2.0 * MAX_NODE_SCORE as f64) as i64
}

/// NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory stay in step.
pub fn balanced_allocation(pod: &Pod, node: &NodeInfo) -> i64 {
    let (cpu, mem) = fractions(pod, node);
    let std_dev = (cpu - mem).abs() / 2.0;
    ((1.0 - std_dev) * MAX_NODE_SCORE as f64) as i64
}

/// NodeAffinity's preferred terms: the matched share of the total weight.
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
pub fn taint_toleration(pod: &Pod, node: &NodeInfo) -> i64 {
    let untolerated = node
        .node
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !pod.tolerations.iter().any(|tol| filters::tolerates(tol, t)))
        .count() as i64;
    MAX_NODE_SCORE / (1 + untolerated)
}
