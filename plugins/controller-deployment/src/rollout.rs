//! The arithmetic of a rollout, as Kubernetes' deployment controller does it,
//! over plain numbers so that it can be tested without a cluster.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An absolute number, or a percentage of `total` rounded up or down.
pub fn resolve(value: Option<&IntOrString>, total: i32, round_up: bool, default: &str) -> i32 {
    let owned;
    let value = match value {
        Some(v) => v,
        None => {
            owned = IntOrString::String(default.to_string());
            &owned
        }
    };
    match value {
        IntOrString::Int(n) => (*n).max(0),
        IntOrString::String(s) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let scaled = pct * i64::from(total);
            let v = if round_up {
                (scaled + 99) / 100
            } else {
                scaled / 100
            };
            v.max(0) as i32
        }
    }
}

/// maxSurge and maxUnavailable for `replicas`; both zero would stall a rollout,
/// so maxUnavailable becomes one then (Kubernetes' ResolveFenceposts).
pub fn fenceposts(
    surge: Option<&IntOrString>,
    unavailable: Option<&IntOrString>,
    replicas: i32,
) -> (i32, i32) {
    let surge = resolve(surge, replicas, true, "25%");
    let mut unavailable = resolve(unavailable, replicas, false, "25%");
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// One ReplicaSet, as far as the arithmetic needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rs {
    pub name: String,
    /// `spec.replicas`
    pub replicas: i32,
    pub available: i32,
}

/// The new ReplicaSet's size this pass: up towards `desired` without the total
/// passing `desired + max_surge`.
pub fn new_rs_replicas(desired: i32, max_surge: i32, new: &Rs, all: &[&Rs]) -> i32 {
    if new.replicas >= desired {
        return desired;
    }
    let current: i32 = all.iter().map(|r| r.replicas).sum();
    let max_total = desired + max_surge;
    if current >= max_total {
        return new.replicas;
    }
    let up = (max_total - current).min(desired - new.replicas);
    new.replicas + up
}

/// How far the old ReplicaSets may shrink this pass, and by how much each:
/// first their unavailable pods (they serve nothing), then available ones as long
/// as `desired - max_unavailable` stay available. Old sets come oldest first.
pub fn old_rs_scale_down(
    desired: i32,
    max_unavailable: i32,
    new: Option<&Rs>,
    old: &[Rs],
) -> Vec<(String, i32)> {
    let old_total: i32 = old.iter().map(|r| r.replicas).sum();
    if old_total == 0 {
        return Vec::new();
    }
    let all_total = old_total + new.map_or(0, |n| n.replicas);
    let min_available = desired - max_unavailable;
    let new_unavailable = new.map_or(0, |n| (n.replicas - n.available).max(0));
    let mut budget = all_total - min_available - new_unavailable;
    if budget <= 0 {
        return Vec::new();
    }
    let mut sizes: Vec<(String, i32)> = old.iter().map(|r| (r.name.clone(), r.replicas)).collect();
    // Unhealthy pods first.
    for (i, r) in old.iter().enumerate() {
        if budget == 0 {
            break;
        }
        let unhealthy = (r.replicas - r.available).max(0);
        let cut = unhealthy.min(budget).min(sizes[i].1);
        sizes[i].1 -= cut;
        budget -= cut;
    }
    // Then available pods, while enough stay available.
    let available: i32 = old
        .iter()
        .zip(&sizes)
        .map(|(r, (_, size))| r.available.min(*size))
        .sum::<i32>()
        + new.map_or(0, |n| n.available);
    let mut allowed = (available - min_available).max(0).min(budget);
    for (_, size) in sizes.iter_mut() {
        if allowed == 0 {
            break;
        }
        let cut = (*size).min(allowed);
        *size -= cut;
        allowed -= cut;
    }
    old.iter()
        .zip(sizes)
        .filter(|(r, (_, size))| *size != r.replicas)
        .map(|(_, s)| s)
        .collect()
}

/// Sizes that bring `sets` (newest last) to `desired` in total when nothing is
/// rolling (a paused Deployment being scaled): each set grows or shrinks in
/// proportion to its size, the remainder going to the newest (when growing) or
/// taken from the oldest (when shrinking).
pub fn proportional(desired: i32, sets: &[Rs]) -> Vec<i32> {
    let total: i32 = sets.iter().map(|r| r.replicas).sum();
    if sets.is_empty() {
        return Vec::new();
    }
    if total == 0 {
        let mut sizes = vec![0; sets.len()];
        if let Some(last) = sizes.last_mut() {
            *last = desired;
        }
        return sizes;
    }
    let delta = desired - total;
    let mut sizes: Vec<i32> = sets
        .iter()
        .map(|r| {
            let share = (i64::from(r.replicas) * i64::from(delta)) / i64::from(total);
            (r.replicas + share as i32).max(0)
        })
        .collect();
    let mut left = desired - sizes.iter().sum::<i32>();
    if left > 0 {
        if let Some(last) = sizes.last_mut() {
            *last += left;
        }
    } else {
        for s in sizes.iter_mut() {
            if left == 0 {
                break;
            }
            let cut = (*s).min(-left);
            *s -= cut;
            left += cut;
        }
    }
    sizes
}
