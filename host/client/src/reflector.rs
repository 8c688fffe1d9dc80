//! Keeping a local copy of a collection current: list, then watch from the list's
//! resourceVersion, and list again whenever the watch ends or expires (410) —
//! client-go's reflector, in the shape Wharf's roles need.
//!
//! A reflector decodes objects into whatever type its owner keeps: a
//! `serde_json::Value` for owners that read arbitrary fields, or a struct with only
//! the fields the owner reads (the scheduler's pods and nodes), which skips the rest
//! of each object without building it.

use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{Client, ClientError};

/// An object a reflector can keep: decodable from the API's JSON, and able to say
/// which resourceVersion it is, so that a watch resumes after it.
pub trait Object: DeserializeOwned + Send + 'static {
    /// `metadata.resourceVersion`, when the object has one.
    fn resource_version(&self) -> Option<&str>;
}

impl Object for Value {
    fn resource_version(&self) -> Option<&str> {
        self.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
    }
}

/// What a reflector tells its owner.
#[derive(Debug, Clone)]
pub enum Reflected<T = Value> {
    /// The complete collection, after the first list and after every re-list; the
    /// owner replaces what it had with this.
    Listed(Vec<T>),
    /// Created or changed.
    Applied(T),
    Deleted(T),
}

/// One line of a watch, decoded in one pass into the owner's type.
#[derive(Debug, Deserialize)]
#[serde(bound = "O: DeserializeOwned")]
struct WatchEvent<O> {
    #[serde(rename = "type", default)]
    kind: String,
    object: Option<O>,
}

/// The parts of a `Status` an ERROR event is reported by.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WatchStatus {
    code: u16,
    reason: String,
    message: String,
}

/// A collection, as a LIST answers it.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct List<T> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Option<Vec<T>>,
}

#[derive(Debug, Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
}

fn unreadable(path: &str, what: &str, e: serde_json::Error) -> ClientError {
    ClientError::Api {
        url: path.to_string(),
        code: 500,
        reason: "InternalError".into(),
        message: format!("unreadable {what}: {e}"),
    }
}

/// Consecutive failures after which a reflector warns.
const PERSISTENT_FAILURES: u32 = 5;

