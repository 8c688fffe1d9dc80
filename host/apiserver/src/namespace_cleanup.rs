//! Emptying namespaces that are being deleted, so that `kubectl delete namespace`
//! finishes as it does on Kubernetes: the namespace goes `Terminating`, everything in
//! it is deleted, then its `kubernetes` finalizer is removed and it is gone.
//!
//! On Kubernetes this is the namespace controller's job, in the controller manager.
//! Wharf's controller manager (WebAssembly controllers) is not built yet; until it
//! is, the API server runs this one loop itself, through the same delete semantics
//! as any client (finalizers and graceful pod deletion are honoured, so a namespace
//! waits for them). It must never delete anything outside a terminating namespace.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wharf_api_types::meta;
use wharf_api_types::resources::{self, RESOURCES};

use crate::error::ApiError;
use crate::request::{Options, Target};
use crate::server::ApiServer;
use crate::write::{self, DeleteOptions};

/// How often terminating namespaces are re-examined when nothing wakes the loop
/// (e.g. waiting for finalizers on their contents).
const RESYNC: Duration = Duration::from_secs(1);

/// How old a namespace's deletion mark must be before the namespace is removed.
const SETTLE: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

pub async fn run(server: Arc<ApiServer>) {
    let Some(namespaces) = resources::find("", "v1", "namespaces") else {
        return;
    };
    loop {
        // A change to any namespace wakes the loop early.
        let watch = server
            .store()
            .watch(
                &namespaces.key_prefix(None),
                server.store().current_revision(),
            )
            .await;
        if let Err(e) = sweep(&server).await {
            tracing::warn!(error = %e, "emptying terminating namespaces failed; will retry");
        }
        match watch {
            Ok(mut events) => {
                let _ = tokio::time::timeout(RESYNC, events.recv()).await;
            }
            Err(_) => tokio::time::sleep(RESYNC).await,
        }
    }
}

/// One pass over every terminating namespace.
async fn sweep(server: &ApiServer) -> Result<(), ApiError> {
    let namespaces = resources::find("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("no namespace kind"))?;
    let all = Options::parse(&Default::default(), namespaces)?;
    let listed = server.objects.list(namespaces, None, &all).await?;
    for ns in listed.items {
        let waiting_for_us = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == "kubernetes"));
        if !meta::is_deleting(&ns) || !waiting_for_us {
            continue;
        }
        let name = meta::name(&ns).unwrap_or_default().to_string();
        // A create that checked the namespace just before it was marked may still be
        // landing: empty it now, but finalize only once the mark is a couple of
        // seconds old, on a pass that finds it empty.
        let settled = meta::str_field(&ns, "/metadata/deletionTimestamp")
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .is_some_and(|t| jiff::Timestamp::now().duration_since(t) >= SETTLE);
        if empty(server, &name).await? && settled {
            let target = Target {
                info: namespaces,
                namespace: None,
                name: Some(name.clone()),
                subresource: None,
                watch_path: false,
            };
            match write::finalize_namespace(server, &target).await {
                Ok(()) | Err(ApiError { code: 404, .. }) => {
                    tracing::info!(namespace = %name, "namespace emptied and deleted");
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Deletes what is left in `namespace`; true once nothing is.
async fn empty(server: &ApiServer, namespace: &str) -> Result<bool, ApiError> {
    let mut remaining = 0usize;
    for info in RESOURCES.iter().filter(|r| r.namespaced) {
        let all = Options::parse(&Default::default(), info)?;
        let listed = server.objects.list(info, Some(namespace), &all).await?;
        for obj in listed.items {
            let target = Target {
                info,
                namespace: Some(namespace.to_string()),
                name: meta::name(&obj).map(str::to_string),
                subresource: None,
                watch_path: false,
            };
            match write::delete_one(server, &target, &DeleteOptions::default(), false).await {
                // Deleted now.
                Ok((code, _)) if code != write::PENDING => {}
                // Marked; its finalizers or its kubelet finish it.
                Ok(_) => remaining += 1,
                Err(ApiError { code: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(remaining == 0)
}
