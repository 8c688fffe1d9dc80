//! RFC 7386 JSON merge patch.

use serde_json::{Value, json};

use super::deployment;
use crate::{PatchError, PatchType, apply};

fn mp(original: &Value, patch: &str) -> Result<Value, PatchError> {
    apply(PatchType::Merge, original, patch.as_bytes())
}

#[test]
fn null_deletes_and_objects_merge_recursively() {
    let original = deployment();
    let patched = mp(
        &original,
        r#"{"metadata":{"labels":{"tier":null,"env":"prod"},"annotations":null},
            "spec":{"replicas":3,"strategy":{"rollingUpdate":null}}}"#,
    )
    .unwrap();
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    assert!(patched["metadata"].get("annotations").is_none());
    assert_eq!(patched["spec"]["replicas"], 3);
    assert_eq!(
        patched["spec"]["strategy"],
        json!({"type": "RollingUpdate"})
    );
    assert_eq!(patched["spec"]["selector"], original["spec"]["selector"]);
}

#[test]
fn lists_are_replaced_whole() {
    // No merge keys in a merge patch: containers are replaced, not merged by name.
    let original = deployment();
    let patched = mp(
        &original,
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"x:2"}]}}},
            "metadata":{"finalizers":[]}}"#,
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"],
        json!([{"name": "app", "image": "x:2"}])
    );
    assert_eq!(patched["metadata"]["finalizers"], json!([]));
}

#[test]
fn nulls_in_new_objects_are_dropped_and_missing_keys_stay_missing() {
    let original = json!({"a": 1});
    let patched = mp(&original, r#"{"b":{"c":null,"d":1},"e":null}"#).unwrap();
    assert_eq!(patched, json!({"a": 1, "b": {"d": 1}}));
}

#[test]
fn an_empty_patch_changes_nothing() {
    let original = deployment();
    assert_eq!(mp(&original, "{}").unwrap(), original);
}

#[test]
fn bodies_that_are_not_an_object_are_400() {
    // kube's strict decode into a map rejects these, and evanphx/json-patch answers
    // ErrBadJSONPatch for `null`.
    let original = deployment();
    for patch in [
        "",
        "null",
        "[]",
        "[{}]",
        "\"x\"",
        "1",
        "true",
        "{",
        "{\"a\":}",
        "{} {}",
        "\u{feff}{}",
    ] {
        match mp(&original, patch) {
            Err(e @ PatchError::MalformedPatch { .. }) => {
                assert_eq!(
                    (e.http_status(), e.reason()),
                    (400, "BadRequest"),
                    "{patch:?}"
                );
            }
            other => panic!("{patch:?}: {other:?}"),
        }
    }
}

#[test]
fn directive_lookalikes_are_plain_keys_in_a_merge_patch() {
    let original = json!({"a": {"b": 1}});
    let patched = mp(&original, r#"{"a":{"$patch":"delete"}}"#).unwrap();
    assert_eq!(patched, json!({"a": {"b": 1, "$patch": "delete"}}));
}
