//! Content-addressed blobs: plugin modules, stored once under their sha256 digest
//! and referred to by Plugin objects. `POST /apis/wharf.dev/v1alpha1/blobs` with
//! the bytes returns the digest; `GET …/blobs/sha256:<hex>` returns the bytes.
//! Uploading the same bytes twice is harmless.

use axum::body::Body as HttpBody;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wharf_api_types::plugin::{self, MAX_BLOB, blob_key, is_digest};
use wharf_api_types::resources::ResourceInfo;
use wharf_api_types::validation::FieldError;
use wharf_store::StoreError;

use crate::error::ApiError;
use crate::server::ApiServer;

pub async fn upload(server: &ApiServer, body: HttpBody) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BLOB).await.map_err(|e| {
        let text = format!("{e:?}");
        if text.contains("length limit") || text.contains("LengthLimit") {
            ApiError::too_large(MAX_BLOB)
        } else {
            ApiError::bad_request(format!("reading the blob: {e}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the blob is empty"));
    }
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let size = bytes.len();
    match server
        .store()
        .create(&blob_key(&digest), bytes.to_vec())
        .await
    {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => return Err(ApiError::internal(format!("storing the blob: {e}"))),
    }
    let body = json!({
        "apiVersion": format!("{}/{}", plugin::GROUP, plugin::VERSION),
        "kind": "Blob",
        "digest": digest,
        "size": size,
    });
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

pub async fn download(server: &ApiServer, digest: &str) -> Result<Response, ApiError> {
    if !is_digest(digest) {
        return Err(ApiError::bad_request(format!(
            "{digest:?} is not a blob digest (sha256: followed by 64 lowercase hex digits)"
        )));
    }
    match server.store().get(&blob_key(digest)).await {
        Ok(Some(kv)) => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/wasm")],
            kv.value,
        )
            .into_response()),
        Ok(None) => Err(ApiError::new(
            404,
            "NotFound",
            format!("blob {digest} not found"),
        )),
        Err(e) => Err(ApiError::internal(format!("reading blob {digest}: {e}"))),
    }
}

/// A Plugin may only refer to modules that were uploaded: checked at admission so
/// that a typo is a 422, not a plugin that silently never loads.
pub async fn check_references(
    server: &ApiServer,
    info: &ResourceInfo,
    obj: &Value,
    previous: Option<&Value>,
) -> Result<(), ApiError> {
    if (info.group, info.kind) != (plugin::GROUP, "Plugin") {
        return Ok(());
    }
    let before = previous.map(plugin::referenced_modules).unwrap_or_default();
    let mut errors = Vec::new();
    for (field, digest) in plugin::referenced_modules(obj) {
        if before.iter().any(|(_, d)| *d == digest) || !is_digest(&digest) {
            continue;
        }
        match server.store().get(&blob_key(&digest)).await {
            Ok(Some(_)) => {}
            Ok(None) => errors.push(FieldError::invalid(
                field,
                &Value::String(digest.clone()),
                "no such blob: upload the module first (POST /apis/wharf.dev/v1alpha1/blobs, or use `wharf plugin install`)",
            )),
            Err(e) => return Err(ApiError::internal(format!("reading blob {digest}: {e}"))),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        Err(ApiError::invalid(info, name, &errors))
    }
}
