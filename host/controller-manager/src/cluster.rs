//! What a controller instance may touch: the caches of the kinds it registered
//! (reads), the API server (writes, whose answers are written through to the
//! caches), events and logs. Implements the plugin host's [`Cluster`].

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use wharf_api_types::selector::LabelSelector;
use wharf_client::{Client, ClientError};
use wharf_plugin_host::controller::{
    ApiError, Cluster, ErrorReason, EventType, Key, KindRef, PatchType, Write,
};

use crate::informer::{Informer, Informers};
use crate::metrics::Metrics;

/// Writes one `apply-all` keeps in flight at once.
const CONCURRENT_WRITES: usize = 64;

pub struct ClusterAccess {
    pub(crate) controller: String,
    /// The kinds the registration named, by (apiVersion, kind).
    pub(crate) readable: HashMap<(String, String), Arc<Informer>>,
    pub(crate) informers: Informers,
    pub(crate) client: Client,
    pub(crate) events: Arc<wharf_client::events::Recorder>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) metrics: Arc<Metrics>,
}

impl ClusterAccess {
    fn informer(&self, kind: &KindRef) -> Option<&Arc<Informer>> {
        let found = self
            .readable
            .get(&(kind.api_version.clone(), kind.kind.clone()));
        if found.is_none() {
            tracing::warn!(
                controller = %self.controller,
                kind = %format!("{}/{}", kind.api_version, kind.kind),
                "read of a kind the controller did not register; it sees nothing"
            );
        }
        found
    }

    async fn write(&self, op: Write) -> Result<String, ApiError> {
        self.metrics.write(&self.controller);
        match op {
            Write::Create(json) => {
                let obj = parse(&json)?;
                let (api_version, kind, ns, _) = identity(&obj)?;
                let r = self.resolve(&api_version, &kind).await?;
                let created = self
                    .client
                    .create(&r.namespaced_collection(&ns), &obj)
                    .await
                    .map_err(api_error)?;
                Ok(self.written(&api_version, &kind, created))
            }
            Write::Update(json) => self.put(&json, "").await,
            Write::UpdateStatus(json) => self.put(&json, "/status").await,
            Write::UpdateSubresource(u) => {
                if u.subresource.is_empty() || u.subresource.contains('/') {
                    return Err(ApiError {
                        code: 400,
                        reason: ErrorReason::BadRequest,
                        message: format!("{:?} is not a subresource", u.subresource),
                    });
                }
                self.put(&u.object, &format!("/{}", u.subresource)).await
            }
            Write::Patch(p) => {
                let r = self.resolve(&p.kind.api_version, &p.kind.kind).await?;
                let mut path = r.object(&p.key.namespace, &p.key.name);
                if let Some(sub) = &p.subresource {
                    path = format!("{path}/{sub}");
                }
                let content_type = match p.patch_type {
                    PatchType::Merge => "application/merge-patch+json",
                    PatchType::Json => "application/json-patch+json",
                    PatchType::Strategic => "application/strategic-merge-patch+json",
                };
                let patched = self
                    .client
                    .patch(&path, content_type, p.body)
                    .await
                    .map_err(api_error)?;
                Ok(self.written(&p.kind.api_version, &p.kind.kind, patched))
            }
            Write::Delete(d) => {
                let r = self.resolve(&d.kind.api_version, &d.kind.kind).await?;
                let mut options = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
                if let Some(uid) = &d.uid {
                    options["preconditions"] = json!({"uid": uid});
                }
                if let Some(p) = &d.propagation {
                    options["propagationPolicy"] = json!(p);
                }
                let answer = self
                    .client
                    .delete_with(&r.object(&d.key.namespace, &d.key.name), &options)
                    .await
                    .map_err(api_error)?;
                if let Some(informer) = self.informers.get(&d.kind.api_version, &d.kind.kind) {
                    if answer.get("kind").and_then(Value::as_str) == Some(&d.kind.kind)
                        && answer.pointer("/metadata/deletionTimestamp").is_some()
                    {
                        // Still there, marked for deletion (finalizers, grace).
                        informer.write_through(answer.clone());
                    } else {
                        let rv = informer
                            .get(&d.key.namespace, &d.key.name)
                            .map(|e| e.rv)
                            .unwrap_or(0);
                        informer.write_through_delete(&d.key.namespace, &d.key.name, rv);
                    }
                }
                Ok(answer.to_string())
            }
        }
    }

    async fn put(&self, json: &str, sub: &str) -> Result<String, ApiError> {
        let obj = parse(json)?;
        let (api_version, kind, ns, name) = identity(&obj)?;
        let r = self.resolve(&api_version, &kind).await?;
        let path = format!("{}{sub}", r.object(&ns, &name));
        let updated = self.client.replace(&path, &obj).await.map_err(api_error)?;
        Ok(self.written(&api_version, &kind, updated))
    }

    async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<crate::discovery::Resource, ApiError> {
        self.informers
            .discovery
            .resolve(api_version, kind)
            .await
            .map_err(|e| ApiError {
                code: 404,
                reason: ErrorReason::NotFound,
                message: e.to_string(),
            })
    }

    /// Puts a written object into its kind's cache and answers with its JSON.
    fn written(&self, api_version: &str, kind: &str, obj: Value) -> String {
        let text = obj.to_string();
        if let Some(informer) = self.informers.get(api_version, kind) {
            informer.write_through(obj);
        }
        text
    }
}

