//! The embedded backend: every object in memory for reads, a write-ahead log for
//! durability, sled as the on-disk state, and an in-memory window of history for
//! watches.
//!
//! Writes are serialised by one mutex that covers only in-memory work (a read and an
//! insert in the in-memory table, appending a record to the write-ahead buffer), so
//! revisions are assigned in order. A writer then waits until the flusher thread has
//! written and `fdatasync`ed the write-ahead log up to its revision; the flusher takes
//! every write that arrived meanwhile into the same sync (group commit). A lone
//! writer that finds the flusher idle commits its own group instead, saving two
//! thread hand-offs. Only after the sync are the writes acknowledged and shown to
//! watchers, so nobody ever acts on a write that a crash could take back.
//!
//! Durable changes are then applied to sled in batches by the applier thread, off
//! the request path (applying them inline halved throughput, measured), and sled is
//! flushed at checkpoints; the log is trimmed to what sled holds (see `wal.rs`). On
//! open, sled is loaded into memory and the log replays what sled had not flushed.
//! Keeping every object in memory is what Kubernetes' own API server does with its
//! watch cache.
//!
//! History for watches is the newest `history_window` changes, kept in memory and
//! rebuilt on open from the write-ahead log (which holds everything since the last
//! checkpoint). A watch from older than that gets `Compacted`, never a silent gap.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{broadcast, watch};

use crate::codec::{self, META_REVISION};
use crate::wal::{self, Wal};
use crate::{
    Bytes, Event, EventKind, KeyValue, ListPage, Revision, Store, StoreError, WatchFeed,
    WatchStream,
};

/// Tuning for [`SledStore`].
#[derive(Debug, Clone)]
pub struct SledStoreOptions {
    /// How many of the newest changes watches can resume from.
    pub history_window: u64,
    /// sled's page cache size in bytes. Reads are served from the in-memory table,
    /// never from sled, so its cache only holds what it is writing: a large one
    /// kept a second copy of every object in memory, and growing it cost ~5% of
    /// create throughput in fresh-page faults (measured with 512 MiB).
    pub cache_capacity: u64,
    /// How often sled is flushed so the write-ahead log can be trimmed.
    pub checkpoint_interval: Duration,
}

impl Default for SledStoreOptions {
    fn default() -> Self {
        Self {
            history_window: 100_000,
            cache_capacity: 64 * 1024 * 1024,
            checkpoint_interval: Duration::from_secs(30),
        }
    }
}

/// How far durability has got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Durability {
    /// Every revision up to this one is on disk.
    UpTo(Revision),
    /// Something failed: nothing after `last` (the last good revision) can be
    /// promised, and no further write is accepted. Never replaced once set.
    Failed { last: Revision, why: String },
}

/// State guarded by the write mutex.
struct WriteState {
    /// The newest assigned revision (durable or not yet).
    revision: Revision,
    /// Changes not yet durable, in revision order.
    pending: Vec<Arc<Event>>,
    /// Their write-ahead records, in the same order.
    wal_buffer: Vec<u8>,
    /// The newest not-yet-durable state of each key written since the last sync
    /// (`None`: deleted). Writers check preconditions against it; readers never see
    /// it: `objects` only ever holds durable state.
    overlay: std::collections::HashMap<String, (Revision, Option<Bytes>)>,
    /// How many pending writes the waiting flusher wants before it starts a group
    /// (0: it is not waiting). Only the writer that brings `pending` to this many
    /// wakes it: a condvar's notify is a system call even with nobody waiting, and
    /// under load the flusher is mostly busy syncing and picks up new writes when
    /// it is done.
    wake_flusher_at: usize,
    /// When the newest group's sync started, and whether it carried several
    /// writes: the flusher paces groups by them (see `flusher`).
    last_sync: Instant,
    concurrent: bool,
    /// How many writes make a full group (see `flusher`).
    full_group: usize,
}

/// The state of whoever commits a group, guarded by `Inner::commit`: the flusher
/// thread, or a lone writer that found it idle (see [`SledStore::write`]). Holding
/// the lock from taking a group to publishing it keeps groups in revision order.
struct CommitState {
    /// The previous group's log buffer, handed back to writers for the next group:
    /// a fresh buffer per group grew by doubling under the write lock, copying and
    /// faulting in new pages (~5% of the server's CPU under the scheduler benchmark).
    spare: Vec<u8>,
    last_checkpoint: Instant,
}

/// The newest changes, oldest first, with consecutive revisions.
struct History {
    events: VecDeque<Arc<Event>>,
    /// Changes at or below this revision are gone.
    compacted: Revision,
}

