//! The embedded backend: sled, with group commit and a durable watch history.
//!
//! Writes are serialised by one mutex that covers only in-memory work (a read, one
//! atomic sled batch), so revisions are assigned in order. A writer then waits until
//! the flusher task has fsynced its revision; the flusher takes every write that
//! arrived meanwhile into the same fsync. Only after the fsync are the writes
//! acknowledged and shown to watchers, so nobody ever acts on a write that a crash
//! could take back.
//!
//! The history (`l<revision>` records) lives in the same tree, so a watch can resume
//! from any revision inside the window even across a restart. Older history is
//! compacted; a watch that needs it gets `Compacted`, never a silent gap.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, broadcast, mpsc, watch};

use crate::codec::{self, META_COMPACTED, META_REVISION};
use crate::{Event, EventKind, KeyValue, ListPage, Revision, Store, StoreError, WatchStream};

/// Tuning for [`SledStore`].
#[derive(Debug, Clone)]
pub struct SledStoreOptions {
    /// How many revisions of history to keep for watches. History is compacted once
    /// it exceeds the window by an eighth, so compaction work is amortised.
    pub history_window: u64,
    /// sled's page cache size in bytes.
    pub cache_capacity: u64,
}

impl Default for SledStoreOptions {
    fn default() -> Self {
        Self {
            history_window: 100_000,
            cache_capacity: 512 * 1024 * 1024,
        }
    }
}

/// How far durability has got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Durability {
    /// Every revision up to this one is on disk.
    UpTo(Revision),
    /// A flush failed: nothing after the last good revision can be promised.
    Failed(String),
}

/// State guarded by the write mutex.
struct WriteState {
    /// The newest assigned revision (durable or not yet).
    revision: Revision,
    /// Events written to sled but not yet fsynced, in revision order.
    pending: Vec<Arc<Event>>,
}

struct Inner {
    tree: sled::Db,
    path: PathBuf,
    writer: Mutex<WriteState>,
    flush_wanted: Notify,
    durable: watch::Sender<Durability>,
    /// Durable events, in revision order, for live watchers.
    events: broadcast::Sender<Arc<Event>>,
    compacted: std::sync::atomic::AtomicU64,
    options: SledStoreOptions,
}

/// The sled backend. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

const WATCH_BUFFER: usize = 1024;
const BROADCAST_CAPACITY: usize = 16 * 1024;

impl SledStore {
    /// Opens (or creates) the store in `dir`. Must be called inside a tokio runtime:
    /// it starts the flusher and compaction tasks.
    pub fn open(dir: &Path, options: SledStoreOptions) -> Result<Self, StoreError> {
        let tree = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity)
            // Durability comes from our own group-committed flushes.
            .flush_every_ms(None)
            .open()
            .map_err(|e| backend(&format!("opening {}", dir.display()), e))?;
        let revision = match tree
            .get(META_REVISION)
            .map_err(|e| backend("reading revision", e))?
        {
            Some(bytes) => codec::decode_u64(&bytes)?,
            None => 0,
        };
        let compacted = match tree
            .get(META_COMPACTED)
            .map_err(|e| backend("reading compaction mark", e))?
        {
            Some(bytes) => codec::decode_u64(&bytes)?,
            None => 0,
        };
        let (durable, _) = watch::channel(Durability::UpTo(revision));
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let inner = Arc::new(Inner {
            tree,
            path: dir.to_path_buf(),
            writer: Mutex::new(WriteState {
                revision,
                pending: Vec::new(),
            }),
            flush_wanted: Notify::new(),
            durable,
            events,
            compacted: compacted.into(),
            options,
        });
        tokio::spawn(flusher(Arc::downgrade(&inner)));
        tracing::info!(path = %dir.display(), revision, compacted, "store opened");
        Ok(Self { inner })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Drops history below `current - window`. The flusher runs it as history grows;
    /// public so tests can force it.
    pub fn compact(&self) -> Result<Revision, StoreError> {
        self.inner.compact()
    }

