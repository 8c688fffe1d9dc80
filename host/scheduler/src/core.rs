//! The deciding thread: one loop owns the cache, the queue and the policy
//! instances, so a cycle never races a cache update or a swap. Policy calls are
//! synchronous wasm calls of microseconds, so this is a plain OS thread; the API
//! traffic around it is async (see `writer`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use wharf_client::Reflected;
use wharf_plugin_host::scheduler_policy::{Change, Decision, Node, Placement, Rejection};
use wharf_plugin_host::{Limits, LoadedPlugin, PluginHost};

use crate::convert::{self, DEFAULT_SCHEDULER_NAME, NodeDoc, PodDoc};
use crate::metrics::Metrics;
use crate::profiles::Profile;
use crate::queue::Queue;
use crate::writer::{BindJob, Note};

/// Everything the deciding thread hears about.
pub enum CoreEvent {
    Pods(Reflected<PodDoc>),
    Nodes(Reflected<NodeDoc>),
    Bound {
        uid: String,
        node: String,
    },
    BindFailed {
        uid: String,
        node: String,
        gone: bool,
        message: String,
    },
    /// Make `plugin` the active (or, with `shadow`, the candidate) policy of
    /// `profile`, creating the profile if needed.
    Install {
        profile: String,
        plugin: LoadedPlugin,
        config: String,
        shadow: bool,
    },
    /// Stop shadowing on `profile`.
    ClearShadow {
        profile: String,
    },
    /// Return `profile` to its previous version.
    Rollback {
        profile: String,
    },
    /// Remove a profile that is not built in.
    RemoveProfile {
        profile: String,
    },
    Stop,
}

/// The host's view of the cluster, from which policy instances are seeded.
#[derive(Default)]
struct Cache {
    nodes: BTreeMap<String, Node>,
    /// Bound and assumed pods.
    placements: HashMap<String, Placement>,
    /// Pods assumed on a node whose binding is not yet confirmed by the watch.
    assumed: HashMap<String, String>,
    /// Every pod known from the watch, uid → (namespace, name).
    pods: HashMap<String, (String, String)>,
}

impl Cache {
    fn seed(&self) -> Vec<Change> {
        let mut changes = Vec::with_capacity(self.nodes.len() + self.placements.len());
        changes.extend(self.nodes.values().cloned().map(Change::NodeUpserted));
        changes.extend(self.placements.values().cloned().map(Change::PodPlaced));
        changes
    }
}

pub struct Core {
    pub host: PluginHost,
    pub limits: Limits,
    pub events: Receiver<CoreEvent>,
    pub binds: mpsc::UnboundedSender<BindJob>,
    pub notes: mpsc::Sender<Note>,
    pub metrics: Arc<Metrics>,
    cache: Cache,
    queue: Queue,
    profiles: HashMap<String, Profile>,
    /// Built-in profile names; these cannot be removed, only replaced.
    builtin: HashSet<String>,
    /// When each queued pod was first seen, for the scheduling latency metric.
    enqueued_at: HashMap<String, Instant>,
    /// Pods whose binding is in flight, to retry them if it fails.
    binding: HashMap<String, crate::queue::Queued>,
    /// Unbound pods naming a scheduler no profile serves: uid → (name, pod).
    unclaimed: HashMap<String, (String, wharf_plugin_host::scheduler_policy::Pod)>,
}

impl Core {
    pub fn new(
        host: PluginHost,
        limits: Limits,
        events: Receiver<CoreEvent>,
        binds: mpsc::UnboundedSender<BindJob>,
        notes: mpsc::Sender<Note>,
        metrics: Arc<Metrics>,
        profiles: Vec<Profile>,
    ) -> Self {
        let builtin = profiles.iter().map(|p| p.name.clone()).collect();
        Core {
            host,
            limits,
            events,
            binds,
            notes,
            metrics,
            cache: Cache::default(),
            queue: Queue::default(),
            profiles: profiles.into_iter().map(|p| (p.name.clone(), p)).collect(),
            builtin,
            enqueued_at: HashMap::new(),
            unclaimed: HashMap::new(),
            binding: HashMap::new(),
        }
    }

