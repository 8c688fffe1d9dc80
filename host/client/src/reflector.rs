//! Keeping a local copy of a collection current: list, then watch from the list's
//! resourceVersion, and list again whenever the watch ends or expires (410) —
//! client-go's reflector, in the shape Wharf's roles need.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{Client, ClientError};

/// What a reflector tells its owner.
#[derive(Debug, Clone)]
pub enum Reflected {
    /// The complete collection, after the first list and after every re-list; the
    /// owner replaces what it had with this.
    Listed(Vec<Value>),
    /// Created or changed.
    Applied(Value),
    Deleted(Value),
}

/// One line of a watch.
#[derive(serde::Deserialize)]
struct WatchEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    object: Value,
}

/// Runs until `tx` is closed. `path` is a collection path, with a query if needed
/// (`/api/v1/pods?fieldSelector=spec.nodeName=`).
pub async fn reflect(client: Client, path: String, tx: mpsc::UnboundedSender<Reflected>) {
    let mut failures = 0u32;
    while !tx.is_closed() {
        match list_and_watch(&client, &path, &tx, &mut failures).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = Duration::from_millis(200u64 << failures.min(5));
                tracing::debug!(path, error = %e, ?delay, "reflector: list/watch failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn list_and_watch(
    client: &Client,
    path: &str,
    tx: &mpsc::UnboundedSender<Reflected>,
    failures: &mut u32,
) -> Result<(), ClientError> {
    let list = client.get(path).await?;
    // A list that works ends the backoff: the next failure starts it afresh.
    *failures = 0;
    let mut rv = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_string();
    let items = match list.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    if tx.send(Reflected::Listed(items)).is_err() {
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
            while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let event = match serde_json::from_slice::<WatchEvent>(&line) {
                    Ok(event) => event,
                    // Skipping it would lose a change: start over with a list.
                    Err(e) => {
                        return Err(ClientError::Api {
                            url: path.to_string(),
                            code: 500,
                            reason: "InternalError".into(),
                            message: format!("unreadable watch event: {e}"),
                        });
                    }
                };
                let WatchEvent { kind, object } = event;
                let kind = kind.as_str();
                if kind == "ERROR" {
                    // 410 Gone and its kin: start over with a fresh list.
                    let code = object.get("code").and_then(Value::as_u64).unwrap_or(0);
                    return Err(ClientError::Api {
                        url: path.to_string(),
                        code: code as u16,
                        reason: object
                            .get("reason")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        message: object
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("watch error")
                            .to_string(),
                    });
                }
                if let Some(v) = object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                {
                    rv = v.to_string();
                }
                let sent = match kind {
                    "ADDED" | "MODIFIED" => tx.send(Reflected::Applied(object)),
                    "DELETED" => tx.send(Reflected::Deleted(object)),
                    _ => Ok(()),
                };
                if sent.is_err() {
                    return Ok(());
                }
            }
        }
        // The server ended the watch (a timeout, say): resume from where it was.
    }
}
