//! One controller at run time: its work queue, its workers, and the version they
//! run.
//!
//! Hot swap: the active version is one pointer, replaced whole. Each worker checks
//! it before every reconcile and, when it changed, builds an instance of the new
//! version; a reconcile already running finishes on the old one. The queue belongs
//! to the controller, not to a version, so no key is lost or handed out twice by a
//! swap. A version that traps repeatedly gives way to the previous one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_plugin_host::controller::{
    ControllerInstance, Key as WitKey, Mapping, Outcome, Registration, Trigger,
};
use wharf_plugin_host::{FailureBudget, Limits, LoadedPlugin, PluginHost, TrapKind, Verdict};

use crate::cluster::ClusterAccess;
use crate::informer::Informer;
use crate::mapping::{self, Key};
use crate::metrics::Metrics;
use crate::queue::WorkQueue;

/// Traps of one version within [`FAILURE_WINDOW`] before the previous version
/// takes over.
pub const FAILURE_THRESHOLD: usize = 3;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// An installed, immutable controller version and what it reads.
pub struct Version {
    pub plugin: LoadedPlugin,
    pub config: String,
    pub registration: Registration,
    pub access: Arc<ClusterAccess>,
    pub primary: Arc<Informer>,
    /// Every informer the version reads (the primary included).
    pub informers: Vec<Arc<Informer>>,
}

impl Version {
    fn synced(&self) -> bool {
        self.informers.iter().all(|i| i.has_synced())
    }
}

/// What the plugin-object side is told about a version that fell back.
#[derive(Debug, Clone, PartialEq)]
pub struct FellBack {
    pub failed_digest: String,
    pub reason: String,
    pub now_digest: String,
}

pub struct Controller {
    pub name: String,
    pub queue: Arc<WorkQueue<Key>>,
    active: Mutex<Arc<Version>>,
    /// Bumped on every swap; workers compare it with their instance's.
    generation: AtomicU64,
    /// Earlier versions, newest last, for falling back.
    previous: Mutex<Vec<Arc<Version>>>,
    budget: Mutex<FailureBudget>,
    pub fell_back: Mutex<Option<FellBack>>,
    pub last_error: Mutex<Option<String>>,
    stop: AtomicBool,
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    limits: Limits,
    host: PluginHost,
    metrics: Arc<Metrics>,
}

impl Controller {
    /// Starts `workers` threads running `version`.
    pub fn start(
        name: &str,
        version: Version,
        workers: usize,
        host: PluginHost,
        limits: Limits,
        metrics: Arc<Metrics>,
    ) -> Arc<Controller> {
        let controller = Arc::new(Controller {
            name: name.to_string(),
            queue: Arc::new(WorkQueue::default()),
            active: Mutex::new(Arc::new(version)),
            generation: AtomicU64::new(1),
            previous: Mutex::default(),
            budget: Mutex::new(FailureBudget::new(FAILURE_THRESHOLD, FAILURE_WINDOW)),
            fell_back: Mutex::default(),
            last_error: Mutex::default(),
            stop: AtomicBool::new(false),
            workers: Mutex::default(),
            limits,
            host,
            metrics,
        });
        controller.wire();
        let mut handles = Vec::new();
        for i in 0..workers.max(1) {
            let c = controller.clone();
            match std::thread::Builder::new()
                .name(format!("wharf-ctl-{name}-{i}"))
                .spawn(move || c.work())
            {
                Ok(h) => handles.push(h),
                Err(e) => tracing::error!(controller = name, error = %e, "cannot start a worker"),
            }
        }
        *controller.workers.lock().unwrap_or_else(|e| e.into_inner()) = handles;
        controller
    }

