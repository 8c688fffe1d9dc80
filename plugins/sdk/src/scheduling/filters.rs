//! Kubernetes' filter plugins, with the reasons its events print. A policy combines
//! them; [`standard`] is the set kube-scheduler's default profile runs.

use super::{
    NodeInfo, Pod, Rejection, SelectorOperator, SelectorRequirement, SelectorTerm, Taint,
    TaintEffect, Toleration, TolerationOperator, View,
};

pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// NodeName, NodeUnschedulable, NodeAffinity (nodeSelector and required affinity),
/// TaintToleration, NodePorts and NodeResourcesFit, in kube-scheduler's order.
#[inline]
pub fn standard(_view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    node_name(pod, node)?;
    node_unschedulable(pod, node)?;
    node_affinity(pod, node)?;
    taint_toleration(pod, node)?;
    node_ports(pod, node)?;
    resources_fit(pod, node)
}

#[inline]
pub fn node_name(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    match &pod.node_name {
        Some(name) if *name != node.node.name => {
            Err("node(s) didn't match the requested node name".into())
        }
        _ => Ok(()),
    }
}

#[inline]
pub fn node_unschedulable(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    if !node.node.unschedulable {
        return Ok(());
    }
    let taint = Taint {
        key: UNSCHEDULABLE_TAINT.into(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    };
    if pod.tolerations.iter().any(|t| tolerates(t, &taint)) {
        Ok(())
    } else {
        Err("node(s) were unschedulable".into())
    }
}

#[inline]
pub fn node_affinity(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|want| node.label(&want.key) == Some(want.value.as_str()));
    let terms_ok =
        pod.required_terms.is_empty() || pod.required_terms.iter().any(|t| term_matches(t, node));
    if selector_ok && terms_ok {
        Ok(())
    } else {
        Err("node(s) didn't match Pod's node affinity/selector".into())
    }
}

/// Only NoSchedule and NoExecute taints keep a pod off a node. The rejection's
/// message was built when the node entered the view (see [`NodeInfo::untolerated`]).
#[inline]
pub fn taint_toleration(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    for (i, taint) in node.node.taints.iter().enumerate() {
        if taint.effect == TaintEffect::PreferNoSchedule {
            continue;
        }
        if !pod.tolerations.iter().any(|t| tolerates(t, taint)) {
            return Err(node.untolerated(i));
        }
    }
    Ok(())
}

/// TaintToleration's message for one taint, as Kubernetes words it.
pub fn untolerated_message(taint: &Taint) -> String {
    const PREFIX: &str = "node(s) had untolerated taint {";
    let mut message = String::with_capacity(PREFIX.len() + taint.key.len() + taint.value.len() + 3);
    message.push_str(PREFIX);
    message.push_str(&taint.key);
    message.push_str(": ");
    message.push_str(&taint.value);
    message.push('}');
    message
}

#[inline]
pub fn node_ports(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    for want in &pod.host_ports {
        if want.port == 0 {
            continue;
        }
        let taken = node.usage.host_ports.iter().any(|used| {
            used.port == want.port
                && used.protocol == want.protocol
                && (used.host_ip == want.host_ip
                    || is_wildcard(&used.host_ip)
                    || is_wildcard(&want.host_ip))
        });
        if taken {
            return Err("node(s) didn't have free ports for the requested pod ports".into());
        }
    }
    Ok(())
}

#[inline]
fn is_wildcard(ip: &str) -> bool {
    ip.is_empty() || ip == "0.0.0.0" || ip == "::"
}

/// Every shortfall is reported, one per line, as Kubernetes counts each separately.
#[inline]
pub fn resources_fit(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    let alloc = &node.node.allocatable;
    let used = &node.usage.requested;
    let req = &pod.requests;
    let pods = used.pods.saturating_add(1) > alloc.pods;
    let cpu = req.milli_cpu > 0 && req.milli_cpu > alloc.milli_cpu.saturating_sub(used.milli_cpu);
    let memory = req.memory_bytes > 0
        && req.memory_bytes > alloc.memory_bytes.saturating_sub(used.memory_bytes);
    if pods || cpu || memory {
        Err(shortfalls(pods, cpu, memory))
    } else {
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn shortfalls(pods: bool, cpu: bool, memory: bool) -> Rejection {
    let reasons: Vec<&'static str> = [
        (pods, "Too many pods"),
        (cpu, "Insufficient cpu"),
        (memory, "Insufficient memory"),
    ]
    .into_iter()
    .filter_map(|(short, reason)| short.then_some(reason))
    .collect();
    match reasons.as_slice() {
        [one] => (*one).into(),
        _ => reasons.join("\n").into(),
    }
}

/// Kubernetes' `Toleration.ToleratesTaint`.
#[inline]
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect
        && effect != taint.effect
    {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator {
        TolerationOperator::Exists => true,
        TolerationOperator::Equal => t.key == taint.key && t.value == taint.value,
    }
}

/// A node selector term: all expressions on labels and all fields must hold. An
/// empty term matches nothing, as in Kubernetes.
#[inline]
pub fn term_matches(term: &SelectorTerm, node: &NodeInfo) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    term.match_expressions
        .iter()
        .all(|r| requirement_matches(r, node.label(&r.key)))
        && term.match_fields.iter().all(|r| {
            r.key == "metadata.name" && requirement_matches(r, Some(node.node.name.as_str()))
        })
}

#[inline]
pub fn requirement_matches(r: &SelectorRequirement, value: Option<&str>) -> bool {
    match r.operator {
        SelectorOperator::In => value.is_some_and(|v| r.values.iter().any(|w| w == v)),
        SelectorOperator::NotIn => value.is_none_or(|v| r.values.iter().all(|w| w != v)),
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
        SelectorOperator::Gt | SelectorOperator::Lt => {
            let (Some(v), Some(bound)) = (value, r.values.first()) else {
                return false;
            };
            let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else {
                return false;
            };
            if r.operator == SelectorOperator::Gt {
                v > bound
            } else {
                v < bound
            }
        }
    }
}
