//! Wharf's API server: the Kubernetes REST API over Wharf's store.
//!
//! It is wire-compatible with Kubernetes for the kinds in
//! [`wharf_api_types::RESOURCES`]: the same paths, JSON, status codes and `Status`
//! errors, discovery and OpenAPI documents kubectl reads, server-side tables, the
//! three patch formats, watches with resume and bookmarks, selectors and pagination.
//!
//! The API server is the only component that touches the store. It never trusts a
//! request body: every write is decoded, defaulted and validated in full before it
//! reaches the store, so a bad request changes nothing.

#![forbid(unsafe_code)]

mod admission;
mod allocate;
mod apply;
mod blobs;
mod bootstrap;
mod components;
mod decode;
mod discovery;
mod disruption;
mod error;
mod ingress_class;
mod kubelet;
mod openapi;
mod openapi_v2;
mod priority;
mod protobuf;
mod render;
mod request;
mod review;
mod server;
mod storage;
mod table;
mod tolerations;
mod watch;
mod write;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub use components::{Health as ComponentHealth, Probe as ComponentProbe};
pub use error::ApiError;
pub use server::{ApiServer, MetricsSource};
pub use tolerations::DefaultTolerations;
use wharf_store::Store;

/// What an operator tunes of the API server, as kube-apiserver's flags tune it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// What new pods tolerate of a failed node (DefaultTolerationSeconds).
    pub default_tolerations: DefaultTolerations,
}

/// Readies a new API server on `store`: creates the bootstrap objects (which need
/// the port the API is served on) and serves the kinds of stored custom resource
/// definitions. `/readyz` reports ready afterwards.
pub async fn prepare(
    store: Arc<dyn Store>,
    port: u16,
    settings: Settings,
) -> std::io::Result<Arc<ApiServer>> {
    let server = ApiServer::new(store, settings);
    bootstrap::run(&server.objects, port)
        .await
        .map_err(|e| std::io::Error::other(format!("bootstrapping the cluster: {e}")))?;
    let crds = server
        .objects
        .serve_stored_crds()
        .await
        .map_err(|e| std::io::Error::other(format!("serving custom resources: {e}")))?;
    if crds > 0 {
        tracing::info!(
            crds,
            "serving the kinds of stored CustomResourceDefinitions"
        );
    }
    server.ready.store(true, Ordering::Release);
    Ok(server)
}

/// Serves `server` (see [`prepare`]) on `listener` until `shutdown` resolves.
pub async fn serve(
    server: Arc<ApiServer>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "API server listening");
    // Graceful shutdown waits for open responses, and a watch is a response that
    // never ends on its own: give connections a few seconds, then stop anyway.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut graceful = stop_rx.clone();
    let mut deadline = stop_rx;
    let serving = axum::serve(listener, server.router()).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let served = tokio::select! {
        served = serving => served,
        () = async {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::info!("connections still open after the shutdown grace period; closing them");
            Ok(())
        }
    };
    served
}

/// How long open connections (watches) get to finish after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);
