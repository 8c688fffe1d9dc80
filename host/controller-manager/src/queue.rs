//! A controller's work queue, with client-go's guarantees: a key waiting is held
//! once however often it is added; a key is never handed to two workers at once
//! (added while being processed, it waits until that worker is done); failures are
//! retried after a per-key exponential backoff, capped; a key can be scheduled for
//! later (`requeue-after`, resync).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// First retry after a failure; doubled per consecutive failure of the same key.
pub const BACKOFF_BASE: Duration = Duration::from_millis(5);
/// Longest wait between retries of a failing key.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);

pub struct WorkQueue<K> {
    state: Mutex<State<K>>,
    ready: Condvar,
}

struct State<K> {
    /// Keys waiting, in arrival order; each at most once (`waiting` mirrors it).
    order: VecDeque<K>,
    waiting: HashSet<K>,
    /// Keys a worker holds now.
    processing: HashSet<K>,
    /// Added while being processed: queued again when the worker is done.
    dirty: HashSet<K>,
    /// Keys to add at a later time; the earliest time per key wins.
    later: BTreeMap<(Instant, u64), K>,
    later_at: HashMap<K, (Instant, u64)>,
    seq: u64,
    /// Consecutive failures per key, for the backoff.
    failures: HashMap<K, u32>,
    shutting_down: bool,
}

