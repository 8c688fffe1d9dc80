//! Streamed watches: `GET ...?watch=true` answered with one JSON event per line.
//!
//! A watch from a resourceVersion resumes from the store's history; a watch without
//! one (or with "0") first sends the current objects as ADDED. Selectors are applied
//! to both the new and the previous state of each change, so an object that stops
//! matching is reported DELETED and one that starts matching ADDED, as Kubernetes
//! does. History older than the store keeps ends the stream with an ERROR event
//! carrying a 410 Expired Status, after which clients re-list.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body as HttpBody;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use wharf_api_types::ResourceInfo;
use wharf_store::{Event, EventKind, StoreError, WatchStream};

use crate::error::ApiError;
use crate::render::{self, partial_metadata};
use crate::request::{Options, Representation, Target};
use crate::server::ApiServer;
use crate::storage::Objects;

/// The longest a watch may be asked to last (a week).
const MAX_WATCH_SECONDS: u64 = 7 * 24 * 3600;

/// How often an idle watch that asked for bookmarks gets one.
pub const BOOKMARK_INTERVAL: Duration = Duration::from_secs(10);

/// Encodes watch events in the client's representation.
struct Encoder {
    info: &'static ResourceInfo,
    repr: Representation,
    /// Tables carry their column definitions on the first event only.
    sent_columns: bool,
    /// A custom kind's objects are shown at the version watched.
    custom: bool,
}

impl Encoder {
    fn event(&mut self, kind: &str, obj: &Value) -> Bytes {
        let object = match self.repr {
            Representation::Table { include_object } => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let t = render::table(
                    &self.info.api_version(),
                    self.info.kind,
                    std::slice::from_ref(obj),
                    include_object,
                    json!({"resourceVersion": rv}),
                    !self.sent_columns,
                );
                self.sent_columns = true;
                t
            }
            Representation::Metadata => partial_metadata(obj),
            Representation::Json | Representation::Yaml => obj.clone(),
        };
        line(&json!({"type": kind, "object": object}))
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(&json!({"type": "BOOKMARK", "object": {
            "kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": metadata}}))
    }

    /// A store change as a watch event of type `kind`. JSON (what every client but
    /// kubectl's table printer asks for) is the stored bytes with the revision
    /// spliced in (see `raw_with_revision`); nothing else is decoded.
    fn change(&mut self, kind: &str, event: &Event) -> Result<Bytes, ApiError> {
        // An object leaving the selectors is DELETED as it last matched them, at
        // the revision that moved it out (as Kubernetes' watch cache sends it).
        let value = match (kind, event.kind, &event.prev_value) {
            ("DELETED", EventKind::Updated, Some(prev)) => prev,
            _ => &event.value,
        };
        if self.repr != Representation::Json {
            let mut obj = Objects::decode(value, event.revision)?;
            if self.custom {
                crate::storage::at_version(self.info, &mut obj);
            }
            return Ok(self.event(kind, &obj));
        }
        let mut object = crate::storage::raw_with_revision(value, event.revision)?;
        if self.custom {
            object = crate::storage::raw_at_version(self.info, object);
        }
        let mut out = Vec::with_capacity(object.len() + 32);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        out.extend_from_slice(&object);
        out.extend_from_slice(b"}\n");
        Ok(Bytes::from(out))
    }
}

fn line(v: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn error_event(e: &ApiError) -> Bytes {
    line(&json!({"type": "ERROR", "object": e.status()}))
}

/// The type of watch event a store change is to a watcher with `options`'
/// selectors, if it is one at all. Selectors see both the new and the previous
/// state, reading only the fields they name.
fn event_type(event: &Event, options: &Options) -> Result<Option<&'static str>, ApiError> {
    let old_matches = match &event.prev_value {
        Some(prev) => options.selects_json(prev)?,
        None => false,
    };
    Ok(match event.kind {
        EventKind::Created => options.selects_json(&event.value)?.then_some("ADDED"),
        EventKind::Deleted => old_matches.then_some("DELETED"),
        EventKind::Updated => match (old_matches, options.selects_json(&event.value)?) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        },
    })
}

