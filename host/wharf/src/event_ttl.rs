//! Events expire, as on Kubernetes (kube-apiserver's `--event-ttl`, one hour by
//! default): an Event not written for that long is deleted. Without it a
//! long-running cluster would keep every Event it ever recorded, and the whole
//! store lives in memory.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use wharf_client::{Client, ClientError};

/// Sweeps every `ttl / 4` (at most a minute, at least a second) until the task
/// is dropped with the runtime.
pub fn spawn(client: Client, ttl: Duration) {
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&client, ttl).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(expired = n, "deleted expired events"),
                Err(e) => tracing::warn!(error = %e, "expiring events failed; trying again later"),
            }
        }
    });
}

/// Deletes the Events last written more than `ttl` ago; how many went.
async fn sweep(client: &Client, ttl: Duration) -> Result<usize, ClientError> {
    let list = client.get("/api/v1/events").await?;
    let now = Timestamp::now();
    let ttl = SignedDuration::try_from(ttl).unwrap_or(SignedDuration::MAX);
    let mut expired = 0;
    for event in list["items"].as_array().into_iter().flatten() {
        let Some(written) = last_written(event) else {
            continue;
        };
        if now.duration_since(written) <= ttl {
            continue;
        }
        let text = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or("");
        let path = format!(
            "/api/v1/namespaces/{}/events/{}",
            text("/metadata/namespace"),
            text("/metadata/name")
        );
        // Only the version looked at: a repeat recorded meanwhile keeps it.
        let options = json!({"kind": "DeleteOptions", "apiVersion": "v1",
            "preconditions": {"resourceVersion": text("/metadata/resourceVersion")}});
        match client.delete_with(&path, &options).await {
            Ok(_) => expired += 1,
            Err(ClientError::Api {
                code: 404 | 409, ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}

/// When an Event was last written: the latest of its creation, its last
/// occurrence and its series' last observation.
fn last_written(event: &Value) -> Option<Timestamp> {
    [
        "/metadata/creationTimestamp",
        "/lastTimestamp",
        "/eventTime",
        "/series/lastObservedTime",
    ]
    .iter()
    .filter_map(|p| event.pointer(p).and_then(Value::as_str))
    .filter_map(|t| t.parse::<Timestamp>().ok())
    .max()
}

/// `--event-ttl`: a duration as kube-apiserver takes it (`1h`, `30m`, `1h30m`,
/// `90s`); 0 keeps Events forever.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    let d: SignedDuration = text
        .parse()
        .map_err(|e| format!("{text:?} is not a duration such as 1h, 30m or 90s ({e})"))?;
    Duration::try_from(d).map_err(|_| format!("{text:?}: a TTL cannot be negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_write_counts_and_durations_read_as_kubernetes_writes_them() {
        let event = json!({"metadata": {"creationTimestamp": "2026-12-07T10:00:00Z"},
            "lastTimestamp": "2026-12-07T11:00:00Z",
            "series": {"lastObservedTime": "2026-12-07T11:30:00.123456Z"}});
        assert_eq!(
            last_written(&event).unwrap().to_string(),
            "2026-12-07T11:30:00.123456Z"
        );
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("0").unwrap(), Duration::ZERO);
        assert!(parse_ttl("soon").unwrap_err().contains("\"soon\""));
        assert!(parse_ttl("-5m").is_err());
    }
}
