//! `wharf server` and `wharf up`: open the store, serve the API, write the admin
//! kubeconfig, and stop cleanly on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use wharf_apiserver::{ComponentProbe, MetricsSource};
use wharf_client::{Client, Kubeconfig, LocalService};
use wharf_controller_manager::{ControllerManager, ControllerManagerConfig};
use wharf_plugin_host::{HostConfig, Limits, PluginHost};
use wharf_scheduler::{Scheduler, SchedulerConfig};
use wharf_store::{SledStore, SledStoreOptions, Store};

use crate::cli::{ServerArgs, default_data_dir};

/// Which roles a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `wharf up`: every role on one machine.
    AllInOne,
    /// `wharf server`: the control plane.
    Server,
}

/// Roles of the all-in-one shape that are not built yet; `wharf up` says so rather
/// than pretend.
const NOT_YET_BUILT: &[&str] = &["kubelet", "proxy"];

pub async fn run(args: ServerArgs, shape: Shape) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: the API server speaks plain HTTP, so it only listens on loopback \
             (127.0.0.1 or ::1) until TLS and authentication are built",
            args.listen
        );
    }
    if let Some(dir) = &args.plugin_dir
        && !dir.is_dir()
    {
        bail!("--plugin-dir {}: not a directory", dir.display());
    }
    // Bound before anything is written: a port in use leaves no data directory
    // behind.
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "listening on {}: the address is in use (is another wharf running? \
             --listen picks another address)",
            args.listen
        ),
        Err(e) => return Err(e).with_context(|| format!("listening on {}", args.listen)),
    };
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    if data_dir.exists() && !data_dir.is_dir() {
        bail!(
            "--data-dir {} is a file, not a directory",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let store_dir = data_dir.join("store");
    let options = SledStoreOptions {
        history_window: args.history_window,
        ..SledStoreOptions::default()
    };
    let store = SledStore::open(&store_dir, options)
        .with_context(|| format!("opening the store in {}", store_dir.display()))?;
    let store: Arc<dyn Store> = Arc::new(store);

    let addr = listener.local_addr()?;
    let kubeconfig = data_dir.join("admin.kubeconfig");
    Kubeconfig::admin(&format!("http://{addr}"))
        .write(&kubeconfig)
        .context("writing the admin kubeconfig")?;

    let settings = wharf_apiserver::Settings {
        default_tolerations: wharf_apiserver::DefaultTolerations {
            not_ready_seconds: args.default_not_ready_toleration_seconds,
            unreachable_seconds: args.default_unreachable_toleration_seconds,
        },
    };
    let server = wharf_apiserver::prepare(store, addr.port(), settings)
        .await
        .context("preparing the API server")?;
    // The scheduler and the controller manager talk to the API like any client
    // does, through the same handlers, but in process rather than over a socket.
    let plugins = PluginHost::new(HostConfig {
        cache_dir: Some(
            args.plugin_cache_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("plugin-cache")),
        ),
        after_compile: crate::memory::release_freed,
        ..HostConfig::default()
    })
    .context("starting the plugin host")?;
    let client = Client::in_process(
        &format!("http://{addr}"),
        LocalService::new(server.router()),
    );
    let mut metrics: Vec<MetricsSource> = Vec::new();
    let scheduler = if args.no_scheduler {
        None
    } else {
        let limits = Limits {
            deadline: Duration::from_millis(args.plugin_deadline_ms.max(1)),
            memory_bytes: usize::try_from(args.plugin_memory_mib.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
        };
        let s = Scheduler::start(
            client.for_role("wharf-scheduler"),
            plugins.clone(),
            SchedulerConfig { limits },
        )
        .context("starting the scheduler")?;
        let m = s.metrics.clone();
        metrics.push(Arc::new(move || m.render()));
        Some(s)
    };
    let controllers = if args.no_controllers {
        None
    } else {
        let config = ControllerManagerConfig {
            limits: Limits {
                deadline: Duration::from_millis(args.controller_deadline_ms.max(1)),
                memory_bytes: usize::try_from(args.controller_memory_mib.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
            },
            workers: args.controller_workers.max(1),
        };
        let c = ControllerManager::start(
            client.for_role("wharf-controller-manager"),
            plugins.clone(),
            config,
        )
        .await
        .context("starting the controller manager")?;
        let m = c.metrics();
        metrics.push(Arc::new(move || m.render()));
        Some(c)
    };
    if let Some(dir) = &args.plugin_dir {
        wharf_plugin_objects::dir::spawn_watch(client.clone(), plugins.clone(), dir.clone());
    }
    if !args.event_ttl.is_zero() {
        crate::event_ttl::spawn(client.clone(), args.event_ttl);
    }
    let roles = match (&scheduler, &controllers) {
        (Some(_), Some(_)) => "API server, scheduler and controller manager",
        (Some(_), None) => "API server and scheduler",
        (None, Some(_)) => "API server and controller manager",
        (None, None) => "API server",
    };

    match shape {
        Shape::AllInOne => {
            tracing::info!(
                not_yet_built = %NOT_YET_BUILT.join(", "),
                "wharf up: running the store, {roles}; the other roles are not built yet"
            );
            eprintln!(
                "wharf up: store + {roles} on http://{addr} (not yet built: {}).\n  export KUBECONFIG={}",
                NOT_YET_BUILT.join(", "),
                kubeconfig.display()
            );
        }
        Shape::Server => {
            eprintln!(
                "wharf server: {roles} on http://{addr}\n  export KUBECONFIG={}",
                kubeconfig.display()
            );
        }
    }
    if let (Shape::AllInOne, Some(c)) = (&shape, &controllers) {
        // On a first start the built-ins are compiled, which takes seconds: say
        // when the cluster is fully up, so a user knows when to expect pods.
        let started = c.builtins_started();
        let since = std::time::Instant::now();
        tokio::spawn(async move {
            let (running, all) = started.await;
            eprintln!(
                "wharf up: {running} of {all} built-in controllers running, {:.1} s after the API server",
                since.elapsed().as_secs_f64()
            );
        });
    }
    server.add_metrics(metrics);
    // `kubectl get componentstatuses`; a role left out is listed as not running,
    // so nobody mistakes a server without it for a whole control plane.
    let scheduler_probe: ComponentProbe = match &scheduler {
        Some(s) => {
            let s = s.clone();
            Arc::new(move || s.health())
        }
        None => Arc::new(|| Err("not running: this server was started with --no-scheduler".into())),
    };
    server.add_component("scheduler", scheduler_probe);
    let controllers_probe: ComponentProbe = match &controllers {
        Some(c) => {
            let c = c.clone();
            Arc::new(move || c.health())
        }
        None => {
            Arc::new(|| Err("not running: this server was started with --no-controllers".into()))
        }
    };
    server.add_component("controller-manager", controllers_probe);
    let served = wharf_apiserver::serve(server, listener, shutdown_signal()).await;
    if let Some(s) = &scheduler {
        s.stop();
    }
    if let Some(c) = controllers {
        // Workers finish the reconcile they are in; joining them blocks.
        let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    }
    served.context("serving the API")?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
