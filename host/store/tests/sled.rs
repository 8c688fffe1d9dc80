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
    let mut reopened = None;
    for _ in 0..50 {
        match SledStore::open(dir.path(), SledStoreOptions::default()) {
            Ok(s) => {
                reopened = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let store = reopened.expect("the store can be reopened once closed");
    assert_eq!(&store.get("/z/a").await.unwrap().unwrap().value[..], b"a");
}
