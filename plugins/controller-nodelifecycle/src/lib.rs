//! The node lifecycle controller: a node whose heartbeat (its Lease in
//! `kube-node-lease`, or its Ready condition) is older than the grace period is
//! marked `Ready=Unknown` and tainted `node.kubernetes.io/unreachable`
//! (NoSchedule and NoExecute); a node reporting itself not ready is tainted
//! `node.kubernetes.io/not-ready`; a cordoned node (`spec.unschedulable`) is
//! tainted `node.kubernetes.io/unschedulable`, and a node under memory, disk or
//! PID pressure, or without a network, gets that condition's NoSchedule taint, as
//! Kubernetes' taint-nodes-by-condition does. The pods of a node that is not ready get
//! `Ready=False`, as Kubernetes' MarkPodsNotReady does, so Services stop sending
//! them traffic; the kubelet reports them ready again when it is back. Pods on a
//! node with a NoExecute taint are evicted once their toleration of it runs out:
//! `tolerationSeconds` if they tolerate it for a while, never if they tolerate it
//! for ever, and otherwise after `evictAfterSeconds` for the lifecycle taints (300
//! by default, as Kubernetes' default tolerations give) and at once for any other
//! (an operator's `kubectl taint … :NoExecute`, as Kubernetes' taint manager does).
//! A node that heartbeats again loses the lifecycle taints.
//!
//! The pods of a node that was deleted are collected as Kubernetes' pod garbage
//! collector does. Each is marked with a `DisruptionTarget` condition
//! (`DeletionByPodGC`) when found; after a quarantine (`orphanQuarantineSeconds`,
//! 40 as in Kubernetes), in case the node is only being registered again, it is
//! set `Failed` and deleted. A failed pod is deleted at once, with no kubelet to
//! wait for, and its controller replaces it. The quarantine is kept in the
//! cluster, not in the controller: an orphan's `DisruptionTarget` condition is
//! set when it is first found, and its transition time starts the clock (a mark
//! left from an earlier time the node went away, five minutes past its
//! quarantine, starts it over).
//!
//! A node's deletion enqueues it, which finds its pods at once. Pods bound to a
//! node that no longer exists with no deletion seen (deleted while Wharf was down)
//! or that never existed (`spec.nodeName` set by hand) are found by a sweep of all
//! pods, every [`SWEEP_INTERVAL`] at most, as Kubernetes' pod garbage collector
//! sweeps every 20 s. The sweep rides on the reconciles of the nodes that exist
//! (each heartbeats), so a cluster with no nodes at all is not swept. It also
//! takes the mark off the pods of a node that is there again.
//!
//! Config (`spec.config` of the Plugin): `gracePeriodSeconds` (40),
//! `evictAfterSeconds` (300), `orphanQuarantineSeconds` (40).

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, PodCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use wharf_controller_sdk::ownership::{skip_lost_race, unless_lost_race};
use wharf_controller_sdk::{
    Context, Error, ErrorReason, EventType, Key, Mapping, Outcome, Reconciler, Registration,
    registration, watch,
};

pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The NoSchedule taints a node's conditions give it while it heartbeats, as
/// Kubernetes' node lifecycle controller maps them (`nodeConditionToTaintKeyStatusMap`).
const CONDITION_TAINTS: &[(&str, &str)] = &[
    ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
    ("DiskPressure", "node.kubernetes.io/disk-pressure"),
    ("PIDPressure", "node.kubernetes.io/pid-pressure"),
    (
        "NetworkUnavailable",
        "node.kubernetes.io/network-unavailable",
    ),
];
const LEASE_NAMESPACE: &str = "kube-node-lease";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    #[serde(default = "grace")]
    pub grace_period_seconds: i64,
    #[serde(default = "evict")]
    pub evict_after_seconds: i64,
    #[serde(default = "quarantine")]
    pub orphan_quarantine_seconds: i64,
}

fn grace() -> i64 {
    40
}
fn evict() -> i64 {
    300
}
/// Kubernetes' pod garbage collector waits this long before it deletes the pods of
/// a node that is gone (`quarantineTime`).
fn quarantine() -> i64 {
    40
}