    pub fn active(&self) -> Arc<Version> {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes `version` the one the next reconcile runs.
    pub fn swap(&self, version: Version) {
        let old = {
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *active, Arc::new(version))
        };
        self.unwire(&old);
        {
            let mut previous = self.previous.lock().unwrap_or_else(|e| e.into_inner());
            previous.push(old);
            let excess = previous.len().saturating_sub(10);
            previous.drain(..excess);
        }
        *self.budget.lock().unwrap_or_else(|e| e.into_inner()) =
            FailureBudget::new(FAILURE_THRESHOLD, FAILURE_WINDOW);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.metrics.swapped(&self.name);
        self.wire();
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.queue.shut_down();
        let handles = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for h in handles {
            let _ = h.join();
        }
        self.unwire(&self.active());
    }

    /// Registers the active version's handlers and enqueues every primary object,
    /// so a new version looks at everything once.
    fn wire(&self) {
        let version = self.active();
        let queue = self.queue.clone();
        let enqueue: Arc<dyn Fn(Key) + Send + Sync> = Arc::new(move |k| queue.add(k));
        let own = enqueue.clone();
        let ownership_only = version.registration.primary_trigger == Trigger::OwnershipChange;
        // A primary kind that owns its own kind (a ConfigMap owning ConfigMaps):
        // its changes also map to its dependents, through the same cache.
        let owns_itself = version.registration.watches.iter().any(|w| {
            matches!(w.mapping, Mapping::Dependents)
                && w.kind.api_version == version.primary.resource.api_version
                && w.kind.kind == version.primary.resource.kind
        });
        let primary = version.primary.clone();
        version.primary.set_handler(
            &self.name,
            Arc::new(move |change| {
                if owns_itself {
                    for key in mapping::keys_for(&Mapping::Dependents, &primary, change) {
                        own(key);
                    }
                }
                if ownership_only && !mapping::primary_ownership_trigger(change) {
                    return;
                }
                let e = match change {
                    crate::informer::Change::Upserted { new, .. } => *new,
                    crate::informer::Change::Deleted(e) => *e,
                };
                own(mapping::key_of(e));
            }),
        );
        for watch in &version.registration.watches {
            let Some(informer) = version.informers.iter().find(|i| {
                i.resource.api_version == watch.kind.api_version
                    && i.resource.kind == watch.kind.kind
            }) else {
                continue;
            };
            if Arc::ptr_eq(informer, &version.primary) {
                continue;
            }
            informer.set_handler(
                &self.name,
                mapping::handler(
                    watch.mapping.clone(),
                    version.primary.clone(),
                    enqueue.clone(),
                ),
            );
        }
        self.resync();
    }

    fn unwire(&self, version: &Version) {
        for i in &version.informers {
            i.remove_handler(&self.name);
        }
    }

    /// Enqueues every primary object (for a garbage collector, every one that
    /// has owners, finalizers or a deletion mark: the rest give it nothing to do,
    /// and most pods of a busy cluster can be such). A new version starts so.
    pub fn resync(&self) {
        let version = self.active();
        let ownership_only = version.registration.primary_trigger == Trigger::OwnershipChange;
        for e in version.primary.list("") {
            if ownership_only && !mapping::has_ownership(e.meta()) {
                continue;
            }
            self.queue.add(mapping::key_of(&e));
        }
    }

    /// The periodic resync. A garbage collector's looks only at objects a watch
    /// would not bring back: those with an owner of a kind it does not watch (a
    /// custom resource), a finalizer or a deletion mark. The deletion of an owner
    /// it watches reaches it as a change (a relist reports what vanished), so a
    /// cluster's many ReplicaSet-owned pods cost its resync nothing.
    pub fn periodic_resync(&self) {
        let version = self.active();
        if version.registration.primary_trigger != Trigger::OwnershipChange {
            return self.resync();
        }
        let watched: Vec<(&str, &str)> = version
            .registration
            .watches
            .iter()
            .filter(|w| matches!(w.mapping, Mapping::Dependents))
            .map(|w| (mapping::group_of(&w.kind.api_version), w.kind.kind.as_str()))
            .collect();
        for e in version.primary.list("") {
            if mapping::unwatched_ownership(e.meta(), &watched) {
                self.queue.add(mapping::key_of(&e));
            }
        }
    }

