//! The status conditions of a namespace being deleted, as Kubernetes' namespace
//! controller writes them: what content remains, which finalizers hold it, and
//! whether deleting it failed.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};
use wharf_controller_sdk::ownership::unless_lost_race;
use wharf_controller_sdk::{Context, Error, Write};

/// The content still in the namespace, by resource and by finalizer.
#[derive(Default)]
pub struct Remaining {
    by_resource: BTreeMap<String, usize>,
    by_finalizer: BTreeMap<String, usize>,
}

impl Remaining {
    /// Counts `obj`, of `resource` (`pods.`, `widgets.example.com`).
    pub fn count(&mut self, resource: &str, obj: &Value) {
        *self.by_resource.entry(resource.to_string()).or_default() += 1;
        let finalizers = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array);
        for f in finalizers.into_iter().flatten().filter_map(Value::as_str) {
            *self.by_finalizer.entry(f.to_string()).or_default() += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_resource.is_empty()
    }
}

/// One condition: (type, status, reason, message).
type Condition = (&'static str, &'static str, &'static str, String);

fn wanted(left: &Remaining, failure: Option<&Error>) -> Vec<Condition> {
    let mut conditions = vec![
        (
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered".to_string(),
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".to_string(),
        ),
    ];
    conditions.push(match failure {
        Some(e) => (
            "NamespaceDeletionContentFailure",
            "True",
            "ContentDeletionFailed",
            format!("Failed to delete all resource types, 1 remaining: {e}"),
        ),
        None => (
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".to_string(),
        ),
    });
    conditions.push(if left.by_resource.is_empty() {
        (
            "NamespaceContentRemaining",
            "False",
            "ContentRemoved",
            "All content successfully removed".to_string(),
        )
    } else {
        let each: Vec<String> = left
            .by_resource
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect();
        (
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", each.join(", ")),
        )
    });
    conditions.push(if left.by_finalizer.is_empty() {
        (
            "NamespaceFinalizersRemaining",
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished".to_string(),
        )
    } else {
        let each: Vec<String> = left
            .by_finalizer
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect();
        (
            "NamespaceFinalizersRemaining",
            "True",
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                each.join(", ")
            ),
        )
    });
    conditions
}

/// Writes the conditions `left` and `failure` call for into the namespace's
/// status, when they differ from what it says; a condition whose status stays
/// keeps its transition time. Answers the namespace as it now is.
pub fn report(
    ctx: &Context<'_>,
    ns: Value,
    left: &Remaining,
    failure: Option<&Error>,
) -> Result<Value, Error> {
    let old: Vec<Value> = ns
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut changed = false;
    let mut conditions = Vec::new();
    for (ty, status, reason, message) in wanted(left, failure) {
        let before = old.iter().find(|c| c["type"] == ty);
        let same = |field: &str, v: &str| before.is_some_and(|c| c[field] == v);
        if !(same("status", status) && same("reason", reason) && same("message", &message)) {
            changed = true;
        }
        let since = before
            .filter(|_| same("status", status))
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now));
        conditions.push(
            json!({"type": ty, "status": status, "lastTransitionTime": since,
            "reason": reason, "message": message}),
        );
    }
    // Conditions of other types (another controller's) stay as they are.
    let others: Vec<Value> = old
        .iter()
        .filter(|c| !conditions.iter().any(|n| n["type"] == c["type"]))
        .cloned()
        .collect();
    conditions.extend(others);
    if !changed {
        return Ok(ns);
    }
    let mut updated = ns.clone();
    updated["status"]["conditions"] = json!(conditions);
    match unless_lost_race(ctx.apply(Write::UpdateStatus(updated.to_string())))? {
        Some(answer) => serde_json::from_str(&answer).map_err(|e| Error::Decode {
            what: "the namespace written".into(),
            message: e.to_string(),
        }),
        // Changed meanwhile: that change brings another pass.
        None => Ok(ns),
    }
}