/// How often, at most, all pods are swept for those bound to a missing node.
pub const SWEEP_INTERVAL: SignedDuration = SignedDuration::from_secs(20);

pub struct NodeLifecycle {
    config: Config,
    /// When the next sweep is due (None: at the next reconcile). Kept in the
    /// instance only: a new version sweeps at once, which is what it should do.
    next_sweep: std::cell::Cell<Option<Timestamp>>,
}

impl Reconciler for NodeLifecycle {
    fn configure(config: &str) -> Result<Self, String> {
        let config: Config = wharf_controller_sdk::config::parse("node-lifecycle", config)?;
        if config.grace_period_seconds <= 0
            || config.evict_after_seconds < 0
            || config.orphan_quarantine_seconds < 0
        {
            return Err(
                "config of the node-lifecycle controller: gracePeriodSeconds must be positive, and evictAfterSeconds and \
                 orphanQuarantineSeconds not negative"
                    .into(),
            );
        }
        Ok(NodeLifecycle {
            config,
            next_sweep: std::cell::Cell::new(None),
        })
    }

    fn registration(&self) -> Registration {
        registration::<Node>(vec![
            watch::<Lease>(Mapping::ByName),
            watch::<Pod>(Mapping::None),
        ])
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let now = Timestamp::now();
        let Some(node) = ctx.get::<Node>("", &key.name)? else {
            return self.collect_orphans(ctx, &key.name, now);
        };
        let grace = SignedDuration::from_secs(self.config.grace_period_seconds);
        let ready = ready_condition(&node);
        let heartbeat = last_heartbeat(ctx, &node, ready.as_ref())?;
        let silent_for = heartbeat.map(|h| now.duration_since(h));
        let unreachable = silent_for.is_none_or(|d| d > grace);
        let reports_not_ready = !unreachable && ready.as_ref().is_some_and(|c| c.status != "True");

        let mut node = node;
        if unreachable && ready.as_ref().is_none_or(|c| c.status != "Unknown") {
            node = mark_unknown(ctx, node, now)?;
        }
        let wanted = wanted_taints(&node, unreachable, reports_not_ready);
        let not_ready = unreachable || reports_not_ready;
        let node = set_taints(ctx, node, &wanted, now)?;

        let mut next: Option<SignedDuration> = heartbeat
            .filter(|_| !unreachable)
            .map(|h| grace - now.duration_since(h) + SignedDuration::from_secs(1));
        let mut sooner = |wait: SignedDuration| next = Some(next.map_or(wait, |n| n.min(wait)));
        if let Some(wait) = self.sweep(ctx, now)? {
            sooner(wait);
        }
        // The node is not ready exactly when it has one of these taints; any
        // NoExecute taint, a user's too, evicts the pods that do not tolerate it.
        let no_execute = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|t| t.iter().any(|t| t.effect == "NoExecute"));
        if not_ready || no_execute {
            let pods = pods_on(ctx, node.metadata.name.as_deref().unwrap_or(""))?;
            if not_ready && mark_pods_not_ready(ctx, &pods, now)? == Marked::SomeLostARace {
                // Pod changes do not enqueue the node, so try those again soon.
                sooner(SignedDuration::from_secs(1));
            }
            if let Some(wait) = self.evict(ctx, &node, &pods, now)? {
                sooner(wait);
            }
        }
        Ok(requeue(next))
    }
}

fn requeue(after: Option<SignedDuration>) -> Outcome {
    match after {
        Some(d) => Outcome::RequeueAfter(d.as_millis().clamp(200, 3_600_000) as u32),
        None => Outcome::Done,
    }
}

fn ready_condition(node: &Node) -> Option<NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .cloned()
}

/// The newest sign of life: the Lease's renew time, else the Ready condition's
/// heartbeat.
fn last_heartbeat(
    ctx: &Context<'_>,
    node: &Node,
    ready: Option<&NodeCondition>,
) -> Result<Option<Timestamp>, Error> {
    let name = node.metadata.name.as_deref().unwrap_or("");
    let lease = ctx
        .get::<Lease>(LEASE_NAMESPACE, name)?
        .and_then(|l| l.spec)
        .and_then(|s| s.renew_time)
        .map(|t| t.0);
    let condition = ready
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0);
    Ok(lease.max(condition))
}

