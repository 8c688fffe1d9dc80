//! Wharf's durable store: the only place cluster state lives.
//!
//! The store is a revisioned key-value map with the semantics Kubernetes expects of
//! etcd: one global revision that every write increments, an object's
//! `mod_revision` equal to the revision of its last write, writes guarded by
//! preconditions on that revision, and a watch that delivers every change after a
//! given revision, in order, none skipped — or says plainly that the history it
//! needs was compacted away.
//!
//! Values are opaque bytes: the store never parses objects. Only the API server talks
//! to it; every other role goes through the API.
//!
//! A write is acknowledged only once it is durable (flushed and fsynced); concurrent
//! writes share one flush (group commit).

#![forbid(unsafe_code)]

mod codec;
pub mod conformance;
mod sled_store;
mod wal;

use async_trait::async_trait;
pub use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

pub use sled_store::{SledStore, SledStoreOptions};

/// A store revision. Revision 0 means "before any write".
pub type Revision = u64;

/// One stored value and the revision of its last write. Values are shared, not
/// copied: a watch fanned out to many watchers hands each the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    pub mod_revision: Revision,
}

/// A page of a prefix listing.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<KeyValue>,
    /// A revision at least as new as every write acknowledged before the listing
    /// began: watching from it misses nothing that the listing did not show.
    pub revision: Revision,
    /// More keys follow the last item of this page.
    pub more: bool,
}

/// What a write did to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Updated,
    Deleted,
}

/// One change, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub revision: Revision,
    pub kind: EventKind,
    pub key: String,
    /// The value after the write; for `Deleted`, the value that was deleted.
    pub value: Bytes,
    /// The value before the write (`None` for `Created`). Watchers that filter
    /// (label selectors) need it to notice an object leaving their view.
    pub prev_value: Option<Bytes>,
    /// The revision that wrote `prev_value`: with it, a list at an older revision
    /// shows the object as it was then. `None` for `Created`, and for changes read
    /// back from a log written before it was recorded.
    pub prev_revision: Option<Revision>,
}

/// The receiving end of a watch. It yields events with a revision above the one the
/// watch started from, in revision order, until it yields an error or the store
/// shuts down. Dropping it stops the watch.
pub struct WatchStream {
    events: mpsc::Receiver<Result<Event, StoreError>>,
    progress: Arc<AtomicU64>,
}

/// The sending end of a watch, held by the backend that feeds it.
pub struct WatchFeed {
    events: mpsc::Sender<Result<Event, StoreError>>,
    progress: Arc<AtomicU64>,
}

/// A connected watch: what a backend feeds and what the watcher reads. `from` is
/// the revision the watch starts after.
pub fn watch_channel(capacity: usize, from: Revision) -> (WatchFeed, WatchStream) {
    let (tx, rx) = mpsc::channel(capacity);
    let progress = Arc::new(AtomicU64::new(from));
    (
        WatchFeed {
            events: tx,
            progress: progress.clone(),
        },
        WatchStream {
            events: rx,
            progress,
        },
    )
}

impl WatchStream {
    /// The next event, or an error (after which the stream ends), or `None` once
    /// the store has shut down or stopped the watch.
    pub async fn recv(&mut self) -> Option<Result<Event, StoreError>> {
        self.events.recv().await
    }

    /// An event already handed over, if there is one.
    pub fn try_recv(&mut self) -> Result<Result<Event, StoreError>, mpsc::error::TryRecvError> {
        self.events.try_recv()
    }

    /// A revision up to which this watch has seen every change, including those
    /// under other prefixes that it skipped: each of its events at or below this
    /// revision has already been received or is ready for `try_recv`. Read before
    /// draining `try_recv`, it is what a bookmark may promise, and it moves on while
    /// other resources are written and this one is quiet.
    pub fn progress(&self) -> Revision {
        self.progress.load(Ordering::Acquire)
    }
}

impl WatchFeed {
    /// Hands `event` to the watcher; false once the watcher has gone.
    pub async fn send(&self, event: Result<Event, StoreError>) -> bool {
        self.events.send(event).await.is_ok()
    }

    /// Marks every change up to `revision` as handed over (or not for this watch).
    /// Call only after sending the events at or below it.
    pub fn passed(&self, revision: Revision) {
        self.progress.fetch_max(revision, Ordering::Release);
    }

    /// Resolves when the watcher has gone.
    pub async fn closed(&self) {
        self.events.closed().await
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("key {key} not found")]
    NotFound { key: String },
    #[error("key {key} already exists")]
    AlreadyExists { key: String },
    #[error("key {key} was modified: expected revision {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    /// The history a watch asked for is gone.
    #[error("revision {requested} has been compacted; the oldest available is {oldest}")]
    Compacted {
        requested: Revision,
        oldest: Revision,
    },
    /// A watch or read asked for a revision the store has not reached.
    #[error("revision {requested} is newer than the store's current revision {current}")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// The backend failed (I/O, corruption, a failed flush). After a failed flush
    /// the store refuses every further write: it can no longer promise durability.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// The store's operations. Every implementation must pass [`conformance`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The newest durable revision.
    fn current_revision(&self) -> Revision;

    /// The oldest revision a watch may start from (older history was compacted).
    fn oldest_revision(&self) -> Revision;

    /// Whether the store can still accept writes; the error says why not.
    fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;

    /// Keys starting with `prefix`, in key order, strictly after `start_after` when
    /// given, at most `limit` of them (0 means no limit).
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError>;

    /// Like [`Store::list`], as the keys were at `revision`, which the page then
    /// carries: the later pages of a paginated list, and lists of one exact past
    /// revision. `Compacted` once the changes since then are no longer all known,
    /// `FutureRevision` for a revision not yet written.
    async fn list_at(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
        revision: Revision,
    ) -> Result<ListPage, StoreError>;

    /// Creates `key`; fails with `AlreadyExists` if it is present.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision, StoreError>;

    /// Replaces `key`'s value. With `expected`, fails with `Conflict` unless the key's
    /// `mod_revision` equals it.
    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Option<Revision>,
    ) -> Result<Revision, StoreError>;

    /// Deletes `key`, returning the revision of the delete and the deleted value.
    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(Revision, KeyValue), StoreError>;

    /// Streams every change under `prefix` with a revision above `after`.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StoreError>;
}
