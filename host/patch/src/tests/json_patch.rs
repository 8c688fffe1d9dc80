//! RFC 6902 JSON patch, with kube's limits and status codes.

use serde_json::{Value, json};

use super::deployment;
use crate::{MAX_DEPTH, PatchError, PatchType, apply};

fn jp(original: &Value, patch: &str) -> Result<Value, PatchError> {
    apply(PatchType::Json, original, patch.as_bytes())
}

#[track_caller]
fn jp_failed_at(original: &Value, patch: &str) -> usize {
    match jp(original, patch) {
        Err(e @ PatchError::OperationFailed { index, .. }) => {
            assert_eq!((e.http_status(), e.reason()), (422, "Invalid"));
            index
        }
        other => panic!("expected a failed operation, got {other:?}"),
    }
}

#[track_caller]
fn jp_malformed(original: &Value, patch: &str) {
    match jp(original, patch) {
        Err(e @ PatchError::MalformedPatch { .. }) => assert_eq!(e.http_status(), 400),
        other => panic!("expected 400 for {patch}, got {other:?}"),
    }
}

#[test]
fn add_remove_replace_move_copy_and_test_apply_in_order() {
    let original = deployment();
    let patched = jp(
        &original,
        r#"[
            {"op":"test","path":"/spec/replicas","value":2},
            {"op":"replace","path":"/spec/replicas","value":5},
            {"op":"add","path":"/metadata/labels/env","value":"prod"},
            {"op":"remove","path":"/metadata/labels/tier"},
            {"op":"add","path":"/spec/template/spec/containers/0/env/-","value":{"name":"C","value":"3"}},
            {"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/copied"},
            {"op":"move","from":"/metadata/labels/copied","path":"/metadata/annotations/moved"},
            {"op":"test","path":"/metadata/annotations/moved","value":"web"}
        ]"#,
    )
    .unwrap();
    assert_eq!(patched["spec"]["replicas"], 5);
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    assert_eq!(patched["metadata"]["annotations"]["moved"], "web");
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"][0]["env"][2],
        json!({"name": "C", "value": "3"})
    );
}

#[test]
fn a_failing_test_reports_its_index_and_nothing_applies() {
    let original = deployment();
    let index = jp_failed_at(
        &original,
        r#"[{"op":"replace","path":"/spec/replicas","value":9},
            {"op":"test","path":"/spec/replicas","value":2}]"#,
    );
    assert_eq!(index, 1);
}

#[test]
fn operations_on_missing_paths_fail_with_422() {
    let original = deployment();
    for patch in [
        r#"[{"op":"remove","path":"/spec/nothere"}]"#,
        r#"[{"op":"replace","path":"/nothere","value":1}]"#,
        r#"[{"op":"add","path":"/a/b/c","value":1}]"#,
        r#"[{"op":"test","path":"/nothere","value":1}]"#,
        r#"[{"op":"move","from":"/nothere","path":"/x"}]"#,
        r#"[{"op":"copy","from":"/nothere","path":"/x"}]"#,
        r#"[{"op":"add","path":"/spec/template/spec/containers/7","value":{}}]"#,
        r#"[{"op":"move","from":"/spec","path":"/spec/inside"}]"#,
        r#"[{"op":"remove","path":""}]"#,
    ] {
        assert_eq!(jp_failed_at(&original, patch), 0, "{patch}");
    }
}

#[test]
fn malformed_operations_fail_with_422_in_order() {
    // kube decodes the list, then applies operations one by one; a bad operation is reported
    // when it is reached.
    let original = deployment();
    for patch in [
        r#"[{"op":"frobnicate","path":"/a"}]"#,
        r#"[{"op":"add","value":1}]"#,
        r#"[{"path":"/a","value":1}]"#,
        r#"[{"op":"add","path":"no-slash","value":1}]"#,
        r#"[{"op":"add","path":"/a"}]"#,
        r#"[{"op":"move","path":"/a"}]"#,
        r#"[null]"#,
        r#"[{}]"#,
    ] {
        assert_eq!(jp_failed_at(&original, patch), 0, "{patch}");
    }
    let index = jp_failed_at(
        &original,
        r#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"bogus"}]"#,
    );
    assert_eq!(index, 1);
}