    fn work(self: Arc<Self>) {
        let mut instance: Option<(u64, ControllerInstance)> = None;
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            // Nothing is reconciled from a cache that has not listed yet: it would
            // look like everything is missing.
            if !self.active().synced() {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let Some(key) = self.queue.get() else { return };
            let generation = self.generation.load(Ordering::Acquire);
            let version = self.active();
            if instance
                .as_ref()
                .is_none_or(|(g, i)| *g != generation || i.is_poisoned())
            {
                instance = match ControllerInstance::new(
                    &self.host,
                    &version.plugin,
                    self.limits,
                    &version.config,
                    version.access.clone(),
                ) {
                    Ok((i, _)) => Some((generation, i)),
                    Err(e) => {
                        tracing::warn!(controller = %self.name, error = %e, "cannot start an instance; retrying the key later");
                        self.failed(&version, &e.to_string());
                        self.queue.add_rate_limited(key.clone());
                        self.queue.done(&key);
                        continue;
                    }
                };
            }
            let Some((_, inst)) = instance.as_mut() else {
                continue;
            };
            let started = Instant::now();
            let wit_key = WitKey {
                namespace: key.0.clone(),
                name: key.1.clone(),
            };
            let result = inst.reconcile(&wit_key);
            let took = started.elapsed();
            match result {
                Ok(Ok(Outcome::Done)) => {
                    self.metrics.reconciled(&self.name, took, false);
                    self.queue.forget(&key);
                }
                Ok(Ok(Outcome::RequeueAfter(ms))) => {
                    self.metrics.reconciled(&self.name, took, false);
                    self.queue.forget(&key);
                    self.queue
                        .add_after(key.clone(), Duration::from_millis(ms.into()));
                }
                Ok(Err(message)) => {
                    self.metrics.reconciled(&self.name, took, true);
                    let delay = self.queue.add_rate_limited(key.clone());
                    tracing::info!(controller = %self.name, namespace = %key.0, name = %key.1, retry_in = ?delay, "reconcile failed: {message}");
                    *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
                }
                Err(e) => {
                    self.metrics.reconciled(&self.name, took, true);
                    // A reconcile fails only by trapping; anything else would be a crash too.
                    let kind = e.trap_kind().unwrap_or(TrapKind::Crash);
                    self.metrics.trapped(&self.name, kind);
                    tracing::warn!(controller = %self.name, namespace = %key.0, name = %key.1, error = %e, "controller trapped; a fresh instance takes the next key");
                    self.queue.add_rate_limited(key.clone());
                    self.failed(&version, &e.to_string());
                    instance = None;
                }
            }
            self.metrics.queue_depth(&self.name, self.queue.len());
            self.queue.done(&key);
        }
    }

    /// Counts a failure of `version`; past the budget, the previous version takes
    /// over (if there is one and `version` is still the active one).
    fn failed(&self, version: &Arc<Version>, reason: &str) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_string());
        let verdict = self
            .budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(Instant::now());
        if verdict != Verdict::GiveUp {
            return;
        }
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if !Arc::ptr_eq(&active, version) {
            return;
        }
        let Some(previous) = self
            .previous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        else {
            return;
        };
        tracing::warn!(controller = %self.name, failed = %version.plugin.digest, now = %previous.plugin.digest, "controller version failed repeatedly; the previous version takes over");
        *self.fell_back.lock().unwrap_or_else(|e| e.into_inner()) = Some(FellBack {
            failed_digest: version.plugin.digest.clone(),
            reason: reason.to_string(),
            now_digest: previous.plugin.digest.clone(),
        });
        *active = previous;
        drop(active);
        self.unwire(version);
        *self.budget.lock().unwrap_or_else(|e| e.into_inner()) =
            FailureBudget::new(FAILURE_THRESHOLD, FAILURE_WINDOW);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.metrics.swapped(&self.name);
        self.wire();
    }
}
