//! RFC 6902 JSON patch and RFC 7386 JSON merge patch, through the `json-patch` crate, wrapped
//! in the checks kube-apiserver makes around `gopkg.in/evanphx/json-patch.v4`.

use json_patch::PatchOperation;
use serde_json::Value;

use crate::{MAX_DEPTH, PatchError, PatchType, nesting_depth};

/// `maxJSONPatchOperations` in kube's patch handler.
const MAX_OPERATIONS: usize = 10_000;

/// kube's default `JSONPatchMaxCopyBytes` (the default request body limit, 3 MiB).
const MAX_COPY_BYTES: usize = 3 * 1024 * 1024;

pub(crate) fn apply_json_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let malformed = |message: String| PatchError::MalformedPatch {
        patch_type: PatchType::Json,
        message,
    };
    let ops = match serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))? {
        // Go decodes `null` into an empty operation list, so kube applies nothing and succeeds.
        Value::Null => Vec::new(),
        Value::Array(ops) => ops,
        _ => {
            return Err(malformed(
                "a JSON patch must be a JSON array of operations".to_owned(),
            ));
        }
    };
    // kube decodes every operation into `{op, path, from string; value any}` before applying
    // any, so a body of the wrong shape is a 400 even when an earlier operation would fail.
    for (index, op) in ops.iter().enumerate() {
        check_operation_shape(op)
            .map_err(|what| malformed(format!("operation {index}: {what}")))?;
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            count: ops.len(),
            limit: MAX_OPERATIONS,
        });
    }

    let mut doc = original.clone();
    let mut limits = Limits {
        depth_bound: nesting_depth(&doc),
        copied: 0,
    };
    // One operation at a time: kube applies them in order and reports the first that fails, a
    // malformed one included, and the size and depth limits must be checked before each.
    for (index, raw) in ops.into_iter().enumerate() {
        let op: PatchOperation =
            serde_json::from_value(raw).map_err(|e| PatchError::OperationFailed {
                index,
                message: e.to_string(),
            })?;
        limits.admit(&doc, &op)?;
        // patch_unsafe, not patch: we own `doc` and discard it on error, so the crate's undo
        // log (whose failure path panics) buys nothing.
        json_patch::patch_unsafe(&mut doc, std::slice::from_ref(&op)).map_err(|e| {
            PatchError::OperationFailed {
                index,
                message: format!("{} (path '{}')", e.kind, e.path),
            }
        })?;
    }
    Ok(doc)
}

/// What kube's strict decode of `[]struct{Op, Path, From string; Value any}` rejects.
fn check_operation_shape(op: &Value) -> Result<(), String> {
    match op {
        // A `null` element decodes to an empty operation, which fails later, when applied.
        Value::Null => Ok(()),
        Value::Object(fields) => {
            for name in ["op", "path", "from"] {
                match fields.get(name) {
                    None | Some(Value::Null | Value::String(_)) => {}
                    Some(_) => return Err(format!("\"{name}\" must be a string")),
                }
            }
            Ok(())
        }
        _ => Err("an operation must be a JSON object".to_owned()),
    }
}

/// Running totals that keep a short patch from building a huge or bottomless document.
struct Limits {
    /// Upper bound on the nesting depth of the document so far. Kept at most `MAX_DEPTH`, which
    /// is what makes the crate's recursive clone and compare safe.
    depth_bound: usize,
    /// Bytes copied by `copy` operations so far, counted like evanphx/json-patch counts them.
    copied: usize,
}

impl Limits {
    fn admit(&mut self, doc: &Value, op: &PatchOperation) -> Result<(), PatchError> {
        let deepest = match op {
            PatchOperation::Add(op) => op.path.count() + nesting_depth(&op.value),
            PatchOperation::Replace(op) => op.path.count() + nesting_depth(&op.value),
            // Measuring the moved value would cost a walk per operation, which 10 000 moves of a
            // big subtree turn into a denial of service; the bound is enough.
            PatchOperation::Move(op) => {
                op.path.count() + self.depth_bound.saturating_sub(op.from.count())
            }
            PatchOperation::Copy(op) => {
                // A missing source fails in the crate, with the right error; nothing to count.
                let Some(source) = doc.pointer(op.from.as_str()) else {
                    return Ok(());
                };
                let depth = nesting_depth(source);
                // Only measure what is shallow enough to serialise without risk.
                if op.path.count() + depth > MAX_DEPTH {
                    return Err(PatchError::TooDeep { limit: MAX_DEPTH });
                }
                self.copied = self.copied.saturating_add(compact_len(source));
                if self.copied > MAX_COPY_BYTES {
                    return Err(PatchError::CopyLimitExceeded {
                        limit: MAX_COPY_BYTES,
                    });
                }
                op.path.count() + depth
            }
            PatchOperation::Remove(_) | PatchOperation::Test(_) => 0,
        };
        self.depth_bound = self.depth_bound.max(deepest);
        if self.depth_bound > MAX_DEPTH {
            return Err(PatchError::TooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }
}

/// Length of `value` serialised compactly, without building the string.
fn compact_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value into a sink that never fails cannot fail; if it somehow did, count the
    // worst case so the limit still holds.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

pub(crate) fn apply_merge_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let malformed = |message: String| PatchError::MalformedPatch {
        patch_type: PatchType::Merge,
        message,
    };
    let patch: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    // kube's strict decode into map[string]any rejects arrays and scalars, and evanphx's
    // MergePatch answers ErrBadJSONPatch for `null`; both are 400s.
    if !patch.is_object() {
        return Err(malformed("a merge patch must be a JSON object".to_owned()));
    }
    let mut doc = original.clone();
    json_patch::merge(&mut doc, &patch);
    Ok(doc)
}
