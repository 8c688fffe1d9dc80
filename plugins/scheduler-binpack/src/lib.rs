//! `binpack`: the default filters, but prefers the fullest node that fits
//! (NodeResourcesFit with MostAllocated), so whole nodes stay free for large pods
//! and idle nodes can be drained.

use wharf_plugin_sdk::scheduling::{NodeInfo, Pod, Policy, Rejection, View, filters, scores};

#[derive(Default)]
pub struct BinpackPolicy;

impl Policy for BinpackPolicy {
    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        filters::standard(view, pod, node)
    }

    fn score(&self, _view: &View, pod: &Pod, node: &NodeInfo) -> i64 {
        scores::most_allocated(pod, node)
            + scores::preferred_affinity(pod, node)
            + scores::taint_toleration(pod, node)
    }
}

wharf_plugin_sdk::export_scheduler_policy!(BinpackPolicy);
