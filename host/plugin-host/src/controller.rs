//! The host side of the `controller-plugin` world (`wit/plugin/controller.wit`).
//!
//! A controller calls back into the host (cache reads, API writes) in the middle of
//! `reconcile`. Those calls block on the network, so the deadline counts only the
//! time the guest itself runs: the epoch callback subtracts the time spent inside
//! host calls before deciding that a call has overrun.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::artifact::PluginKind;
use crate::host::{LoadedPlugin, PluginHost};
use crate::sandbox::{
    CallError, HostState, Limits, classify, guest_clock, instantiation_failed, past_deadline,
    poisoned,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin",
        world: "controller-plugin",
    });
}

pub(crate) use bindings::ControllerPluginPre;
pub use bindings::wharf::plugin::controller_types::{
    ApiError, DeleteRequest, ErrorReason, EventType, Key, KindRef, Level, Mapping, Outcome,
    PatchRequest, PatchType, Registration, SubresourceUpdate, Trigger, Watch, Write,
};

/// What the host offers a controller instance: the controller manager implements
/// it over its informer caches and API client. Called on the instance's thread,
/// which may block.
pub trait Cluster: Send + Sync {
    fn get(&self, kind: &KindRef, key: &Key) -> Option<String>;
    fn fetch(&self, kind: &KindRef, key: &Key) -> Result<Option<String>, ApiError>;
    fn fetch_list(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, ApiError>;
    fn list(&self, kind: &KindRef, namespace: &str, selector: &str) -> Result<Vec<String>, String>;
    fn list_owned(&self, kind: &KindRef, namespace: &str, owner_uid: &str) -> Vec<String>;
    fn apply(&self, op: Write) -> Result<String, ApiError>;
    fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>>;
    fn event(&self, regarding: &str, kind: EventType, reason: &str, message: &str);
}

/// Per-instance state of a controller: the sandbox plus the cluster it may touch,
/// and the clock that keeps host time out of the guest's deadline.
pub(crate) struct ControllerState {
    base: HostState,
    plugin: Arc<str>,
    cluster: Arc<dyn Cluster>,
    /// The part of the current call (since `base.call_started`) spent in host
    /// calls.
    in_host: Duration,
}

impl WasiView for ControllerState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.base.ctx()
    }
}

impl ControllerState {
    /// Runs a host call, adding its duration to the time the deadline ignores.
    fn timed<R>(&mut self, f: impl FnOnce(&dyn Cluster) -> R) -> R {
        let started = guest_clock();
        let r = f(&*self.cluster);
        self.in_host += guest_clock().saturating_sub(started);
        r
    }
}

impl bindings::wharf::plugin::controller_types::Host for ControllerState {}

impl bindings::wharf::plugin::cluster::Host for ControllerState {
    fn get(&mut self, kind: KindRef, key: Key) -> Option<String> {
        self.timed(|c| c.get(&kind, &key))
    }

    fn fetch(&mut self, kind: KindRef, key: Key) -> Result<Option<String>, ApiError> {
        self.timed(|c| c.fetch(&kind, &key))
    }

    fn fetch_list(
        &mut self,
        kind: KindRef,
        namespace: String,
        label_selector: String,
    ) -> Result<Vec<String>, ApiError> {
        self.timed(|c| c.fetch_list(&kind, &namespace, &label_selector))
    }

    fn list(
        &mut self,
        kind: KindRef,
        namespace: String,
        label_selector: String,
    ) -> Result<Vec<String>, String> {
        self.timed(|c| c.list(&kind, &namespace, &label_selector))
    }

    fn list_owned(&mut self, kind: KindRef, namespace: String, owner_uid: String) -> Vec<String> {
        self.timed(|c| c.list_owned(&kind, &namespace, &owner_uid))
    }

    fn apply(&mut self, op: Write) -> Result<String, ApiError> {
        self.timed(|c| c.apply(op))
    }

    fn apply_all(&mut self, ops: Vec<Write>) -> Vec<Result<String, ApiError>> {
        self.timed(|c| c.apply_all(ops))
    }

    fn event(&mut self, regarding: String, type_: EventType, reason: String, message: String) {
        self.timed(|c| c.event(&regarding, type_, &reason, &message))
    }

