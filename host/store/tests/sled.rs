//! The sled backend against the store conformance suite, plus what only sled has:
//! persistence across reopen and compaction.

use std::time::Duration;

use wharf_store::{SledStore, SledStoreOptions, Store, StoreError};

async fn fresh() -> (SledStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path(), SledStoreOptions::default()).expect("open store");
    (store, dir)
}

wharf_store::store_conformance_tests!(fresh);

/// Opens the store in `dir` once its previous instance has let go of it (its
/// threads and watch tasks end shortly after the last handle is dropped).
async fn reopen_when_closed(dir: &std::path::Path) -> SledStore {
    for _ in 0..50 {
        match SledStore::open(dir, SledStoreOptions::default()) {
            Ok(store) => return store,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("the store in {} can be reopened once closed", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_history_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = {
        let store = SledStore::open(dir.path(), SledStoreOptions::default()).unwrap();
        let r1 = store.create("/p/a", b"a".to_vec()).await.unwrap();
        let r2 = store
            .update("/p/a", b"a2".to_vec(), Some(r1))
            .await
            .unwrap();
        (r1, r2)
    };
    // sled refuses a second open while the first's flusher still holds the files.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let store = SledStore::open(dir.path(), SledStoreOptions::default()).unwrap();
    assert_eq!(store.current_revision(), r2, "revision continues from disk");
    let kv = store.get("/p/a").await.unwrap().unwrap();
    assert_eq!((&kv.value[..], kv.mod_revision), (&b"a2"[..], r2));
    let mut watch = store.watch("/p/", r1).await.unwrap();
    let event = watch.recv().await.unwrap().unwrap();
    assert_eq!(
        event.revision, r2,
        "history from before the restart is still served"
    );
    let r3 = store.create("/p/b", b"b".to_vec()).await.unwrap();
    assert!(r3 > r2);
}

/// Watches and lists from before the history window get `Compacted`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_history_is_an_error_not_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let options = SledStoreOptions {
        history_window: 5,
        ..SledStoreOptions::default()
    };
    let store = SledStore::open(dir.path(), options).unwrap();
    for i in 0..20 {
        store
            .create(&format!("/x/{i}"), b"v".to_vec())
            .await
            .unwrap();
    }
    let oldest = store.compact().unwrap();
    assert_eq!(oldest, 15);
    match store.watch("/x/", 3).await {
        Err(StoreError::Compacted { requested, oldest }) => {
            assert_eq!((requested, oldest), (3, 15))
        }
        Err(other) => panic!("expected Compacted, got {other:?}"),
        Ok(_) => panic!("expected Compacted, got a stream"),
    }
    let mut watch = store.watch("/x/", 15).await.unwrap();
    for expected in 16..=20 {
        assert_eq!(watch.recv().await.unwrap().unwrap().revision, expected);
    }
    // A list at a revision whose later changes are no longer all in history is
    // refused the same way, not answered from a partial undo.
    match store.list_at("/x/", None, 0, 3).await {
        Err(StoreError::Compacted { requested: 3, .. }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    let page = store.list_at("/x/", None, 0, 15).await.unwrap();
    assert_eq!(page.items.len(), 15, "the keys up to revision 15");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_trim_the_log_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = SledStoreOptions {
        checkpoint_interval: Duration::ZERO,
        ..SledStoreOptions::default()
    };
    let last = {
        let store = SledStore::open(dir.path(), options.clone()).unwrap();
        let mut last = 0;
        for i in 0..200 {
            last = store
                .create(&format!("/cp/{i:03}"), vec![b'v'; 200])
                .await
                .unwrap();
        }
        // Let the last checkpoint finish.
        tokio::time::sleep(Duration::from_millis(300)).await;
        last
    };
    let segments = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert!(
        segments <= 3,
        "checkpointed segments are deleted ({segments} left)"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let store = SledStore::open(dir.path(), options).unwrap();
    assert_eq!(store.current_revision(), last);
    let page = store.list("/cp/", None, 0).await.unwrap();
    assert_eq!(page.items.len(), 200, "every write is back after reopen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_store_ends_its_watches_and_unlocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), SledStoreOptions::default()).unwrap();
    store.create("/z/a", b"a".to_vec()).await.unwrap();
    let mut watch = store.watch("/z/", store.current_revision()).await.unwrap();
    drop(store);
    let ended = tokio::time::timeout(Duration::from_secs(5), watch.recv())
        .await
        .unwrap();
    assert!(
        matches!(ended, Some(Err(StoreError::Backend(_)))),
        "the watch says why it ended: {ended:?}"
    );
    drop(watch);
    // The threads and the watch task let go of sled's lock.
    let store = reopen_when_closed(dir.path()).await;
    assert_eq!(&store.get("/z/a").await.unwrap().unwrap().value[..], b"a");
}

/// Lone writes commit on the writer's own thread when the flusher is idle; bursts
/// go through the flusher. Mixed, across worker threads, every write must still be
/// acknowledged once, in revision order, and be there after reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_and_grouped_commits_interleave_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), SledStoreOptions::default()).unwrap();
    let base = store.current_revision();
    let mut watch = store.watch("/m/", base).await.unwrap();
    let mut total = 0;
    for round in 0..5 {
        // A lone writer. Its first write may still go through the flusher (if the
        // burst before ended with a group of several); after a group of one, the
        // flusher is idle and the second commits inline.
        for i in 0..2 {
            store
                .create(&format!("/m/lone-{round}-{i}"), b"v".to_vec())
                .await
                .unwrap();
        }
        total += 2;
        // Then a burst from tasks on both workers.
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..10 {
                        store
                            .create(&format!("/m/burst-{round}-{t}-{i}"), vec![b'x'; 300])
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        total += 80;
    }
    let mut seen = Vec::new();
    while seen.len() < total {
        let event = tokio::time::timeout(Duration::from_secs(10), watch.recv())
            .await
            .expect("every write reaches the watch")
            .unwrap()
            .unwrap();
        seen.push(event.revision);
    }
    let expected: Vec<u64> = (base + 1..=base + total as u64).collect();
    assert_eq!(seen, expected, "each revision once, in order");
    let last = store.current_revision();
    assert_eq!(last, base + total as u64);
    drop(watch);
    drop(store);
    let store = reopen_when_closed(dir.path()).await;
    assert_eq!(store.current_revision(), last);
    let page = store.list("/m/", None, 0).await.unwrap();
    assert_eq!(
        page.items.len(),
        total,
        "every acknowledged write is on disk"
    );
}

/// On a single-threaded runtime a writer must not block its only thread: every
/// commit goes through the flusher.
#[tokio::test(flavor = "current_thread")]
async fn writes_work_on_a_single_threaded_runtime() {
    let (store, _dir) = fresh().await;
    let mut last = 0;
    for i in 0..20 {
        last = store
            .create(&format!("/s/{i}"), b"v".to_vec())
            .await
            .unwrap();
    }
    assert_eq!(store.current_revision(), last);
    assert_eq!(store.list("/s/", None, 0).await.unwrap().items.len(), 20);
}