/// Runs until `tx` is closed. `path` is a collection path, with a query if needed
/// (`/api/v1/pods?fieldSelector=spec.nodeName=`).
pub async fn reflect<T: Object>(
    client: Client,
    path: String,
    tx: mpsc::UnboundedSender<Reflected<T>>,
) {
    let mut failures = 0u32;
    while !tx.is_closed() {
        match list_and_watch(&client, &path, &tx, &mut failures).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = Duration::from_millis(200u64 << failures.min(5));
                // One failure is routine (a watch expiring, a restart); a run of
                // them (a server away, objects this owner cannot read) is worth a
                // warning, once per run.
                if failures == PERSISTENT_FAILURES {
                    tracing::warn!(path, error = %e, failures, "reflector: list/watch keeps failing; still retrying");
                } else {
                    tracing::debug!(path, error = %e, ?delay, "reflector: list/watch failed; retrying");
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn list_and_watch<T: Object>(
    client: &Client,
    path: &str,
    tx: &mpsc::UnboundedSender<Reflected<T>>,
    failures: &mut u32,
) -> Result<(), ClientError> {
    let body = client.get_bytes(path).await?;
    let list: List<T> = serde_json::from_slice(&body).map_err(|e| unreadable(path, "list", e))?;
    // A list that works ends the backoff: the next failure starts it afresh.
    *failures = 0;
    let mut rv = match list.metadata.resource_version {
        v if v.is_empty() => "0".to_string(),
        v => v,
    };
    if tx
        .send(Reflected::Listed(list.items.unwrap_or_default()))
        .is_err()
    {
        return Ok(());
    }
    loop {
        let mut body = client.open_watch(path, &rv).await?;
        let mut buf: Vec<u8> = Vec::new();
        // A connection that went silent past the timeout the server was given
        // (half-open after a network fault) is abandoned and the watch resumed.
        let silence = crate::WATCH_TIMEOUT + Duration::from_secs(30);
        while let Some(chunk) = match tokio::time::timeout(silence, body.next()).await {
            Ok(next) => next,
            Err(_) => {
                return Err(ClientError::Api {
                    url: path.to_string(),
                    code: 504,
                    reason: "Timeout".into(),
                    message: "watch went silent".into(),
                });
            }
        } {
            buf.extend_from_slice(&chunk?);
            // Every complete line of the buffer, then what is left of it moves to
            // the front once (a chunk may carry many events).
            let mut start = 0;
            while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
                let line = &buf[start..start + nl];
                start += nl + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let event = decode_event::<T>(path, line)?;
                let Some(object) = event.object else {
                    continue;
                };
                if let Some(v) = object.resource_version() {
                    rv = v.to_string();
                }
                let sent = match event.kind.as_str() {
                    "ADDED" | "MODIFIED" => tx.send(Reflected::Applied(object)),
                    "DELETED" => tx.send(Reflected::Deleted(object)),
                    _ => Ok(()),
                };
                if sent.is_err() {
                    return Ok(());
                }
            }
            buf.drain(..start);
        }
        // The server ended the watch (a timeout, say): resume from where it was.
    }
}

/// Reads one line of a watch. An ERROR event (410 Gone and its kin) becomes the
/// error it reports, so that the reflector starts over with a fresh list; so does
/// a line that cannot be read, since skipping it would lose a change.
fn decode_event<T: Object>(path: &str, line: &[u8]) -> Result<WatchEvent<T>, ClientError> {
    match serde_json::from_slice::<WatchEvent<T>>(line) {
        Ok(event) if event.kind != "ERROR" => Ok(event),
        // An ERROR event carries a Status, not an object of the collection's
        // kind: read it again as one.
        first => match serde_json::from_slice::<WatchEvent<WatchStatus>>(line) {
            Ok(WatchEvent { kind, object }) if kind == "ERROR" => {
                let status = object.unwrap_or_default();
                Err(ClientError::Api {
                    url: path.to_string(),
                    code: status.code,
                    reason: status.reason,
                    message: if status.message.is_empty() {
                        "watch error".to_string()
                    } else {
                        status.message
                    },
                })
            }
            _ => first.map_err(|e| unreadable(path, "watch event", e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owner type stricter than a Status: it needs `spec.size`.
    #[derive(Debug, Deserialize)]
    struct Sized {
        metadata: ListMeta,
        spec: Size,
    }

    #[derive(Debug, Deserialize)]
    struct Size {
        size: u32,
    }

    impl Object for Sized {
        fn resource_version(&self) -> Option<&str> {
            Some(&self.metadata.resource_version)
        }
    }

    fn error_code<T: Object + std::fmt::Debug>(line: &str) -> u16 {
        match decode_event::<T>("/x", line.as_bytes()) {
            Err(ClientError::Api { code, .. }) => code,
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn events_decode_into_the_owners_type() {
        let line = r#"{"type":"MODIFIED","object":{"metadata":{"resourceVersion":"12"},"spec":{"size":3},"status":{"big":[1,2,3]}}}"#;
        let event = decode_event::<Sized>("/x", line.as_bytes()).unwrap();
        assert_eq!(event.kind, "MODIFIED");
        let object = event.object.unwrap();
        assert_eq!(
            (object.spec.size, object.resource_version()),
            (3, Some("12"))
        );
        let event = decode_event::<Value>("/x", line.as_bytes()).unwrap();
        assert_eq!(event.object.unwrap()["status"]["big"][2], 3);
    }

    #[test]
    fn errors_and_unreadable_lines_end_the_watch() {
        let gone = r#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}"#;
        // Whatever the owner's type, and whether or not a Status fits it.
        assert_eq!(error_code::<Sized>(gone), 410);
        assert_eq!(error_code::<Value>(gone), 410);
        assert_eq!(error_code::<Sized>("{not json"), 500);
        assert_eq!(
            error_code::<Sized>(r#"{"type":"ADDED","object":{"spec":{"size":"three"}}}"#),
            500
        );
    }
}