    fn log(&mut self, level: Level, message: String) {
        let plugin = &*self.plugin;
        match level {
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// The linker every controller instance is built with: WASI (with nothing
/// granted, see [`HostState`]) and the `cluster` imports.
pub(crate) fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<ControllerState>> {
    let mut linker = Linker::<ControllerState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| anyhow::anyhow!("linking WASI: {e:#}"))?;
    bindings::ControllerPlugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking the cluster imports: {e:#}"))?;
    Ok(linker)
}

/// One live instance of a controller. Not shared: one worker thread drives it.
/// After a [`CallError::Trap`] it is poisoned; the worker builds a fresh one
/// (a controller keeps no state between reconciles, so nothing is lost).
pub struct ControllerInstance {
    plugin: LoadedPlugin,
    store: Store<ControllerState>,
    bindings: bindings::ControllerPlugin,
    limits: Limits,
    host: PluginHost,
    poisoned: bool,
}

impl std::fmt::Debug for ControllerInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerInstance")
            .field("plugin", &self.plugin.name)
            .field("digest", &self.plugin.digest)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl ControllerInstance {
    /// Instantiates `plugin` and configures it, returning its registration.
    pub fn new(
        host: &PluginHost,
        plugin: &LoadedPlugin,
        limits: Limits,
        config: &str,
        cluster: Arc<dyn Cluster>,
    ) -> Result<(Self, Registration), CallError> {
        let Some(pre) = &plugin.controller else {
            return Err(CallError::Instantiate {
                plugin: plugin.name.clone(),
                message: format!(
                    "it is a {} plugin, not a {}",
                    plugin.kind,
                    PluginKind::Controller
                ),
            });
        };
        let state = ControllerState {
            base: HostState::new(&plugin.name, limits),
            plugin: plugin.name.as_str().into(),
            cluster,
            in_host: Duration::ZERO,
        };
        let mut store = Store::new(host.engine(), state);
        store.limiter(|s| &mut s.base.limiter);
        let deadline = limits.deadline;
        let tick = host.ticks(Duration::from_millis(1)).max(1);
        // Reached on every epoch deadline: the guest is interrupted only once its
        // own running time (its thread's CPU time less host calls) passes the
        // deadline.
        store.epoch_deadline_callback(move |ctx| {
            let s = ctx.data();
            past_deadline(s.base.call_started, s.in_host, deadline, tick)
        });
        store.set_epoch_deadline(host.ticks(limits.deadline));
        // Instantiating runs the guest's start code, under the deadline too.
        let instantiated = host.while_running(|| pre.instantiate(&mut store));
        let bindings = match instantiated {
            Ok(b) => b,
            Err(e) => {
                let refused = store.data().base.limiter.refused;
                return Err(instantiation_failed(
                    &plugin.name,
                    e,
                    refused,
                    limits.deadline,
                ));
            }
        };
        let mut instance = ControllerInstance {
            plugin: plugin.clone(),
            store,
            bindings,
            limits,
            host: host.clone(),
            poisoned: false,
        };
        let registration = instance
            .call("configuring", |b, s| {
                b.wharf_plugin_controller().call_configure(s, config)
            })?
            .map_err(|message| CallError::Refused {
                plugin: plugin.name.clone(),
                message,
            })?;
        Ok((instance, registration))
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// One reconcile. `Ok(Err(message))` is the controller reporting a failure
    /// (retried with backoff); `Err` is a trap (the instance is now poisoned).
    pub fn reconcile(&mut self, key: &Key) -> Result<Result<Outcome, String>, CallError> {
        self.call("reconciling", |b, s| {
            b.wharf_plugin_controller().call_reconcile(s, key)
        })
    }

    fn call<R>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&bindings::ControllerPlugin, &mut Store<ControllerState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        if self.poisoned {
            return Err(poisoned(&self.plugin.name, what));
        }
        {
            let s = self.store.data_mut();
            s.base.begin_call();
            s.in_host = Duration::ZERO;
        }
        self.store
            .set_epoch_deadline(self.host.ticks(self.limits.deadline));
        let answer = self
            .host
            .while_running(|| f(&self.bindings, &mut self.store));
        match answer {
            Ok(r) => Ok(r),
            Err(e) => {
                self.poisoned = true;
                let refused = self.store.data().base.limiter.refused;
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

impl KindRef {
    pub fn new(api_version: &str, kind: &str) -> Self {
        KindRef {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }
}