impl History {
    /// Changes with a revision in `(after, up_to]` under `prefix`; `None` if some of
    /// them were compacted away.
    fn since(&self, prefix: &str, after: Revision, up_to: Revision) -> Option<Vec<Arc<Event>>> {
        if after < self.compacted {
            return None;
        }
        let first = self
            .events
            .front()
            .map_or(self.compacted + 1, |e| e.revision);
        let skip = usize::try_from((after + 1).saturating_sub(first)).unwrap_or(usize::MAX);
        Some(
            self.events
                .iter()
                .skip(skip)
                .take_while(|e| e.revision <= up_to)
                .filter(|e| e.key.starts_with(prefix))
                .cloned()
                .collect(),
        )
    }

    fn push(&mut self, event: Arc<Event>, window: u64) {
        self.events.push_back(event);
        self.trim(window);
    }

    /// Drops the oldest changes beyond `window`.
    fn trim(&mut self, window: u64) {
        while self.events.len() as u64 > window {
            if let Some(old) = self.events.pop_front() {
                self.compacted = old.revision;
            }
        }
    }
}

/// One object in the in-memory table.
#[derive(Clone)]
struct Entry {
    mod_revision: Revision,
    value: Bytes,
}

struct Inner {
    tree: sled::Db,
    /// Every object, by key: what reads are served from.
    objects: RwLock<BTreeMap<String, Entry>>,
    /// Durable changes waiting to be applied to sled, and the revision applied.
    apply_queue: Mutex<Vec<Arc<Event>>>,
    apply_wanted: Condvar,
    /// The applier, unparked when the store closes (see `applier`).
    applier_thread: std::sync::OnceLock<std::thread::Thread>,
    applied: std::sync::atomic::AtomicU64,
    /// Set when the last `SledStore` is dropped.
    closed: std::sync::atomic::AtomicBool,
    path: PathBuf,
    /// Only the flusher appends; checkpoints roll and trim it.
    wal: Mutex<Wal>,
    checkpointing: std::sync::atomic::AtomicBool,
    writer: Mutex<WriteState>,
    /// Taken before `writer` by whoever commits a group.
    commit: Mutex<CommitState>,
    /// Signalled (with `writer`) when there is something to flush.
    flush_wanted: Condvar,
    durable: watch::Sender<Durability>,
    /// Durable events, in revision order, for live watchers.
    events: broadcast::Sender<Arc<Event>>,
    history: RwLock<History>,
    options: SledStoreOptions,
    /// Held open, and so locked, while the store is.
    _lock: std::fs::File,
}

/// The sled backend. Cheap to clone; all clones share one database, which closes
/// (its threads stop, its files unlock) when the last clone is dropped.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
    _open: Arc<OpenHandle>,
}

/// Dropped with the last `SledStore` clone: tells the background threads to stop.
struct OpenHandle(Weak<Inner>);

impl Drop for OpenHandle {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner
                .closed
                .store(true, std::sync::atomic::Ordering::Release);
            // Ends the watches still open, so they release the store too.
            inner.fail("the store was closed".into());
            // Take each lock so a thread between its check and its wait cannot miss
            // the wake-up.
            drop(lock(&inner.writer));
            inner.flush_wanted.notify_all();
            drop(lock(&inner.apply_queue));
            inner.apply_wanted.notify_all();
            if let Some(applier) = inner.applier_thread.get() {
                applier.unpark();
            }
        }
    }
}

const WATCH_BUFFER: usize = 1024;

/// How long the applier lets changes accumulate before one sled batch. Applying as
/// soon as each group commit landed cost ~14% of create throughput (8,400 vs 9,600
/// pod creates/s with 50 ms, wrk, 64 connections); 20–200 ms measured alike, and
/// 1 s took 6–10% less of the server's CPU per create than 100 ms (16 and 64 clients,
/// alternating runs, S25): sled's cost per key falls as its batches grow. Nothing
/// waits on sled (reads come from memory, durability from the log): a longer
/// interval only means up to that much more log to replay after a crash.
const APPLY_BATCH_INTERVAL: Duration = Duration::from_millis(1000);
const BROADCAST_CAPACITY: usize = 16 * 1024;
/// The largest log buffer the flusher keeps for the next group commit.
const MAX_SPARE_LOG_BUFFER: usize = 4 << 20;
/// Under concurrent writes, a group's sync starts this long after the previous one
/// started, unless a full group (see `flusher`) is pending sooner. A sync in place
/// costs ~100 µs of kernel CPU whatever it carries; with faster syncs and no
/// pacing, 64 writers measured fewer creates/s than before (the groups smaller,
/// the syncs more frequent). A lone writer (a group of one) never waits.
const GROUP_INTERVAL: Duration = Duration::from_micros(1000);

