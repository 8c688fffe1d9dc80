//! `ComponentStatus` (`kubectl get componentstatuses`, or `cs`): the health of the
//! control plane's parts, probed when asked and never stored.
//!
//! Kubernetes deprecated the kind in 1.19 but still serves it, with a warning, and
//! older guides still tell a new user to type `kubectl get cs` to see whether the
//! control plane is up. Kubernetes probes its scheduler's and controller manager's
//! health ports and its etcd members. Wharf's parts run in this process, so each
//! one registers a probe (see [`ApiServer::add_component`](crate::ApiServer)); the
//! store is always there and is named for what it is (`store`, not `etcd-0`).
//!
//! Only `get` and `list` are served, as Kubernetes serves them.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::render::{self, Body};
use crate::request::Representation;

pub const PLURAL: &str = "componentstatuses";
pub const KIND: &str = "ComponentStatus";
pub const SHORT_NAMES: &[&str] = &["cs"];

/// What Kubernetes says with every answer (kubectl prints it).
pub const DEPRECATION: &str = "v1 ComponentStatus is deprecated in v1.19+";

/// The name of the store's component.
pub const STORE: &str = "store";

/// What a probe found: `Ok(message)` when healthy, `Err(error)` when not.
pub type Health = Result<String, String>;

/// A part's health check, cheap enough to run on every request.
pub type Probe = Arc<dyn Fn() -> Health + Send + Sync>;

/// Whether `segments` (a path's, split on `/`) name the collection or one of its
/// objects: `Some(None)` for the collection, `Some(Some(name))` for an object.
pub fn target<'a>(segments: &[&'a str]) -> Option<Option<&'a str>> {
    match segments {
        ["api", "v1", PLURAL] => Some(None),
        ["api", "v1", PLURAL, name] => Some(Some(name)),
        _ => None,
    }
}

/// One component as Kubernetes renders it: a single `Healthy` condition.
pub fn object(name: &str, health: &Health) -> Value {
    let condition = match health {
        Ok(message) => json!({"type": "Healthy", "status": "True", "message": message}),
        Err(error) => json!({"type": "Healthy", "status": "False", "error": error}),
    };
    json!({
        "kind": KIND,
        "apiVersion": "v1",
        "metadata": {"name": name},
        "conditions": [condition],
    })
}

/// Answers `GET` of the collection (`name` is `None`) or of one component, from
/// `components` (name and what its probe found, in the order they are listed).
pub fn answer(
    components: &[(String, Health)],
    name: Option<&str>,
    repr: Representation,
) -> Result<axum::response::Response, ApiError> {
    let warnings = [DEPRECATION.to_string()];
    let body = match name {
        Some(name) => {
            let (name, health) =
                components
                    .iter()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| ApiError {
                        details: Some(json!({"name": name, "kind": PLURAL})),
                        ..ApiError::new(404, "NotFound", format!("{PLURAL} \"{name}\" not found"))
                    })?;
            Body::Object(object(name, health))
        }
        None => {
            let items: Vec<Value> = components.iter().map(|(n, h)| object(n, h)).collect();
            match repr {
                Representation::Table { include_object } => Body::Plain(render::table(
                    "v1",
                    KIND,
                    &items,
                    include_object,
                    json!({}),
                    true,
                )),
                _ => Body::Plain(json!({
                    "kind": "ComponentStatusList",
                    "apiVersion": "v1",
                    "metadata": {},
                    "items": items,
                })),
            }
        }
    };
    Ok(render::respond(200, repr, body, &warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_collection_or_one_component() {
        assert_eq!(target(&["api", "v1", "componentstatuses"]), Some(None));
        assert_eq!(
            target(&["api", "v1", "componentstatuses", "scheduler"]),
            Some(Some("scheduler"))
        );
        assert_eq!(target(&["api", "v1", "pods"]), None);
        assert_eq!(
            target(&["api", "v1", "namespaces", "a", "componentstatuses"]),
            None
        );
    }

    #[test]
    fn health_becomes_one_healthy_condition() {
        let ok = object("store", &Ok("sled ok".into()));
        assert_eq!(ok["conditions"][0]["status"], "True");
        assert_eq!(ok["conditions"][0]["message"], "sled ok");
        let bad = object("scheduler", &Err("stopped".into()));
        assert_eq!(bad["conditions"][0]["status"], "False");
        assert_eq!(bad["conditions"][0]["error"], "stopped");
        assert!(bad["conditions"][0].get("message").is_none());
    }
}