impl<K: Clone + Eq + Hash> Default for WorkQueue<K> {
    fn default() -> Self {
        WorkQueue {
            state: Mutex::new(State {
                order: VecDeque::new(),
                waiting: HashSet::new(),
                processing: HashSet::new(),
                dirty: HashSet::new(),
                later: BTreeMap::new(),
                later_at: HashMap::new(),
                seq: 0,
                failures: HashMap::new(),
                shutting_down: false,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<K: Clone + Eq + Hash> WorkQueue<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, key: K) {
        let mut s = self.lock();
        if s.shutting_down {
            return;
        }
        s.add_now(key);
        drop(s);
        self.ready.notify_one();
    }

    /// Adds `key` once `delay` has passed (sooner if it is added meanwhile).
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let mut s = self.lock();
        if s.shutting_down {
            return;
        }
        let at = Instant::now() + delay;
        if let Some(&(existing, _)) = s.later_at.get(&key)
            && existing <= at
        {
            return;
        }
        if let Some(old) = s.later_at.remove(&key) {
            s.later.remove(&old);
        }
        s.seq += 1;
        let slot = (at, s.seq);
        s.later.insert(slot, key.clone());
        s.later_at.insert(key, slot);
        drop(s);
        // A sleeping worker must recompute how long to sleep.
        self.ready.notify_one();
    }

    /// Adds `key` after its backoff, which doubles with each call until
    /// [`WorkQueue::forget`].
    pub fn add_rate_limited(&self, key: K) -> Duration {
        let delay = {
            let mut s = self.lock();
            let n = s.failures.entry(key.clone()).or_insert(0);
            let delay = BACKOFF_BASE
                .saturating_mul(1u32 << (*n).min(20))
                .min(BACKOFF_CAP);
            *n = n.saturating_add(1);
            delay
        };
        self.add_after(key.clone(), delay);
        delay
    }

    /// Clears the key's failure count: its next failure starts the backoff afresh.
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    /// Blocks until a key is ready (and hands it out as processing), or returns
    /// none once the queue shuts down.
    pub fn get(&self) -> Option<K> {
        let mut s = self.lock();
        loop {
            if s.shutting_down {
                return None;
            }
            s.promote_due(Instant::now());
            if let Some(key) = s.order.pop_front() {
                s.waiting.remove(&key);
                s.processing.insert(key.clone());
                return Some(key);
            }
            s = match s.later.keys().next().copied() {
                Some((at, _)) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    self.ready
                        .wait_timeout(s, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.ready.wait(s).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// A worker is finished with `key`; if it was added meanwhile it waits again.
    pub fn done(&self, key: &K) {
        let mut s = self.lock();
        s.processing.remove(key);
        if s.dirty.remove(key) {
            s.add_now(key.clone());
            drop(s);
            self.ready.notify_one();
        }
    }

    /// Keys waiting now (not those scheduled for later or being processed).
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys waiting, scheduled or being processed: zero means nothing is pending.
    pub fn pending(&self) -> usize {
        let s = self.lock();
        s.order.len() + s.processing.len() + s.later.len()
    }

    pub fn shut_down(&self) {
        self.lock().shutting_down = true;
        self.ready.notify_all();
    }
}

impl<K: Clone + Eq + Hash> State<K> {
    fn add_now(&mut self, key: K) {
        if let Some(slot) = self.later_at.remove(&key) {
            self.later.remove(&slot);
        }
        if self.processing.contains(&key) {
            self.dirty.insert(key);
        } else if self.waiting.insert(key.clone()) {
            self.order.push_back(key);
        }
    }

    fn promote_due(&mut self, now: Instant) {
        while let Some((&slot, _)) = self.later.iter().next() {
            if slot.0 > now {
                break;
            }
            if let Some(key) = self.later.remove(&slot) {
                self.later_at.remove(&key);
                self.add_now(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_waiting_key_is_held_once() {
        let q = WorkQueue::default();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.get(), Some("a"));
        assert_eq!(q.get(), Some("b"));
    }

    #[test]
    fn a_key_added_while_processing_waits_for_the_worker() {
        let q = WorkQueue::default();
        q.add("a");
        assert_eq!(q.get(), Some("a"));
        q.add("a");
        q.add("a");
        // Not handed out again while the first worker holds it.
        assert_eq!(q.len(), 0);
        q.done(&"a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.get(), Some("a"));
        q.done(&"a");
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn backoff_doubles_and_is_capped_and_forgotten() {
        let q = WorkQueue::default();
        let delays: Vec<Duration> = (0..16).map(|_| q.add_rate_limited("k")).collect();
        assert_eq!(delays[0], Duration::from_millis(5));
        assert_eq!(delays[1], Duration::from_millis(10));
        assert_eq!(delays[3], Duration::from_millis(40));
        assert_eq!(*delays.last().unwrap(), BACKOFF_CAP);
        q.forget(&"k");
        assert_eq!(q.add_rate_limited("k"), BACKOFF_BASE);
    }

    #[test]
    fn delayed_keys_arrive_when_due_and_an_add_brings_them_forward() {
        let q = Arc::new(WorkQueue::default());
        // Before the adds: "late" is due 30 ms after its add, which may come a
        // while after this on a loaded machine, never before.
        let started = Instant::now();
        q.add_after("late", Duration::from_millis(30));
        q.add_after("soon", Duration::from_millis(5));
        assert_eq!(q.get(), Some("soon"));
        assert_eq!(q.get(), Some("late"));
        assert!(started.elapsed() >= Duration::from_millis(30));
        q.done(&"soon");
        q.done(&"late");
        q.add_after("x", Duration::from_secs(3600));
        q.add("x");
        assert_eq!(q.get(), Some("x"));
        assert_eq!(q.pending(), 1, "only the processing key remains");
    }

    #[test]
    fn shutting_down_wakes_every_worker() {
        let q = Arc::new(WorkQueue::<u32>::default());
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || q.get())
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        q.shut_down();
        for w in workers {
            assert_eq!(w.join().unwrap(), None);
        }
    }

    #[test]
    fn many_workers_never_hold_the_same_key() {
        let q = Arc::new(WorkQueue::default());
        let held = Arc::new(Mutex::new(HashSet::new()));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (q, held, done) = (q.clone(), held.clone(), done.clone());
                std::thread::spawn(move || {
                    while let Some(k) = q.get() {
                        assert!(held.lock().unwrap().insert(k), "key {k} held twice");
                        std::thread::yield_now();
                        held.lock().unwrap().remove(&k);
                        q.done(&k);
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for i in 0..2000u32 {
            q.add(i % 7);
        }
        while q.pending() > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        q.shut_down();
        for w in workers {
            w.join().unwrap();
        }
        assert!(done.load(std::sync::atomic::Ordering::Relaxed) >= 7);
    }
}