    /// Which profile serves a pod's `spec.schedulerName`, if any.
    fn profile_for(&self, scheduler_name: &str) -> Option<String> {
        let name = if scheduler_name == DEFAULT_SCHEDULER_NAME {
            "default"
        } else {
            scheduler_name
        };
        self.profiles.contains_key(name).then(|| name.to_string())
    }

    pub fn run(mut self) {
        loop {
            // Take everything that has arrived, then decide one pod, so that a
            // cycle sees the freshest cache without starving on a busy watch.
            let first = if self.queue.active_len() > 0 {
                match self.events.try_recv() {
                    Ok(e) => Some(e),
                    Err(std::sync::mpsc::TryRecvError::Empty) => None,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                }
            } else {
                let wait = self
                    .queue
                    .next_wakeup()
                    .map(|t| t.saturating_duration_since(Instant::now()))
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(1));
                match self.events.recv_timeout(wait) {
                    Ok(e) => Some(e),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            if let Some(event) = first {
                if !self.handle(event) {
                    return;
                }
                while let Ok(event) = self.events.try_recv() {
                    if !self.handle(event) {
                        return;
                    }
                }
            }
            self.queue.tick(Instant::now());
            self.metrics.set_queue(self.queue.len() as u64);
            if let Some(queued) = self.queue.pop() {
                self.cycle(queued);
            }
        }
    }

    /// Returns false to stop.
    fn handle(&mut self, event: CoreEvent) -> bool {
        match event {
            CoreEvent::Pods(r) => self.pods(r),
            CoreEvent::Nodes(r) => self.nodes(r),
            CoreEvent::Bound { uid, node } => {
                self.metrics
                    .bound(self.enqueued_at.remove(&uid).map(|t| t.elapsed()));
                tracing::trace!(uid, node, "bound");
                if let Some(b) = self.binding.remove(&uid) {
                    // Reported once the binding exists, as kube-scheduler does.
                    self.note(Note::Event {
                        source: crate::writer::source_of(&b.profile),
                        message: format!(
                            "Successfully assigned {}/{} to {}",
                            b.pod.namespace, b.pod.name, node
                        ),
                        namespace: b.pod.namespace,
                        pod: b.pod.name,
                        uid,
                        warning: false,
                        reason: "Scheduled",
                    });
                }
            }
            CoreEvent::BindFailed {
                uid,
                node,
                gone,
                message,
            } => {
                self.metrics.bind_failed();
                tracing::debug!(uid, node, message, "binding failed");
                let attempt = self.binding.remove(&uid);
                // Only undo an assumption that still stands: if the watch already
                // showed the pod bound (the binding took effect though its answer
                // was lost, or someone else bound it), the cache is right as it is.
                if self.cache.assumed.get(&uid) == Some(&node) {
                    self.forget(&uid);
                    match attempt {
                        Some(b) if !gone && self.cache.pods.contains_key(&uid) => {
                            self.queue.add_or_update(b.pod, &b.profile);
                            self.queue.set_attempts(&uid, b.attempts);
                            self.queue.backoff(&uid, Instant::now());
                        }
                        _ => {
                            self.enqueued_at.remove(&uid);
                        }
                    }
                }
            }
            CoreEvent::Install {
                profile,
                plugin,
                config,
                shadow,
            } => self.install(profile, plugin, config, shadow),
            CoreEvent::ClearShadow { profile } => {
                if let Some(p) = self.profiles.get_mut(&profile) {
                    p.set_shadow(None);
                }
            }
            CoreEvent::Rollback { profile } => {
                if let Some(p) = self.profiles.get_mut(&profile)
                    && let Some(to) = p.rollback()
                {
                    tracing::info!(profile, digest = %to.digest, "rolled back");
                    self.queue.cluster_changed(Instant::now());
                }
            }
            CoreEvent::RemoveProfile { profile } => {
                if !self.builtin.contains(&profile) {
                    self.profiles.remove(&profile);
                }
            }
            CoreEvent::Stop => return false,
        }
        self.metrics.set_profiles(self.profile_report());
        true
    }

    fn install(&mut self, profile: String, plugin: LoadedPlugin, config: String, shadow: bool) {
        let digest = plugin.digest.clone();
        match self.profiles.get_mut(&profile) {
            Some(p) if shadow => p.set_shadow(Some((plugin, config))),
            Some(p) => {
                p.activate(plugin, config);
                // Another policy may place what this one could not.
                self.queue.cluster_changed(Instant::now());
            }
            None if shadow => {
                tracing::warn!(profile, "cannot shadow a profile that does not exist");
                return;
            }
            None => {
                self.profiles
                    .insert(profile.clone(), Profile::new(&profile, plugin, config));
                // Pods naming this profile may have been waiting for it.
                let claimed: Vec<String> = self
                    .unclaimed
                    .iter()
                    .filter(|(_, (name, _))| {
                        self.profile_for(name).as_deref() == Some(profile.as_str())
                    })
                    .map(|(uid, _)| uid.clone())
                    .collect();
                let now = Instant::now();
                for uid in claimed {
                    if let Some((_, pod)) = self.unclaimed.remove(&uid) {
                        self.enqueued_at.insert(uid, now);
                        self.queue.add_or_update(pod, &profile);
                    }
                }
                self.queue.cluster_changed(now);
            }
        }
        tracing::info!(profile, digest, shadow, "policy installed");
    }

    fn broadcast(&mut self, change: Change) {
        for p in self.profiles.values_mut() {
            p.broadcast(&change);
        }
    }

    fn place(&mut self, placement: Placement) {
        self.cache
            .placements
            .insert(placement.pod_uid.clone(), placement.clone());
        self.broadcast(Change::PodPlaced(placement));
    }

    /// Drops a pod's placement (assumed or bound) from the cache and the policies.
    fn forget(&mut self, uid: &str) {
        self.cache.assumed.remove(uid);
        if self.cache.placements.remove(uid).is_some() {
            self.broadcast(Change::PodRemoved(uid.to_string()));
        }
    }

    fn pods(&mut self, r: Reflected<PodDoc>) {
        match r {
            Reflected::Listed(items) => {
                let gone = not_listed(self.cache.pods.keys(), &items, convert::pod_uid);
                for uid in gone {
                    self.pod_gone(&uid);
                }
                for item in items {
                    self.pod_applied(&item);
                }
            }
            Reflected::Applied(pod) => self.pod_applied(&pod),
            Reflected::Deleted(pod) => self.pod_gone(convert::pod_uid(&pod)),
        }
    }

    fn pod_gone(&mut self, uid: &str) {
        self.cache.pods.remove(uid);
        self.unclaimed.remove(uid);
        self.binding.remove(uid);
        self.queue.remove(uid);
        self.enqueued_at.remove(uid);
        if self.cache.placements.contains_key(uid) {
            self.forget(uid);
            // Room freed: pods waiting for room may fit now.
            self.queue.cluster_changed(Instant::now());
        }
    }

    fn pod_applied(&mut self, obj: &PodDoc) {
        let uid = obj.metadata.uid.clone();
        if uid.is_empty() {
            return;
        }
        self.cache.pods.insert(
            uid.clone(),
            (obj.metadata.namespace.clone(), obj.metadata.name.clone()),
        );
        let node = obj.spec.node_name.as_str();
        if !node.is_empty() {
            self.queue.remove(&uid);
            self.unclaimed.remove(&uid);
            if convert::is_finished(obj) {
                if self.cache.placements.contains_key(&uid) {
                    self.forget(&uid);
                    self.queue.cluster_changed(Instant::now());
                }
                return;
            }
            let confirmed = self.cache.assumed.remove(&uid);
            if confirmed.as_deref() == Some(node) {
                return; // the binding we assumed; nothing changes for the policies
            }
            if self
                .cache
                .placements
                .get(&uid)
                .is_some_and(|p| p.node_name == node)
            {
                return; // a status update of a placed pod: placement unchanged
            }
            let pod = convert::pod(obj);
            self.place(convert::placement(&pod, node));
            return;
        }
        if obj.metadata.is_deleting() {
            self.queue.remove(&uid);
            self.enqueued_at.remove(&uid);
            self.unclaimed.remove(&uid);
            return;
        }
        if self.cache.assumed.contains_key(&uid) {
            return; // being bound: the watch has not caught up with our binding yet
        }
        let Some(profile) = self.profile_for(convert::scheduler_name(obj)) else {
            // Another scheduler's pod, or one waiting for a profile to be
            // installed: kept aside so that installing the profile picks it up.
            self.unclaimed.insert(
                uid,
                (convert::scheduler_name(obj).to_string(), convert::pod(obj)),
            );
            return;
        };
        self.unclaimed.remove(&uid);
        self.enqueued_at.entry(uid).or_insert_with(Instant::now);
        self.queue.add_or_update(convert::pod(obj), &profile);
    }

    fn nodes(&mut self, r: Reflected<NodeDoc>) {
        let changed = match r {
            Reflected::Listed(items) => {
                let gone = not_listed(self.cache.nodes.keys(), &items, convert::node_name_of);
                let mut changed = !gone.is_empty();
                for name in gone {
                    self.cache.nodes.remove(&name);
                    self.broadcast(Change::NodeRemoved(name));
                }
                for item in &items {
                    changed |= self.node_applied(item);
                }
                changed
            }
            Reflected::Applied(node) => self.node_applied(&node),
            Reflected::Deleted(node) => {
                let name = node.metadata.name.clone();
                let known = self.cache.nodes.remove(&name).is_some();
                if known {
                    self.broadcast(Change::NodeRemoved(name));
                }
                known
            }
        };
        if changed {
            self.queue.cluster_changed(Instant::now());
        }
    }

    /// Returns whether the policies' view of the node changed.
    fn node_applied(&mut self, obj: &NodeDoc) -> bool {
        let node = convert::node(obj);
        if node.name.is_empty() {
            return false;
        }
        // Heartbeats change nothing a policy sees; only real changes go through.
        if let Some(old) = self.cache.nodes.get(&node.name)
            && same_node(old, &node)
        {
            return false;
        }
        self.cache.nodes.insert(node.name.clone(), node.clone());
        self.broadcast(Change::NodeUpserted(node));
        true
    }

    fn cycle(&mut self, queued: crate::queue::Queued) {
        let started = Instant::now();
        let Some(profile) = self.profiles.get_mut(&queued.profile) else {
            // The profile went away (its Plugin was deleted): wait for it.
            self.queue.unschedulable(&queued.pod.uid, started);
            return;
        };
        let cache = &self.cache;
        let seed = || cache.seed();
        let outcome = profile.decide(&self.host, self.limits, &seed, &queued.pod);
        self.metrics.decided(started.elapsed());
        let pod = &queued.pod;
        match outcome {
            Ok(Decision::Place(chosen)) => {
                if !self.cache.nodes.contains_key(&chosen.node) {
                    // The policy named a node the host does not know (a buggy or
                    // stale policy): never bind to it.
                    tracing::warn!(profile = %queued.profile, node = %chosen.node, "policy chose an unknown node");
                    self.queue.backoff(&pod.uid, Instant::now());
                    return;
                }
                self.queue.remove(&pod.uid);
                self.cache
                    .assumed
                    .insert(pod.uid.clone(), chosen.node.clone());
                self.place(convert::placement(pod, &chosen.node));
                let _ = self.binds.send(BindJob {
                    namespace: pod.namespace.clone(),
                    name: pod.name.clone(),
                    uid: pod.uid.clone(),
                    node: chosen.node.clone(),
                });
                self.binding.insert(pod.uid.clone(), queued.clone());
            }
            Ok(Decision::Unschedulable(rejections)) => {
                self.metrics.unschedulable();
                let message = unschedulable_message(self.cache.nodes.len(), &rejections);
                self.queue.unschedulable(&pod.uid, Instant::now());
                self.note(Note::Event {
                    source: crate::writer::source_of(&queued.profile),
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                    uid: pod.uid.clone(),
                    warning: true,
                    reason: "FailedScheduling",
                    message: message.clone(),
                });
                self.note(Note::Unschedulable {
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                    message,
                });
            }
            Err(failure) => {
                self.metrics.plugin_failed(
                    &queued.profile,
                    failure
                        .error
                        .trap_kind()
                        .map(|k| k.as_str())
                        .unwrap_or("load"),
                );
                tracing::warn!(profile = %queued.profile, error = %failure.error, fell_back_to = ?failure.fell_back_to, "scheduling policy failed");
                self.queue.backoff(&pod.uid, Instant::now());
                let mut message = format!("scheduling policy failed: {}", failure.error);
                if let Some(to) = &failure.fell_back_to {
                    message.push_str(&format!("; falling back to the previous version {to}"));
                }
                self.note(Note::Event {
                    source: crate::writer::source_of(&queued.profile),
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                    uid: pod.uid.clone(),
                    warning: true,
                    reason: "FailedScheduling",
                    message,
                });
            }
        }
    }

    fn note(&self, note: Note) {
        if self.notes.try_send(note).is_err() {
            self.metrics.note_dropped();
        }
    }

    fn profile_report(&self) -> Vec<crate::metrics::ProfileReport> {
        let mut out: Vec<_> = self
            .profiles
            .values()
            .map(|p| crate::metrics::ProfileReport {
                profile: p.name.clone(),
                digest: p.active.plugin.digest.clone(),
                shadow_digest: p.shadow.as_ref().map(|s| s.plugin.digest.clone()),
                shadow: p.shadow_stats,
                failures: p.active.failures.total(),
                failed: p.failed.clone(),
                last_error: p.last_error.clone(),
                history: p.history.len(),
            })
            .collect();
        out.sort_by(|a, b| a.profile.cmp(&b.profile));
        out
    }
}

/// The keys we know that a fresh list no longer holds (`key` names each item).
fn not_listed<'a, T>(
    known: impl Iterator<Item = &'a String>,
    items: &[T],
    key: fn(&T) -> &str,
) -> Vec<String> {
    let listed: HashSet<&str> = items.iter().map(key).collect();
    known
        .filter(|k| !listed.contains(k.as_str()))
        .cloned()
        .collect()
}

