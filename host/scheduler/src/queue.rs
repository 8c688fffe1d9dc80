//! The scheduling queue, after kube-scheduler's: an active heap ordered by pod
//! priority then arrival, a backoff heap for pods that just failed, and a set of
//! unschedulable pods that wait for the cluster to change.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use wharf_plugin_host::scheduler_policy::Pod;

/// kube-scheduler's podInitialBackoffSeconds and podMaxBackoffSeconds.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// An unschedulable pod is retried at least this often even if nothing changes
/// (kube-scheduler's podMaxInUnschedulablePodsDuration).
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Active,
    /// Popped and being decided or bound.
    InFlight,
    Backoff(Instant),
    /// No node fitted at this time.
    Unschedulable(Instant),
}

#[derive(Debug, Clone)]
pub struct Queued {
    pub pod: Pod,
    pub profile: String,
    pub attempts: u32,
    state: State,
    /// Heap entries carry the generation they were pushed with; stale ones are
    /// skipped when popped.
    generation: u64,
}

#[derive(Default)]
pub struct Queue {
    entries: HashMap<String, Queued>,
    active: BinaryHeap<(i32, Reverse<u64>, String, u64)>,
    backoff: BinaryHeap<Reverse<(Instant, String, u64)>>,
    seq: u64,
}

pub fn backoff_for(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(16);
    (INITIAL_BACKOFF * 2u32.pow(exp)).min(MAX_BACKOFF)
}

