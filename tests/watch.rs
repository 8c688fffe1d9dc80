//! Watch semantics that clients build on, over raw HTTP against a real server: a
//! watch on one object, objects moving out of a watcher's selectors, and bookmarks
//! while the watched resource is quiet.

mod support;

use std::thread;

use serde_json::{Value, json};
use support::Server;

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// Reads a whole watch response (the request's `timeoutSeconds` ends it) as events.
fn watch_events(base: &str, path: &str) -> Vec<Value> {
    let body = reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .send()
        .expect("the watch reaches the server")
        .text()
        .expect("the watch stream ends at its timeout");
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Starts a watch in the background; the events come back on join.
fn watch_in_background(s: &Server, path: &str) -> thread::JoinHandle<Vec<Value>> {
    let base = s.url.clone();
    let path = path.to_string();
    thread::spawn(move || watch_events(&base, &path))
}

fn merge_patch(s: &Server, path: &str, patch: Value) -> Value {
    let (code, body) = s.http().send(
        "PATCH",
        path,
        "application/merge-patch+json",
        patch.to_string().into_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    body
}

fn create_configmap(s: &Server, name: &str, labels: Value) -> Value {
    let (code, body) = s.http().post_json(
        CONFIGMAPS,
        &json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}),
    );
    assert_eq!(code, 201, "{body}");
    body
}

fn summary(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["object"]["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// `…/configmaps/a?watch=true` and the older `/api/v1/watch/…/configmaps/a` are a
/// watch on the collection narrowed to `a`: they see `a`'s changes and nothing
/// else, also when a label selector narrows them further.
#[test]
fn a_watch_on_one_object_sees_only_that_object() {
    let s = Server::start();
    create_configmap(&s, "a", json!({"tier": "web"}));
    create_configmap(&s, "b", json!({"tier": "web"}));
    let paths = [
        format!("{CONFIGMAPS}/a?watch=true&timeoutSeconds=3"),
        "/api/v1/watch/namespaces/default/configmaps/a?timeoutSeconds=3".to_string(),
        format!("{CONFIGMAPS}/a?watch=true&labelSelector=tier%3Dweb&timeoutSeconds=3"),
    ];
    let watches: Vec<_> = paths.iter().map(|p| watch_in_background(&s, p)).collect();
    // Give the watches time to list before the changes they must see.
    thread::sleep(std::time::Duration::from_millis(700));
    let b = merge_patch(&s, &format!("{CONFIGMAPS}/b"), json!({"data": {"k": "b2"}}));
    let a = merge_patch(&s, &format!("{CONFIGMAPS}/a"), json!({"data": {"k": "a2"}}));
    assert_ne!(
        b["metadata"]["resourceVersion"],
        a["metadata"]["resourceVersion"]
    );
    let a_rv = a["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, watch) in paths.iter().zip(watches) {
        let events = summary(&watch.join().unwrap());
        assert_eq!(events.len(), 2, "{path}: {events:?}");
        assert_eq!((events[0].0.as_str(), events[0].1.as_str()), ("ADDED", "a"));
        assert_eq!(
            events[1],
            ("MODIFIED".to_string(), "a".to_string(), a_rv.clone()),
            "{path}"
        );
    }
}

/// An object whose labels stop matching a watcher's selector is DELETED for that
/// watcher as it last matched, at the revision of the change that moved it out,
/// and ADDED again when it comes back.
#[test]
fn an_object_leaving_the_selector_is_deleted_as_it_last_matched() {
    let s = Server::start();
    let watch = watch_in_background(
        &s,
        &format!("{CONFIGMAPS}?watch=true&labelSelector=tier%3Dweb&timeoutSeconds=3"),
    );
    thread::sleep(std::time::Duration::from_millis(700));
    create_configmap(&s, "c", json!({"tier": "web"}));
    let out = merge_patch(
        &s,
        &format!("{CONFIGMAPS}/c"),
        json!({"metadata": {"labels": {"tier": "db"}}}),
    );
    let back = merge_patch(
        &s,
        &format!("{CONFIGMAPS}/c"),
        json!({"metadata": {"labels": {"tier": "web"}}}),
    );
    let events = watch.join().unwrap();
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "DELETED", "ADDED"], "{events:?}");
    let deleted = &events[1]["object"];
    assert_eq!(deleted["metadata"]["labels"]["tier"], "web", "{deleted}");
    assert_eq!(
        deleted["metadata"]["resourceVersion"],
        out["metadata"]["resourceVersion"]
    );
    assert_eq!(
        events[2]["object"]["metadata"]["resourceVersion"],
        back["metadata"]["resourceVersion"]
    );
}

/// Bookmarks carry the store's progress, not only the last change to the watched
/// resource: a watcher of a quiet resource learns that it has seen everything up
/// to revisions written elsewhere, so a reconnect resumes from there instead of
/// falling out of the history window.
#[test]
fn bookmarks_move_on_while_the_watched_resource_is_quiet() {
    let s = Server::start();
    let (code, list) = s.http().get(CONFIGMAPS);
    assert_eq!(code, 200, "{list}");
    let from: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Bookmarks come every 10 s; the watch outlives one.
    let watch = watch_in_background(
        &s,
        &format!(
            "{CONFIGMAPS}?watch=true&allowWatchBookmarks=true&resourceVersion={from}&timeoutSeconds=12"
        ),
    );
    let mut newest = 0u64;
    for i in 0..5 {
        let (code, secret) = s.http().post_json(
            "/api/v1/namespaces/default/secrets",
            &json!({"metadata": {"name": format!("s{i}")}}),
        );
        assert_eq!(code, 201, "{secret}");
        newest = secret["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    }
    let events = watch.join().unwrap();
    assert!(
        events.iter().all(|e| e["type"] == "BOOKMARK"),
        "only bookmarks: no configmap changed: {events:?}"
    );
    let marks: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        marks.iter().any(|&m| m >= newest),
        "a bookmark at or past revision {newest}: {marks:?}"
    );
}
