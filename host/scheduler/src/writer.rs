//! Writes to the API on the scheduler's behalf, off the deciding thread: bindings
//! (many in flight, their outcome reported back), and events and pod conditions
//! (best effort: under a flood they are dropped, as Kubernetes' event recorder
//! drops them, rather than slowing scheduling).

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use wharf_client::{Client, ClientError};

use crate::core::CoreEvent;

pub struct BindJob {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub node: String,
}

pub enum Note {
    Event {
        /// The scheduler name the event is reported from: the profile's.
        source: String,
        namespace: String,
        pod: String,
        uid: String,
        warning: bool,
        reason: &'static str,
        message: String,
    },
    /// `PodScheduled=False` with the reason, as kube-scheduler sets it.
    Unschedulable {
        namespace: String,
        pod: String,
        message: String,
    },
}

/// The component name events are reported under.
pub const COMPONENT: &str = "default-scheduler";

/// The name a profile's events are reported from, as kube-scheduler reports them
/// from the profile's `schedulerName`: `default-scheduler` for the default one.
pub fn source_of(profile: &str) -> String {
    match profile {
        "default" => COMPONENT.to_string(),
        other => other.to_string(),
    }
}
const BINDS_IN_FLIGHT: usize = 64;
const NOTES_IN_FLIGHT: usize = 16;
pub const NOTE_BACKLOG: usize = 4096;

pub async fn run_binder(
    client: Client,
    mut jobs: mpsc::UnboundedReceiver<BindJob>,
    core: std::sync::mpsc::Sender<CoreEvent>,
) {
    let permits = Arc::new(Semaphore::new(BINDS_IN_FLIGHT));
    while let Some(job) = jobs.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let client = client.clone();
        let core = core.clone();
        tokio::spawn(async move {
            let path = format!(
                "/api/v1/namespaces/{}/pods/{}/binding",
                job.namespace, job.name
            );
            let body = json!({
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": job.name, "namespace": job.namespace, "uid": job.uid},
                "target": {"apiVersion": "v1", "kind": "Node", "name": job.node},
            });
            let outcome = client.create(&path, &body).await;
            let event = match outcome {
                Ok(_) => CoreEvent::Bound {
                    uid: job.uid,
                    node: job.node,
                },
                Err(e) => CoreEvent::BindFailed {
                    uid: job.uid,
                    node: job.node,
                    gone: matches!(e, ClientError::Api { code: 404, .. }),
                    message: e.to_string(),
                },
            };
            let _ = core.send(event);
            drop(permit);
        });
    }
}

pub async fn run_notes(client: Client, mut notes: mpsc::Receiver<Note>) {
    let permits = Arc::new(Semaphore::new(NOTES_IN_FLIGHT));
    let events = Arc::new(wharf_client::events::Recorder::new(client.clone()));
    while let Some(note) = notes.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let client = client.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let result = match note {
                Note::Event {
                    source,
                    namespace,
                    pod,
                    uid,
                    warning,
                    reason,
                    message,
                } => {
                    let involved = json!({"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": namespace, "uid": uid});
                    events
                        .record(event(
                            &source, &namespace, involved, warning, reason, &message,
                        ))
                        .await
                }
                Note::Unschedulable {
                    namespace,
                    pod,
                    message,
                } => {
                    let patch = json!({"status": {"conditions": [{
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": message,
                        "lastProbeTime": null,
                        "lastTransitionTime": wharf_api_types::meta::now_rfc3339(),
                    }]}});
                    client
                        .strategic_patch(
                            &format!("/api/v1/namespaces/{namespace}/pods/{pod}/status"),
                            &patch,
                        )
                        .await
                        .map(drop)
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "scheduler: could not record an event or condition");
            }
            drop(permit);
        });
    }
}

/// A core/v1 Event about `involved` (an object reference), from the scheduler.
pub(crate) fn event(
    source: &str,
    namespace: &str,
    involved: Value,
    warning: bool,
    reason: &str,
    message: &str,
) -> Value {
    let mut event = wharf_api_types::event::new(source, involved, warning, reason, message);
    event["metadata"]["namespace"] = json!(namespace);
    event["action"] = json!(if reason == "Scheduled" {
        "Binding"
    } else {
        "Scheduling"
    });
    event
}
