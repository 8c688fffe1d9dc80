//! Scheduler profiles: each maps a scheduler name to a policy plugin, owns the
//! live instance of it (seeded lazily from the host's cache), the versions that
//! ran before (for fallback and roll back), and an optional shadow candidate.

use std::time::Instant;

use wharf_plugin_host::scheduler_policy::{Change, Decision, Pod, PolicyInstance};
use wharf_plugin_host::{CallError, FailureBudget, Limits, LoadedPlugin, PluginHost, Verdict};

/// Earlier versions a profile keeps for fallback and roll back.
const HISTORY_LIMIT: usize = 10;

/// One plugin version with its configuration, and its instance if built.
pub struct Runner {
    pub plugin: LoadedPlugin,
    pub config: String,
    instance: Option<PolicyInstance>,
    /// Changes the live instance has not seen yet (empty when there is no instance:
    /// a new one is seeded with everything).
    pending: Vec<Change>,
    pub failures: FailureBudget,
}

impl Runner {
    pub fn new(plugin: LoadedPlugin, config: String) -> Self {
        Runner {
            plugin,
            config,
            instance: None,
            pending: Vec::new(),
            failures: FailureBudget::default(),
        }
    }

    fn push(&mut self, change: &Change) {
        if self.instance.is_some() {
            self.pending.push(change.clone());
        }
    }

    /// Asks the policy; builds and seeds an instance first if there is none.
    fn decide(
        &mut self,
        host: &PluginHost,
        limits: Limits,
        seed: &dyn Fn() -> Vec<Change>,
        pod: &Pod,
    ) -> Result<Decision, CallError> {
        if self.instance.is_none() {
            let mut inst = PolicyInstance::new(host, &self.plugin, limits, &self.config)?;
            inst.sync(&seed())?;
            self.pending.clear();
            self.instance = Some(inst);
        }
        let inst = self.instance.as_mut().expect("built above");
        let result = (|| {
            if !self.pending.is_empty() {
                inst.sync(&self.pending)?;
                self.pending.clear();
            }
            inst.schedule(pod)
        })();
        if result.is_err() {
            // A trap poisons the instance: drop it; the next cycle builds a fresh
            // one and seeds it again.
            self.instance = None;
            self.pending.clear();
        }
        result
    }
}

/// What happened when a profile's active policy failed.
#[derive(Debug)]
pub struct Failure {
    pub error: CallError,
    /// Set when the failure budget ran out and an earlier version took over.
    pub fell_back_to: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ShadowStats {
    pub cycles: u64,
    pub agreed: u64,
    pub failures: u64,
}

pub struct Profile {
    pub name: String,
    pub active: Runner,
    /// Earlier versions, oldest first: fallback and roll back take the last.
    pub history: Vec<(LoadedPlugin, String)>,
    pub shadow: Option<Runner>,
    pub shadow_stats: ShadowStats,
    /// The last version that failed past its budget, with the error.
    pub failed: Option<(String, String)>,
    /// The most recent failure of the active version, if any.
    pub last_error: Option<String>,
}

impl Profile {
    pub fn new(name: &str, plugin: LoadedPlugin, config: String) -> Self {
        Profile {
            name: name.to_string(),
            active: Runner::new(plugin, config),
            history: Vec::new(),
            shadow: None,
            shadow_stats: ShadowStats::default(),
            failed: None,
            last_error: None,
        }
    }

    pub fn broadcast(&mut self, change: &Change) {
        self.active.push(change);
        if let Some(s) = &mut self.shadow {
            s.push(change);
        }
    }

    /// Makes `plugin` the active version. The running instance is dropped between
    /// two cycles (the caller is the only thread deciding), so no cycle straddles
    /// versions; queued pods are the host's and are untouched.
    pub fn activate(&mut self, plugin: LoadedPlugin, config: String) {
        if plugin.digest == self.active.plugin.digest && config == self.active.config {
            return;
        }
        let old = std::mem::replace(&mut self.active, Runner::new(plugin, config));
        self.history.push((old.plugin, old.config));
        let excess = self.history.len().saturating_sub(HISTORY_LIMIT);
        self.history.drain(..excess);
        self.failed = None;
        self.last_error = None;
    }

    /// Returns to the previous version, if there is one.
    pub fn rollback(&mut self) -> Option<&LoadedPlugin> {
        let (plugin, config) = self.history.pop()?;
        self.active = Runner::new(plugin, config);
        Some(&self.active.plugin)
    }

    pub fn set_shadow(&mut self, candidate: Option<(LoadedPlugin, String)>) {
        self.shadow = candidate.map(|(p, c)| Runner::new(p, c));
        self.shadow_stats = ShadowStats::default();
    }

    /// Runs a cycle: the active policy decides; a shadow, if any, decides too and
    /// is only compared.
    pub fn decide(
        &mut self,
        host: &PluginHost,
        limits: Limits,
        seed: &dyn Fn() -> Vec<Change>,
        pod: &Pod,
    ) -> Result<Decision, Failure> {
        let decision = match self.active.decide(host, limits, seed, pod) {
            Ok(d) => d,
            Err(error) => {
                self.last_error = Some(error.to_string());
                let mut fell_back_to = None;
                let verdict = match &error {
                    // A refused config or an instantiation failure will not heal.
                    CallError::Refused { .. } | CallError::Instantiate { .. } => Verdict::GiveUp,
                    CallError::Trap { .. } => self.active.failures.record(Instant::now()),
                };
                if verdict == Verdict::GiveUp
                    && let Some((plugin, config)) = self.history.pop()
                {
                    let bad = std::mem::replace(&mut self.active, Runner::new(plugin, config));
                    self.failed = Some((bad.plugin.digest.clone(), error.to_string()));
                    fell_back_to = Some(self.active.plugin.digest.clone());
                }
                return Err(Failure {
                    error,
                    fell_back_to,
                });
            }
        };
        let mut drop_shadow = None;
        if let Some(shadow) = &mut self.shadow {
            self.shadow_stats.cycles += 1;
            match shadow.decide(host, limits, seed, pod) {
                Ok(theirs) => {
                    if same_choice(&decision, &theirs) {
                        self.shadow_stats.agreed += 1;
                    }
                }
                Err(e) => {
                    self.shadow_stats.failures += 1;
                    tracing::warn!(profile = %self.name, error = %e, "shadow policy failed");
                    // A failing candidate would otherwise be rebuilt and re-seeded
                    // on every cycle of the deciding thread: past its budget it is
                    // dropped.
                    if shadow.failures.record(Instant::now()) == Verdict::GiveUp {
                        tracing::warn!(profile = %self.name, "shadow policy dropped after repeated failures");
                        drop_shadow = Some(format!("shadow dropped after repeated failures: {e}"));
                    }
                }
            }
        }
        if let Some(why) = drop_shadow {
            self.last_error = Some(why);
            self.shadow = None;
        }
        Ok(decision)
    }
}

fn same_choice(a: &Decision, b: &Decision) -> bool {
    match (a, b) {
        (Decision::Place(x), Decision::Place(y)) => x.node == y.node,
        (Decision::Unschedulable(_), Decision::Unschedulable(_)) => true,
        _ => false,
    }
}
