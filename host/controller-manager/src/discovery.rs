//! From a kind (`apps/v1` `ReplicaSet`) to where the API serves it
//! (`/apis/apps/v1/namespaces/{ns}/replicasets`), learnt from the server's own
//! discovery documents, so custom resources resolve the same way as built-in kinds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use wharf_client::{Client, ClientError};

/// Where one kind lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    fn prefix(&self) -> String {
        if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        }
    }

    /// The collection across all namespaces (or of a cluster-scoped kind).
    pub fn collection(&self) -> String {
        format!("{}/{}", self.prefix(), self.plural)
    }

    /// The collection in one namespace.
    pub fn namespaced_collection(&self, namespace: &str) -> String {
        if self.namespaced && !namespace.is_empty() {
            format!("{}/namespaces/{namespace}/{}", self.prefix(), self.plural)
        } else {
            self.collection()
        }
    }

    pub fn object(&self, namespace: &str, name: &str) -> String {
        format!("{}/{name}", self.namespaced_collection(namespace))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("the API serves no kind {kind} in {api_version}")]
    Unknown { api_version: String, kind: String },
    #[error("reading discovery for {api_version}: {source}")]
    Unreachable {
        api_version: String,
        source: ClientError,
    },
}

/// Resolves kinds, remembering each group-version's answer.
#[derive(Clone)]
pub struct Discovery {
    client: Client,
    known: Arc<Mutex<HashMap<(String, String), Resource>>>,
}

impl Discovery {
    pub fn new(client: Client) -> Self {
        Discovery {
            client,
            known: Arc::default(),
        }
    }

    /// Looks the kind up, asking the server when it is not known yet (a CRD
    /// created since the last question is found this way).
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resource, DiscoveryError> {
        let wanted = (api_version.to_string(), kind.to_string());
        if let Some(r) = self.lock().get(&wanted) {
            return Ok(r.clone());
        }
        let path = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        let list = match self.client.get(&path).await {
            Ok(list) => list,
            Err(ClientError::Api { code: 404, .. }) => {
                return Err(DiscoveryError::Unknown {
                    api_version: api_version.into(),
                    kind: kind.into(),
                });
            }
            Err(source) => {
                return Err(DiscoveryError::Unreachable {
                    api_version: api_version.into(),
                    source,
                });
            }
        };
        let mut known = self.lock();
        for r in list
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(k)) = (
                r.get("name").and_then(Value::as_str),
                r.get("kind").and_then(Value::as_str),
            ) else {
                continue;
            };
            // Subresources (`pods/status`) share their parent's kind.
            if name.contains('/') {
                continue;
            }
            known.insert(
                (api_version.to_string(), k.to_string()),
                Resource {
                    api_version: api_version.to_string(),
                    kind: k.to_string(),
                    plural: name.to_string(),
                    namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(true),
                },
            );
        }
        known
            .get(&wanted)
            .cloned()
            .ok_or_else(|| DiscoveryError::Unknown {
                api_version: api_version.into(),
                kind: kind.into(),
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Resource>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}
