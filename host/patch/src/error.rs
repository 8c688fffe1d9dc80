//! Why a patch was refused, and what kube-apiserver answers for it.

use crate::PatchType;

/// Why a patch could not be applied.
///
/// Each variant knows the HTTP status and `metav1.Status` reason kube-apiserver answers with, so
/// the caller can build the same `Status` body. The mapping follows
/// `k8s.io/apiserver/pkg/endpoints/handlers/patch.go` (read at kubernetes/apiserver
/// 24a394e5), under the default `fieldValidation=Warn`:
///
/// | variant | status | reason | where kube decides it |
/// |---|---|---|---|
/// | [`MalformedPatch`](Self::MalformedPatch) | 400 | `BadRequest` | `validateAndTranscodePatch` (`invalid JSON patch`), the strict decode, `jsonpatch.DecodePatch`, `jsonpatch.ErrBadJSONPatch`, SMP's `errors.NewBadRequest` on decode |
/// | [`TooManyOperations`](Self::TooManyOperations) | 413 | `RequestEntityTooLarge` | `maxJSONPatchOperations` |
/// | [`OperationFailed`](Self::OperationFailed) | 422 | `Invalid` | `patchObj.Apply` error → `NewGenericServerResponse(422)` |
/// | [`CopyLimitExceeded`](Self::CopyLimitExceeded) | 422 | `Invalid` | `AccumulatedCopySizeError` from `Apply`, same path |
/// | [`NotAnObject`](Self::NotAnObject) | 422 | `Invalid` | decoding the patched JSON into the object fails → `errors.NewInvalid` |
/// | [`TooDeep`](Self::TooDeep) | 422 | `Invalid` | no kube twin; Wharf refuses what serde_json could not read back, as kube refuses what it cannot decode |
/// | [`InvalidDirective`](Self::InvalidDirective) | 400 | `BadRequest` | `interpretStrategicMergePatchError`: `ErrBadPatchFormatFor{PrimitiveList,RetainKeys,SetElementOrderList}` |
/// | [`Unprocessable`](Self::Unprocessable) | 422 | `Invalid` | `interpretStrategicMergePatchError`: `ErrNoListOfLists` |
/// | [`MergeFailed`](Self::MergeFailed) | 500 | `""` | every other strategicpatch error (missing merge key, unknown `$patch`, mixed list types …) reaches the client unwrapped, so `ErrorToAPIStatus` makes it a 500 with `StatusReasonUnknown`, which is the empty string |
/// | [`InvalidOriginal`](Self::InvalidOriginal) | 500 | `InternalError` | cannot happen in kube (the stored object is always a decodable object); it is a server fault |
///
/// 422 is `Invalid` because that is the reason `NewGenericServerResponse` gives the code; there
/// is no `UnprocessableEntity` reason in Kubernetes.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The body is not JSON, or not the shape its patch type needs at the top level: an array
    /// (or `null`) of operation objects for JSON patch, an object for merge patch, an object
    /// (or `null`) for strategic merge patch.
    #[error("invalid {patch_type} body: {message}")]
    MalformedPatch {
        /// Which format the body was read as.
        patch_type: PatchType,
        /// What was wrong with it.
        message: String,
    },

    /// A JSON patch with more operations than kube accepts.
    #[error("The allowed maximum operations in a JSON patch is {limit}, got {count}")]
    TooManyOperations {
        /// Operations in the request.
        count: usize,
        /// The most kube allows (10 000).
        limit: usize,
    },

    /// A JSON patch operation is malformed (unknown `op`, missing `path`/`value`/`from`, bad
    /// pointer) or does not apply (`test` mismatch, path that does not exist, index out of
    /// range, move into itself).
    #[error("JSON patch operation {index} failed: {message}")]
    OperationFailed {
        /// Zero-based position of the operation in the patch.
        index: usize,
        /// What went wrong.
        message: String,
    },

    /// The `copy` operations of one JSON patch copied more bytes than kube allows, which is what
    /// keeps a short patch from doubling the object until the server runs out of memory.
    #[error("Unable to complete the JSON patch: copies exceed {limit} bytes")]
    CopyLimitExceeded {
        /// The most kube allows (3 MiB, `JSONPatchMaxCopyBytes`).
        limit: usize,
    },

    /// The patch would nest the object deeper than can be stored and read back.
    #[error("the patched object would nest more than {limit} levels deep")]
    TooDeep {
        /// Deepest nesting allowed.
        limit: usize,
    },

    /// The patch replaced the object with something that is not a JSON object.
    #[error("the patched document is not a JSON object")]
    NotAnObject,

    /// A strategic-merge directive is malformed, e.g. `$retainKeys` that is not a list or does
    /// not name a key the patch sets, or a `$setElementOrder`/`$deleteFromPrimitiveList` key
    /// without `/<field>`.
    #[error("{message}")]
    InvalidDirective {
        /// kube's message for it.
        message: &'static str,
    },

    /// Strategic-merge content kube can parse but refuses to merge: lists of lists.
    #[error("{message}")]
    Unprocessable {
        /// kube's message for it.
        message: &'static str,
    },

    /// Any other strategic merge failure: a list element without its merge key, an unknown
    /// `$patch` value, list elements of different types, a directive of the wrong type, …
    #[error("{message}")]
    MergeFailed {
        /// What went wrong, worded like kube's message.
        message: String,
    },

    /// The stored object handed to [`apply`](crate::apply) cannot be patched.
    #[error("the stored object cannot be patched: {reason}")]
    InvalidOriginal {
        /// Why.
        reason: &'static str,
    },
}

impl PatchError {
    /// The HTTP status kube-apiserver answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::MalformedPatch { .. } | PatchError::InvalidDirective { .. } => 400,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::OperationFailed { .. }
            | PatchError::CopyLimitExceeded { .. }
            | PatchError::TooDeep { .. }
            | PatchError::NotAnObject
            | PatchError::Unprocessable { .. } => 422,
            PatchError::MergeFailed { .. } | PatchError::InvalidOriginal { .. } => 500,
        }
    }

    /// The `metav1.Status` reason kube-apiserver gives this error. Empty for
    /// [`MergeFailed`](Self::MergeFailed), which kube reports with `StatusReasonUnknown`.
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::MalformedPatch { .. } | PatchError::InvalidDirective { .. } => "BadRequest",
            PatchError::TooManyOperations { .. } => "RequestEntityTooLarge",
            PatchError::OperationFailed { .. }
            | PatchError::CopyLimitExceeded { .. }
            | PatchError::TooDeep { .. }
            | PatchError::NotAnObject
            | PatchError::Unprocessable { .. } => "Invalid",
            PatchError::MergeFailed { .. } => "",
            PatchError::InvalidOriginal { .. } => "InternalError",
        }
    }
}