fn mark_unknown(ctx: &Context<'_>, mut node: Node, now: Timestamp) -> Result<Node, Error> {
    let status = node.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    for type_ in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
        let condition = NodeCondition {
            type_: type_.into(),
            status: "Unknown".into(),
            reason: Some("NodeStatusUnknown".into()),
            message: Some("Kubelet stopped posting node status.".into()),
            last_heartbeat_time: None,
            last_transition_time: Some(Time(now)),
        };
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) => {
                let heartbeat = c.last_heartbeat_time.clone();
                *c = NodeCondition {
                    last_heartbeat_time: heartbeat,
                    ..condition
                };
            }
            None if type_ == "Ready" => conditions.push(condition),
            None => {}
        }
    }
    let written = ctx.update_status(&node)?;
    ctx.event(
        &written,
        EventType::Normal,
        "NodeNotReady",
        &format!(
            "Node {} status is now: NodeNotReady",
            written.metadata.name.as_deref().unwrap_or("")
        ),
    );
    Ok(written)
}

/// The taints this controller keeps on a node, as (key, effect): the
/// lifecycle taints (NoSchedule and NoExecute) of a node that is unreachable or
/// reports not ready; the NoSchedule taints of its pressure conditions while it
/// heartbeats; and `unschedulable` while it is cordoned (`spec.unschedulable`,
/// what `kubectl cordon` sets), as Kubernetes' taint-nodes-by-condition does.
pub fn wanted_taints(
    node: &Node,
    unreachable: bool,
    reports_not_ready: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut wanted = Vec::new();
    let lifecycle = if unreachable {
        Some(UNREACHABLE)
    } else if reports_not_ready {
        Some(NOT_READY)
    } else {
        None
    };
    if let Some(key) = lifecycle {
        wanted.push((key, "NoSchedule"));
        wanted.push((key, "NoExecute"));
    }
    if !unreachable {
        let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
        for (condition, key) in CONDITION_TAINTS {
            let set = conditions
                .into_iter()
                .flatten()
                .any(|c| c.type_ == *condition && c.status == "True");
            if set {
                wanted.push((*key, "NoSchedule"));
            }
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        wanted.push((UNSCHEDULABLE, "NoSchedule"));
    }
    wanted
}

fn managed(key: &str) -> bool {
    key == UNREACHABLE
        || key == NOT_READY
        || key == UNSCHEDULABLE
        || CONDITION_TAINTS.iter().any(|(_, k)| *k == key)
}

/// `current` with the managed taints made `wanted`: the others are kept as they
/// are, in their order; a managed taint already there keeps its `timeAdded`; a new
/// NoExecute taint is stamped `now`.
pub fn merge_taints(current: &[Taint], wanted: &[(&str, &str)], now: Timestamp) -> Vec<Taint> {
    let mut taints: Vec<Taint> = current
        .iter()
        .filter(|t| !managed(&t.key) || wanted.contains(&(t.key.as_str(), t.effect.as_str())))
        .cloned()
        .collect();
    for (key, effect) in wanted {
        if !taints.iter().any(|t| t.key == *key && t.effect == *effect) {
            taints.push(Taint {
                key: key.to_string(),
                effect: effect.to_string(),
                value: None,
                time_added: (*effect == "NoExecute").then_some(Time(now)),
            });
        }
    }
    taints
}

/// Makes the managed taints exactly `wanted` (see [`merge_taints`]).
fn set_taints(
    ctx: &Context<'_>,
    node: Node,
    wanted: &[(&str, &str)],
    now: Timestamp,
) -> Result<Node, Error> {
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let taints = merge_taints(&current, wanted, now);
    if taints == current {
        return Ok(node);
    }
    let mut updated = node.clone();
    updated.spec.get_or_insert_with(Default::default).taints =
        (!taints.is_empty()).then_some(taints);
    ctx.update(&updated)
}

/// A pod to delete: namespace, name, uid.
type Victim = (String, String, Option<String>);

/// The node's pods whose toleration of its NoExecute taints ran out, and how long
/// until the next one's does.
pub fn evict_due(
    pods: &[Pod],
    taints: &[Taint],
    default_seconds: i64,
    now: Timestamp,
) -> (Vec<Victim>, Option<SignedDuration>) {
    let mut due = Vec::new();
    let mut next: Option<SignedDuration> = None;
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        // The pod goes when the first taint it does not tolerate for ever runs out.
        let mut deadline: Option<Timestamp> = None;
        for taint in taints.iter().filter(|t| t.effect == "NoExecute") {
            let added = taint.time_added.as_ref().map(|t| t.0).unwrap_or(now);
            let tolerated = tolerations.iter().find(|t| {
                (t.effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == "NoExecute"))
                    && match t.operator.as_deref() {
                        Some("Exists") => t
                            .key
                            .as_deref()
                            .is_none_or(|k| k.is_empty() || k == taint.key),
                        _ => {
                            t.key.as_deref() == Some(taint.key.as_str())
                                && t.value.as_deref().unwrap_or("")
                                    == taint.value.as_deref().unwrap_or("")
                        }
                    }
            });
            let seconds = match tolerated {
                Some(t) => match t.toleration_seconds {
                    Some(s) => s.max(0),
                    None => continue,
                },
                // What Kubernetes' admission tolerates by default, for the
                // lifecycle taints only; another taint evicts at once.
                None if [NOT_READY, UNREACHABLE].contains(&taint.key.as_str()) => default_seconds,
                None => 0,
            };
            let at = added + SignedDuration::from_secs(seconds);
            deadline = Some(deadline.map_or(at, |d| d.min(at)));
        }
        let Some(at) = deadline else { continue };
        if at <= now {
            due.push((
                pod.metadata.namespace.clone().unwrap_or_default(),
                pod.metadata.name.clone().unwrap_or_default(),
                pod.metadata.uid.clone(),
            ));
        } else {
            let wait = at.duration_since(now);
            next = Some(next.map_or(wait, |n| n.min(wait)));
        }
    }
    (due, next)
}

