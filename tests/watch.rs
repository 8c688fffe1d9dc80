//! Watch and list semantics that clients build on, over raw HTTP against a real
//! server: a watch on one object, objects moving out of a watcher's selectors,
//! bookmarks while the watched resource is quiet, and lists that show one
//! revision (paginated, exact, expired).

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

fn get_ok(s: &Server, path: &str) -> Value {
    let (code, body) = s.http().get(path);
    assert_eq!(code, 200, "{path}: {body}");
    body
}

fn names_and_data(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"].as_str().unwrap().to_string(),
                i["data"]["k"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The pages of a paginated list show the collection as it was when the first
/// page was read, whatever is written between them, as Kubernetes reads them
/// from etcd at the first page's revision.
#[test]
fn the_pages_of_a_list_show_one_revision() {
    let s = Server::start();
    let mut created = std::collections::HashMap::new();
    for n in ["c0", "c1", "c2", "c3", "c4", "c5"] {
        let cm = create_configmap(&s, n, json!({}));
        created.insert(n, cm["metadata"]["resourceVersion"].clone());
    }
    let first = get_ok(&s, &format!("{CONFIGMAPS}?limit=2"));
    let rv = first["metadata"]["resourceVersion"].clone();
    assert_eq!(
        names_and_data(&first),
        [("c0".into(), "v".into()), ("c1".into(), "v".into())]
    );
    // Between the pages: an update, a delete, a create inside the range to come.
    merge_patch(
        &s,
        &format!("{CONFIGMAPS}/c3"),
        json!({"data": {"k": "changed"}}),
    );
    let (code, body) = s.http().send(
        "DELETE",
        &format!("{CONFIGMAPS}/c4"),
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200, "{body}");
    create_configmap(&s, "c2a", json!({}));

    let mut token = first["metadata"]["continue"].as_str().unwrap().to_string();
    let mut rest = Vec::new();
    loop {
        let page = get_ok(&s, &format!("{CONFIGMAPS}?limit=2&continue={token}"));
        assert_eq!(page["metadata"]["resourceVersion"], rv, "{page}");
        for item in page["items"].as_array().unwrap() {
            let name = item["metadata"]["name"].as_str().unwrap();
            assert_eq!(
                item["metadata"]["resourceVersion"], created[name],
                "{name} as it was at revision {rv}"
            );
        }
        rest.extend(names_and_data(&page));
        match page["metadata"]["continue"].as_str() {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => break,
        }
    }
    assert_eq!(
        rest,
        ["c2", "c3", "c4", "c5"].map(|n| (n.to_string(), "v".to_string())),
        "the rest of the listing at revision {rv}"
    );
}

/// `resourceVersionMatch=Exact` lists the collection at that revision; "0" is
/// refused with it, as Kubernetes does.
#[test]
fn an_exact_list_shows_that_revision() {
    let s = Server::start();
    let cm = create_configmap(&s, "x", json!({}));
    let then = cm["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    merge_patch(
        &s,
        &format!("{CONFIGMAPS}/x"),
        json!({"data": {"k": "later"}}),
    );
    create_configmap(&s, "y", json!({}));
    let exact = get_ok(
        &s,
        &format!("{CONFIGMAPS}?resourceVersion={then}&resourceVersionMatch=Exact"),
    );
    assert_eq!(exact["metadata"]["resourceVersion"], then.as_str());
    assert_eq!(names_and_data(&exact), [("x".into(), "v".into())]);
    let (code, body) = s.http().get(&format!(
        "{CONFIGMAPS}?resourceVersion=0&resourceVersionMatch=Exact"
    ));
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
}

/// A continue token whose revision has left the history window is 410 Expired:
/// the client starts a new list instead of receiving an inconsistent one.
#[test]
fn a_continue_token_past_the_history_window_is_expired() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let s = Server::start_with(&data, &["--history-window", "5"]);
    for i in 0..3 {
        create_configmap(&s, &format!("a{i}"), json!({}));
    }
    let first = get_ok(&s, &format!("{CONFIGMAPS}?limit=1"));
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    for i in 0..10 {
        create_configmap(&s, &format!("b{i}"), json!({}));
    }
    let (code, body) = s
        .http()
        .get(&format!("{CONFIGMAPS}?limit=1&continue={token}"));
    assert_eq!(code, 410, "{body}");
    assert_eq!(body["reason"], "Expired", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("The provided continue parameter is too old"),
        "{body}"
    );
}

/// The watch options Kubernetes refuses are 400s naming the field; the WatchList
/// form client-go sends (`sendInitialEvents=true&resourceVersionMatch=NotOlderThan`)
/// lists, then marks the end of the initial events with a bookmark; and
/// `sendInitialEvents=false` without a resourceVersion starts from now.
#[test]
fn watch_options_follow_kubernetes_rules() {
    let s = Server::start();
    create_configmap(&s, "old", json!({}));
    for (query, field) in [
        (
            "watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan",
            "resourceVersionMatch",
        ),
        ("watch=1&sendInitialEvents=true", "resourceVersionMatch"),
        ("watch=1&sendInitialEvents=maybe", "sendInitialEvents"),
        (
            "sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
            "sendInitialEvents",
        ),
    ] {
        let (code, body) = s.http().get(&format!("{CONFIGMAPS}?{query}"));
        assert_eq!(code, 400, "{query}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let listed = watch_events(
        &s.url,
        &format!(
            "{CONFIGMAPS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
        ),
    );
    assert_eq!(listed[0]["type"], "ADDED", "{listed:?}");
    assert_eq!(listed[0]["object"]["metadata"]["name"], "old");
    assert_eq!(listed[1]["type"], "BOOKMARK", "{listed:?}");
    assert_eq!(
        listed[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let from_now = watch_in_background(
        &s,
        &format!(
            "{CONFIGMAPS}?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&timeoutSeconds=2"
        ),
    );
    thread::sleep(std::time::Duration::from_millis(500));
    create_configmap(&s, "new", json!({}));
    let events = summary(&from_now.join().unwrap());
    let seen: Vec<_> = events
        .iter()
        .map(|(t, n, _)| (t.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        seen,
        [("ADDED", "new")],
        "no initial events, then the change"
    );
}
