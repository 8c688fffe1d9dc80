//! The behaviour every [`Store`] backend must have, as one test suite.
//!
//! A backend runs it with [`store_conformance_tests!`](crate::store_conformance_tests),
//! giving an async factory that returns a fresh, empty store and a guard that keeps
//! its resources (a temporary directory, a server process) alive:
//!
//! ```text
//! wharf_store::store_conformance_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SledStore::open(dir.path(), Default::default()).unwrap();
//!     (store, dir)
//! });
//! ```
//!
//! The checks panic with a message naming the broken promise; they are meant to be
//! called from tests only.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::{Event, EventKind, Store, StoreError, WatchStream};

/// Generates one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@tests $factory;
            create_then_get, revisions_increase, update_preconditions, delete_preconditions,
            list_prefix_and_pages, lists_at_a_past_revision, watch_replays_then_follows,
            watch_filters_prefix,
            watch_reports_kinds_and_previous_values, watch_rejects_future_revision,
            concurrent_writes_get_distinct_ordered_revisions, refusals_agree_with_reads,
            dropped_watch_is_released);
    };
    (@tests $factory:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = ($factory)().await;
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}

const KEY: &str = "/registry/pods/default/a";

pub async fn create_then_get(store: &impl Store) {
    assert_eq!(
        store.get(KEY).await.unwrap(),
        None,
        "fresh store has no keys"
    );
    let rev = store.create(KEY, b"one".to_vec()).await.unwrap();
    let kv = store
        .get(KEY)
        .await
        .unwrap()
        .expect("created key is readable");
    assert_eq!(&kv.value[..], b"one");
    assert_eq!(
        kv.mod_revision, rev,
        "mod_revision is the revision of the write"
    );
    assert!(
        store.current_revision() >= rev,
        "an acknowledged write is current"
    );
    match store.create(KEY, b"two".to_vec()).await {
        Err(StoreError::AlreadyExists { key }) => assert_eq!(key, KEY),
        other => panic!("second create must fail with AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        &store.get(KEY).await.unwrap().unwrap().value[..],
        b"one",
        "failed create wrote nothing"
    );
}

pub async fn revisions_increase(store: &impl Store) {
    let start = store.current_revision();
    let a = store.create("/r/a", b"a".to_vec()).await.unwrap();
    let b = store.create("/r/b", b"b".to_vec()).await.unwrap();
    let c = store.update("/r/a", b"a2".to_vec(), None).await.unwrap();
    let (d, _) = store.delete("/r/b", None).await.unwrap();
    assert!(
        start < a && a < b && b < c && c < d,
        "{start} {a} {b} {c} {d} must increase"
    );
    assert_eq!(store.current_revision(), d);
}

pub async fn update_preconditions(store: &impl Store) {
    let rev = store.create(KEY, b"v1".to_vec()).await.unwrap();
    let rev2 = store.update(KEY, b"v2".to_vec(), Some(rev)).await.unwrap();
    assert!(rev2 > rev);
    match store.update(KEY, b"v3".to_vec(), Some(rev)).await {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), (rev, rev2));
        }
        other => panic!("stale update must conflict, got {other:?}"),
    }
    assert_eq!(
        &store.get(KEY).await.unwrap().unwrap().value[..],
        b"v2",
        "conflict wrote nothing"
    );
    match store
        .update("/registry/pods/default/missing", b"x".to_vec(), None)
        .await
    {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("update of a missing key must be NotFound, got {other:?}"),
    }
}

pub async fn delete_preconditions(store: &impl Store) {
    let rev = store.create(KEY, b"v1".to_vec()).await.unwrap();
    match store.delete(KEY, Some(rev + 1000)).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("delete with a wrong revision must conflict, got {other:?}"),
    }
    let (drev, old) = store.delete(KEY, Some(rev)).await.unwrap();
    assert!(drev > rev);
    assert_eq!(&old.value[..], b"v1", "delete returns the deleted value");
    assert_eq!(store.get(KEY).await.unwrap(), None);
    match store.delete(KEY, None).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("deleting a missing key must be NotFound, got {other:?}"),
    }
}

pub async fn list_prefix_and_pages(store: &impl Store) {
    for name in ["c", "a", "b", "d", "e"] {
        store
            .create(
                &format!("/registry/pods/ns1/{name}"),
                name.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }
    // Neighbours that share a string prefix but not the directory must not leak in.
    store
        .create("/registry/pods/ns10/x", b"x".to_vec())
        .await
        .unwrap();
    store
        .create("/registry/pods/ns0/y", b"y".to_vec())
        .await
        .unwrap();

    let all = store.list("/registry/pods/ns1/", None, 0).await.unwrap();
    let names: Vec<_> = all.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d", "e"].map(|n| format!("/registry/pods/ns1/{n}")),
        "list is in key order and bounded by the prefix"
    );
    assert!(!all.more);
    assert!(all.revision >= all.items.iter().map(|kv| kv.mod_revision).max().unwrap());

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list("/registry/pods/ns1/", after.as_deref(), 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2, "limit is respected");
        seen.extend(page.items.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        after = page.items.last().map(|kv| kv.key.clone());
    }
    assert_eq!(
        seen.len(),
        5,
        "pages cover every key exactly once: {seen:?}"
    );
    let exact = store.list("/registry/pods/ns1/", None, 5).await.unwrap();
    assert!(
        !exact.more,
        "a page that ends at the last key says there is no more"
    );
}