/// The pods bound to the node called `name`.
fn pods_on(ctx: &Context<'_>, name: &str) -> Result<Vec<Pod>, Error> {
    Ok(ctx
        .list::<Pod>("", "")?
        .into_iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
        .collect())
}

#[derive(Debug, PartialEq, Eq)]
enum Marked {
    All,
    /// A pod changed (or went) between the read and the write.
    SomeLostARace,
}

/// Sets `Ready=False` on each of `pods` that is ready, with a `NodeNotReady`
/// warning Event, as Kubernetes' node lifecycle controller does for the pods of a
/// node that stopped being ready. Only the Ready condition changes: the containers'
/// own state is whatever the kubelet last reported.
fn mark_pods_not_ready(ctx: &Context<'_>, pods: &[Pod], now: Timestamp) -> Result<Marked, Error> {
    let mut marked = Marked::All;
    for pod in pods {
        let Some(updated) = not_ready(pod, now) else {
            continue;
        };
        match ctx.update_status(&updated) {
            Ok(_) => ctx.event(pod, EventType::Warning, "NodeNotReady", "Node is not ready"),
            Err(e)
                if matches!(
                    e.reason(),
                    Some(ErrorReason::NotFound | ErrorReason::Conflict)
                ) =>
            {
                marked = Marked::SomeLostARace
            }
            Err(e) => return Err(e),
        }
    }
    Ok(marked)
}

/// `pod` with its Ready condition turned False, if it is True.
pub fn not_ready(pod: &Pod, now: Timestamp) -> Option<Pod> {
    let mut pod = pod.clone();
    let ready = pod
        .status
        .as_mut()?
        .conditions
        .as_mut()?
        .iter_mut()
        .find(|c| c.type_ == "Ready" && c.status == "True")?;
    ready.status = "False".into();
    ready.last_transition_time = Some(Time(now));
    Some(pod)
}