fn same_node(a: &Node, b: &Node) -> bool {
    a.unschedulable == b.unschedulable
        && a.allocatable.milli_cpu == b.allocatable.milli_cpu
        && a.allocatable.memory_bytes == b.allocatable.memory_bytes
        && a.allocatable.pods == b.allocatable.pods
        && a.labels.len() == b.labels.len()
        && a.labels
            .iter()
            .zip(&b.labels)
            .all(|(x, y)| x.key == y.key && x.value == y.value)
        && a.taints.len() == b.taints.len()
        && a.taints
            .iter()
            .zip(&b.taints)
            .all(|(x, y)| x.key == y.key && x.value == y.value && x.effect == y.effect)
}

/// kube-scheduler's wording: "0/3 nodes are available: 1 Insufficient cpu, 2
/// node(s) had untolerated taint {k: v}." — reasons counted, sorted.
pub fn unschedulable_message(nodes: usize, rejections: &[Rejection]) -> String {
    if nodes == 0 {
        return "no nodes available to schedule pods".to_string();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejections {
        for reason in r.reason.lines() {
            *counts.entry(reason).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts
        .into_iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    parts.sort();
    format!("0/{nodes} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_kube_scheduler() {
        let r = |node: &str, reason: &str| Rejection {
            node: node.into(),
            reason: reason.into(),
        };
        let msg = unschedulable_message(
            3,
            &[
                r("a", "Insufficient cpu"),
                r("b", "node(s) had untolerated taint {k: v}"),
                r("c", "Insufficient cpu\nInsufficient memory"),
            ],
        );
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu."
        );
        assert_eq!(
            unschedulable_message(0, &[]),
            "no nodes available to schedule pods"
        );
    }
}
