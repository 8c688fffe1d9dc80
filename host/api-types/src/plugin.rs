//! Wharf's own kind: `Plugin` (`plugins.wharf.dev/v1alpha1`), a WebAssembly
//! component installed into the cluster. The module itself is a content-addressed
//! blob (`POST /apis/wharf.dev/v1alpha1/blobs`); the object refers to it by digest,
//! so objects stay small and a version is immutable.
//!
//! A Plugin's name is the role it fills: for a scheduler policy, the profile
//! (`spec.schedulerName`) it serves; `default`, `binpack` and `spread` replace the
//! built-in policies of those names.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validation::FieldError;

pub const GROUP: &str = "wharf.dev";
pub const VERSION: &str = "v1alpha1";
/// Path of the blob collection; `…/blobs/sha256:<hex>` reads one back.
pub const BLOBS_PATH: &str = "/apis/wharf.dev/v1alpha1/blobs";
/// Largest module accepted (a debug build of a policy is a few MiB).
pub const MAX_BLOB: usize = 64 * 1024 * 1024;

/// The store key of a blob.
pub fn blob_key(digest: &str) -> String {
    format!("/registry/wharf.dev/blobs/{digest}")
}

/// A WebAssembly component installed into the cluster: a scheduling policy or a
/// controller, its configuration and which version of it runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dev.wharf.v1alpha1.Plugin")]
pub struct Plugin {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Which module to run and with what configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PluginSpec>,
    /// What runs now, as the scheduler or controller manager reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PluginStatus>,
}

/// The desired state of a Plugin: a module (a blob uploaded before) and its
/// configuration. Changing either installs a new version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dev.wharf.v1alpha1.PluginSpec")]
pub struct PluginSpec {
    /// `scheduler-policy` or `controller`.
    pub kind: String,
    /// Digest of the active module's blob: `sha256:<64 hex>`.
    pub module: String,
    /// Passed to the plugin when an instance starts (as JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// A candidate that sees every scheduling cycle and whose choices are only
    /// compared with the active module's (scheduler policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ModuleRef>,
}

/// A module and the configuration it runs with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dev.wharf.v1alpha1.ModuleRef")]
pub struct ModuleRef {
    pub module: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

/// What the role running a Plugin observed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dev.wharf.v1alpha1.PluginStatus")]
pub struct PluginStatus {
    /// `Loaded` (the spec's module is running), `Failed` (it was refused or failed
    /// repeatedly; the previous version runs) or `Pending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The module actually running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_module: Option<String>,
    /// The config it runs with: with `activeModule`, what a restart brings back
    /// when the spec names a version that was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Modules that ran before, oldest first; `wharf plugin rollback` returns to the
    /// last one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ModuleRef>,
    /// Calls that trapped or failed since the active module loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowStatus>,
}

/// How often a shadow candidate chose the node the active module chose.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dev.wharf.v1alpha1.ShadowStatus")]
pub struct ShadowStatus {
    pub module: String,
    pub cycles: u64,
    pub agreed: u64,
    /// `agreed / cycles` as a percentage with one decimal ("97.5%").
    pub agreement: String,
}

pub const KINDS: &[&str] = &["scheduler-policy", "controller"];

/// `sha256:` and 64 lowercase hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn validate(obj: &Value, errors: &mut Vec<FieldError>) {
    let Some(spec) = obj.get("spec").filter(|s| s.is_object()) else {
        errors.push(FieldError::required("spec"));
        return;
    };
    match spec.get("kind").and_then(Value::as_str) {
        None | Some("") => errors.push(FieldError::required("spec.kind")),
        Some(k) if !KINDS.contains(&k) => errors.push(FieldError::not_supported(
            "spec.kind",
            &Value::String(k.into()),
            KINDS,
        )),
        Some(_) => {}
    }
    check_module(spec.get("module"), "spec.module", errors);
    if let Some(c) = spec.get("config")
        && !c.is_object()
        && !c.is_null()
    {
        errors.push(FieldError::invalid("spec.config", c, "must be an object"));
    }
    if let Some(shadow) = spec.get("shadow").filter(|s| !s.is_null()) {
        check_module(shadow.get("module"), "spec.shadow.module", errors);
        if spec.get("kind").and_then(Value::as_str) == Some("controller") {
            errors.push(FieldError::forbidden(
                "spec.shadow",
                "only scheduler policies can run in shadow",
            ));
        }
    }
}

fn check_module(v: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) {
    match v.and_then(Value::as_str) {
        None | Some("") => errors.push(FieldError::required(field)),
        Some(d) if !is_digest(d) => errors.push(FieldError::invalid(
            field,
            &Value::String(d.into()),
            "must be a blob digest, sha256: followed by 64 lowercase hex digits",
        )),
        Some(_) => {}
    }
}

/// The module digests an object refers to, for the existence check at admission.
pub fn referenced_modules(obj: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(m) = obj.pointer("/spec/module").and_then(Value::as_str) {
        out.push(("spec.module", m.to_string()));
    }
    if let Some(m) = obj.pointer("/spec/shadow/module").and_then(Value::as_str) {
        out.push(("spec.shadow.module", m.to_string()));
    }
    out
}