/// The condition Kubernetes' pod garbage collector gives a pod whose node is
/// gone, and its reason.
pub const DISRUPTION_TARGET: &str = "DisruptionTarget";
pub const DELETION_BY_POD_GC: &str = "DeletionByPodGC";

/// This controller's mark on an orphan (another component's `DisruptionTarget`,
/// a preemption say, is not).
fn is_orphan_mark(c: &PodCondition) -> bool {
    c.type_ == DISRUPTION_TARGET
        && c.status == "True"
        && c.reason.as_deref() == Some(DELETION_BY_POD_GC)
}

/// When this controller first found `pod` orphaned: the transition time of the
/// `DisruptionTarget` condition it set then.
pub fn orphaned_since(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| is_orphan_mark(c))?
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
}

/// `pod` without this controller's orphan mark, if it carries one: its node is
/// there again (registered anew, or only briefly missing from this controller's
/// view), so it is no longer a deletion target.
pub fn without_orphan_mark(pod: &Pod) -> Option<Pod> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    if !conditions.iter().any(is_orphan_mark) {
        return None;
    }
    let mut pod = pod.clone();
    if let Some(conditions) = pod.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        conditions.retain(|c| !is_orphan_mark(c));
    }
    Some(pod)
}

/// What to do with the pods of a deleted node.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OrphanPlan {
    /// Found now: marked, and their quarantine starts.
    pub mark: Vec<usize>,
    /// Quarantined long enough: failed and deleted.
    pub collect: Vec<usize>,
    /// How long until the next one's quarantine ends.
    pub next: Option<SignedDuration>,
}

/// A mark older than the quarantine by this much is from an earlier time the
/// node went away (it came back, then went again): the quarantine starts over.
const STALE_MARK: SignedDuration = SignedDuration::from_secs(300);

/// When `pod`'s current orphan mark was set, if it has one.
fn current_mark(pod: &Pod, quarantine: SignedDuration, now: Timestamp) -> Option<Timestamp> {
    orphaned_since(pod).filter(|&since| now.duration_since(since) <= quarantine + STALE_MARK)
}

/// Sorts the pods of a deleted node (indices into `pods`) by where they are in the
/// quarantine.
pub fn plan_orphans(pods: &[Pod], quarantine: SignedDuration, now: Timestamp) -> OrphanPlan {
    let mut plan = OrphanPlan::default();
    for (i, pod) in pods.iter().enumerate() {
        let since = current_mark(pod, quarantine, now);
        let ends = since.unwrap_or(now) + quarantine;
        if ends <= now {
            plan.collect.push(i);
            continue;
        }
        if since.is_none() {
            plan.mark.push(i);
        }
        let wait = ends.duration_since(now);
        plan.next = Some(plan.next.map_or(wait, |n| n.min(wait)));
    }
    plan
}

/// `pod` with the pod garbage collector's `DisruptionTarget` condition, as found
/// orphaned at `found`, and, if `fail`, the phase `Failed` (unless it already
/// ended).
pub fn orphan_status(pod: &Pod, found: Timestamp, fail: bool) -> Pod {
    let mut pod = pod.clone();
    let status = pod.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|c| c.type_ != DISRUPTION_TARGET);
    conditions.push(PodCondition {
        type_: DISRUPTION_TARGET.into(),
        status: "True".into(),
        reason: Some(DELETION_BY_POD_GC.into()),
        message: Some("PodGC: node no longer exists".into()),
        last_transition_time: Some(Time(found)),
        ..Default::default()
    });
    let ended = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
    if fail && !ended {
        status.phase = Some("Failed".into());
    }
    pod
}

impl NodeLifecycle {
    /// The pod garbage collector's part: the pods of the deleted node `name`,
    /// quarantined, then failed and deleted.
    fn collect_orphans(
        &self,
        ctx: &Context<'_>,
        name: &str,
        now: Timestamp,
    ) -> Result<Outcome, Error> {
        let pods = pods_on(ctx, name)?;
        Ok(requeue(self.collect(ctx, &pods, now)?))
    }

