//! `cheapest-node`: places each pod on the cheapest node that can take it.
//!
//! Nodes carry their hourly price in a label (by default `example.com/cost`, an
//! integer; unlabelled nodes count as the most expensive). Filtering is
//! Kubernetes' standard set, so taints, selectors and resources are honoured; the
//! score prefers lower cost, with least-allocated as a tie-break.
//!
//! Configure it through the Plugin's `spec.config`:
//! `{"costLabel": "example.com/cost", "maxCost": 1000}`.

use wharf_plugin_sdk::scheduling::{
    NodeInfo, Pod, Policy, Rejection, View, config, filters, scores,
};

pub struct CheapestNode {
    cost_label: String,
    max_cost: i64,
}

impl Default for CheapestNode {
    fn default() -> Self {
        CheapestNode {
            cost_label: "example.com/cost".into(),
            max_cost: 1000,
        }
    }
}

impl Policy for CheapestNode {
    fn configure(&mut self, config: &str) -> Result<(), String> {
        // A typo in a key is refused by name rather than ignored.
        config::only_keys(config, &["costLabel", "maxCost"])?;
        for (key, value) in config::entries(config)? {
            match key.as_str() {
                "costLabel" => {
                    let label = value
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .ok_or_else(|| format!("costLabel must be a string, not {value}"))?;
                    if label.is_empty() {
                        return Err("costLabel must not be empty".into());
                    }
                    self.cost_label = label.to_string();
                }
                "maxCost" => {
                    self.max_cost = value
                        .parse()
                        .map_err(|_| format!("maxCost must be an integer, not {value}"))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        filters::standard(view, pod, node)
    }

    fn score(&self, _view: &View, pod: &Pod, node: &NodeInfo) -> i64 {
        let cost = node
            .label(&self.cost_label)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(self.max_cost)
            .clamp(0, self.max_cost);
        // Cost dominates (x100); least-allocated (0..100) only breaks ties.
        (self.max_cost - cost) * 100 + scores::least_allocated(pod, node)
    }
}

wharf_plugin_sdk::export_scheduler_policy!(CheapestNode);

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_plugin_sdk::testing::{Cluster, node, pod};

    #[test]
    fn the_cheapest_feasible_node_wins() {
        let mut c = Cluster::<CheapestNode>::new(vec![
            node("pricey").label("example.com/cost", "90"),
            node("cheap").label("example.com/cost", "10").cpu(1000),
            node("unlabelled"),
        ]);
        assert_eq!(c.place(pod("a").cpu(500)), Ok("cheap".into()));
        assert_eq!(c.place(pod("b").cpu(500)), Ok("cheap".into()));
        // cheap is full now.
        assert_eq!(c.place(pod("c").cpu(500)), Ok("pricey".into()));
    }

    #[test]
    fn config_is_checked() {
        let mut p = CheapestNode::default();
        assert!(
            p.configure(r#"{"costLabel": "acme/price", "maxCost": 50}"#)
                .is_ok()
        );
        assert_eq!(p.cost_label, "acme/price");
        assert_eq!(p.max_cost, 50);
        assert!(p.configure(r#"{"maxCost": "lots"}"#).is_err());
        assert!(p.configure(r#"{"costLabel": 7}"#).is_err());
        let typo = p.configure(r#"{"maxcost": 5}"#).unwrap_err();
        assert!(typo.contains("\"maxcost\""), "{typo}");
    }
}
