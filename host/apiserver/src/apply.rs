//! Server-side apply: `PATCH` with `Content-Type: application/apply-patch+yaml`,
//! what `kubectl apply --server-side` and client-go's `Apply` send. The merge and
//! the field ownership are `wharf_patch::apply`'s; this is the request around
//! them: the options Kubernetes requires, create-or-update, admission, and
//! conflicts answered as Kubernetes answers them.
//!
//! Fields are tracked from an object's first apply on: an object created or
//! written only by other verbs has no managed fields (Kubernetes records every
//! writer; doing so would cost every write a walk of its object), so nothing
//! written before the first apply conflicts with it. Once an object has managed
//! fields, every write records what it changed (see `write::update_with`), so an
//! apply conflicts with a `kubectl scale` or `kubectl edit` that came after an
//! earlier apply, as it does on Kubernetes.

use axum::response::Response;
use serde_json::{Value, json};
use wharf_api_types::meta;
use wharf_api_types::resources::Subresource;
use wharf_api_types::validation::FieldError;
use wharf_patch::apply::{Applier, Conflict, apply, conflict_message};

use crate::admission;
use crate::error::ApiError;
use crate::render::respond;
use crate::request::{self, Options, Representation, Target};
use crate::server::ApiServer;
use crate::write::{
    Managed, Uniqueness, Write, create_managed, list_rules, merge_schema, update_with,
};

const MEDIA_TYPE: &str = "application/apply-patch+yaml";

/// Whether a `PATCH` is an apply.
pub fn is_apply(content_type: Option<&str>) -> bool {
    let ct = content_type.unwrap_or_default();
    ct.split(';').next().map(str::trim) == Some(MEDIA_TYPE)
}

pub async fn serve(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    body: &[u8],
) -> Result<Response, ApiError> {
    let info = target.info;
    let name = target.name.clone().unwrap_or_default();
    // Kubernetes' ValidatePatchOptions: an apply names its manager.
    let Some(manager) = options.field_manager.as_deref() else {
        return Err(ApiError::invalid_object(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[FieldError::required_because(
                "fieldManager",
                "is required for apply patch",
            )],
        ));
    };
    if manager.len() > MAX_MANAGER_BYTES {
        return Err(ApiError::invalid_object(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[FieldError::too_long("fieldManager", MAX_MANAGER_BYTES)],
        ));
    }
    let (mut config, _) = request::parse_body(Some("application/yaml"), body)?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "an apply configuration must be an object",
        ));
    }
    for (field, want) in [
        ("apiVersion", info.api_version()),
        ("kind", info.kind.to_string()),
    ] {
        match config.get(field).and_then(Value::as_str) {
            Some(given) if given == want => {}
            Some(given) => {
                return Err(ApiError::bad_request(format!(
                    "the {field} of the configuration ({given}) does not match the {field} of the resource ({want})"
                )));
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "Object '{}' is missing in the apply configuration",
                    if field == "kind" {
                        "Kind"
                    } else {
                        "apiVersion"
                    }
                )));
            }
        }
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        // The server keeps the record; a configuration cannot write it.
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    admission::check_url_name(&mut config, &name)?;
    // A resourceVersion in a configuration is a precondition, as in Kubernetes.
    let precondition = match meta::resource_version(&config) {
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {rv:?} in the object"))
        })?),
        None => None,
    };
    meta::metadata_mut(&mut config).remove("resourceVersion");
    scope_to_endpoint(target, &mut config);
    let now = meta::now_rfc3339();
    let schema = merge_schema(info);
    let applier = Applier {
        manager,
        force: options.force == Some(true),
        time: &now,
        rules: list_rules(schema.as_deref()),
        subresource: target.subresource.map(Subresource::name),
    };
    wharf_patch::apply::check_keys(&config, applier.rules).map_err(ApiError::bad_request)?;
    let ns = target.namespace.clone();
    let existing = server.objects.try_get(info, ns.as_deref(), &name).await?;
    if existing.is_none() && precondition.is_none() {
        let created = apply(None, &config, applier).map_err(|c| conflict(target, &name, &c))?;
        let managed = created.pointer("/metadata/managedFields").cloned();
        let (decoded, warnings) =
            admission::decode_body(info, created, Vec::new(), options.field_validation)?;
        let managed = match managed {
            Some(fields) => Managed::Applied(fields),
            None => Managed::By(None),
        };
        match create_managed(server, target, options.dry_run, decoded, managed).await {
            // Someone created it meanwhile: this apply updates it instead.
            Err(e) if e.code == 409 && e.reason == "AlreadyExists" => {}
            created => return Ok(respond(201, repr, created?, &warnings)),
        }
    }
    let sub = target.subresource;
    let field_validation = options.field_validation;
    let unique = Uniqueness::for_update(server, target).await?;
    let mut warnings = Vec::new();
    let mut mutate = |current: &Value| {
        if let Some(uid) = meta::str_field(&config, "/metadata/uid")
            && Some(uid) != meta::str_field(current, "/metadata/uid")
        {
            return Err(ApiError::invalid(
                info,
                &name,
                &[FieldError::invalid(
                    "metadata.uid",
                    &json!(uid),
                    "field is immutable",
                )],
            ));
        }
        let merged =
            apply(Some(current), &config, applier).map_err(|c| conflict(target, &name, &c))?;
        let managed = merged.pointer("/metadata/managedFields").cloned();
        let (decoded, w) = admission::decode_body(info, merged, Vec::new(), field_validation)?;
        warnings = w;
        let mut new = admission::prepare_update(info, ns.as_deref(), &name, decoded, current, sub)?;
        let m = meta::metadata_mut(&mut new);
        match managed {
            Some(managed) => m.insert("managedFields".into(), managed),
            None => m.remove("managedFields"),
        };
        wharf_patch::managed::drop_absent(&mut new);
        unique.assign(&mut new, current)?;
        Ok(new)
    };
    let written = update_with(
        server,
        target,
        precondition,
        options,
        Write::Apply,
        &mut mutate,
    )
    .await?;
    Ok(respond(200, repr, written, &warnings))
}

/// The longest `fieldManager` Kubernetes accepts.
const MAX_MANAGER_BYTES: usize = 128;

/// Leaves in a configuration only what the endpoint it is applied through can
/// change, as Kubernetes does: the main resource of a kind with a `status`
/// subresource resets the status, and `status` changes nothing else.
fn scope_to_endpoint(target: &Target, config: &mut Value) {
    if !target.info.has_subresource(Subresource::Status) {
        return;
    }
    let Some(map) = config.as_object_mut() else {
        return;
    };
    match target.subresource {
        None => {
            map.remove("status");
        }
        Some(Subresource::Status) => {
            map.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"));
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "uid"));
            }
        }
        Some(_) => {}
    }
}

/// A refused apply, as Kubernetes reports it: 409 with one cause per field.
fn conflict(target: &Target, name: &str, conflicts: &[Conflict]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| json!({"reason": "FieldManagerConflict", "message": c.with(), "field": c.field}))
        .collect();
    ApiError {
        details: Some(json!({"name": name, "group": target.info.group,
                             "kind": target.info.plural, "causes": causes})),
        ..ApiError::new(409, "Conflict", conflict_message(conflicts))
    }
}
