//! `default`: kube-scheduler's default profile. Filters with NodeName,
//! NodeUnschedulable, NodeAffinity, TaintToleration, NodePorts and NodeResourcesFit;
//! scores with LeastAllocated, BalancedAllocation, preferred node affinity and
//! PreferNoSchedule taints, each weighted 1 as in kube-scheduler.

use wharf_plugin_sdk::scheduling::{NodeInfo, Pod, Policy, Rejection, View, filters, scores};

#[derive(Default)]
pub struct DefaultPolicy;

// Inlined into the cycle's per-node loops: a call per node costs more than the
// checks themselves, and more in WebAssembly than natively.
impl Policy for DefaultPolicy {
    #[inline]
    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        filters::standard(view, pod, node)
    }

    #[inline]
    fn score(&self, _view: &View, pod: &Pod, node: &NodeInfo) -> i64 {
        scores::least_allocated(pod, node)
            + scores::balanced_allocation(pod, node)
            + scores::preferred_affinity(pod, node)
            + scores::taint_toleration(pod, node)
    }
}

wharf_plugin_sdk::export_scheduler_policy!(DefaultPolicy);
