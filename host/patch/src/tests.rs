//! Tests. Shared helpers and the public surface here; each patch format in its own file.

mod fuzz;
mod json_patch;
mod kubectl;
mod merge_patch;
mod strategic;
mod table;

use serde_json::{Value, json};

use crate::{MAX_DEPTH, PatchError, PatchType, apply};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn smp(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    apply(PatchType::StrategicMerge, original, &body(patch))
}

#[track_caller]
fn smp_ok(original: &Value, patch: &Value) -> Value {
    match smp(original, patch) {
        Ok(v) => {
            assert_no_directives(&v);
            v
        }
        Err(e) => panic!("strategic merge patch failed: {e}\npatch: {patch}"),
    }
}

#[track_caller]
fn smp_err(original: &Value, patch: &Value) -> PatchError {
    match smp(original, patch) {
        Ok(v) => panic!("strategic merge patch succeeded: {v}\npatch: {patch}"),
        Err(e) => e,
    }
}

/// Every strategic-merge directive key anywhere in `v`. A mistyped one (`$setElementOrdr/x`)
/// is just an unknown field, left for validation like any other.
fn directive_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$patch"
                    || k == "$retainKeys"
                    || k.starts_with("$setElementOrder")
                    || k.starts_with("$deleteFromPrimitiveList")
                {
                    out.push(k.clone());
                }
                directive_keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| directive_keys(v, out)),
        _ => {}
    }
}

#[track_caller]
fn assert_no_directives(v: &Value) {
    let mut found = Vec::new();
    directive_keys(v, &mut found);
    assert!(found.is_empty(), "directive keys {found:?} left in {v}");
}

/// A Deployment as kube serves it, small enough to read.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "finalizers": ["example.com/a", "example.com/b"],
            "creationTimestamp": null
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "x:1",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]
                        },
                        {"name": "sidecar", "image": "s:1"}
                    ],
                    "volumes": [{"name": "cfg", "configMap": {"name": "web-cfg"}}],
                    "tolerations": [{"key": "a", "operator": "Exists"}]
                }
            }
        },
        "status": {
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True"}
            ]
        }
    })
}

#[test]
fn content_types_name_the_three_patch_types() {
    let cases = [
        ("application/json-patch+json", Some(PatchType::Json)),
        ("application/merge-patch+json", Some(PatchType::Merge)),
        (
            "application/strategic-merge-patch+json",
            Some(PatchType::StrategicMerge),
        ),
        (
            "application/merge-patch+json; charset=utf-8",
            Some(PatchType::Merge),
        ),
        (
            "application/json-patch+json;charset=UTF-8",
            Some(PatchType::Json),
        ),
        // Server-side apply is not ours: the caller answers 415.
        ("application/apply-patch+yaml", None),
        ("application/apply-patch+cbor", None),
        ("application/json", None),
        ("", None),
        // kube compares the media type verbatim.
        ("Application/Merge-Patch+JSON", None),
        (" application/merge-patch+json", None),
        ("application/merge-patch+json ; charset=utf-8", None),
        // kube only cuts at a `;` past the first byte.
        (";application/merge-patch+json", None),
    ];
    for (ct, want) in cases {
        assert_eq!(PatchType::from_content_type(ct), want, "{ct:?}");
    }
    for t in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
        assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
    }
}

#[test]
fn every_error_maps_to_kubes_status_and_reason() {
    let cases: Vec<(PatchError, u16, &str)> = vec![
        (
            PatchError::MalformedPatch {
                patch_type: PatchType::Json,
                message: String::new(),
            },
            400,
            "BadRequest",
        ),
        (
            PatchError::TooManyOperations {
                count: 10_001,
                limit: 10_000,
            },
            413,
            "RequestEntityTooLarge",
        ),
        (
            PatchError::OperationFailed {
                index: 0,
                message: String::new(),
            },
            422,
            "Invalid",
        ),
        (PatchError::CopyLimitExceeded { limit: 1 }, 422, "Invalid"),
        (PatchError::TooDeep { limit: 1 }, 422, "Invalid"),
        (PatchError::NotAnObject, 422, "Invalid"),
        (
            PatchError::InvalidDirective { message: "x" },
            400,
            "BadRequest",
        ),
        (PatchError::Unprocessable { message: "x" }, 422, "Invalid"),
        (
            PatchError::MergeFailed {
                message: String::new(),
            },
            500,
            "",
        ),
        (
            PatchError::InvalidOriginal { reason: "x" },
            500,
            "InternalError",
        ),
    ];
    for (error, status, reason) in cases {
        assert_eq!(error.http_status(), status, "{error:?}");
        assert_eq!(error.reason(), reason, "{error:?}");
    }
}

#[test]
fn the_original_must_be_an_object_of_sane_depth() {
    for t in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
        for original in [json!([]), json!("x"), json!(null), json!(1)] {
            let e = apply(t, &original, b"{}").unwrap_err();
            assert!(
                matches!(e, PatchError::InvalidOriginal { .. }),
                "{t}: {e:?}"
            );
            assert_eq!(e.http_status(), 500);
        }
        let mut deep = json!({});
        for _ in 0..MAX_DEPTH {
            deep = json!({ "a": deep });
        }
        let e = apply(t, &deep, b"{}").unwrap_err();
        assert!(matches!(e, PatchError::InvalidOriginal { .. }), "{e:?}");
    }
}

#[test]
fn max_depth_is_what_serde_json_reads_back() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(serde_json::from_str::<Value>(&nested(MAX_DEPTH)).is_ok());
    assert!(serde_json::from_str::<Value>(&nested(MAX_DEPTH + 1)).is_err());
}

#[test]
fn apply_leaves_the_original_alone() {
    let original = deployment();
    let copy = original.clone();
    for (t, patch) in [
        (PatchType::Json, r#"[{"op":"remove","path":"/spec"}]"#),
        (PatchType::Merge, r#"{"spec":null}"#),
        (PatchType::StrategicMerge, r#"{"spec":{"$patch":"delete"}}"#),
    ] {
        let patched = apply(t, &original, patch.as_bytes()).unwrap();
        assert_ne!(patched, original);
        assert_eq!(original, copy);
    }
}