    fn lock_writer(&self) -> MutexGuard<'_, WriteState> {
        // A panic while holding the lock cannot leave sled half-written (each write
        // is one atomic batch), so the state is still usable.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies one write under the write lock, then waits for it to be durable.
    async fn write(
        &self,
        key: &str,
        decide: impl FnOnce(Option<KeyValue>) -> Result<Write, StoreError>,
    ) -> Result<(Revision, Option<KeyValue>), StoreError> {
        self.check_healthy()?;
        let (revision, prev) = {
            let mut state = self.lock_writer();
            let okey = codec::object_key(key);
            let current = self
                .inner
                .tree
                .get(&okey)
                .map_err(|e| backend("reading for write", e))?
                .map(|bytes| {
                    codec::decode_object(&bytes).map(|(rev, value)| KeyValue {
                        key: key.to_string(),
                        value: value.to_vec(),
                        mod_revision: rev,
                    })
                })
                .transpose()?;
            let write = decide(current.clone())?;
            let revision = state.revision + 1;
            let (kind, value) = match write {
                Write::Put(value) if current.is_none() => (EventKind::Created, value),
                Write::Put(value) => (EventKind::Updated, value),
                Write::Delete => {
                    let value = current
                        .as_ref()
                        .map(|kv| kv.value.clone())
                        .unwrap_or_default();
                    (EventKind::Deleted, value)
                }
            };
            let event = Event {
                revision,
                kind,
                key: key.to_string(),
                value,
                prev_value: current.as_ref().map(|kv| kv.value.clone()),
            };
            let mut batch = sled::Batch::default();
            match kind {
                EventKind::Deleted => batch.remove(okey),
                _ => batch.insert(okey, codec::encode_object(revision, &event.value)),
            }
            batch.insert(&codec::log_key(revision)[..], codec::encode_event(&event));
            batch.insert(META_REVISION, &revision.to_be_bytes()[..]);
            self.inner
                .tree
                .apply_batch(batch)
                .map_err(|e| backend("writing batch", e))?;
            state.revision = revision;
            state.pending.push(Arc::new(event));
            (revision, current)
        };
        self.inner.flush_wanted.notify_one();
        self.wait_durable(revision).await?;
        Ok((revision, prev))
    }

    fn check_healthy(&self) -> Result<(), StoreError> {
        match &*self.inner.durable.borrow() {
            Durability::Failed(why) => Err(StoreError::Backend(why.clone())),
            Durability::UpTo(_) => Ok(()),
        }
    }

    async fn wait_durable(&self, revision: Revision) -> Result<(), StoreError> {
        let mut rx = self.inner.durable.subscribe();
        let state = rx
            .wait_for(|d| match d {
                Durability::UpTo(r) => *r >= revision,
                Durability::Failed(_) => true,
            })
            .await
            .map_err(|_| StoreError::Backend("store is shutting down".into()))?;
        match &*state {
            Durability::UpTo(_) => Ok(()),
            Durability::Failed(why) => Err(StoreError::Backend(why.clone())),
        }
    }
}

/// What a write decided to do with its key.
enum Write {
    Put(Vec<u8>),
    Delete,
}

impl Inner {
    fn durable_revision(&self) -> Revision {
        match &*self.durable.borrow() {
            Durability::UpTo(r) => *r,
            // Readers may still read what was durable before the failure.
            Durability::Failed(_) => 0,
        }
    }

    fn history_overgrown(&self, durable: Revision) -> bool {
        let window = self.options.history_window;
        let compacted = self.compacted.load(std::sync::atomic::Ordering::Acquire);
        durable.saturating_sub(compacted) > window + (window / 8).max(1)
    }

