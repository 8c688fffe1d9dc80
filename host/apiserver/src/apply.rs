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
use wharf_api_types::validation::FieldError;
use wharf_patch::apply::{Applier, Conflict, apply, conflict_message};

use crate::admission;
use crate::error::ApiError;
use crate::render::respond;
use crate::request::{self, Options, Representation, Target};
use crate::server::ApiServer;
use crate::write::{Uniqueness, Write, create_managed, list_rules, update_with};

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
    admission::check_url_name(&mut config, &name)?;
    // A resourceVersion in a configuration is a precondition, as in Kubernetes.
    let precondition = match meta::resource_version(&config) {
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {rv:?} in the object"))
        })?),
        None => None,
    };
    meta::metadata_mut(&mut config).remove("resourceVersion");
    let now = meta::now_rfc3339();
    let applier = Applier {
        manager,
        force: options.force == Some(true),
        time: &now,
        rules: list_rules(info),
    };
    let ns = target.namespace.clone();
    let existing = server.objects.try_get(info, ns.as_deref(), &name).await?;
    if existing.is_none() && precondition.is_none() {
        let created = apply(None, &config, applier).map_err(|c| conflict(target, &name, &c))?;
        let managed = created.pointer("/metadata/managedFields").cloned();
        let (decoded, warnings) =
            admission::decode_body(info, created, Vec::new(), options.field_validation)?;
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