/// Takes the exclusive lock on `dir` that only one process at a time may hold (sled
/// takes its own too, but its error shows a raw OS error).
fn lock_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    let failed = |e: std::io::Error| {
        StoreError::Backend(format!("locking the store in {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Backend(format!(
            "the store in {} is in use by another process (is another wharf running with the same --data-dir?)",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(e)),
    }
}

fn backend(what: &str, e: sled::Error) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave sled half-written (each write is one
    // atomic batch), so the state is still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SledStore {
    /// Opens (or creates) the store in `dir`: sled in `dir/db`, the write-ahead log in
    /// `dir/wal`, and `dir/lock`, held while the store is open. Starts the flusher
    /// and applier threads.
    pub fn open(dir: &Path, options: SledStoreOptions) -> Result<Self, StoreError> {
        let lock = lock_dir(dir)?;
        let db_dir = dir.join("db");
        let tree = sled::Config::new()
            .path(&db_dir)
            .cache_capacity(options.cache_capacity)
            // Durability comes from the write-ahead log; sled is flushed at checkpoints.
            .flush_every_ms(None)
            .open()
            .map_err(|e| backend(&format!("opening {}", db_dir.display()), e))?;
        let applied = match tree
            .get(META_REVISION)
            .map_err(|e| backend("reading revision", e))?
        {
            Some(bytes) => codec::decode_u64(&bytes)?,
            None => 0,
        };
        let (wal, logged) = Wal::open(&dir.join("wal"), applied)?;
        let unapplied: Vec<&Event> = logged.iter().filter(|e| e.revision > applied).collect();
        let mut revision = applied;
        for event in &unapplied {
            if event.revision != revision + 1 {
                return Err(StoreError::Backend(format!(
                    "write-ahead log skips from revision {revision} to {}",
                    event.revision
                )));
            }
            revision = event.revision;
        }
        let replayed = unapplied.len();
        if replayed > 0 {
            tree.apply_batch(batch_for(unapplied))
                .map_err(|e| backend("replaying the write-ahead log", e))?;
        }
        let mut objects = BTreeMap::new();
        for entry in tree.scan_prefix([codec::OBJECT_PREFIX]) {
            let (k, v) = entry.map_err(|e| backend("loading objects", e))?;
            let key = String::from_utf8(k[1..].to_vec())
                .map_err(|_| StoreError::Backend("corrupt record: key is not UTF-8".into()))?;
            let (mod_revision, value) = codec::decode_object(&v)?;
            objects.insert(
                key,
                Entry {
                    mod_revision,
                    value: Bytes::copy_from_slice(value),
                },
            );
        }
        // History after a restart is what the log still holds, if it is contiguous up
        // to the current revision; anything older is compacted.
        let mut history = History {
            events: VecDeque::new(),
            compacted: revision,
        };
        let contiguous = logged
            .windows(2)
            .all(|w| w[1].revision == w[0].revision + 1);
        if let Some(first) = logged.first()
            && contiguous
            && logged.last().map(|e| e.revision) == Some(revision)
        {
            history.compacted = first.revision - 1;
            for event in logged {
                history.push(Arc::new(event), options.history_window);
            }
        }
        let (durable, _) = watch::channel(Durability::UpTo(revision));
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        tracing::info!(
            path = %dir.display(),
            revision,
            replayed,
            history_from = history.compacted,
            "store opened"
        );
        let inner = Arc::new(Inner {
            tree,
            objects: RwLock::new(objects),
            apply_queue: Mutex::new(Vec::new()),
            apply_wanted: Condvar::new(),
            applier_thread: std::sync::OnceLock::new(),
            applied: revision.into(),
            closed: false.into(),
            path: dir.to_path_buf(),
            wal: Mutex::new(wal),
            checkpointing: false.into(),
            writer: Mutex::new(WriteState {
                revision,
                pending: Vec::new(),
                wal_buffer: Vec::new(),
                overlay: Default::default(),
                wake_flusher_at: 0,
                last_sync: Instant::now(),
                concurrent: false,
                full_group: 1,
            }),
            commit: Mutex::new(CommitState {
                spare: Vec::new(),
                last_checkpoint: Instant::now(),
            }),
            flush_wanted: Condvar::new(),
            durable,
            events,
            history: RwLock::new(history),
            options,
            _lock: lock,
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("wharf-store-flush".into())
            .spawn(move || flusher(weak))
            .map_err(|e| StoreError::Backend(format!("starting the flusher thread: {e}")))?;
        let weak = Arc::downgrade(&inner);
        let applier_thread = std::thread::Builder::new()
            .name("wharf-store-apply".into())
            .spawn(move || applier(weak))
            .map_err(|e| StoreError::Backend(format!("starting the applier thread: {e}")))?;
        // Set before any `SledStore` exists, so a close always finds it.
        let _ = inner.applier_thread.set(applier_thread.thread().clone());
        let open = Arc::new(OpenHandle(Arc::downgrade(&inner)));
        Ok(Self { inner, _open: open })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Drops history older than the window; returns the compacted revision. History
    /// is trimmed as it grows, so this only matters after the window shrinks.
    pub fn compact(&self) -> Result<Revision, StoreError> {
        let mut h = self
            .inner
            .history
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        h.trim(self.inner.options.history_window);
        Ok(h.compacted)
    }

    /// Applies one write under the write lock, then waits for it to be durable.
    async fn write(
        &self,
        key: &str,
        decide: impl FnOnce(Option<KeyValue>) -> Result<Write, StoreError>,
    ) -> Result<(Revision, Option<KeyValue>), StoreError> {
        self.check_healthy()?;
        let decided = 'decide: {
            let mut state = lock(&self.inner.writer);
            // `pending`: the revision of a write still on its way to disk that
            // this decision sees, if it sees one.
            let (pending, current) = match state.overlay.get(key) {
                Some((mod_revision, value)) => (
                    Some(*mod_revision),
                    value.as_ref().map(|v| KeyValue {
                        key: key.to_string(),
                        value: v.clone(),
                        mod_revision: *mod_revision,
                    }),
                ),
                None => (
                    None,
                    self.inner.read_objects().get(key).map(|e| KeyValue {
                        key: key.to_string(),
                        value: e.value.clone(),
                        mod_revision: e.mod_revision,
                    }),
                ),
            };
            let write = match decide(current.clone()) {
                Ok(write) => write,
                Err(refused) => break 'decide Err((refused, pending)),
            };
            let revision = state.revision + 1;
            let (kind, value) = match write {
                Write::Put(value) if current.is_none() => (EventKind::Created, Bytes::from(value)),
                Write::Put(value) => (EventKind::Updated, Bytes::from(value)),
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
                prev_revision: current.as_ref().map(|kv| kv.mod_revision),
            };
            let overlay_value = match kind {
                EventKind::Deleted => None,
                _ => Some(event.value.clone()),
            };
            state
                .overlay
                .insert(key.to_string(), (revision, overlay_value));
            wal::append_record(&mut state.wal_buffer, &event);
            state.revision = revision;
            state.pending.push(Arc::new(event));
            let mut then = Then::Wait;
            if state.wake_flusher_at != 0 && state.pending.len() >= state.wake_flusher_at {
                // A lone write with the flusher idle commits itself, on this thread:
                // handing it to the flusher and back cost two thread wake-ups, most
                // of a lone write's latency besides the sync.
                if state.pending.len() == 1
                    && !state.concurrent
                    && may_block_here()
                    && let Ok(mut commit) = self.inner.commit.try_lock()
                {
                    let (batch, records) = take_group(&mut state, &mut commit);
                    then = Then::Commit(commit, batch, records);
                } else {
                    state.wake_flusher_at = 0;
                    then = Then::WakeFlusher;
                }
            }
            Ok((revision, current, then))
        };
        // Handed over before any await: the commit guard `then` may hold must not
        // live across one.
        let accepted = decided.map(|(revision, prev, then)| {
            self.hand_over(then);
            (revision, prev)
        });
        match accepted {
            Ok((revision, prev)) => {
                self.wait_durable(revision).await?;
                Ok((revision, prev))
            }
            // Refused because of a write not yet durable: answer once it is, so
            // that the caller's next read sees what the refusal named (and, should
            // that write fail to reach disk, the caller hears of the failure).
            Err((refused, Some(pending))) => {
                self.wait_durable(pending).await?;
                Err(refused)
            }
            Err((refused, None)) => Err(refused),
        }
    }

    /// Does what a writer decided after adding its write (the guard it may hold is
    /// gone before the writer awaits anything).
    fn hand_over(&self, then: Then<'_>) {
        match then {
            Then::Wait => {}
            Then::WakeFlusher => self.inner.flush_wanted.notify_one(),
            Then::Commit(mut commit, batch, records) => {
                // The sync blocks this thread; the runtime moves its other tasks to
                // another one meanwhile.
                tokio::task::block_in_place(|| {
                    commit_group(&self.inner, &mut commit, batch, records)
                });
            }
        }
    }

    fn check_healthy(&self) -> Result<(), StoreError> {
        match self.inner.failure() {
            Some(why) => Err(StoreError::Backend(why)),
            None => Ok(()),
        }
    }

    async fn wait_durable(&self, revision: Revision) -> Result<(), StoreError> {
        let mut rx = self.inner.durable.subscribe();
        let state = rx
            .wait_for(|d| match d {
                Durability::UpTo(r) => *r >= revision,
                Durability::Failed { .. } => true,
            })
            .await
            .map_err(|_| StoreError::Backend("store is shutting down".into()))?;
        match &*state {
            Durability::UpTo(_) => Ok(()),
            // Durable before the failure: the write stands.
            Durability::Failed { last, .. } if *last >= revision => Ok(()),
            Durability::Failed { why, .. } => Err(StoreError::Backend(why.clone())),
        }
    }
}

/// What a writer does after adding its write to the pending group.
enum Then<'a> {
    /// Nothing: the flusher is busy or will take the group when it is full.
    Wait,
    /// Wake the flusher: the group it waits for is complete.
    WakeFlusher,
    /// Commit the group itself (the flusher is idle and it holds the commit lock).
    Commit(MutexGuard<'a, CommitState>, Vec<Arc<Event>>, Vec<u8>),
}

/// Whether a write may sync on the calling thread: only on a multi-threaded tokio
/// runtime, whose other workers carry on meanwhile (`block_in_place`).
fn may_block_here() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// What a write decided to do with its key.
enum Write {
    Put(Vec<u8>),
    Delete,
}

/// One sled batch applying `events` in order (a later change to a key replaces an
/// earlier one) and the revision mark, atomically.
fn batch_for<'a>(events: impl IntoIterator<Item = &'a Event>) -> sled::Batch {
    let mut batch = sled::Batch::default();
    let mut last = None;
    for event in events {
        let okey = codec::object_key(&event.key);
        match event.kind {
            EventKind::Deleted => batch.remove(okey),
            _ => batch.insert(okey, codec::encode_object(event.revision, &event.value)),
        }
        last = Some(event.revision);
    }
    if let Some(last) = last {
        batch.insert(META_REVISION, &last.to_be_bytes()[..]);
    }
    batch
}

impl Inner {
    /// Marks the store failed (once; the first failure is the one reported).
    fn fail(&self, why: String) {
        self.durable.send_if_modified(|d| match d {
            Durability::UpTo(last) => {
                *d = Durability::Failed { last: *last, why };
                true
            }
            Durability::Failed { .. } => false,
        });
    }

    /// Advances the durable mark, unless the store has failed.
    fn advance(&self, to: Revision) -> bool {
        let mut advanced = false;
        self.durable.send_if_modified(|d| match d {
            Durability::UpTo(r) => {
                *r = to;
                advanced = true;
                true
            }
            Durability::Failed { .. } => false,
        });
        advanced
    }

    fn failure(&self) -> Option<String> {
        match &*self.durable.borrow() {
            Durability::Failed { why, .. } => Some(why.clone()),
            Durability::UpTo(_) => None,
        }
    }

    fn is_failed(&self) -> bool {
        matches!(&*self.durable.borrow(), Durability::Failed { .. })
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    fn read_objects(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.objects
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn durable_revision(&self) -> Revision {
        match &*self.durable.borrow() {
            Durability::UpTo(r) => *r,
            // Readers may still read what was durable before the failure.
            Durability::Failed { last, .. } => *last,
        }
    }

    fn history(&self) -> std::sync::RwLockReadGuard<'_, History> {
        self.history
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The flusher thread. Group commit: make everything written so far durable in the
/// write-ahead log with one sync, then acknowledge it (see [`commit_group`]). Ends
/// when the store is dropped.
///
/// Pacing: a full group is the previous group, whose writers come back once it is
/// acknowledged, plus the writes that arrived during its sync. Under concurrent
/// writes a group starts once this many are pending, or at the latest
/// GROUP_INTERVAL after the previous sync started. Writers that wait on each write
/// (N clients in a closed loop) come back within ~0.2 ms, so their next group
/// starts as soon as they are all in instead of after a fixed pause, and carries
/// all of them, so the syncs' cost per write does not grow.
fn flusher(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        {
            let mut state = lock(&strong.writer);
            let due = state.concurrent.then(|| state.last_sync + GROUP_INTERVAL);
            loop {
                let now = Instant::now();
                // Before the deadline, wait for a full group; after it (or with no
                // deadline), for any write. Wake at least every 500 ms so that the
                // thread notices the store being dropped.
                let (want, timeout) = match due {
                    Some(due) if now < due => (state.full_group, due - now),
                    _ => (1, Duration::from_millis(500)),
                };
                if state.pending.len() >= want || strong.is_closed() {
                    break;
                }
                state.wake_flusher_at = want;
                let (next, timed_out) = strong
                    .flush_wanted
                    .wait_timeout(state, timeout)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                state = next;
                state.wake_flusher_at = 0;
                if timed_out.timed_out() && due.is_none_or(|due| Instant::now() >= due) {
                    break;
                }
            }
            if state.pending.is_empty() && strong.is_closed() {
                return;
            }
        }
        // A writer may be committing a group of its own; this group comes after it.
        let mut commit = lock(&strong.commit);
        let (batch, records) = take_group(&mut lock(&strong.writer), &mut commit);
        if !commit_group(&strong, &mut commit, batch, records) {
            return;
        }
    }
}

/// Takes every pending write as one group, handing the spare log buffer to the
/// next one, and notes when its sync starts and whether it is a lone write (the
/// flusher's pacing).
fn take_group(state: &mut WriteState, commit: &mut CommitState) -> (Vec<Arc<Event>>, Vec<u8>) {
    if !state.pending.is_empty() {
        state.last_sync = Instant::now();
        state.concurrent = state.pending.len() > 1;
    }
    commit.spare.clear();
    (
        std::mem::take(&mut state.pending),
        std::mem::replace(&mut state.wal_buffer, std::mem::take(&mut commit.spare)),
    )
}

/// Makes one group durable with one append and sync of the write-ahead log, then
/// acknowledges it: the in-memory table, history, watchers and the applier see it
/// in revision order. Now and then starts a checkpoint. The caller holds the commit
/// lock from [`take_group`] on. Returns false once the store has failed.
fn commit_group(
    inner: &Arc<Inner>,
    commit: &mut CommitState,
    batch: Vec<Arc<Event>>,
    records: Vec<u8>,
) -> bool {
    let Some(last) = batch.last().map(|e| e.revision) else {
        return true;
    };
    // A failed store appends nothing more (checked under the commit lock, which
    // a failing append holds): a group after a failed one would leave a gap in
    // the log, and its writers have been told of the failure.
    if inner.is_failed() {
        return false;
    }
    if let Err(e) = lock(&inner.wal).append_durable(&records) {
        tracing::error!(error = %e, "write-ahead log append failed; refusing further writes");
        inner.fail(e.to_string());
        return false;
    }
    // Kept unless a burst made it large.
    if records.capacity() <= MAX_SPARE_LOG_BUFFER {
        commit.spare = records;
    }
    // History first, then the table: a reader holding the history lock sees every
    // change the table shows (what `list_at` relies on to undo them).
    {
        let mut history = inner
            .history
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for event in &batch {
            // Trimmed only once the group is durable (below): the oldest revision
            // kept never passes the durable one, so the current revision can
            // always be listed.
            history.events.push_back(event.clone());
        }
    }
    {
        let mut objects = inner
            .objects
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for event in &batch {
            if event.kind == EventKind::Deleted {
                objects.remove(&event.key);
                continue;
            }
            let entry = Entry {
                mod_revision: event.revision,
                value: event.value.clone(),
            };
            // An update replaces the entry in place, without cloning its key.
            match objects.get_mut(&event.key) {
                Some(existing) => *existing = entry,
                None => {
                    objects.insert(event.key.clone(), entry);
                }
            }
        }
    }
    {
        // Entries written again after this batch stay: they are still pending.
        let mut state = lock(&inner.writer);
        state.overlay.retain(|_, (revision, _)| *revision > last);
        // Counted before this group is acknowledged, so that none of its
        // writers can have come back yet.
        state.full_group = batch.len() + state.pending.len();
    }
    if !inner.advance(last) {
        return false;
    }
    inner
        .history
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .trim(inner.options.history_window);
    lock(&inner.apply_queue).extend(batch.iter().cloned());
    inner.apply_wanted.notify_one();
    for event in batch {
        // No receivers is fine: watchers catch up from history.
        let _ = inner.events.send(event);
    }
    let wal_full = lock(&inner.wal).size() >= wal::SEGMENT_BYTES;
    if (wal_full || commit.last_checkpoint.elapsed() >= inner.options.checkpoint_interval)
        && !inner
            .checkpointing
            .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        commit.last_checkpoint = Instant::now();
        checkpoint(inner.clone(), last);
    }
    true
}

/// The applier thread: applies durable changes to sled in batches, in order. Ends
/// when the store is dropped.
fn applier(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let events = {
            let queue = lock(&strong.apply_queue);
            let (mut queue, _) = strong
                .apply_wanted
                .wait_timeout_while(queue, Duration::from_millis(500), |q| {
                    q.is_empty() && !strong.is_closed()
                })
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if queue.is_empty() && strong.is_closed() {
                return;
            }
            if !strong.is_closed() {
                // Let a batch build up (see `APPLY_BATCH_INTERVAL`). Parked rather
                // than waiting on `apply_wanted`, which every group commit signals;
                // closing the store unparks it, so a close never waits this out.
                drop(queue);
                let until = Instant::now() + APPLY_BATCH_INTERVAL;
                while !strong.is_closed() {
                    let Some(left) = until.checked_duration_since(Instant::now()) else {
                        break;
                    };
                    std::thread::park_timeout(left);
                }
                queue = lock(&strong.apply_queue);
            }
            std::mem::take(&mut *queue)
        };
        let Some(last) = events.last().map(|e| e.revision) else {
            continue;
        };
        match strong
            .tree
            .apply_batch(batch_for(events.iter().map(|e| &**e)))
        {
            Ok(()) => strong
                .applied
                .store(last, std::sync::atomic::Ordering::Release),
            Err(e) => {
                // The log still holds these changes and replays them on open; without
                // sled the log can no longer be trimmed, so stop accepting writes.
                tracing::error!(error = %e, "applying changes to sled failed; refusing further writes");
                strong.fail(format!("applying to sled: {e}"));
                return;
            }
        }
    }
}

/// Rolls the log at `covered` (every record up to it is durable), then, off the write
/// path, waits until sled has them all, flushes sled and deletes the segments it now
/// covers.
fn checkpoint(inner: Arc<Inner>, covered: Revision) {
    if let Err(e) = lock(&inner.wal).roll(covered) {
        tracing::warn!(error = %e, "could not start a new write-ahead log segment");
        inner
            .checkpointing
            .store(false, std::sync::atomic::Ordering::Release);
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("wharf-store-checkpoint".into())
        .spawn({
            let inner = inner.clone();
            move || {
                while inner.applied.load(std::sync::atomic::Ordering::Acquire) < covered {
                    if inner.is_failed() || inner.is_closed() {
                        inner
                            .checkpointing
                            .store(false, std::sync::atomic::Ordering::Release);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                let result = inner
                    .tree
                    .flush()
                    .map_err(|e| backend("flushing sled at a checkpoint", e))
                    .and_then(|_| lock(&inner.wal).release(covered));
                match result {
                    Ok(()) => tracing::debug!(covered, "checkpoint done"),
                    // The log still holds everything: a failed checkpoint costs disk, not data.
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                }
                inner
                    .checkpointing
                    .store(false, std::sync::atomic::Ordering::Release);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start a checkpoint");
        inner
            .checkpointing
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

#[async_trait]
impl Store for SledStore {
    fn current_revision(&self) -> Revision {
        self.inner.durable_revision()
    }

    fn oldest_revision(&self) -> Revision {
        self.inner.history().compacted
    }

    fn health(&self) -> Result<(), StoreError> {
        self.check_healthy()
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        Ok(self.inner.read_objects().get(key).map(|e| KeyValue {
            key: key.to_string(),
            value: e.value.clone(),
            mod_revision: e.mod_revision,
        }))
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
        let start = match start_after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Included(prefix),
        };
        let mut items = Vec::new();
        let mut more = false;
        let objects = self.inner.read_objects();
        for (key, entry) in objects.range::<str, _>((start, Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                break;
            }
            if limit > 0 && items.len() == limit {
                more = true;
                break;
            }
            items.push(KeyValue {
                key: key.clone(),
                value: entry.value.clone(),
                mod_revision: entry.mod_revision,
            });
        }
        Ok(ListPage {
            items,
            revision,
            more,
        })
    }

    async fn list_at(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
        revision: Revision,
    ) -> Result<ListPage, StoreError> {
        let current = self.inner.durable_revision();
        if revision > current {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current,
            });
        }
        // History before the table (the order `commit_group` publishes in): every
        // change the table shows is then in `since`.
        let history = self.inner.history();
        let Some(later) = history.since(prefix, revision, Revision::MAX) else {
            return Err(StoreError::Compacted {
                requested: revision,
                oldest: history.compacted,
            });
        };
        // Each key changed since `revision`, as it was then: what its first later
        // change replaced (nothing, for a key created since).
        let mut then: BTreeMap<&str, Option<KeyValue>> = BTreeMap::new();
        for event in &later {
            if then.contains_key(event.key.as_str()) {
                continue;
            }
            let was = match (&event.prev_value, event.prev_revision) {
                (None, _) => None,
                (Some(value), Some(mod_revision)) => Some(KeyValue {
                    key: event.key.clone(),
                    value: value.clone(),
                    mod_revision,
                }),
                // Read back from a log that did not record the revision: the
                // object as it was cannot be shown exactly.
                (Some(_), None) => {
                    return Err(StoreError::Compacted {
                        requested: revision,
                        oldest: event.revision,
                    });
                }
            };
            then.insert(event.key.as_str(), was);
        }
        let objects = self.inner.read_objects();
        let start = match start_after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Included(prefix),
        };
        let mut now = objects
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter(|(key, _)| !then.contains_key(key.as_str()))
            .map(|(key, entry)| KeyValue {
                key: key.clone(),
                value: entry.value.clone(),
                mod_revision: entry.mod_revision,
            })
            .peekable();
        let mut past = then
            .range::<str, _>((start, Bound::Unbounded))
            .filter_map(|(_, was)| was.clone())
            .peekable();
        // The two, merged in key order.
        let mut items = Vec::new();
        let mut more = false;
        loop {
            let next = match (now.peek(), past.peek()) {
                (None, None) => break,
                (Some(_), None) => now.next(),
                (None, Some(_)) => past.next(),
                (Some(a), Some(b)) if a.key < b.key => now.next(),
                (Some(_), Some(_)) => past.next(),
            };
            let Some(item) = next else { break };
            if limit > 0 && items.len() == limit {
                more = true;
                break;
            }
            items.push(item);
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
        let (feed, stream) = crate::watch_channel(WATCH_BUFFER, after);
        tokio::spawn(run_watch(
            self.inner.clone(),
            prefix.to_string(),
            after,
            feed,
        ));
        Ok(stream)
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
async fn run_watch(inner: Arc<Inner>, prefix: String, mut last: Revision, tx: WatchFeed) {
    'catch_up: loop {
        // Subscribe before reading the durable mark: every event above the mark is
        // then guaranteed to arrive on `live`.
        let mut live = inner.events.subscribe();
        let durable = inner.durable_revision();
        if durable > last {
            let history = inner.history().since(&prefix, last, durable);
            let Some(history) = history else {
                let oldest = inner.history().compacted;
                let _ = tx
                    .send(Err(StoreError::Compacted {
                        requested: last,
                        oldest,
                    }))
                    .await;
                return;
            };
            for event in history {
                if !tx.send(Ok((*event).clone())).await {
                    return;
                }
            }
            last = durable;
            tx.passed(last);
        }
        let mut durability = inner.durable.subscribe();
        loop {
            let received = tokio::select! {
                received = live.recv() => received,
                // The watcher went away: stop without waiting for the next write.
                () = tx.closed() => return,
                // The store failed or closed: say so rather than go quiet.
                () = async {
                    let _ = durability.wait_for(|d| matches!(d, Durability::Failed { .. })).await;
                } => {
                    let why = inner.failure().unwrap_or_else(|| "store closed".to_string());
                    let _ = tx.send(Err(StoreError::Backend(why))).await;
                    return;
                }
            };
            match received {
                Ok(event) => {
                    if event.revision <= last {
                        continue;
                    }
                    last = event.revision;
                    if event.key.starts_with(&prefix) && !tx.send(Ok((*event).clone())).await {
                        return;
                    }
                    tx.passed(last);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue 'catch_up,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// History is trimmed only once a group is durable: the oldest revision it
    /// keeps never passes the durable one, so a list at the current revision is
    /// never refused as compacted, even with a window smaller than a group.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn history_never_drops_the_current_revision() {
        let dir = tempfile::tempdir().unwrap();
        let options = SledStoreOptions {
            history_window: 2,
            ..SledStoreOptions::default()
        };
        let store = SledStore::open(dir.path(), options).unwrap();
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..150 {
                        store
                            .create(&format!("/c/{w}-{i}"), b"v".to_vec())
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        let inner = store.inner.clone();
        let watcher = std::thread::spawn(move || {
            let mut checks = 0u64;
            while inner.durable_revision() < 8 * 150 {
                // Compacted first, durable after: the durable mark only grows.
                let compacted = inner.history().compacted;
                let durable = inner.durable_revision();
                assert!(
                    compacted <= durable,
                    "compacted {compacted} > durable {durable}"
                );
                checks += 1;
            }
            checks
        });
        for w in writers {
            w.await.unwrap();
        }
        assert!(watcher.join().unwrap() > 0);
    }
}
