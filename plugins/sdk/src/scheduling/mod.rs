//! The scheduling framework, guest side: a node view the host keeps current, the
//! [`Policy`] trait an author implements, and the cycle that runs it.
//!
//! The cycle follows Kubernetes' scheduler: filter nodes (starting where the previous
//! cycle stopped, and stopping once enough feasible nodes are found, as
//! `percentageOfNodesToScore` does), score the feasible ones, normalize, and pick the
//! best. When no node fits, every node is filtered so that each rejection can be
//! reported.

pub mod config;
pub mod filters;
mod rejection;
pub mod scores;
mod view;

pub use crate::bindings::exports::wharf::plugin::scheduler_policy::{Change, Decision, Pod};
use crate::bindings::wharf::plugin::scheduling_types::Rejection as WitRejection;
pub use crate::bindings::wharf::plugin::scheduling_types::{
    Chosen, HostPort, Label, Node, Placement, Resources, SelectorOperator, SelectorRequirement,
    SelectorTerm, Taint, TaintEffect, Toleration, TolerationOperator, WeightedTerm,
};
pub use rejection::Rejection;
pub use view::{NodeInfo, Usage, View};

/// A scheduling policy: Kubernetes' filter, score and normalize extension points.
pub trait Policy: Default + 'static {
    /// Receives the Plugin object's `spec.config` (JSON text). An error refuses the
    /// plugin, and the host keeps the version that was running. A policy that
    /// takes no configuration of its own keeps this one, which refuses any key
    /// but the framework's `percentageOfNodesToScore` (see [`config`]).
    fn configure(&mut self, config: &str) -> Result<(), String> {
        config::only_keys(config, &[])
    }

    /// Can `node` take `pod`? Most policies start from [`filters::standard`].
    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection>;

    /// Called once per cycle with the feasible nodes, before any `score`, for
    /// policies whose scores depend on the cluster as a whole (spreading, say).
    fn pre_score(&mut self, view: &View, pod: &Pod, feasible: &[usize]) {
        let _ = (view, pod, feasible);
    }

    /// Higher is better. Conventionally 0..=100 per scoring step.
    fn score(&self, view: &View, pod: &Pod, node: &NodeInfo) -> i64;

    /// Adjusts the feasible nodes' scores together (`scores[i]` belongs to the i-th
    /// feasible node) before the best is chosen.
    fn normalize(&self, scores: &mut [i64]) {
        let _ = scores;
    }
}

/// How many feasible nodes are enough to stop filtering, as Kubernetes computes it
/// when `percentageOfNodesToScore` is left at its adaptive default: 50% minus one
/// point per 125 nodes, at least 5%, and never fewer than 100 nodes.
pub fn feasible_nodes_to_find(nodes: usize, percentage: Option<u32>) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if nodes <= MIN_FEASIBLE {
        return nodes;
    }
    let pct = match percentage {
        Some(p) if p > 0 => p.min(100) as usize,
        _ => 50usize.saturating_sub(nodes / 125).max(5),
    };
    (nodes * pct / 100).max(MIN_FEASIBLE)
}

/// One plugin instance's state: the policy, its view and where the next cycle
/// starts filtering.
#[derive(Default)]
pub struct Instance<P: Policy> {
    policy: P,
    view: View,
    next_start: usize,
    percentage: Option<u32>,
    /// Cycles run, for rotating among tied nodes.
    cycles: u64,
    // Kept from cycle to cycle so that a cycle does not allocate them again.
    feasible: Vec<usize>,
    rejections: Vec<(usize, Rejection)>,
    scores: Vec<i64>,
}

impl<P: Policy> Instance<P> {
    pub fn configure(&mut self, config: &str) -> Result<(), String> {
        self.percentage = config::percentage(config)?;
        self.policy.configure(config)
    }

    pub fn sync(&mut self, changes: Vec<Change>) {
        for change in changes {
            self.view.apply(change);
        }
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn schedule(&mut self, pod: &Pod) -> Decision {
        let n = self.view.nodes().len();
        if n == 0 {
            return Decision::Unschedulable(Vec::new());
        }
        self.filter_nodes(pod);
        if self.feasible.is_empty() {
            let nodes = self.view.nodes();
            return Decision::Unschedulable(
                self.rejections
                    .drain(..)
                    .map(|(idx, reason)| WitRejection {
                        node: nodes[idx].node.name.clone(),
                        reason: reason.into(),
                    })
                    .collect(),
            );
        }
        self.policy.pre_score(&self.view, pod, &self.feasible);
        self.score_feasible(pod);
        self.policy.normalize(&mut self.scores);
        // Among equally good nodes, take turns (kube-scheduler picks one at
        // random; a rotating choice is as fair and keeps tests reproducible).
        // One pass finds the best score and how many share it: in WebAssembly
        // every pass over the scores pays the deadline check per element.
        let (mut top, mut ties) = (i64::MIN, 0u64);
        for &s in &self.scores {
            if s > top {
                (top, ties) = (s, 1);
            } else if s == top {
                ties += 1;
            }
        }
        let nth = (self.cycles % ties.max(1)) as usize;
        self.cycles = self.cycles.wrapping_add(1);
        let best = self
            .scores
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == top)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or(0);
        Decision::Place(Chosen {
            node: self.view.nodes()[self.feasible[best]].node.name.clone(),
            score: self.scores[best],
            feasible: self.feasible.len() as u32,
        })
    }

    // The two per-node passes are kept out of line, each one loop with the
    // policy's filter or score inlined into it. Inside the whole cycle (one
    // function of 33 KB of machine code) Cranelift, compiling the guest, kept
    // the loops' values on the stack and reloaded them per node; apart, the
    // decision took 4-5% less in wasm and 2% less natively (benchmarks.md, S15).

    /// Filters from where the previous cycle stopped until enough nodes are
    /// feasible (or every node was tried), into `feasible` and `rejections`.
    #[inline(never)]
    fn filter_nodes(&mut self, pod: &Pod) {
        let nodes = self.view.nodes();
        let n = nodes.len();
        let want = feasible_nodes_to_find(n, self.percentage);
        let start = self.next_start % n;
        self.feasible.clear();
        self.rejections.clear();
        let mut examined = 0;
        for i in 0..n {
            // (start + i) % n, without a division per node.
            let idx = if start + i < n {
                start + i
            } else {
                start + i - n
            };
            examined = i + 1;
            match self.policy.filter(&self.view, pod, &nodes[idx]) {
                Ok(()) => {
                    self.feasible.push(idx);
                    if self.feasible.len() >= want {
                        break;
                    }
                }
                Err(reason) => self.rejections.push((idx, reason)),
            }
        }
        self.next_start = (start + examined) % n;
    }

    /// Scores every feasible node, into `scores` (in `feasible`'s order).
    #[inline(never)]
    fn score_feasible(&mut self, pod: &Pod) {
        let (policy, view) = (&self.policy, &self.view);
        let nodes = view.nodes();
        self.scores.clear();
        self.scores.extend(
            self.feasible
                .iter()
                .map(|&idx| policy.score(view, pod, &nodes[idx])),
        );
    }
}

#[cfg(test)]
mod tests;