impl Queue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.entries.contains_key(uid)
    }

    /// Pods waiting in the active heap (not backing off or unschedulable).
    pub fn active_len(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.state == State::Active)
            .count()
    }

    /// A new pod goes to the active heap; a known one has its record refreshed and
    /// keeps its place.
    pub fn add_or_update(&mut self, pod: Pod, profile: &str) {
        if let Some(e) = self.entries.get_mut(&pod.uid) {
            // The record holds only what placement depends on (no status), so a
            // difference is a real change of requirements.
            let changed = format!("{:?}", e.pod) != format!("{pod:?}");
            e.pod = pod;
            e.profile = profile.to_string();
            // An unschedulable pod that changed (a toleration added, a selector
            // relaxed) may fit now: retry it, after the backoff it owes.
            if changed && let State::Unschedulable(since) = e.state {
                let uid = e.pod.uid.clone();
                let until = since + backoff_for(e.attempts);
                if until <= Instant::now() {
                    self.push_active(&uid);
                } else {
                    self.seq += 1;
                    let seq = self.seq;
                    let e = self.entries.get_mut(&uid).expect("present");
                    e.state = State::Backoff(until);
                    e.generation = seq;
                    self.backoff.push(Reverse((until, uid, seq)));
                }
            }
            return;
        }
        let uid = pod.uid.clone();
        self.entries.insert(
            uid.clone(),
            Queued {
                pod,
                profile: profile.to_string(),
                attempts: 0,
                state: State::Active,
                generation: 0,
            },
        );
        self.push_active(&uid);
    }

    fn push_active(&mut self, uid: &str) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(e) = self.entries.get_mut(uid) {
            e.state = State::Active;
            e.generation = seq;
            self.active
                .push((e.pod.priority, Reverse(seq), uid.to_string(), seq));
        }
    }

    /// Carries a pod's attempt count over when it comes back (a failed binding),
    /// so its backoff keeps growing.
    pub fn set_attempts(&mut self, uid: &str, attempts: u32) {
        if let Some(e) = self.entries.get_mut(uid) {
            e.attempts = attempts;
        }
    }

    pub fn remove(&mut self, uid: &str) -> Option<Queued> {
        self.entries.remove(uid)
    }

    /// The highest-priority, longest-waiting active pod, now in flight.
    pub fn pop(&mut self) -> Option<Queued> {
        while let Some((_, _, uid, generation)) = self.active.pop() {
            if let Some(e) = self.entries.get_mut(&uid)
                && e.state == State::Active
                && e.generation == generation
            {
                e.state = State::InFlight;
                e.attempts += 1;
                return Some(e.clone());
            }
        }
        None
    }

    /// No node fits now: wait for a cluster change (or [`MAX_UNSCHEDULABLE`]).
    pub fn unschedulable(&mut self, uid: &str, now: Instant) {
        if let Some(e) = self.entries.get_mut(uid) {
            e.state = State::Unschedulable(now);
        }
    }

    /// A transient failure (a lost binding race, a policy trap): retry after backoff.
    pub fn backoff(&mut self, uid: &str, now: Instant) {
        if let Some(e) = self.entries.get_mut(uid) {
            let until = now + backoff_for(e.attempts);
            self.seq += 1;
            e.state = State::Backoff(until);
            e.generation = self.seq;
            self.backoff
                .push(Reverse((until, uid.to_string(), self.seq)));
        }
    }

    /// Something changed that may let unschedulable pods fit (a node came or
    /// changed, a pod went): they go back, through backoff if still owed.
    pub fn cluster_changed(&mut self, now: Instant) {
        let waiting: Vec<(String, Instant)> = self
            .entries
            .iter()
            .filter_map(|(uid, e)| match e.state {
                State::Unschedulable(since) => Some((uid.clone(), since)),
                _ => None,
            })
            .collect();
        for (uid, since) in waiting {
            let attempts = self.entries[&uid].attempts;
            let until = since + backoff_for(attempts);
            if until <= now {
                self.push_active(&uid);
            } else {
                self.seq += 1;
                let seq = self.seq;
                let e = self.entries.get_mut(&uid).expect("listed above");
                e.state = State::Backoff(until);
                e.generation = seq;
                self.backoff.push(Reverse((until, uid, seq)));
            }
        }
    }

    /// Moves pods whose backoff has expired, and long-unschedulable ones, to the
    /// active heap.
    pub fn tick(&mut self, now: Instant) {
        while let Some(Reverse((until, _, _))) = self.backoff.peek() {
            if *until > now {
                break;
            }
            let Reverse((_, uid, generation)) = self.backoff.pop().expect("peeked");
            if let Some(e) = self.entries.get(&uid)
                && matches!(e.state, State::Backoff(_))
                && e.generation == generation
            {
                self.push_active(&uid);
            }
        }
        let stale: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                matches!(e.state, State::Unschedulable(since) if now.duration_since(since) >= MAX_UNSCHEDULABLE)
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in stale {
            self.push_active(&uid);
        }
    }

    /// When the next backoff expires, if any pod is backing off.
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.backoff.peek().map(|Reverse((t, _, _))| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_plugin_host::scheduler_policy::Resources;

    fn pod(uid: &str, priority: i32) -> Pod {
        Pod {
            uid: uid.into(),
            namespace: "d".into(),
            name: uid.into(),
            labels: vec![],
            node_name: None,
            node_selector: vec![],
            required_terms: vec![],
            preferred_terms: vec![],
            tolerations: vec![],
            requests: Resources {
                milli_cpu: 0,
                memory_bytes: 0,
                pods: 1,
            },
            host_ports: vec![],
            owner_uid: None,
            priority,
        }
    }

    #[test]
    fn priority_then_arrival_order() {
        let mut q = Queue::default();
        q.add_or_update(pod("a", 0), "default");
        q.add_or_update(pod("b", 10), "default");
        q.add_or_update(pod("c", 0), "default");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|e| e.pod.uid)).collect();
        assert_eq!(order, ["b", "a", "c"]);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_for(1), Duration::from_secs(1));
        assert_eq!(backoff_for(2), Duration::from_secs(2));
        assert_eq!(backoff_for(4), Duration::from_secs(8));
        assert_eq!(backoff_for(9), MAX_BACKOFF);
    }

    #[test]
    fn unschedulable_pods_return_on_cluster_change_after_backoff() {
        let mut q = Queue::default();
        let t0 = Instant::now();
        q.add_or_update(pod("a", 0), "default");
        assert!(q.pop().is_some());
        q.unschedulable("a", t0);
        assert!(q.pop().is_none());
        q.tick(t0 + Duration::from_secs(5));
        assert!(q.pop().is_none(), "nothing changed, so it waits");
        q.cluster_changed(t0 + Duration::from_millis(500));
        assert!(q.pop().is_none(), "still owes backoff");
        q.tick(t0 + Duration::from_secs(2));
        assert_eq!(q.pop().unwrap().pod.uid, "a");
    }

    #[test]
    fn a_changed_unschedulable_pod_is_retried() {
        let mut q = Queue::default();
        q.add_or_update(pod("a", 0), "default");
        assert!(q.pop().is_some());
        q.unschedulable("a", Instant::now() - Duration::from_secs(5));
        q.add_or_update(pod("a", 0), "default");
        assert!(q.pop().is_none(), "nothing changed");
        let mut relaxed = pod("a", 0);
        relaxed
            .labels
            .push(wharf_plugin_host::scheduler_policy::Label {
                key: "k".into(),
                value: "v".into(),
            });
        q.add_or_update(relaxed, "default");
        assert_eq!(q.pop().unwrap().pod.uid, "a");
    }

    #[test]
    fn removed_pods_never_pop() {
        let mut q = Queue::default();
        q.add_or_update(pod("a", 0), "default");
        q.remove("a");
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }
}