/// A list at a past revision shows the keys as they were then, each with the
/// revision that wrote it: what changed since is undone, what was deleted is
/// back, what was created is not there yet. Pages at that revision stay
/// consistent with each other whatever is written between them.
pub async fn lists_at_a_past_revision(store: &impl Store) {
    let key = |n: &str| format!("/s/{n}");
    let a = store.create(&key("a"), b"a1".to_vec()).await.unwrap();
    let b = store.create(&key("b"), b"b1".to_vec()).await.unwrap();
    let c = store.create(&key("c"), b"c1".to_vec()).await.unwrap();
    store.create("/t/other", b"o".to_vec()).await.unwrap();
    let then = store.current_revision();
    let first = store.list_at("/s/", None, 2, then).await.unwrap();
    assert_eq!(first.revision, then);
    assert!(first.more);
    // Between the pages: an update, a delete, a create, and more of each.
    store.update(&key("a"), b"a2".to_vec(), None).await.unwrap();
    store.update(&key("a"), b"a3".to_vec(), None).await.unwrap();
    store.delete(&key("c"), None).await.unwrap();
    store.create(&key("bb"), b"new".to_vec()).await.unwrap();
    store.create(&key("d"), b"new".to_vec()).await.unwrap();
    store.update(&key("b"), b"b2".to_vec(), None).await.unwrap();

    let at_then = store.list_at("/s/", None, 0, then).await.unwrap();
    let seen: Vec<_> = at_then
        .items
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.to_vec(), kv.mod_revision))
        .collect();
    assert_eq!(
        seen,
        [
            (key("a"), b"a1".to_vec(), a),
            (key("b"), b"b1".to_vec(), b),
            (key("c"), b"c1".to_vec(), c)
        ],
        "the keys as they were at revision {then}"
    );
    assert!(!at_then.more);
    let after = first.items.last().map(|kv| kv.key.clone());
    let second = store
        .list_at("/s/", after.as_deref(), 2, then)
        .await
        .unwrap();
    let keys: Vec<_> = second.items.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(
        keys,
        [key("c")],
        "the second page continues the first's snapshot"
    );
    assert!(!second.more);

    let now = store.current_revision();
    let current = store.list_at("/s/", None, 0, now).await.unwrap();
    let plain = store.list("/s/", None, 0).await.unwrap();
    assert_eq!(
        current.items, plain.items,
        "at the current revision, as list"
    );
    match store.list_at("/s/", None, 0, now + 10).await {
        Err(StoreError::FutureRevision { .. }) => {}
        other => panic!("a future revision is refused, got {other:?}"),
    }
}

pub async fn watch_replays_then_follows(store: &impl Store) {
    let base = store.current_revision();
    let r1 = store.create("/w/a", b"1".to_vec()).await.unwrap();
    let r2 = store.update("/w/a", b"2".to_vec(), None).await.unwrap();
    let mut watch = store.watch("/w/", base).await.unwrap();
    let r3 = store.create("/w/b", b"3".to_vec()).await.unwrap();
    let got = next_events(&mut watch, 3).await;
    assert_eq!(
        got.iter().map(|e| e.revision).collect::<Vec<_>>(),
        vec![r1, r2, r3],
        "history then live, in order, none skipped"
    );
    // Resuming from the middle gives exactly what followed.
    let mut resumed = store.watch("/w/", r1).await.unwrap();
    let got = next_events(&mut resumed, 2).await;
    assert_eq!(
        got.iter().map(|e| e.revision).collect::<Vec<_>>(),
        vec![r2, r3]
    );
    expect_quiet(&mut resumed).await;
}

pub async fn watch_filters_prefix(store: &impl Store) {
    let base = store.current_revision();
    let mut watch = store.watch("/registry/pods/", base).await.unwrap();
    store
        .create("/registry/services/default/s", b"s".to_vec())
        .await
        .unwrap();
    let rev = store
        .create("/registry/pods/default/p", b"p".to_vec())
        .await
        .unwrap();
    let got = next_events(&mut watch, 1).await;
    assert_eq!(got[0].revision, rev);
    assert_eq!(got[0].key, "/registry/pods/default/p");
    expect_quiet(&mut watch).await;
}

