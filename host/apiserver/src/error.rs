//! Errors as the Kubernetes API reports them: a `kind: Status` body with the HTTP
//! code, `reason` and message a Kubernetes client expects for each failure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wharf_api_types::ResourceInfo;
use wharf_api_types::validation::FieldError;
use wharf_store::StoreError;

/// A failed request. Every handler returns this; it renders as a `Status`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

/// `pods` for the core group, `deployments.apps` otherwise (as in Kubernetes messages).
pub fn qualified_resource(info: &ResourceInfo) -> String {
    if info.group.is_empty() {
        info.plural.to_string()
    } else {
        format!("{}.{}", info.plural, info.group)
    }
}

fn details(info: &ResourceInfo, name: &str) -> Value {
    json!({"name": name, "group": info.group, "kind": info.plural})
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// A create whose object carries a resourceVersion, as the Kubernetes storage
    /// layer refuses it: a plain error, so a 500 with no reason. Usually an object
    /// exported with `kubectl get -o yaml` and created again unchanged.
    pub fn resource_version_set_on_create() -> Self {
        Self::new(
            500,
            "",
            "resourceVersion should not be set on objects to be created",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn not_found_path(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        Self {
            details: Some(details(info, name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", qualified_resource(info)),
            )
        }
    }

    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        Self {
            details: Some(details(info, name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", qualified_resource(info)),
            )
        }
    }

    pub fn conflict(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self {
            details: Some(details(info, name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    qualified_resource(info)
                ),
            )
        }
    }

    pub fn modified(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 with one cause per rejected field.
    pub fn invalid(info: &ResourceInfo, name: &str, errors: &[FieldError]) -> Self {
        Self::invalid_object(info.group, info.kind, name, errors)
    }

    /// [`ApiError::invalid`] for an object of any kind, stored or not (a review).
    pub fn invalid_object(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let list: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        let summary = if list.len() == 1 {
            list[0].to_string()
        } else {
            format!("[{}]", list.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| {
                // A cause's message leaves out the field, which it carries
                // separately (kubectl prints "field: message" from the two).
                let message = e
                    .message
                    .strip_prefix(&format!("{}: ", e.field))
                    .unwrap_or(&e.message);
                json!({"reason": e.kind.reason(), "message": message, "field": e.field})
            })
            .collect();
        // Kubernetes names the kind with its group (`Deployment.apps "web"`).
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        Self {
            details: Some(json!({"name": name, "group": group, "kind": kind, "causes": causes})),
            ..Self::new(
                422,
                "Invalid",
                format!("{qualified} \"{name}\" is invalid: {summary}"),
            )
        }
    }

    pub fn method_not_allowed(what: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({what})"),
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    pub fn not_acceptable(accept: &str) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io (got {accept:?})"
            ),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn forbidden(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self {
            details: Some(details(info, name)),
            ..Self::new(
                403,
                "Forbidden",
                format!(
                    "{} \"{name}\" is forbidden: {why}",
                    qualified_resource(info)
                ),
            )
        }
    }

    /// A resourceVersion the store has not reached (yet): 504 with the
    /// `ResourceVersionTooLarge` cause client-go's reflector looks for.
    pub fn too_large_revision(requested: u64, current: u64) -> Self {
        let message = format!("Too large resource version: {requested}, current: {current}");
        Self {
            details: Some(
                json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                                 "retryAfterSeconds": 1}),
            ),
            ..Self::new(504, "Timeout", message)
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// Maps a store failure on `info`/`name`.
    pub fn from_store(info: &ResourceInfo, name: &str, e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::not_found(info, name),
            StoreError::AlreadyExists { .. } => Self::already_exists(info, name),
            StoreError::Conflict { .. } => Self::modified(info, name),
            StoreError::Compacted { requested, oldest } => {
                Self::gone(format!("too old resource version: {requested} ({oldest})"))
            }
            StoreError::FutureRevision { requested, current } => {
                Self::too_large_revision(requested, current)
            }
            StoreError::Backend(why) => Self::internal(format!("storage error: {why}")),
        }
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if self.reason.is_empty()
            && let Some(m) = status.as_object_mut()
        {
            // Kubernetes leaves an unknown reason out.
            m.remove("reason");
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.status()).unwrap_or_default();
        let mut response = (
            code,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if self.code == 413 {
            // The rest of an oversized body may not have been read (past the drain
            // limit), so this connection cannot be trusted to carry another request:
            // say so, or the client will try to reuse it.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_api_types::resources::find;

    #[test]
    fn messages_match_kubernetes() {
        let deploy = find("apps", "v1", "deployments").unwrap();
        assert_eq!(
            ApiError::not_found(deploy, "web").message,
            "deployments.apps \"web\" not found"
        );
        let pods = find("", "v1", "pods").unwrap();
        let err = ApiError::invalid(pods, "p", &[FieldError::required("spec.containers")]);
        assert_eq!(
            err.message,
            "Pod \"p\" is invalid: spec.containers: Required value"
        );
        let status = err.status();
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldValueRequired"
        );
        assert_eq!(status["code"], 422);
    }
}