    fn compact(&self) -> Result<Revision, StoreError> {
        let durable = self.durable_revision();
        let target = durable.saturating_sub(self.options.history_window);
        let compacted = self.compacted.load(std::sync::atomic::Ordering::Acquire);
        if target <= compacted {
            return Ok(compacted);
        }
        // Mark first: a watcher that reads the mark after we start deleting must not
        // trust history below it.
        self.tree
            .insert(META_COMPACTED, &target.to_be_bytes()[..])
            .map_err(|e| backend("writing compaction mark", e))?;
        self.compacted
            .store(target, std::sync::atomic::Ordering::Release);
        let start = codec::log_key(compacted);
        let end = codec::log_key(target);
        let mut batch = sled::Batch::default();
        let mut n = 0usize;
        for entry in self.tree.range(&start[..]..&end[..]) {
            let (k, _) = entry.map_err(|e| backend("scanning history", e))?;
            batch.remove(k);
            n += 1;
        }
        self.tree
            .apply_batch(batch)
            .map_err(|e| backend("compacting history", e))?;
        tracing::debug!(compacted_to = target, removed = n, "history compacted");
        Ok(target)
    }

    /// Reads history records in `(after, up_to]` under `prefix`.
    fn history(
        &self,
        prefix: &str,
        after: Revision,
        up_to: Revision,
    ) -> Result<Vec<Event>, StoreError> {
        let start = codec::log_key(after.saturating_add(1));
        let end = codec::log_key(up_to);
        let mut out = Vec::new();
        for entry in self.tree.range(&start[..]..=&end[..]) {
            let (k, v) = entry.map_err(|e| backend("reading history", e))?;
            let revision = codec::decode_u64(&k[1..])?;
            let event = codec::decode_event(revision, &v)?;
            if event.key.starts_with(prefix) {
                out.push(event);
            }
        }
        Ok(out)
    }
}

fn backend(what: &str, e: sled::Error) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

/// Group commit: fsync everything written so far, then acknowledge and publish it.
async fn flusher(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let notified = strong.flush_wanted.notified();
        let batch = {
            let mut state = strong
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::take(&mut state.pending)
        };
        if batch.is_empty() {
            // Wake periodically so the task notices the store being dropped.
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
            continue;
        }
        let last = batch.last().map_or(0, |e| e.revision);
        let db = strong.tree.clone();
        let flushed = tokio::task::spawn_blocking(move || db.flush()).await;
        match flushed {
            Ok(Ok(_)) => {
                strong.durable.send_replace(Durability::UpTo(last));
                for event in batch {
                    // No receivers is fine: watchers catch up from history.
                    let _ = strong.events.send(event);
                }
                if strong.history_overgrown(last) {
                    let inner = strong.clone();
                    let compacted = tokio::task::spawn_blocking(move || inner.compact()).await;
                    if let Ok(Err(e)) | Err(e) =
                        compacted.map_err(|e| StoreError::Backend(e.to_string()))
                    {
                        tracing::warn!(error = %e, "history compaction failed");
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "store flush failed; refusing further writes");
                strong
                    .durable
                    .send_replace(Durability::Failed(format!("flush failed: {e}")));
                return;
            }
            Err(e) => {
                strong
                    .durable
                    .send_replace(Durability::Failed(format!("flush task failed: {e}")));
                return;
            }
        }
    }
}

#[async_trait]
impl Store for SledStore {
    fn current_revision(&self) -> Revision {
        self.inner.durable_revision()
    }

