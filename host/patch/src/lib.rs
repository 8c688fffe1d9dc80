#![forbid(unsafe_code)]
//! The three PATCH body formats of the Kubernetes API, applied the way kube-apiserver applies
//! them.
//!
//! A `PATCH` request names its format in `Content-Type`; [`PatchType::from_content_type`] picks
//! one, and [`apply`] turns the stored object plus the request body into the patched object:
//!
//! * `application/json-patch+json`: RFC 6902 JSON patch, through the `json-patch` crate, with
//!   kube's limits (10 000 operations, 3 MiB of `copy`).
//! * `application/merge-patch+json`: RFC 7386 JSON merge patch, through the `json-patch` crate.
//! * `application/strategic-merge-patch+json`: Kubernetes' strategic merge patch, reimplemented
//!   here after `k8s.io/apimachinery/pkg/util/strategicpatch`, with the `patchStrategy` /
//!   `patchMergeKey` struct tags of the built-in kinds kept as a table (see `merge_keys.rs`).
//!
//! What this crate must never do:
//!
//! * panic, overflow the stack or allocate without bound, whatever bytes arrive: every failure is
//!   a [`PatchError`] that says which HTTP status kube-apiserver answers with;
//! * touch anything but its arguments: no I/O, no global state, no logging;
//! * leave a strategic-merge directive (`$patch`, `$retainKeys`, `$setElementOrder/…`,
//!   `$deleteFromPrimitiveList/…`) in a patched object;
//! * decide who may change a field: server-side apply (`application/apply-patch+yaml`) is not a
//!   [`PatchType`] but its own step, [`apply::apply`], which takes the object's managed fields
//!   ([`managed`]) and answers with the merged object or the conflicts.
//!
//! It does not validate the patched object, or check that it kept its name, kind or
//! resourceVersion: that is the caller's business, as it is kube's registry's.

use serde_json::Value;

pub mod apply;
mod error;
mod json;
pub mod managed;
mod merge_keys;
mod order;
mod strategic;

#[cfg(test)]
mod tests;

pub use error::PatchError;
pub use merge_keys::{PublishedStrategy, published_strategy};

/// Deepest nesting of arrays and objects a patched object may have: one less than the 128 at
/// which serde_json refuses to parse, so that whatever we hand back can be stored and read back.
/// It also bounds every recursion in this crate, which is what keeps the stack safe.
pub(crate) const MAX_DEPTH: usize = 127;

/// The patch formats a `PATCH` request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// RFC 6902 JSON patch: `application/json-patch+json`.
    Json,
    /// RFC 7386 JSON merge patch: `application/merge-patch+json`.
    Merge,
    /// Kubernetes strategic merge patch: `application/strategic-merge-patch+json`.
    StrategicMerge,
}

impl PatchType {
    /// The patch type a request's `Content-Type` names, or `None` when it names none of the
    /// three (server-side apply included), which kube answers with 415 Unsupported Media Type.
    ///
    /// Parameters such as `; charset=utf-8` are ignored. Like kube-apiserver (which cuts the
    /// header at the first `;` and compares what is left verbatim), the media type itself must
    /// be spelled exactly, in lower case and without surrounding spaces.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        // kube only cuts when the `;` is past the first byte, so ";charset=x" stays whole and
        // therefore matches nothing; keep that.
        let media_type = match ct.find(';') {
            Some(idx) if idx > 0 => &ct[..idx],
            _ => ct,
        };
        [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge]
            .into_iter()
            .find(|t| t.content_type() == media_type)
    }

    /// The media type of this patch type, as a client sends it.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
        }
    }
}

impl std::fmt::Display for PatchType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PatchType::Json => "JSON patch",
            PatchType::Merge => "JSON merge patch",
            PatchType::StrategicMerge => "strategic merge patch",
        })
    }
}

/// Apply `patch` (the raw request body) to `original` (the stored object) and return the
/// patched object. `original` is not modified. Never panics on any input.
///
/// `original` must be a JSON object nested no deeper than serde_json can parse; anything else
/// is [`PatchError::InvalidOriginal`], a server-side fault. The result is always a JSON object.
///
/// Strategic merge patch is only meaningful for the built-in kinds whose merge keys this crate
/// knows. kube-apiserver refuses it for custom resources with 415 before ever reading the body,
/// so callers serving custom resources should do the same rather than call this.
pub fn apply(patch_type: PatchType, original: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    if !original.is_object() {
        return Err(PatchError::InvalidOriginal {
            reason: "it is not a JSON object",
        });
    }
    if nesting_depth(original) > MAX_DEPTH {
        return Err(PatchError::InvalidOriginal {
            reason: "it is nested too deeply",
        });
    }
    let patched = match patch_type {
        PatchType::Json => json::apply_json_patch(original, patch)?,
        PatchType::Merge => json::apply_merge_patch(original, patch)?,
        PatchType::StrategicMerge => strategic::apply(original, patch)?,
    };
    if !patched.is_object() {
        return Err(PatchError::NotAnObject);
    }
    Ok(patched)
}

/// Nesting depth of arrays and objects in `value` (a scalar is 0, `{}` is 1, `{"a":[]}` is 2).
/// Iterative, because it is what we use to decide whether recursion is safe.
pub(crate) fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(depth + 1);
                stack.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(fields) => {
                deepest = deepest.max(depth + 1);
                stack.extend(fields.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}
