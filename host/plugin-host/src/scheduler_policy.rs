//! The host side of the `scheduler` world (`wit/plugin/scheduler.wit`).

use std::time::Duration;

use wasmtime::Store;

use crate::artifact::PluginKind;
use crate::host::{LoadedPlugin, PluginHost};
use crate::sandbox::{
    CallError, HostState, Limits, classify, instantiation_failed, past_deadline, poisoned,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin",
        world: "scheduler",
    });
}

pub(crate) use bindings::SchedulerPre;
pub use bindings::exports::wharf::plugin::scheduler_policy::{Change, Decision, Pod};
pub use bindings::wharf::plugin::scheduling_types::{
    Chosen, HostPort, Label, Node, Placement, Rejection, Resources, SelectorOperator,
    SelectorRequirement, SelectorTerm, Taint, TaintEffect, Toleration, TolerationOperator,
    WeightedTerm,
};

/// Changes sent in one `sync` call; seeding a big cluster is split so that each
/// call stays well inside the deadline.
pub const SYNC_CHUNK: usize = 2_000;

/// One live instance of a scheduling policy. Not shared: one thread drives it.
/// After any [`CallError::Trap`] it is poisoned and every later call fails; the
/// owner builds a fresh instance and seeds it again.
pub struct PolicyInstance {
    plugin: LoadedPlugin,
    store: Store<HostState>,
    bindings: bindings::Scheduler,
    limits: Limits,
    host: PluginHost,
    poisoned: bool,
}

impl PolicyInstance {
    /// Instantiates `plugin` and passes it `config`. A refused config is
    /// [`CallError::Refused`].
    pub fn new(
        host: &PluginHost,
        plugin: &LoadedPlugin,
        limits: Limits,
        config: &str,
    ) -> Result<Self, CallError> {
        let Some(pre) = &plugin.scheduler else {
            return Err(CallError::Instantiate {
                plugin: plugin.name.clone(),
                message: format!(
                    "it is a {} plugin, not a {}",
                    plugin.kind,
                    PluginKind::SchedulerPolicy
                ),
            });
        };
        let mut store = Store::new(host.engine(), HostState::new(&plugin.name, limits));
        store.limiter(|s| &mut s.limiter);
        // Reached on every epoch deadline: the guest is interrupted only once its
        // thread's CPU time since the call began passes the deadline (counted from
        // `sandbox::call_start`, so up to a millisecond late), so a policy
        // seeding a big cluster on a busy machine is not failed for waiting for a
        // core.
        let deadline = limits.deadline;
        let tick = host.ticks(Duration::from_millis(1)).max(1);
        store.epoch_deadline_callback(move |ctx| {
            past_deadline(ctx.data().call_started, Duration::ZERO, deadline, tick)
        });
        store.set_epoch_deadline(host.ticks(limits.deadline));
        // Instantiating runs the guest's start code, under the deadline too.
        let instantiated = host.while_running(|| pre.instantiate(&mut store));
        let bindings = match instantiated {
            Ok(b) => b,
            Err(e) => {
                let refused = store.data().limiter.refused;
                return Err(instantiation_failed(
                    &plugin.name,
                    e,
                    refused,
                    limits.deadline,
                ));
            }
        };
        let mut instance = PolicyInstance {
            plugin: plugin.clone(),
            store,
            bindings,
            limits,
            host: host.clone(),
            poisoned: false,
        };
        let answer = instance.call("configuring", |b, s| {
            b.wharf_plugin_scheduler_policy().call_configure(s, config)
        })?;
        answer.map_err(|message| CallError::Refused {
            plugin: plugin.name.clone(),
            message,
        })?;
        Ok(instance)
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Applies changes to the policy's view, in chunks of [`SYNC_CHUNK`].
    pub fn sync(&mut self, changes: &[Change]) -> Result<(), CallError> {
        for chunk in changes.chunks(SYNC_CHUNK) {
            self.call("syncing", |b, s| {
                b.wharf_plugin_scheduler_policy().call_sync(s, chunk)
            })?;
        }
        Ok(())
    }

    pub fn schedule(&mut self, pod: &Pod) -> Result<Decision, CallError> {
        self.call("scheduling", |b, s| {
            b.wharf_plugin_scheduler_policy().call_schedule(s, pod)
        })
    }

    fn call<R>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&bindings::Scheduler, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        if self.poisoned {
            return Err(poisoned(&self.plugin.name, what));
        }
        self.store.data_mut().begin_call();
        self.store
            .set_epoch_deadline(self.host.ticks(self.limits.deadline));
        let answer = self
            .host
            .while_running(|| f(&self.bindings, &mut self.store));
        match answer {
            Ok(r) => Ok(r),
            Err(e) => {
                self.poisoned = true;
                let refused = self.store.data().limiter.refused;
                Err(classify(
                    &self.plugin.name,
                    what,
                    e,
                    refused,
                    self.limits.deadline,
                ))
            }
        }
    }
}