    fn oldest_revision(&self) -> Revision {
        self.inner
            .compacted
            .load(std::sync::atomic::Ordering::Acquire)
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let bytes = self
            .inner
            .tree
            .get(codec::object_key(key))
            .map_err(|e| backend("reading", e))?;
        bytes
            .map(|bytes| {
                let (rev, value) = codec::decode_object(&bytes)?;
                Ok(KeyValue {
                    key: key.to_string(),
                    value: value.to_vec(),
                    mod_revision: rev,
                })
            })
            .transpose()
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        // Taken before the scan: a write racing the scan may show up both in the page
        // and in a watch started from this revision, but is never missed by both.
        let revision = self.current_revision();
        let oprefix = codec::object_key(prefix);
        let start = match start_after {
            Some(after) => Bound::Excluded(codec::object_key(after)),
            None => Bound::Included(oprefix.clone()),
        };
        let mut items = Vec::new();
        let mut more = false;
        for entry in self
            .inner
            .tree
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
        {
            let (k, v) = entry.map_err(|e| backend("listing", e))?;
            if !k.starts_with(&oprefix) {
                break;
            }
            if limit > 0 && items.len() == limit {
                more = true;
                break;
            }
            let key = String::from_utf8(k[1..].to_vec())
                .map_err(|_| StoreError::Backend("corrupt record: key is not UTF-8".into()))?;
            let (rev, value) = codec::decode_object(&v)?;
            items.push(KeyValue {
                key,
                value: value.to_vec(),
                mod_revision: rev,
            });
        }
        Ok(ListPage {
            items,
            revision,
            more,
        })
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision, StoreError> {
        self.write(key, |current| match current {
            Some(_) => Err(StoreError::AlreadyExists { key: key.into() }),
            None => Ok(Write::Put(value)),
        })
        .await
        .map(|(rev, _)| rev)
    }

    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Option<Revision>,
    ) -> Result<Revision, StoreError> {
        self.write(key, |current| {
            let current = current.ok_or_else(|| StoreError::NotFound { key: key.into() })?;
            check_expected(key, &current, expected)?;
            Ok(Write::Put(value))
        })
        .await
        .map(|(rev, _)| rev)
    }

    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(Revision, KeyValue), StoreError> {
        let (rev, prev) = self
            .write(key, |current| {
                let current = current.ok_or_else(|| StoreError::NotFound { key: key.into() })?;
                check_expected(key, &current, expected)?;
                Ok(Write::Delete)
            })
            .await?;
        let prev = prev.ok_or_else(|| StoreError::NotFound { key: key.into() })?;
        Ok((rev, prev))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StoreError> {
        let current = self.current_revision();
        if after > current {
            return Err(StoreError::FutureRevision {
                requested: after,
                current,
            });
        }
        let oldest = self.oldest_revision();
        if after < oldest {
            return Err(StoreError::Compacted {
                requested: after,
                oldest,
            });
        }
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        tokio::spawn(run_watch(self.inner.clone(), prefix.to_string(), after, tx));
        Ok(rx)
    }
}

fn check_expected(
    key: &str,
    current: &KeyValue,
    expected: Option<Revision>,
) -> Result<(), StoreError> {
    match expected {
        Some(expected) if expected != current.mod_revision => Err(StoreError::Conflict {
            key: key.into(),
            expected,
            actual: current.mod_revision,
        }),
        _ => Ok(()),
    }
}

/// Feeds one watcher: history first, then live events; back to history whenever it
/// falls behind the live broadcast.
async fn run_watch(
    inner: Arc<Inner>,
    prefix: String,
    mut last: Revision,
    tx: mpsc::Sender<Result<Event, StoreError>>,
) {
    'catch_up: loop {
        // Subscribe before reading the durable mark: every event above the mark is
        // then guaranteed to arrive on `live`.
        let mut live = inner.events.subscribe();
        let durable = inner.durable_revision();
        let oldest = inner.compacted.load(std::sync::atomic::Ordering::Acquire);
        if last < oldest {
            let _ = tx
                .send(Err(StoreError::Compacted {
                    requested: last,
                    oldest,
                }))
                .await;
            return;
        }
        if durable > last {
            let read = {
                let (inner, prefix) = (inner.clone(), prefix.clone());
                tokio::task::spawn_blocking(move || inner.history(&prefix, last, durable)).await
            };
            let history = match read {
                Ok(Ok(history)) => history,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Err(e) => {
                    let e = StoreError::Backend(format!("history read failed: {e}"));
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            // Compaction may have raced the read: re-check the mark.
            if last < inner.compacted.load(std::sync::atomic::Ordering::Acquire) {
                continue 'catch_up;
            }
            for event in history {
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            last = durable;
        }
        loop {
            let received = tokio::select! {
                received = live.recv() => received,
                // The watcher went away: stop without waiting for the next write.
                () = tx.closed() => return,
            };
            match received {
                Ok(event) => {
                    if event.revision <= last {
                        continue;
                    }
                    last = event.revision;
                    if event.key.starts_with(&prefix)
                        && tx.send(Ok((*event).clone())).await.is_err()
                    {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue 'catch_up,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