#[test]
fn bodies_that_are_not_a_list_of_operations_are_400() {
    let original = deployment();
    for patch in [
        "",
        "   ",
        "{",
        "not json",
        r#"{"op":"add","path":"/a","value":1}"#,
        "\"x\"",
        "42",
        "[1]",
        r#"["add"]"#,
        r#"[[{"op":"add","path":"/a","value":1}]]"#,
        r#"[{"op":5,"path":"/a"}]"#,
        r#"[{"op":"add","path":7,"value":1}]"#,
        r#"[{"op":"move","from":{},"path":"/a"}]"#,
        "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"\u{0}\"",
    ] {
        jp_malformed(&original, patch);
    }
    // A shape error is a 400 even after an operation that would fail.
    jp_malformed(&original, r#"[{"op":"test","path":"/x","value":1}, 3]"#);
}

#[test]
fn null_and_empty_patches_change_nothing() {
    let original = deployment();
    assert_eq!(jp(&original, "null").unwrap(), original);
    assert_eq!(jp(&original, "[]").unwrap(), original);
    // Go's strict decode ignores a null op field the same way.
    assert_eq!(
        jp(
            &original,
            r#"[{"op":"test","path":"/spec/replicas","value":2,"from":null}]"#
        )
        .unwrap(),
        original
    );
}

#[test]
fn more_than_ten_thousand_operations_is_413() {
    let original = json!({"a": 1});
    let op = r#"{"op":"test","path":"/a","value":1}"#;
    let patch = |n: usize| format!("[{}]", vec![op; n].join(","));
    assert_eq!(jp(&original, &patch(10_000)).unwrap(), original);
    match jp(&original, &patch(10_001)) {
        Err(e @ PatchError::TooManyOperations { count: 10_001, .. }) => {
            assert_eq!(
                (e.http_status(), e.reason()),
                (413, "RequestEntityTooLarge")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn copies_past_three_mebibytes_are_refused() {
    let original = json!({"a": "x".repeat(1024), "list": []});
    let copy = r#"{"op":"copy","from":"/a","path":"/list/-"}"#;
    // 3000 copies of a kilobyte fit; 3100 do not.
    assert!(jp(&original, &format!("[{}]", vec![copy; 3000].join(","))).is_ok());
    match jp(&original, &format!("[{}]", vec![copy; 3100].join(","))) {
        Err(e @ PatchError::CopyLimitExceeded { .. }) => {
            assert_eq!((e.http_status(), e.reason()), (422, "Invalid"));
        }
        other => panic!("{:?}", other.map(|_| "ok")),
    }
    // Copying the whole document into itself doubles it each time.
    let doubling = r#"{"op":"copy","from":"","path":"/list/-"}"#;
    let patch = format!("[{}]", vec![doubling; 40].join(","));
    assert!(matches!(
        jp(&original, &patch),
        Err(PatchError::CopyLimitExceeded { .. })
    ));
}

#[test]
fn nesting_past_the_limit_is_refused() {
    // Each add nests one level deeper than the last.
    let mut ops = Vec::new();
    let mut path = String::new();
    for _ in 0..=MAX_DEPTH {
        path.push_str("/a");
        ops.push(format!(r#"{{"op":"add","path":"{path}","value":{{}}}}"#));
    }
    let patch = format!("[{}]", ops.join(","));
    match jp(&json!({}), &patch) {
        Err(e @ PatchError::TooDeep { .. }) => assert_eq!(e.http_status(), 422),
        other => panic!("{:?}", other.map(|_| "ok")),
    }
    // Copying a deep branch into a deep path is caught before the copy.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "a": deep });
    }
    let original = json!({ "d": deep });
    let target = "/d".to_owned() + &"/a".repeat(60);
    let patch = format!(r#"[{{"op":"copy","from":"/d","path":"{target}"}}]"#);
    assert!(matches!(
        jp(&original, &patch),
        Err(PatchError::TooDeep { .. })
    ));
    // So is moving it there: 29 levels of `e`, then the 101 of `d`.
    let mut chain = json!({});
    for _ in 0..28 {
        chain = json!({ "a": chain });
    }
    let target = "/e".to_owned() + &"/a".repeat(28) + "/d";
    let patch = format!(
        r#"[{{"op":"add","path":"/e","value":{chain}}},{{"op":"move","from":"/d","path":"{target}"}}]"#
    );
    assert!(matches!(
        jp(&original, &patch),
        Err(PatchError::TooDeep { .. })
    ));
    // A shallow move is fine.
    let patch = r#"[{"op":"add","path":"/e","value":{}},{"op":"move","from":"/d","path":"/e/d"}]"#;
    assert!(jp(&original, patch).is_ok());
}

#[test]
fn replacing_the_whole_object_needs_an_object() {
    let original = deployment();
    match jp(&original, r#"[{"op":"replace","path":"","value":[1,2]}]"#) {
        Err(e @ PatchError::NotAnObject) => {
            assert_eq!((e.http_status(), e.reason()), (422, "Invalid"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        jp(
            &original,
            r#"[{"op":"replace","path":"","value":{"kind":"X"}}]"#
        )
        .unwrap(),
        json!({"kind": "X"})
    );
}
