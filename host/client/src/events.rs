//! Recording core/v1 Events the way client-go's recorder does: an Event identical
//! to one recorded before (same source, object, type, reason and message) raises
//! that Event's `count` and `lastTimestamp` instead of adding another one. So
//! `kubectl describe pod` prints one `FailedScheduling … (x3 over 23s)` line for a
//! pod that failed to schedule three times, not three lines, and a pod that keeps
//! failing does not fill the store with copies.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::{Client, ClientError};

/// How many distinct events are remembered for counting, as many as client-go's
/// cache holds. Unlike that LRU cache, the one recorded first is forgotten first,
/// however often it repeated since; a later repeat of it starts a new Event.
const REMEMBERED: usize = 4096;

/// Sends Events through one client, counting repeats. Shared by everything in a
/// role that reports events.
pub struct Recorder {
    client: Client,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    by_key: HashMap<String, Recorded>,
    /// Keys, oldest first.
    order: VecDeque<String>,
}

/// The Event an identity was last recorded as.
struct Recorded {
    namespace: String,
    name: String,
    count: u64,
}

/// What makes two events the same: everything but their timestamps and count.
fn identity(event: &Value) -> String {
    let s = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or("");
    json!([
        s("/source/component"),
        s("/source/host"),
        s("/reportingInstance"),
        s("/involvedObject/apiVersion"),
        s("/involvedObject/kind"),
        s("/involvedObject/namespace"),
        s("/involvedObject/name"),
        s("/involvedObject/uid"),
        s("/involvedObject/fieldPath"),
        s("/type"),
        s("/reason"),
        s("/message"),
    ])
    .to_string()
}

/// A new Event's name as client-go makes it: the object's name and the time in
/// nanoseconds, in hex, so that names sort by time and do not collide.
fn new_name(event: &Value) -> String {
    let object = event
        .pointer("/involvedObject/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("object");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let suffix = format!(".{nanos:x}");
    // Names are DNS subdomains, at most 253 characters: a long object name is cut
    // (at a character boundary, and not left ending in a dot or dash).
    let mut keep = object.len().min(MAX_NAME - suffix.len());
    while !object.is_char_boundary(keep) {
        keep -= 1;
    }
    let object = object[..keep].trim_end_matches(['.', '-']);
    format!("{object}{suffix}")
}

/// The longest object name Kubernetes accepts (a DNS subdomain).
const MAX_NAME: usize = 253;

impl Seen {
    /// The Event to update for a repeat of `key`, its count raised; None the
    /// first time.
    fn repeat(&mut self, key: &str) -> Option<(String, String, u64)> {
        let recorded = self.by_key.get_mut(key)?;
        recorded.count += 1;
        Some((
            recorded.namespace.clone(),
            recorded.name.clone(),
            recorded.count,
        ))
    }

    fn remember(&mut self, key: String, namespace: String, name: String) {
        if !self.by_key.contains_key(&key) {
            self.order.push_back(key.clone());
        }
        self.by_key.insert(
            key,
            Recorded {
                namespace,
                name,
                count: 1,
            },
        );
        while self.order.len() > REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.by_key.remove(&oldest);
            }
        }
    }
}

impl Recorder {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            seen: Mutex::new(Seen::default()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `event`, a whole core/v1 Event with `metadata.namespace` set: a
    /// repeat updates the Event recorded before, anything else creates one.
    pub async fn record(&self, mut event: Value) -> Result<(), ClientError> {
        let key = identity(&event);
        let repeat = self.seen().repeat(&key);
        if let Some((namespace, name, count)) = repeat {
            let patch = json!({
                "count": count,
                "lastTimestamp": event.get("lastTimestamp").cloned().unwrap_or(Value::Null),
            });
            let path = format!("/api/v1/namespaces/{namespace}/events/{name}");
            match self.client.merge_patch_unread(&path, &patch).await {
                Ok(()) => return Ok(()),
                // Deleted (or not yet created): record it afresh below.
                Err(ClientError::Api { code: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let namespace = event
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default")
            .to_string();
        let name = new_name(&event);
        if let Some(meta) = event.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("generateName");
            meta.insert("name".into(), Value::from(name.as_str()));
        }
        // Remembered before it is sent, so that a repeat sent after this create
        // updates it. (One that reaches the server before the create is answered
        // 404 and adds a second Event: rare, and what client-go's recorder does.)
        self.seen().remember(key, namespace.clone(), name);
        self.client
            .create_unread(&format!("/api/v1/namespaces/{namespace}/events"), &event)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Value {
        json!({
            "metadata": {"namespace": "default", "generateName": "p."},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "uid": "u1"},
            "source": {"component": "default-scheduler"},
            "type": "Warning",
            "reason": "FailedScheduling",
            "message": message,
            "count": 1,
            "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        })
    }

    #[test]
    fn identity_ignores_time_and_count_but_not_the_message() {
        let mut later = event("no nodes");
        later["lastTimestamp"] = json!("2026-01-01T00:01:00Z");
        later["count"] = json!(7);
        assert_eq!(identity(&event("no nodes")), identity(&later));
        assert_ne!(identity(&event("no nodes")), identity(&event("1 node")));
        let mut other_pod = event("no nodes");
        other_pod["involvedObject"]["uid"] = json!("u2");
        assert_ne!(identity(&event("no nodes")), identity(&other_pod));
    }

    #[test]
    fn repeats_count_up_and_the_oldest_is_forgotten_first() {
        let mut seen = Seen::default();
        assert!(seen.repeat("a").is_none());
        seen.remember("a".into(), "default".into(), "p.1".into());
        assert_eq!(seen.repeat("a"), Some(("default".into(), "p.1".into(), 2)));
        assert_eq!(seen.repeat("a").map(|r| r.2), Some(3));
        for i in 0..REMEMBERED {
            seen.remember(format!("k{i}"), "default".into(), format!("n{i}"));
        }
        assert!(seen.repeat("a").is_none(), "the oldest key was forgotten");
        assert_eq!(seen.by_key.len(), REMEMBERED);
        assert_eq!(seen.order.len(), REMEMBERED);
    }

    #[test]
    fn new_names_start_with_the_object_name() {
        let name = new_name(&event("x"));
        assert!(name.starts_with("p."), "{name}");
        assert!(name.len() > 3);
    }

    #[test]
    fn a_long_object_name_is_cut_to_a_valid_event_name() {
        let mut long = event("x");
        long["involvedObject"]["name"] = json!(format!("{}-{}", "a".repeat(235), "b".repeat(17)));
        // The cut lands just after the dash (a 16-digit hex suffix), which goes.
        let name = new_name(&long);
        assert!(name.len() <= MAX_NAME, "{} characters", name.len());
        assert!(name.starts_with("aaaa"), "{name}");
        assert!(!name.contains("-."), "{name}");
    }
}