pub async fn serve(
    server: Arc<ApiServer>,
    target: Target,
    options: Options,
    repr: Representation,
) -> Result<Response, ApiError> {
    let info = target.info;
    let namespace = target.namespace.clone();
    let prefix = info.key_prefix(namespace.as_deref());
    let requested = options.revision()?;
    let initial = options.send_initial_events.unwrap_or(requested.is_none());
    // Initial state first, then the changes after it.
    let (initial_items, start) = if initial {
        let mut list_options = options.clone();
        list_options.limit = 0;
        list_options.continue_token = None;
        if let Some(rv) = requested {
            // Initial events "not older than" a revision not written yet.
            server.objects.wait_for_revision(rv).await?;
        }
        // Listed at one revision, which the watch then starts after: a write
        // racing the listing is in one or the other, never in both (a duplicate
        // ADDED) and never in neither.
        list_options.resource_version = Some(server.store().current_revision().to_string());
        list_options.resource_version_match = Some("Exact".into());
        let listed = server
            .objects
            .list(info, namespace.as_deref(), &list_options)
            .await?;
        (listed.items, listed.revision)
    } else {
        // From the revision asked for; with none (`sendInitialEvents=false`), from now.
        let rv = match requested {
            Some(rv) => {
                server.objects.wait_for_revision(rv).await?;
                rv
            }
            None => server.store().current_revision(),
        };
        (Vec::new(), rv)
    };
    let stream = server.store().watch(&prefix, start).await;
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    let mut encoder = Encoder {
        info,
        repr,
        sent_columns: false,
        custom: wharf_api_types::custom::is_custom(info),
    };
    match stream {
        Err(StoreError::Compacted { requested, oldest }) => {
            let e = ApiError::gone(format!("too old resource version: {requested} ({oldest})"));
            let _ = tx.try_send(Ok(error_event(&e)));
        }
        Err(e) => return Err(ApiError::from_store(info, "", e)),
        Ok(stream) => {
            let mut first = Vec::with_capacity(initial_items.len() + 1);
            for obj in &initial_items {
                first.push(encoder.event("ADDED", obj));
            }
            if options.send_initial_events == Some(true) && options.allow_bookmarks {
                first.push(encoder.bookmark(start, true));
            }
            tokio::spawn(pump(
                server.clone(),
                stream,
                tx,
                encoder,
                options,
                start,
                first,
            ));
        }
    }
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache, private"),
        ],
        HttpBody::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}

/// Moves events from the store to the client until either goes away or the
/// requested timeout passes.
async fn pump(
    server: Arc<ApiServer>,
    mut stream: WatchStream,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    mut encoder: Encoder,
    options: Options,
    start: u64,
    first: Vec<Bytes>,
) {
    server.metrics.watches_open.fetch_add(1, Ordering::Relaxed);
    let _open = scopeguard(&server);
    for bytes in first {
        if tx.send(Ok(bytes)).await.is_err() {
            return;
        }
    }
    // Clamped: a client's absurd timeout must not overflow the clock.
    let deadline = options
        .timeout_seconds
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s.min(MAX_WATCH_SECONDS)));
    let mut last = start;
    let mut bookmarks = tokio::time::interval(BOOKMARK_INTERVAL);
    bookmarks.tick().await;
    // A custom kind's watch ends once its CRD is gone (after the deletions of its
    // objects are sent), as Kubernetes tears down the kind's storage.
    // Its objects are deleted just after the kind stops being served, so the
    // watch ends at the second check that finds it gone.
    let mut still_served = tokio::time::interval(Duration::from_secs(1));
    still_served.tick().await;
    let mut seen_unserved = false;
    loop {
        let until_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let mut out = Vec::new();
        let flow = tokio::select! {
            next = stream.recv() => match next {
                Some(item) => forward(item, &mut last, &mut encoder, &options, &mut out),
                None => return,
            },
            _ = bookmarks.tick(), if options.allow_bookmarks => {
                // Everything up to the store's progress mark has been received or
                // is queued: hand the queued events over first, and the bookmark
                // can then name the mark, which moves on while this resource is
                // quiet and others are written (so a reconnecting informer does
                // not fall behind the history window and relist).
                let upto = stream.progress();
                let mut flow = Flow::Go;
                while let Ok(item) = stream.try_recv() {
                    flow = forward(item, &mut last, &mut encoder, &options, &mut out);
                    if flow == Flow::Stop {
                        break;
                    }
                }
                if flow == Flow::Go {
                    out.push(encoder.bookmark(last.max(upto), false));
                }
                flow
            },
            _ = still_served.tick(), if encoder.custom => {
                if wharf_api_types::custom::is_custom(encoder.info) || !seen_unserved {
                    seen_unserved = !wharf_api_types::custom::is_custom(encoder.info);
                    Flow::Go
                } else {
                    while let Ok(item) = stream.try_recv() {
                        if forward(item, &mut last, &mut encoder, &options, &mut out) == Flow::Stop {
                            break;
                        }
                    }
                    Flow::Stop
                }
            },
            () = until_deadline => return,
            () = tx.closed() => return,
        };
        for bytes in out {
            if tx.send(Ok(bytes)).await.is_err() {
                return;
            }
        }
        if flow == Flow::Stop {
            return;
        }
    }
}

/// Whether a watch goes on after an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// Turns one item from the store into what the client is sent (nothing, for a
/// change its selectors do not see), appended to `out`.
fn forward(
    item: Result<Event, StoreError>,
    last: &mut u64,
    encoder: &mut Encoder,
    options: &Options,
    out: &mut Vec<Bytes>,
) -> Flow {
    match item {
        Ok(event) => {
            *last = event.revision;
            match event_type(&event, options) {
                Ok(Some(kind)) => out.push(
                    encoder
                        .change(kind, &event)
                        .unwrap_or_else(|e| error_event(&e)),
                ),
                Ok(None) => {}
                Err(e) => out.push(error_event(&e)),
            }
            Flow::Go
        }
        Err(e) => {
            out.push(error_event(&ApiError::from_store(encoder.info, "", e)));
            Flow::Stop
        }
    }
}

/// Decrements the open-watch gauge when a watch ends, however it ends.
fn scopeguard(server: &Arc<ApiServer>) -> impl Drop + '_ {
    struct Guard<'a>(&'a ApiServer);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.metrics.watches_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
    Guard(server)
}
