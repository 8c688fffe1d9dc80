//! `wharf server` and `wharf up`: open the store, serve the API, write the admin
//! kubeconfig, and stop cleanly on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use wharf_apiserver::MetricsSource;
use wharf_client::{Client, Kubeconfig};
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
const NOT_YET_BUILT: &[&str] = &["controller manager", "kubelet", "proxy"];

pub async fn run(args: ServerArgs, shape: Shape) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: the API server speaks plain HTTP, so it only listens on loopback \
             (127.0.0.1 or ::1) until TLS and authentication are built",
            args.listen
        );
    }
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
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

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let kubeconfig = data_dir.join("admin.kubeconfig");
    Kubeconfig::admin(&format!("http://{addr}"))
        .write(&kubeconfig)
        .context("writing the admin kubeconfig")?;

    // The scheduler talks to the API like any client; it reflects until the server
    // below is serving.
    let scheduler = if args.no_scheduler {
        None
    } else {
        let plugins = PluginHost::new(HostConfig {
            cache_dir: Some(data_dir.join("plugin-cache")),
            ..HostConfig::default()
        })
        .context("starting the plugin host")?;
        let limits = Limits {
            deadline: Duration::from_millis(args.plugin_deadline_ms.max(1)),
            memory_bytes: args.plugin_memory_mib.max(1) << 20,
        };
        let client = Client::new(&format!("http://{addr}"), None);
        Some(
            Scheduler::start(client, plugins, SchedulerConfig { limits })
                .context("starting the scheduler")?,
        )
    };
    let metrics: Vec<MetricsSource> = match &scheduler {
        Some(s) => {
            let m = s.metrics.clone();
            vec![Arc::new(move || m.render())]
        }
        None => Vec::new(),
    };

    match shape {
        Shape::AllInOne => {
            tracing::info!(
                not_yet_built = %NOT_YET_BUILT.join(", "),
                "wharf up: running the store, API server and scheduler; the other roles are not built yet"
            );
            eprintln!(
                "wharf up: store + API server + scheduler on http://{addr} (not yet built: {}).\n  export KUBECONFIG={}",
                NOT_YET_BUILT.join(", "),
                kubeconfig.display()
            );
        }
        Shape::Server => {
            eprintln!(
                "wharf server: API server and scheduler on http://{addr}\n  export KUBECONFIG={}",
                kubeconfig.display()
            );
        }
    }
    let served = wharf_apiserver::serve(store, listener, shutdown_signal(), metrics).await;
    if let Some(s) = &scheduler {
        s.stop();
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
