//! The controller manager: runs Kubernetes-style controllers that are WebAssembly
//! components, and moves the cluster from its actual state to the desired one.
//!
//! - [`informer`]: one shared list+watch and cache per kind, written through by
//!   the controllers' own writes.
//! - [`mapping`]: which primary objects a change concerns (owner references,
//!   selectors, names), as each controller's registration declares.
//! - [`queue`]: work queues that hold a key once, never give it to two workers, and
//!   retry failures with a capped exponential backoff.
//! - [`runner`]: a controller's workers and its active version, swapped whole.
//! - [`cluster`]: what a controller instance may touch (the plugin host's imports).
//!
//! The controllers Wharf ships are embedded; each is also a Plugin object of kind
//! `controller`, so operators replace or roll back any of them at run time.

pub mod cluster;
pub mod discovery;
pub mod informer;
pub mod mapping;
pub mod metrics;
pub mod queue;
pub mod runner;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_client::Client;
use wharf_plugin_host::controller::{ControllerInstance, Registration};
use wharf_plugin_host::{Limits, LoadedPlugin, PluginHost, PluginKind};

use crate::cluster::ClusterAccess;
use crate::informer::Informers;
pub use crate::metrics::Metrics;
use crate::runner::{Controller, Version};

#[derive(Debug, Clone)]
pub struct ControllerManagerConfig {
    pub limits: Limits,
    /// Workers per controller: keys reconciled at once (each key by one at most).
    pub workers: usize,
}

impl Default for ControllerManagerConfig {
    fn default() -> Self {
        ControllerManagerConfig {
            // Controllers wait on the API inside their calls, which the deadline
            // does not count; the guest's own work is still bounded.
            limits: Limits {
                deadline: Duration::from_secs(1),
                memory_bytes: 256 << 20,
            },
            workers: 4,
        }
    }
}

/// A running controller manager. Cheap to clone.
#[derive(Clone)]
pub struct ControllerManager {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    host: PluginHost,
    informers: Informers,
    config: ControllerManagerConfig,
    controllers: Mutex<HashMap<String, Arc<Controller>>>,
    /// Serialises installs, so two versions of one controller never race.
    installing: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
    /// Every controller's events, repeats counted.
    events: Arc<wharf_client::events::Recorder>,
    runtime: tokio::runtime::Handle,
    /// Of the built-in controllers, (how many went through their start, how
    /// many of those are running).
    builtins_started: tokio::sync::watch::Sender<(usize, usize)>,
}

impl ControllerManager {
    /// Starts the built-in controllers and follows the Plugin objects of kind
    /// `controller`. Must be called inside a tokio runtime.
    pub async fn start(
        client: Client,
        host: PluginHost,
        config: ControllerManagerConfig,
    ) -> anyhow::Result<ControllerManager> {
        let manager = ControllerManager {
            inner: Arc::new(Inner {
                informers: Informers::new(client.clone()),
                client: client.clone(),
                host: host.clone(),
                config,
                controllers: Mutex::default(),
                installing: tokio::sync::Mutex::new(()),
                metrics: Arc::new(Metrics::default()),
                events: Arc::new(wharf_client::events::Recorder::new(client.clone())),
                runtime: tokio::runtime::Handle::current(),
                builtins_started: tokio::sync::watch::Sender::new((0, 0)),
            }),
        };
        // The built-ins start from the binary; their Plugin objects (the operator's
        // handle on them) are registered by the plugin-object loop. One at a time
        // and off the async threads: compiling a component takes seconds of CPU on
        // a first start, and the API server shares this runtime.
        {
            let m = manager.clone();
            tokio::spawn(async move {
                for builtin in wharf_builtin_plugins::CONTROLLERS {
                    let running = m.start_builtin(builtin).await;
                    m.inner.builtins_started.send_modify(|(tried, ok)| {
                        (*tried, *ok) = (*tried + 1, *ok + running as usize)
                    });
                }
            });
        }
        tokio::spawn(resync_loop(manager.clone()));
        wharf_plugin_objects::spawn(client, host, manager.clone());
        Ok(manager)
    }

