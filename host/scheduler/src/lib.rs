//! The scheduler host. It watches pods and nodes through the API, keeps the queue
//! (priority, backoff, unschedulable pods waiting for a change) and a cache with
//! assumed pods, asks each profile's wasm policy where a pod goes, binds through
//! `pods/binding`, and reports `Scheduled`/`FailedScheduling` events and the
//! `PodScheduled` condition as kube-scheduler does.
//!
//! Profiles are named after their policy; the shipped ones (`default`, `binpack`,
//! `spread`) are embedded, and `default` also answers to `default-scheduler`.

pub mod convert;
mod core;
pub mod metrics;
pub mod profiles;
pub mod queue;
mod writer;

use std::sync::Arc;

use tokio::sync::mpsc;
use wharf_client::{Client, Object, Reflected, reflect};
use wharf_plugin_host::scheduler_policy::PolicyInstance;
use wharf_plugin_host::{Limits, LoadedPlugin, PluginHost, PluginKind};

pub use crate::core::{CoreEvent, unschedulable_message};
pub use crate::metrics::Metrics;
use crate::profiles::Profile;

#[derive(Debug, Clone, Default)]
pub struct SchedulerConfig {
    pub limits: Limits,
}

/// A running scheduler: send it plugin changes, read its metrics.
#[derive(Clone)]
pub struct Scheduler {
    events: std::sync::mpsc::Sender<CoreEvent>,
    /// Cleared when the scheduling loop's thread ends, however it ends.
    running: Arc<std::sync::atomic::AtomicBool>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    host: PluginHost,
}

impl Scheduler {
    /// Loads the built-in policies and starts watching and scheduling. Must be
    /// called inside a tokio runtime.
    pub fn start(
        client: Client,
        host: PluginHost,
        config: SchedulerConfig,
    ) -> anyhow::Result<Scheduler> {
        let mut profiles = Vec::new();
        for builtin in wharf_builtin_plugins::SCHEDULER_POLICIES {
            let plugin = host
                .load(builtin.name, builtin.wasm)
                .map_err(|e| anyhow::anyhow!("built-in policy {}: {e}", builtin.name))?;
            profiles.push(Profile::new(builtin.name, plugin, "{}".into()));
        }
        let (core_tx, core_rx) = std::sync::mpsc::channel();
        let (bind_tx, bind_rx) = mpsc::unbounded_channel();
        let (note_tx, note_rx) = mpsc::channel(writer::NOTE_BACKLOG);
        let metrics = Arc::new(Metrics::default());

        tokio::spawn(writer::run_binder(client.clone(), bind_rx, core_tx.clone()));
        tokio::spawn(writer::run_notes(client.clone(), note_rx));
        spawn_reflector(&client, "/api/v1/nodes", core_tx.clone(), CoreEvent::Nodes);
        spawn_reflector(&client, "/api/v1/pods", core_tx.clone(), CoreEvent::Pods);

        let plugin_host = host.clone();
        let core = core::Core::new(
            host,
            config.limits,
            core_rx,
            bind_tx,
            note_tx,
            metrics.clone(),
            profiles,
        );
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let ended = Ended(running.clone());
        std::thread::Builder::new()
            .name("wharf-scheduler".into())
            .spawn(move || {
                let _ended = ended;
                core.run()
            })?;
        let scheduler = Scheduler {
            events: core_tx,
            running,
            metrics,
            limits: config.limits,
            host: plugin_host.clone(),
        };
        wharf_plugin_objects::spawn(client, plugin_host, scheduler.clone());
        Ok(scheduler)
    }

    /// Makes `plugin` the active policy of `profile` (created if new), or its
    /// shadow candidate.
    pub fn install(&self, profile: &str, plugin: LoadedPlugin, config: String, shadow: bool) {
        let _ = self.events.send(CoreEvent::Install {
            profile: profile.to_string(),
            plugin,
            config,
            shadow,
        });
    }

    pub fn clear_shadow(&self, profile: &str) {
        let _ = self.events.send(CoreEvent::ClearShadow {
            profile: profile.to_string(),
        });
    }

    pub fn rollback(&self, profile: &str) {
        let _ = self.events.send(CoreEvent::Rollback {
            profile: profile.to_string(),
        });
    }

    pub fn remove_profile(&self, profile: &str) {
        let _ = self.events.send(CoreEvent::RemoveProfile {
            profile: profile.to_string(),
        });
    }

    pub fn stop(&self) {
        let _ = self.events.send(CoreEvent::Stop);
    }

    /// Whether the scheduling loop runs, for `kubectl get componentstatuses`.
    pub fn health(&self) -> Result<String, String> {
        if self.running.load(std::sync::atomic::Ordering::Acquire) {
            Ok("ok".into())
        } else {
            Err("the scheduling loop has stopped".into())
        }
    }
}

/// Clears its flag when dropped: when the scheduling loop returns or panics.
struct Ended(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

#[async_trait::async_trait]
impl wharf_plugin_objects::Runner for Scheduler {
    fn kind(&self) -> PluginKind {
        PluginKind::SchedulerPolicy
    }

    fn builtins(&self) -> &'static [wharf_builtin_plugins::Builtin] {
        wharf_builtin_plugins::SCHEDULER_POLICIES
    }

    async fn install(
        &self,
        name: &str,
        plugin: LoadedPlugin,
        config: String,
        shadow: bool,
    ) -> Result<(), String> {
        let host = self.host.clone();
        let limits = self.limits;
        let (plugin, config) = tokio::task::spawn_blocking(move || {
            PolicyInstance::new(&host, &plugin, limits, &config).map_err(|e| e.to_string())?;
            Ok::<_, String>((plugin, config))
        })
        .await
        .map_err(|e| format!("trying the policy: {e}"))??;
        Scheduler::install(self, name, plugin, config, shadow);
        Ok(())
    }

    fn clear_shadow(&self, name: &str) {
        Scheduler::clear_shadow(self, name);
    }

    fn removed(&self, name: &str) {
        match wharf_builtin_plugins::scheduler_policy(name) {
            // Deleting the object of a built-in profile returns it to the embedded
            // policy; the object is registered again at the next start.
            Some(builtin) => match self.host.load(builtin.name, builtin.wasm) {
                Ok(p) => {
                    Scheduler::install(self, name, p, "{}".into(), false);
                    Scheduler::clear_shadow(self, name);
                }
                Err(e) => {
                    tracing::error!(plugin = name, error = %e, "cannot reload the built-in policy")
                }
            },
            None => self.remove_profile(name),
        }
    }

    fn reports(&self) -> Vec<wharf_plugin_objects::Report> {
        self.metrics
            .profiles()
            .into_iter()
            .map(|p| wharf_plugin_objects::Report {
                name: p.profile,
                digest: p.digest,
                failures: p.failures,
                failed: p.failed,
                last_error: p.last_error,
                shadow_digest: p.shadow_digest,
                shadow_cycles: p.shadow.cycles,
                shadow_agreed: p.shadow.agreed,
            })
            .collect()
    }
}

fn spawn_reflector<T: Object>(
    client: &Client,
    path: &str,
    core: std::sync::mpsc::Sender<CoreEvent>,
    wrap: fn(Reflected<T>) -> CoreEvent,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(reflect(client.clone(), path.to_string(), tx));
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            if core.send(wrap(r)).is_err() {
                return;
            }
        }
    });
}
