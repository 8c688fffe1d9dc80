//! `spread`: the default filters, then places a controller's pods evenly across
//! nodes and, where nodes carry `topology.kubernetes.io/zone`, across zones —
//! Kubernetes' SelectorSpread scoring, in which the zone counts for two thirds.

use std::collections::HashMap;

use wharf_plugin_sdk::scheduling::{NodeInfo, Pod, Policy, Rejection, View, filters, scores};

#[derive(Default)]
pub struct SpreadPolicy {
    /// Filled by `pre_score` for the pod being placed.
    owner: Option<String>,
    max_on_node: u32,
    per_zone: HashMap<String, u32>,
    max_in_zone: u32,
}

const ZONE_WEIGHT: f64 = 2.0 / 3.0;

impl Policy for SpreadPolicy {
    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        filters::standard(view, pod, node)
    }

    fn pre_score(&mut self, view: &View, pod: &Pod, feasible: &[usize]) {
        self.owner = pod.owner_uid.clone();
        self.max_on_node = 0;
        self.per_zone.clear();
        self.max_in_zone = 0;
        let Some(owner) = &self.owner else {
            return;
        };
        for &i in feasible {
            let n = &view.nodes()[i];
            self.max_on_node = self.max_on_node.max(n.owned_by(owner));
        }
        // Zones count every node's pods, not only the feasible ones: a zone is full
        // of this controller's pods whether or not its nodes can take one more.
        for n in view.nodes() {
            if let Some(zone) = &n.zone {
                *self.per_zone.entry(zone.clone()).or_default() += n.owned_by(owner);
            }
        }
        self.max_in_zone = self.per_zone.values().copied().max().unwrap_or(0);
    }

    fn score(&self, _view: &View, pod: &Pod, node: &NodeInfo) -> i64 {
        // Least-allocated breaks ties between equally spread nodes, at a tenth of
        // the weight.
        let tie_break = scores::least_allocated(pod, node) / 10;
        let Some(owner) = &self.owner else {
            return scores::least_allocated(pod, node);
        };
        let fewer = |count: u32, max: u32| {
            if max == 0 {
                1.0
            } else {
                (max - count.min(max)) as f64 / max as f64
            }
        };
        let node_part = fewer(node.owned_by(owner), self.max_on_node);
        let score = match &node.zone {
            Some(zone) if !self.per_zone.is_empty() => {
                let zone_part = fewer(
                    self.per_zone.get(zone).copied().unwrap_or(0),
                    self.max_in_zone,
                );
                node_part * (1.0 - ZONE_WEIGHT) + zone_part * ZONE_WEIGHT
            }
            _ => node_part,
        };
        (score * scores::MAX_NODE_SCORE as f64 * 10.0) as i64 + tie_break
    }
}

wharf_plugin_sdk::export_scheduler_policy!(SpreadPolicy);