fn parse(json: &str) -> Result<Value, ApiError> {
    serde_json::from_str(json).map_err(|e| ApiError {
        code: 400,
        reason: ErrorReason::BadRequest,
        message: format!("the controller sent an object that is not JSON: {e}"),
    })
}

/// apiVersion, kind, namespace and name (name may be empty with generateName).
fn identity(obj: &Value) -> Result<(String, String, String, String), ApiError> {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (s("/apiVersion"), s("/kind"));
    if api_version.is_empty() || kind.is_empty() {
        return Err(ApiError {
            code: 400,
            reason: ErrorReason::BadRequest,
            message: "the object has no apiVersion or kind".into(),
        });
    }
    Ok((
        api_version,
        kind,
        s("/metadata/namespace"),
        s("/metadata/name"),
    ))
}

fn api_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Api {
            code,
            reason,
            message,
            ..
        } => ApiError {
            code,
            reason: match (code, reason.as_str()) {
                (_, "NotFound") | (404, _) => ErrorReason::NotFound,
                (_, "AlreadyExists") => ErrorReason::AlreadyExists,
                (_, "Conflict") | (409, _) => ErrorReason::Conflict,
                (_, "Invalid") | (422, _) => ErrorReason::Invalid,
                (_, "BadRequest") | (400, _) => ErrorReason::BadRequest,
                (_, "Forbidden") | (403, _) => ErrorReason::Forbidden,
                (_, "Gone" | "Expired") | (410, _) => ErrorReason::Gone,
                (_, "RequestEntityTooLarge") | (413, _) => ErrorReason::TooLarge,
                (c, _) if c >= 500 => ErrorReason::Unavailable,
                _ => ErrorReason::Other,
            },
            message,
        },
        other => ApiError {
            code: 503,
            reason: ErrorReason::Unavailable,
            message: other.to_string(),
        },
    }
}

impl Cluster for ClusterAccess {
    fn get(&self, kind: &KindRef, key: &Key) -> Option<String> {
        let informer = self.informer(kind)?;
        informer
            .get(&key.namespace, &key.name)
            .map(|e| e.json().to_string())
    }

    fn fetch(&self, kind: &KindRef, key: &Key) -> Result<Option<String>, ApiError> {
        self.runtime.block_on(async {
            let r = self.resolve(&kind.api_version, &kind.kind).await?;
            match self.client.get(&r.object(&key.namespace, &key.name)).await {
                Ok(v) => Ok(Some(v.to_string())),
                Err(ClientError::Api { code: 404, .. }) => Ok(None),
                Err(e) => Err(api_error(e)),
            }
        })
    }

    fn fetch_list(
        &self,
        kind: &KindRef,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, ApiError> {
        self.runtime.block_on(async {
            let r = self.resolve(&kind.api_version, &kind.kind).await?;
            let mut path = r.namespaced_collection(namespace);
            if !selector.is_empty() {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("labelSelector", selector)
                    .finish();
                path = format!("{path}?{query}");
            }
            let list = self.client.get(&path).await.map_err(api_error)?;
            let items = match list {
                Value::Object(mut m) => match m.remove("items") {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            // A list's items may leave out their kind; the guest decodes objects.
            Ok(items
                .into_iter()
                .map(|mut item| {
                    if let Value::Object(m) = &mut item {
                        m.entry("apiVersion")
                            .or_insert_with(|| json!(kind.api_version));
                        m.entry("kind").or_insert_with(|| json!(kind.kind));
                    }
                    item.to_string()
                })
                .collect())
        })
    }

    fn list(&self, kind: &KindRef, namespace: &str, selector: &str) -> Result<Vec<String>, String> {
        let selector = LabelSelector::parse(selector)
            .map_err(|e| format!("label selector {selector:?}: {}", e.0))?;
        let Some(informer) = self.informer(kind) else {
            return Ok(Vec::new());
        };
        Ok(informer
            .list(namespace)
            .iter()
            .filter(|e| selector.matches_labels(&e.meta().labels))
            .map(|e| e.json().to_string())
            .collect())
    }

    fn list_owned(&self, kind: &KindRef, namespace: &str, owner_uid: &str) -> Vec<String> {
        let Some(informer) = self.informer(kind) else {
            return Vec::new();
        };
        informer
            .list(namespace)
            .iter()
            .filter(|e| crate::mapping::owned_by(e.meta(), owner_uid))
            .map(|e| e.json().to_string())
            .collect()
    }

    fn apply(&self, op: Write) -> Result<String, ApiError> {
        self.runtime.block_on(self.write(op))
    }

    fn apply_all(&self, ops: Vec<Write>) -> Vec<Result<String, ApiError>> {
        self.runtime.block_on(
            futures::stream::iter(ops)
                .map(|op| self.write(op))
                .buffered(CONCURRENT_WRITES)
                .collect(),
        )
    }

    fn event(&self, regarding: &str, kind: EventType, reason: &str, message: &str) {
        let Ok(obj) = serde_json::from_str::<Value>(regarding) else {
            tracing::warn!(controller = %self.controller, "an event about an object that is not JSON was dropped");
            return;
        };
        let component = format!("{}-controller", self.controller);
        let event = wharf_api_types::event::new(
            &component,
            wharf_api_types::event::reference(&obj),
            kind == EventType::Warning,
            reason,
            message,
        );
        // Events are advisory: sent without waiting, so a slow API never holds a
        // reconcile for one.
        let events = self.events.clone();
        self.runtime.spawn(async move {
            if let Err(e) = events.record(event).await {
                tracing::debug!(error = %e, "could not record an event");
            }
        });
    }
}