pub async fn watch_reports_kinds_and_previous_values(store: &impl Store) {
    let base = store.current_revision();
    let mut watch = store.watch("/k/", base).await.unwrap();
    store.create("/k/x", b"v1".to_vec()).await.unwrap();
    store.update("/k/x", b"v2".to_vec(), None).await.unwrap();
    store.delete("/k/x", None).await.unwrap();
    let got = next_events(&mut watch, 3).await;
    let shape: Vec<_> = got
        .iter()
        .map(|e| {
            (
                e.kind,
                e.value.to_vec(),
                e.prev_value.as_ref().map(|p| p.to_vec()),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (EventKind::Created, b"v1".to_vec(), None),
            (EventKind::Updated, b"v2".to_vec(), Some(b"v1".to_vec())),
            (EventKind::Deleted, b"v2".to_vec(), Some(b"v2".to_vec())),
        ]
    );
}

pub async fn watch_rejects_future_revision(store: &impl Store) {
    let current = store.current_revision();
    match store.watch("/", current + 100).await {
        Err(StoreError::FutureRevision { requested, .. }) => assert_eq!(requested, current + 100),
        Err(other) => panic!("a watch from the future must say so, got {other:?}"),
        Ok(_) => panic!("a watch from the future must say so, got a stream"),
    }
}

pub async fn concurrent_writes_get_distinct_ordered_revisions(store: &impl Store) {
    let base = store.current_revision();
    let mut watch = store.watch("/c/", base).await.unwrap();
    let n = 200;
    let writes = concurrent_creates(store, n).await;
    let distinct: BTreeSet<_> = writes.iter().copied().collect();
    assert_eq!(distinct.len(), n, "every write got its own revision");
    let got = next_events(&mut watch, n).await;
    let revs: Vec<_> = got.iter().map(|e| e.revision).collect();
    let mut sorted = revs.clone();
    sorted.sort_unstable();
    assert_eq!(revs, sorted, "watch delivers in revision order");
    assert_eq!(
        revs.iter().copied().collect::<BTreeSet<_>>(),
        distinct,
        "watch delivers every write"
    );
}

/// A write refused because of a key's state (AlreadyExists, Conflict) reports only
/// state that a read made after the refusal sees: a client told "already exists"
/// that then reads the key must find it, even while the write that made it was
/// still on its way to disk when the refusal was decided.
pub async fn refusals_agree_with_reads(store: &impl Store) {
    for round in 0..40 {
        let key = format!("/r/{round:03}");
        let creates: Vec<_> = (0..4)
            .map(|i| {
                let key = key.clone();
                async move {
                    match store.create(&key, vec![i; 64]).await {
                        Ok(_) => true,
                        Err(StoreError::AlreadyExists { .. }) => {
                            let seen = store.get(&key).await.unwrap();
                            assert!(
                                seen.is_some(),
                                "{key}: create refused as AlreadyExists, then a read found nothing"
                            );
                            false
                        }
                        Err(e) => panic!("{key}: create failed: {e}"),
                    }
                }
            })
            .collect();
        let won = join_all(creates).await;
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "{key}: one create wins"
        );
        let base = store.get(&key).await.unwrap().unwrap().mod_revision;
        let updates: Vec<_> = (0..4)
            .map(|i| {
                let key = key.clone();
                async move {
                    match store.update(&key, vec![i + 10; 64], Some(base)).await {
                        Ok(_) => true,
                        Err(StoreError::Conflict { actual, .. }) => {
                            let seen = store.get(&key).await.unwrap().unwrap();
                            assert!(
                                seen.mod_revision >= actual,
                                "{key}: update refused for revision {actual}, then a read returned {}",
                                seen.mod_revision
                            );
                            false
                        }
                        Err(e) => panic!("{key}: update failed: {e}"),
                    }
                }
            })
            .collect();
        let won = join_all(updates).await;
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "{key}: one update wins"
        );
    }
}

/// Runs `n` creates concurrently against a borrowed store (so they cannot be
/// spawned), polling them together so that they overlap inside the store.
async fn concurrent_creates(store: &impl Store, n: usize) -> Vec<u64> {
    let keys: Vec<String> = (0..n).map(|i| format!("/c/{i:04}")).collect();
    let futs: Vec<_> = keys
        .iter()
        .map(|k| store.create(k, vec![b'x'; 100]))
        .collect();
    join_all(futs)
        .await
        .into_iter()
        .map(|r| r.expect("concurrent create succeeds"))
        .collect()
}

async fn join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    use std::pin::Pin;
    use std::task::Poll;
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => out[i] = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(
                out.iter_mut()
                    .map(|o| o.take().expect("polled to completion"))
                    .collect(),
            )
        }
    })
    .await
}

pub async fn dropped_watch_is_released(store: &impl Store) {
    let watch = store.watch("/d/", store.current_revision()).await.unwrap();
    drop(watch);
    // Writes after a watcher left must not block on it.
    for i in 0..3000 {
        tokio::time::timeout(
            Duration::from_secs(10),
            store.create(&format!("/d/{i}"), b"x".to_vec()),
        )
        .await
        .expect("writes never wait for a dropped watcher")
        .unwrap();
    }
}

async fn next_events(watch: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(10), watch.recv()).await {
            Ok(Some(Ok(event))) => out.push(event),
            Ok(Some(Err(e))) => panic!("watch failed after {} events: {e}", out.len()),
            Ok(None) => panic!("watch ended after {} of {n} events", out.len()),
            Err(_) => panic!("watch stalled after {} of {n} events", out.len()),
        }
    }
    out
}

async fn expect_quiet(watch: &mut WatchStream) {
    if let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(200), watch.recv()).await {
        panic!("unexpected extra watch event: {event:?}");
    }
}