    /// Loads a built-in controller and installs it, retrying until the API
    /// answers (discovery is needed to start its informers).
    async fn start_builtin(&self, builtin: &'static wharf_builtin_plugins::Builtin) -> bool {
        let host = self.inner.host.clone();
        let loaded =
            tokio::task::spawn_blocking(move || host.load(builtin.name, builtin.wasm)).await;
        let plugin = match loaded {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::error!(controller = builtin.name, error = %e, "cannot load the built-in controller");
                return false;
            }
            Err(e) => {
                tracing::error!(controller = builtin.name, error = %e, "loading the built-in controller panicked");
                return false;
            }
        };
        let mut delay = Duration::from_millis(50);
        loop {
            match self
                .install_version(builtin.name, plugin.clone(), normalized(builtin.config))
                .await
            {
                Ok(()) => return true,
                Err(e) => {
                    tracing::debug!(controller = builtin.name, error = %e, "built-in controller not started yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Resolves once every built-in controller has been through its start (a
    /// first start compiles them, seconds each), with how many are running (one
    /// that failed to load is logged) and how many there are.
    pub fn builtins_started(&self) -> impl std::future::Future<Output = (usize, usize)> + use<> {
        let mut started = self.inner.builtins_started.subscribe();
        let all = wharf_builtin_plugins::CONTROLLERS.len();
        async move {
            match started.wait_for(|(tried, _)| *tried >= all).await {
                Ok(state) => (state.1, all),
                Err(_) => (0, all),
            }
        }
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.inner.metrics.clone()
    }

    /// Whether every built-in controller is running, for `kubectl get
    /// componentstatuses`: unhealthy while they start (a first start compiles
    /// them) and when one could not be loaded.
    pub fn health(&self) -> Result<String, String> {
        let (tried, running) = *self.inner.builtins_started.borrow();
        let all = wharf_builtin_plugins::CONTROLLERS.len();
        if tried < all {
            Err(format!(
                "starting: {tried} of {all} built-in controllers started so far"
            ))
        } else if running < all {
            Err(format!(
                "{} of {all} built-in controllers could not be started (see the server's log)",
                all - running
            ))
        } else {
            Ok(format!("ok: {} controllers running", self.lock().len()))
        }
    }

    pub fn controller(&self, name: &str) -> Option<Arc<Controller>> {
        self.lock().get(name).cloned()
    }

    pub fn stop(&self) {
        let controllers: Vec<Arc<Controller>> = self.lock().drain().map(|(_, c)| c).collect();
        for c in controllers {
            c.stop();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Controller>>> {
        self.inner
            .controllers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Tries `plugin` (a trial instance answers its registration), starts the
    /// informers it names, and makes it the version `name` runs: a new controller
    /// starts; a running one swaps at its next reconcile.
    pub async fn install_version(
        &self,
        name: &str,
        plugin: LoadedPlugin,
        config: String,
    ) -> Result<(), String> {
        let _serial = self.inner.installing.lock().await;
        // Checked under the lock: the Plugin object of a built-in arrives while
        // its embedded version is still starting, and asks for that same version.
        if let Some(c) = self.controller(name) {
            let active = c.active();
            if active.plugin.digest == plugin.digest && active.config == config {
                return Ok(());
            }
        }
        let registration = self.trial(name, &plugin, &config).await?;
        let version = self.version(name, plugin, config, registration).await?;
        let existing = self.controller(name);
        match existing {
            Some(c) => {
                tracing::info!(controller = name, digest = %version.plugin.digest, "controller swapped to a new version");
                c.swap(version);
            }
            None => {
                tracing::info!(controller = name, digest = %version.plugin.digest, "controller started");
                let c = Controller::start(
                    name,
                    version,
                    self.inner.config.workers,
                    self.inner.host.clone(),
                    self.inner.config.limits,
                    self.inner.metrics.clone(),
                );
                self.lock().insert(name.to_string(), c);
            }
        }
        Ok(())
    }

    /// A throwaway instance, configured: a module that traps on start or refuses
    /// its config is refused here, and its answer is the registration.
    async fn trial(
        &self,
        name: &str,
        plugin: &LoadedPlugin,
        config: &str,
    ) -> Result<Registration, String> {
        let access = Arc::new(self.access(name, HashMap::new()));
        let host = self.inner.host.clone();
        let limits = self.inner.config.limits;
        let (plugin, config) = (plugin.clone(), config.to_string());
        tokio::task::spawn_blocking(move || {
            ControllerInstance::new(&host, &plugin, limits, &config, access)
                .map(|(_, registration)| registration)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("trying the controller: {e}"))?
    }

    async fn version(
        &self,
        name: &str,
        plugin: LoadedPlugin,
        config: String,
        registration: Registration,
    ) -> Result<Version, String> {
        let informers = &self.inner.informers;
        let primary = informers
            .ensure(
                &registration.primary.api_version,
                &registration.primary.kind,
            )
            .await
            .map_err(|e| format!("its primary kind: {e}"))?;
        let mut all = vec![primary.clone()];
        for w in &registration.watches {
            let i = informers
                .ensure(&w.kind.api_version, &w.kind.kind)
                .await
                .map_err(|e| format!("a watched kind: {e}"))?;
            if !all.iter().any(|x| Arc::ptr_eq(x, &i)) {
                all.push(i);
            }
        }
        let readable = all
            .iter()
            .map(|i| {
                (
                    (i.resource.api_version.clone(), i.resource.kind.clone()),
                    i.clone(),
                )
            })
            .collect();
        Ok(Version {
            access: Arc::new(self.access(name, readable)),
            plugin,
            config,
            registration,
            primary,
            informers: all,
        })
    }

    fn access(
        &self,
        name: &str,
        readable: HashMap<(String, String), Arc<informer::Informer>>,
    ) -> ClusterAccess {
        ClusterAccess {
            controller: name.to_string(),
            readable,
            informers: self.inner.informers.clone(),
            client: self.inner.client.clone(),
            events: self.inner.events.clone(),
            runtime: self.inner.runtime.clone(),
            metrics: self.inner.metrics.clone(),
        }
    }
}

/// A built-in's config in the form the Plugin object gives it back (compact,
/// keys ordered), so that the object's first sighting is not taken for a change.
fn normalized(config: &str) -> String {
    serde_json::from_str::<serde_json::Value>(config)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| config.to_string())
}

/// Enqueues every primary of each controller whose registration asks for a
/// periodic resync, when its period has passed.
async fn resync_loop(manager: ControllerManager) {
    let mut last: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let controllers: Vec<Arc<Controller>> = manager.lock().values().cloned().collect();
        for c in controllers {
            let period = c.active().registration.resync_seconds;
            if period == 0 {
                continue;
            }
            let due = last
                .get(&c.name)
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(period.into()));
            if due {
                if last.contains_key(&c.name) {
                    c.periodic_resync();
                }
                last.insert(c.name.clone(), Instant::now());
            }
            manager.inner.metrics.queue_depth(&c.name, c.queue.len());
        }
    }
}

#[async_trait::async_trait]
impl wharf_plugin_objects::Runner for ControllerManager {
    fn kind(&self) -> PluginKind {
        PluginKind::Controller
    }

    fn builtins(&self) -> &'static [wharf_builtin_plugins::Builtin] {
        wharf_builtin_plugins::CONTROLLERS
    }

    async fn install(
        &self,
        name: &str,
        plugin: LoadedPlugin,
        config: String,
        shadow: bool,
    ) -> Result<(), String> {
        if shadow {
            return Err(
                "shadow mode compares scheduling decisions; a controller cannot run in shadow"
                    .into(),
            );
        }
        self.install_version(name, plugin, config).await
    }

    fn clear_shadow(&self, _name: &str) {}

    fn removed(&self, name: &str) {
        match wharf_builtin_plugins::controller(name) {
            // A built-in controller returns to the embedded version.
            Some(builtin) => {
                let m = self.clone();
                tokio::spawn(async move { m.start_builtin(builtin).await });
            }
            None => {
                if let Some(c) = self.lock().remove(name) {
                    std::thread::spawn(move || c.stop());
                }
            }
        }
    }

    fn reports(&self) -> Vec<wharf_plugin_objects::Report> {
        let controllers: Vec<Arc<Controller>> = self.lock().values().cloned().collect();
        controllers
            .iter()
            .map(|c| {
                let counts = self.inner.metrics.get(&c.name);
                let fell_back = c
                    .fell_back
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                wharf_plugin_objects::Report {
                    name: c.name.clone(),
                    digest: c.active().plugin.digest.clone(),
                    failures: counts.traps,
                    failed: fell_back.map(|f| (f.failed_digest, f.reason)),
                    last_error: c
                        .last_error
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone(),
                    ..Default::default()
                }
            })
            .collect()
    }
}