    /// When due, finds the pods bound to nodes that do not exist and collects
    /// them as [`Self::collect_orphans`] does. Returns when to look again, if a
    /// quarantine ends before the next regular sweep.
    fn sweep(&self, ctx: &Context<'_>, now: Timestamp) -> Result<Option<SignedDuration>, Error> {
        if self.next_sweep.get().is_some_and(|due| now < due) {
            return Ok(None);
        }
        let mut by_node: std::collections::BTreeMap<String, Vec<Pod>> = Default::default();
        for pod in ctx.list::<Pod>("", "")? {
            if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone())
                && !node.is_empty()
            {
                by_node.entry(node).or_default().push(pod);
            }
        }
        let mut next: Option<SignedDuration> = None;
        for (node, pods) in by_node {
            if ctx.get::<Node>("", &node)?.is_some() {
                // Marked while the node was missing, and it is back: unmark.
                for unmarked in pods.iter().filter_map(without_orphan_mark) {
                    // A pod that changed meanwhile is looked at in the next sweep.
                    unless_lost_race(ctx.update_status(&unmarked))?;
                }
                continue;
            }
            if let Some(wait) = self.collect(ctx, &pods, now)? {
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
        }
        let interval = next.map_or(SWEEP_INTERVAL, |n| n.min(SWEEP_INTERVAL));
        self.next_sweep.set(Some(now + interval));
        Ok(next.filter(|&n| n < SWEEP_INTERVAL))
    }

    /// Marks, or fails and deletes, `pods` (all bound to a node that is gone) by
    /// where each is in its quarantine. Returns when to look again.
    fn collect(
        &self,
        ctx: &Context<'_>,
        pods: &[Pod],
        now: Timestamp,
    ) -> Result<Option<SignedDuration>, Error> {
        let quarantine = SignedDuration::from_secs(self.config.orphan_quarantine_seconds);
        let plan = plan_orphans(pods, quarantine, now);
        let mut next = plan.next;
        let mut lost_a_race = false;
        for &i in &plan.mark {
            let marked = ctx.update_status(&orphan_status(&pods[i], now, false));
            lost_a_race |= unless_lost_race(marked)?.is_none();
        }
        for &i in &plan.collect {
            let pod = &pods[i];
            // Failed first, as Kubernetes does it: a pod that ended is deleted at
            // once, while a running one would wait for a kubelet that is gone.
            let found = current_mark(pod, quarantine, now).unwrap_or(now);
            let Some(failed) =
                unless_lost_race(ctx.update_status(&orphan_status(pod, found, true)))?
            else {
                lost_a_race = true;
                continue;
            };
            skip_lost_race(ctx.delete::<Pod>(
                failed.metadata.namespace.as_deref().unwrap_or(""),
                failed.metadata.name.as_deref().unwrap_or(""),
                failed.metadata.uid.as_deref(),
            ))?;
        }
        if lost_a_race {
            // Pod changes do not enqueue the node: look again soon.
            let soon = SignedDuration::from_secs(1);
            next = Some(next.map_or(soon, |n| n.min(soon)));
        }
        Ok(next)
    }

    fn evict(
        &self,
        ctx: &Context<'_>,
        node: &Node,
        pods: &[Pod],
        now: Timestamp,
    ) -> Result<Option<SignedDuration>, Error> {
        let taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let (due, next) = evict_due(pods, &taints, self.config.evict_after_seconds, now);
        for (r, (namespace, pod, _)) in ctx.delete_all::<Pod>(&due).into_iter().zip(&due) {
            skip_lost_race(r)?;
            // On the pod, as Kubernetes' taint manager records it, so that
            // `kubectl describe pod` and `kubectl events --for pod/…` say why it went.
            let evicted = pods.iter().find(|p| {
                p.metadata.name.as_deref() == Some(pod.as_str())
                    && p.metadata.namespace.as_deref() == Some(namespace.as_str())
            });
            if let Some(evicted) = evicted {
                ctx.event(
                    evicted,
                    EventType::Normal,
                    "TaintManagerEviction",
                    &format!("Marking for deletion Pod {namespace}/{pod}"),
                );
            }
        }
        Ok(next)
    }
}

wharf_controller_sdk::export_controller!(NodeLifecycle);
