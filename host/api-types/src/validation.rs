//! Validation of objects as Kubernetes validates them, producing field errors that
//! the API server returns as the causes of a `422 Invalid` Status.
//!
//! Validation sees objects after decoding and defaulting, so types are already right;
//! what is checked here are the rules types cannot express: name syntax, required
//! fields, ranges, uniqueness, selector/template agreement.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::resources::ResourceInfo;
use crate::selector;

pub(crate) mod ports;
mod probes;
mod scheduling;

pub use ports::port_name;

/// Why a field was rejected, as the `reason` of a Status cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    Required,
    Invalid,
    NotSupported,
    Duplicate,
    Forbidden,
    TooLong,
    TooMany,
    NotFound,
}

impl FieldErrorKind {
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::TooMany => "FieldValueTooMany",
            FieldErrorKind::NotFound => "FieldValueNotFound",
        }
    }
}

/// One rejected field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    /// Dotted path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The whole message, in Kubernetes' words: `spec.replicas: Invalid value: -1: must be
    /// greater than or equal to 0`.
    pub message: String,
}

impl FieldError {
    pub fn required(field: &str) -> Self {
        Self {
            kind: FieldErrorKind::Required,
            field: field.into(),
            message: format!("{field}: Required value"),
        }
    }

    /// Required, with why (Kubernetes' `field.Required` with a detail).
    pub fn required_because(field: &str, why: &str) -> Self {
        Self {
            kind: FieldErrorKind::Required,
            field: field.into(),
            message: format!("{field}: Required value: {why}"),
        }
    }

    pub fn invalid(field: &str, value: &Value, why: &str) -> Self {
        Self {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            message: format!("{field}: Invalid value: {}: {why}", show(value)),
        }
    }

    pub fn not_supported(field: &str, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        Self {
            kind: FieldErrorKind::NotSupported,
            field: field.into(),
            message: format!(
                "{field}: Unsupported value: {}: supported values: {}",
                show(value),
                list.join(", ")
            ),
        }
    }

    pub fn duplicate(field: &str, value: &Value) -> Self {
        Self {
            kind: FieldErrorKind::Duplicate,
            field: field.into(),
            message: format!("{field}: Duplicate value: {}", show(value)),
        }
    }

    pub fn not_found(field: &str, value: &Value) -> Self {
        Self {
            kind: FieldErrorKind::NotFound,
            field: field.into(),
            message: format!("{field}: Not found: {}", show(value)),
        }
    }

    /// A list longer than it may be (Kubernetes' `field.TooMany`).
    pub fn too_many(field: &str, actual: usize, max: u64) -> Self {
        Self {
            kind: FieldErrorKind::TooMany,
            field: field.into(),
            message: format!("{field}: Too many: {actual}: must have at most {max} items"),
        }
    }

    pub fn forbidden(field: &str, why: &str) -> Self {
        Self {
            kind: FieldErrorKind::Forbidden,
            field: field.into(),
            message: format!("{field}: Forbidden: {why}"),
        }
    }

    pub fn too_long(field: &str, max: usize) -> Self {
        Self {
            kind: FieldErrorKind::TooLong,
            field: field.into(),
            message: format!("{field}: Too long: may not be more than {max} bytes"),
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// RFC 1123 label: at most 63 characters of `[a-z0-9-]`, alphanumeric at both ends.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(DNS1123_LABEL_MSG.into())
    }
}

/// RFC 1123 subdomain: at most 253 characters, dot-separated labels.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err("must be no more than 253 characters".into());
    }
    let ok = !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(DNS1123_SUBDOMAIN_MSG.into())
    }
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// A label or annotation key, a qualified name: `[prefix/]name`, the prefix a
/// DNS subdomain, the name ≤ 63 characters (Kubernetes' `IsQualifiedName`, whose
/// first complaint this is).
pub fn label_key(key: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Err("prefix part must be non-empty".into());
            }
            dns1123_subdomain(prefix).map_err(|e| format!("prefix part {e}"))?;
            name
        }
        _ => {
            return Err(format!(
                "a qualified name {QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
        }
    };
    if name.is_empty() {
        return Err("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Err("name part must be no more than 63 characters".into());
    }
    let ok = name.bytes().all(is_name_char)
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!("name part {QUALIFIED_NAME_MSG}"))
    }
}

/// A label value: empty, or ≤ 63 characters, alphanumeric at both ends.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let ok = value.bytes().all(is_name_char)
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into())
    }
}

/// A resource quantity such as `100m`, `1.5Gi`, `2e3`.
pub fn quantity(s: &str) -> Result<(), String> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(digits_end);
    let number_ok = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || ((suffix.starts_with('e') || suffix.starts_with('E'))
        && suffix[1..]
            .strip_prefix(['+', '-'])
            .unwrap_or(&suffix[1..])
            .bytes()
            .all(|b| b.is_ascii_digit())
        && suffix.len() > 1);
    if number_ok && suffix_ok {
        Ok(())
    } else {
        Err("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".into())
    }
}

/// Kinds whose names must be RFC 1123 labels rather than subdomains.
fn name_is_label(info: &ResourceInfo) -> bool {
    matches!(info.kind, "Namespace")
}

/// Kubernetes' `path.IsValidPathSegmentName`, for names that end up in URLs and
/// need not be DNS names (RBAC's `system:node`, a reference's kind): `.`, `..`,
/// `/` and `%` are what a path segment cannot carry.
pub fn path_segment_name(name: &str) -> Result<(), String> {
    if name == "." || name == ".." {
        return Err(format!("may not be '{name}'"));
    }
    for bad in ["/", "%"] {
        if name.contains(bad) {
            return Err(format!("may not contain '{bad}'"));
        }
    }
    Ok(())
}

/// RFC 1035 label (Service names): an RFC 1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if s.as_bytes()[0].is_ascii_lowercase() {
        Ok(())
    } else {
        Err("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into())
    }
}

/// A map of labels, or of label selectors' terms (a node selector, a Service's
/// selector): every key a label key, every value a label value, reported at the
/// map's field as Kubernetes' `ValidateLabels` does.
pub fn validate_labels(map: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) {
    for (k, v) in map.and_then(Value::as_object).into_iter().flatten() {
        if let Err(why) = label_key(k) {
            errors.push(FieldError::invalid(field, &Value::from(k.as_str()), &why));
        }
        let v = v.as_str().unwrap_or_default();
        if let Err(why) = label_value(v) {
            errors.push(FieldError::invalid(field, &Value::from(v), &why));
        }
    }
}

/// A `metav1.LabelSelector` at `field`, as Kubernetes' `ValidateLabelSelector`
/// reports it: each bad label at `matchLabels`, each bad requirement at its own
/// `matchExpressions[i]` key, operator or value. A selector that is left out is
/// the caller's business.
pub fn validate_label_selector(selector: &Value, field: &str, errors: &mut Vec<FieldError>) {
    validate_labels(
        selector.get("matchLabels"),
        &format!("{field}.matchLabels"),
        errors,
    );
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    for (i, expr) in expressions.into_iter().flatten().enumerate() {
        let at = format!("{field}.matchExpressions[{i}]");
        let values: &[Value] = expr
            .get("values")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match expr
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required_because(
                &format!("{at}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::forbidden(
                &format!("{at}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errors.push(FieldError::invalid(
                &format!("{at}.operator"),
                &Value::from(other),
                "not a valid selector operator",
            )),
        }
        let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
        if let Err(why) = label_key(key) {
            errors.push(FieldError::invalid(
                &format!("{at}.key"),
                &Value::from(key),
                &why,
            ));
        }
        for (j, value) in values.iter().enumerate() {
            let value = value.as_str().unwrap_or_default();
            if let Err(why) = label_value(value) {
                errors.push(FieldError::invalid(
                    &format!("{at}.values[{j}]"),
                    &Value::from(value),
                    &why,
                ));
            }
        }
    }
}

/// Validates the metadata every object has.
pub fn validate_metadata(info: &ResourceInfo, obj: &Value, errors: &mut Vec<FieldError>) {
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    match meta.get("name").and_then(Value::as_str) {
        None | Some("") => {
            if meta
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                errors.push(FieldError {
                    kind: FieldErrorKind::Required,
                    field: "metadata.name".into(),
                    message: "metadata.name: Required value: name or generateName is required"
                        .into(),
                });
            }
        }
        Some(name) => {
            let check = if info.kind == "Service" {
                dns1035_label(name)
            } else if crate::rbac::is_rbac_kind(info.group) {
                path_segment_name(name)
            } else if name_is_label(info) {
                dns1123_label(name)
            } else {
                dns1123_subdomain(name)
            };
            if let Err(why) = check {
                errors.push(FieldError::invalid(
                    "metadata.name",
                    &Value::from(name),
                    &why,
                ));
            }
        }
    }
    validate_labels(meta.get("labels"), "metadata.labels", errors);
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, v) in annotations {
            if let Err(why) = label_key(k) {
                errors.push(FieldError::invalid(
                    "metadata.annotations",
                    &Value::from(k.as_str()),
                    &why,
                ));
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > 256 * 1024 {
            errors.push(FieldError::too_long("metadata.annotations", 256 * 1024));
        }
    }
}

/// Validates an object of kind `info` (already decoded and defaulted).
pub fn validate(info: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_metadata(info, obj, &mut errors);
    match (info.group, info.kind) {
        ("", "Pod") => {
            if let Some(spec) = obj.get("spec") {
                validate_pod_spec(spec, "spec", &mut errors);
            } else {
                errors.push(FieldError::required("spec.containers"));
            }
        }
        ("", "Service") => validate_service(obj, &mut errors),
        ("", "ConfigMap") => {
            validate_data_keys(obj, "data", &mut errors);
            validate_data_keys(obj, "binaryData", &mut errors);
            if let (Some(data), Some(binary)) = (
                obj.get("data").and_then(Value::as_object),
                obj.get("binaryData").and_then(Value::as_object),
            ) {
                for key in data.keys().filter(|k| binary.contains_key(*k)) {
                    errors.push(FieldError::invalid(
                        &format!("data[{key}]"),
                        &Value::from(key.as_str()),
                        "duplicate of key present in binaryData",
                    ));
                }
            }
            // Kubernetes' field path for the whole object prints as "[]".
            if data_bytes(obj, "data", false) + data_bytes(obj, "binaryData", true) > MAX_DATA_BYTES
            {
                errors.push(FieldError::too_long("[]", MAX_DATA_BYTES));
            }
        }
        ("", "Secret") => {
            validate_data_keys(obj, "data", &mut errors);
            if data_bytes(obj, "data", true) > MAX_DATA_BYTES {
                errors.push(FieldError::too_long("data", MAX_DATA_BYTES));
            }
            validate_secret_type(obj, &mut errors);
        }
        ("coordination.k8s.io", "Lease") => validate_lease(obj, &mut errors),
        ("scheduling.k8s.io", "PriorityClass") => crate::priority::validate_class(obj, &mut errors),
        (crate::networking::GROUP, "Ingress") => {
            crate::networking::validate_ingress(obj, &mut errors)
        }
        (crate::networking::GROUP, "IngressClass") => {
            crate::networking::validate_ingress_class(obj, &mut errors)
        }
        (crate::networking::GROUP, "NetworkPolicy") => {
            crate::networking::validate_network_policy(obj, &mut errors)
        }
        (crate::policy::GROUP, "PodDisruptionBudget") => {
            crate::policy::validate_budget(obj, &mut errors)
        }
        (crate::rbac::GROUP, "Role") => crate::rbac::validate_role(obj, true, &mut errors),
        (crate::rbac::GROUP, "ClusterRole") => crate::rbac::validate_role(obj, false, &mut errors),
        (crate::rbac::GROUP, "RoleBinding") => {
            crate::rbac::validate_binding(obj, true, &mut errors)
        }
        (crate::rbac::GROUP, "ClusterRoleBinding") => {
            crate::rbac::validate_binding(obj, false, &mut errors)
        }
        ("apps", "Deployment") | ("apps", "ReplicaSet") => {
            validate_workload(info, obj, &mut errors)
        }
        (crate::plugin::GROUP, "Plugin") => crate::plugin::validate(obj, &mut errors),
        (crate::custom::CRD_GROUP, "CustomResourceDefinition") => {
            crate::custom::validate_crd(obj, &mut errors)
        }
        _ if crate::custom::is_custom(info) => errors.extend(crate::custom::validate(info, obj)),
        _ => {}
    }
    errors
}

/// A Lease's duration is positive and its transitions are counted from 0.
fn validate_lease(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec");
    let number = |field: &str| spec.and_then(|s| s.get(field)).and_then(Value::as_i64);
    if let Some(n) = number("leaseDurationSeconds")
        && n <= 0
    {
        errors.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            &Value::from(n),
            "must be greater than 0",
        ));
    }
    if let Some(n) = number("leaseTransitions")
        && n < 0
    {
        errors.push(FieldError::invalid(
            "spec.leaseTransitions",
            &Value::from(n),
            "must be greater than or equal to 0",
        ));
    }
}

/// The most a ConfigMap or a Secret may hold (Kubernetes' MaxSecretSize): etcd's
/// request limit, kept so that what Wharf stores also fits a Kubernetes cluster.
const MAX_DATA_BYTES: usize = 1024 * 1024;

/// The bytes the values of `obj[field]` hold, decoding base64 lengths where
/// `base64` says the values are encoded.
fn data_bytes(obj: &Value, field: &str, base64: bool) -> usize {
    let Some(map) = obj.get(field).and_then(Value::as_object) else {
        return 0;
    };
    map.values()
        .filter_map(Value::as_str)
        .map(|v| {
            if base64 {
                let padding = v.bytes().rev().take_while(|&b| b == b'=').count();
                (v.len() / 4 * 3).saturating_sub(padding)
            } else {
                v.len()
            }
        })
        .sum()
}

/// The keys a Secret of a well-known `type` must hold, as Kubernetes requires
/// them: what consumers of that type (an image pull, a TLS listener) read.
fn validate_secret_type(obj: &Value, errors: &mut Vec<FieldError>) {
    let data = obj.get("data").and_then(Value::as_object);
    let has = |key: &str| data.is_some_and(|d| d.contains_key(key));
    let required = |key: &str| FieldError::required(&format!("data[{key}]"));
    match obj.get("type").and_then(Value::as_str).unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let key = "kubernetes.io/service-account.name";
            if obj
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                errors.push(FieldError::required(&format!(
                    "metadata.annotations[{key}]"
                )));
            }
        }
        t @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if t.ends_with("json") {
                ".dockerconfigjson"
            } else {
                ".dockercfg"
            };
            let Some(encoded) = data.and_then(|d| d.get(key)) else {
                errors.push(required(key));
                return;
            };
            // Well-formed JSON, as the kubelet will parse it for an image pull.
            let parsed = serde_json::from_value::<k8s_openapi::ByteString>(encoded.clone())
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    serde_json::from_slice::<serde_json::Map<String, Value>>(&b.0)
                        .map_err(|e| e.to_string())
                });
            if let Err(why) = parsed {
                errors.push(FieldError::invalid(
                    &format!("data[{key}]"),
                    &Value::from("<secret contents redacted>"),
                    &why,
                ));
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errors.push(required("username"));
            errors.push(required("password"));
        }
        "kubernetes.io/ssh-auth" if !has("ssh-privatekey") => {
            errors.push(required("ssh-privatekey"))
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    errors.push(required(key));
                }
            }
        }
        _ => {}
    }
}

fn validate_data_keys(obj: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let Some(map) = obj.get(field).and_then(Value::as_object) else {
        return;
    };
    for key in map.keys() {
        let ok = !key.is_empty()
            && key.len() <= 253
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            errors.push(FieldError::invalid(
                field,
                &Value::from(key.as_str()),
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ));
        }
    }
}

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
pub(crate) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];

/// Validates a PodSpec found at `path`.
pub fn validate_pod_spec(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    // Volumes first, as Kubernetes' ValidatePodSpec reports them.
    validate_volumes(spec, path, errors);
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        errors.push(FieldError::required(&format!("{path}.containers")));
    }
    let mut names = BTreeSet::new();
    // Containers first: a name an init container repeats is the init
    // container's error, as Kubernetes reports it.
    for field in ["containers", "initContainers"] {
        for (i, c) in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.{field}[{i}]");
            check_unique_name(c, &at, &mut names, errors);
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            if image.trim().is_empty() {
                errors.push(FieldError::required(&format!("{at}.image")));
            } else if image.trim() != image {
                errors.push(FieldError::invalid(
                    &format!("{at}.image"),
                    &Value::from(image),
                    "must not have leading or trailing whitespace",
                ));
            }
            if let Some(p) = c.get("imagePullPolicy").and_then(Value::as_str)
                && !PULL_POLICIES.contains(&p)
            {
                errors.push(FieldError::not_supported(
                    &format!("{at}.imagePullPolicy"),
                    &Value::from(p),
                    PULL_POLICIES,
                ));
            }
            ports::check_container_ports(c, &at, errors);
            let restart = c.get("restartPolicy").and_then(Value::as_str);
            match (field, restart) {
                ("containers", Some(_)) => errors.push(FieldError::forbidden(
                    &format!("{at}.restartPolicy"),
                    "may not be set for non-init containers",
                )),
                ("initContainers", Some(p)) if p != "Always" => {
                    errors.push(FieldError::not_supported(
                        &format!("{at}.restartPolicy"),
                        &Value::from(p),
                        &["Always"],
                    ))
                }
                _ => {}
            }
            // Only regular containers and sidecars (init containers that keep
            // running) are probed or hooked.
            if field == "containers" || restart == Some("Always") {
                probes::check_container(c, &at, errors);
            } else {
                probes::forbid_in_init_container(c, &at, errors);
            }
            validate_resources(c.get("resources"), &format!("{at}.resources"), errors);
            validate_env(c, &at, errors);
            validate_mounts(c, spec, &at, errors);
        }
    }
    ports::check_host_port_conflicts(spec, path, errors);
    ports::check_host_network_ports(spec, path, errors);
    scheduling::check_node_selector(spec, path, errors);
    scheduling::check_tolerations(spec, path, errors);
    crate::priority::validate_pod_spec(spec, path, errors);
    if let Some(p) = spec.get("restartPolicy").and_then(Value::as_str)
        && !RESTART_POLICIES.contains(&p)
    {
        errors.push(FieldError::not_supported(
            &format!("{path}.restartPolicy"),
            &Value::from(p),
            RESTART_POLICIES,
        ));
    }
    if let Some(p) = spec.get("dnsPolicy").and_then(Value::as_str)
        && !DNS_POLICIES.contains(&p)
    {
        errors.push(FieldError::not_supported(
            &format!("{path}.dnsPolicy"),
            &Value::from(p),
            DNS_POLICIES,
        ));
    }
    if let Some(n) = spec
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        && n < 0
    {
        errors.push(FieldError::invalid(
            &format!("{path}.terminationGracePeriodSeconds"),
            &Value::from(n),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(node) = spec.get("nodeName").and_then(Value::as_str)
        && !node.is_empty()
        && let Err(why) = dns1123_subdomain(node)
    {
        errors.push(FieldError::invalid(
            &format!("{path}.nodeName"),
            &Value::from(node),
            &why,
        ));
    }
}

fn validate_resources(resources: Option<&Value>, path: &str, errors: &mut Vec<FieldError>) {
    for part in ["requests", "limits"] {
        let Some(map) = resources
            .and_then(|r| r.get(part))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, q) in map {
            let at = format!("{path}.{part}[{name}]");
            match q.as_str() {
                Some(s) => {
                    if let Err(why) = quantity(s) {
                        errors.push(FieldError::invalid(&at, q, &why));
                    } else if s.starts_with('-') {
                        errors.push(FieldError::invalid(
                            &at,
                            q,
                            "must be greater than or equal to 0",
                        ));
                    }
                }
                None => errors.push(FieldError::invalid(&at, q, "must be a quantity")),
            }
        }
    }
    let part = |name: &str| {
        resources
            .and_then(|r| r.get(name))
            .and_then(Value::as_object)
    };
    if let (Some(requests), Some(limits)) = (part("requests"), part("limits")) {
        for (name, request) in requests {
            let (Some(r), Some(l)) = (request.as_str(), limits.get(name).and_then(Value::as_str))
            else {
                continue;
            };
            if let (Some(rm), Some(lm)) = (
                crate::quantity::parse_milli(r),
                crate::quantity::parse_milli(l),
            ) && rm > lm
            {
                errors.push(FieldError::invalid(
                    &format!("{path}.requests"),
                    request,
                    &format!("must be less than or equal to {name} limit of {l}"),
                ));
            }
        }
    }
}

/// A container's environment variable names: any printable ASCII but '=', as
/// Kubernetes 1.32 accepts them (RelaxedEnvironmentVariableValidation).
fn validate_env(container: &Value, at: &str, errors: &mut Vec<FieldError>) {
    for (i, var) in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("{at}.env[{i}].name");
        match var.get("name").and_then(Value::as_str) {
            None | Some("") => errors.push(FieldError::required(&field)),
            Some(name) if !name.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'=') => {
                errors.push(FieldError::invalid(
                    &field,
                    &Value::from(name),
                    "a valid environment variable name must consist only of printable ASCII characters other than '='",
                ))
            }
            Some(_) => {}
        }
    }
}

/// A container's volume mounts name volumes of the pod and say where they go.
fn validate_mounts(container: &Value, spec: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let Some(mounts) = container.get("volumeMounts").and_then(Value::as_array) else {
        return;
    };
    let volumes: BTreeSet<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let mut paths = BTreeSet::new();
    for (i, mount) in mounts.iter().enumerate() {
        let mat = format!("{at}.volumeMounts[{i}]");
        if let Some(path) = mount.get("mountPath").and_then(Value::as_str)
            && !path.is_empty()
            && !paths.insert(path)
        {
            errors.push(FieldError::invalid(
                &format!("{mat}.mountPath"),
                &Value::from(path),
                "must be unique",
            ));
        }
        match mount.get("name").and_then(Value::as_str) {
            None | Some("") => errors.push(FieldError::required(&format!("{mat}.name"))),
            Some(name) if !volumes.contains(name) => errors.push(FieldError::not_found(
                &format!("{mat}.name"),
                &Value::from(name),
            )),
            Some(_) => {}
        }
        if mount
            .get("mountPath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            errors.push(FieldError::required(&format!("{mat}.mountPath")));
        }
    }
}

/// The `name` of a container, a volume or a Service port at `at`: present, a DNS label, and
/// not one of `names` (the names seen before it, which it joins).
fn check_unique_name(
    item: &Value,
    at: &str,
    names: &mut BTreeSet<String>,
    errors: &mut Vec<FieldError>,
) {
    match item.get("name").and_then(Value::as_str) {
        None | Some("") => errors.push(FieldError::required(&format!("{at}.name"))),
        Some(name) => {
            if let Err(why) = dns1123_label(name) {
                errors.push(FieldError::invalid(
                    &format!("{at}.name"),
                    &Value::from(name),
                    &why,
                ));
            } else if !names.insert(name.to_string()) {
                errors.push(FieldError::duplicate(
                    &format!("{at}.name"),
                    &Value::from(name),
                ));
            }
        }
    }
}

/// A volume's source fields, in the order of Kubernetes' `VolumeSource` struct,
/// which its "more than 1 volume type" error follows.
const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "quobyte",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// A pod spec's volumes, as Kubernetes' `ValidateVolumes` checks them: a unique
/// label as the name, exactly one source, and the name of the Secret or
/// ConfigMap a volume of those kinds reads.
fn validate_volumes(spec: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let volumes = spec.get("volumes").and_then(Value::as_array);
    let mut names = BTreeSet::new();
    for (i, volume) in volumes.into_iter().flatten().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        check_unique_name(volume, &at, &mut names, errors);
        let present = VOLUME_SOURCES
            .iter()
            .filter(|source| volume.get(**source).is_some_and(|v| !v.is_null()));
        for extra in present.skip(1) {
            errors.push(FieldError::forbidden(
                &format!("{at}.{extra}"),
                "may not specify more than 1 volume type",
            ));
        }
        let named = |source: &str, field: &str| {
            volume.get(source).filter(|v| v.is_object()).map(|v| {
                v.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
            })
        };
        if named("secret", "secretName") == Some(true) {
            errors.push(FieldError::required(&format!("{at}.secret.secretName")));
        }
        if named("configMap", "name") == Some(true) {
            errors.push(FieldError::required(&format!("{at}.configMap.name")));
        }
    }
}

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

fn validate_service(obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !SERVICE_TYPES.contains(&ty) {
        errors.push(FieldError::not_supported(
            "spec.type",
            &Value::from(ty),
            SERVICE_TYPES,
        ));
    }
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if headless && (ty == "NodePort" || ty == "LoadBalancer") {
        errors.push(FieldError::invalid(
            "spec.clusterIPs[0]",
            &Value::from("None"),
            &format!("may not be set to 'None' for {ty} services"),
        ));
    }
    let ports = spec.get("ports").and_then(Value::as_array);
    if ty != "ExternalName" && !headless && ports.is_none_or(|p| p.is_empty()) {
        errors.push(FieldError::required("spec.ports"));
    }
    let ports = ports.cloned().unwrap_or_default();
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        ports::check_number(port.get("port"), &format!("{at}.port"), true, errors);
        ports::check_protocol(port, &at, errors);
        // A lone port may go unnamed; several must each have a name of their own.
        let named = port
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if ports.len() > 1 || named {
            check_unique_name(port, &at, &mut names, errors);
        }
        if let Some(np) = port.get("nodePort").and_then(Value::as_i64)
            && np != 0
            && ty == "ClusterIP"
        {
            errors.push(FieldError::forbidden(
                &format!("{at}.nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
    }
    ports::check_service_ports(&ports, errors);
    if ty == "ExternalName" {
        for field in ["clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            let set = match spec.get(field) {
                None | Some(Value::Null) => false,
                Some(Value::Array(a)) => !a.is_empty(),
                Some(Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            // `clusterIP` alone is reported as `clusterIPs`, which it fills.
            let set = set
                || (field == "clusterIPs"
                    && spec
                        .get("clusterIP")
                        .and_then(Value::as_str)
                        .is_some_and(|ip| !ip.is_empty()));
            if set {
                errors.push(FieldError::forbidden(
                    &format!("spec.{field}"),
                    "may not be set for ExternalName services",
                ));
            }
        }
        // A CNAME, which may end in a dot to say it is fully qualified.
        let name = spec
            .get("externalName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() {
            errors.push(FieldError::required("spec.externalName"));
        } else if let Err(why) = dns1123_subdomain(name) {
            errors.push(FieldError::invalid(
                "spec.externalName",
                &Value::from(name),
                &why,
            ));
        }
    }
    validate_labels(spec.get("selector"), "spec.selector", errors);
    check_service_policies(&spec, errors);
}

const TRAFFIC_POLICIES: &[&str] = &["Cluster", "Local"];

/// The enumerated policies of a Service spec, as Kubernetes checks them; an
/// external traffic policy only on a Service reachable from outside.
fn check_service_policies(spec: &Value, errors: &mut Vec<FieldError>) {
    let one_of = |field: &str, allowed: &[&str], errors: &mut Vec<FieldError>| {
        if let Some(value) = spec.get(field).and_then(Value::as_str)
            && !allowed.contains(&value)
        {
            errors.push(FieldError::not_supported(
                &format!("spec.{field}"),
                &Value::from(value),
                allowed,
            ));
        }
    };
    one_of("sessionAffinity", &["ClientIP", "None"], errors);
    one_of("internalTrafficPolicy", TRAFFIC_POLICIES, errors);
    match spec.get("externalTrafficPolicy").and_then(Value::as_str) {
        None | Some("") => {}
        Some(policy)
            if !spec
                .as_object()
                .is_some_and(crate::defaults::externally_accessible) =>
        {
            errors.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                &Value::from(policy),
                "may only be set for externally-accessible services",
            ))
        }
        Some(_) => one_of("externalTrafficPolicy", TRAFFIC_POLICIES, errors),
    }
    let Some(map) = spec.as_object() else { return };
    if map.contains_key("allocateLoadBalancerNodePorts")
        && map.get("type").and_then(Value::as_str) != Some("LoadBalancer")
    {
        errors.push(FieldError::forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if let Some(port) = map.get("healthCheckNodePort").and_then(Value::as_i64)
        && port != 0
        && !crate::defaults::needs_health_check_node_port(map)
    {
        errors.push(FieldError::invalid(
            "spec.healthCheckNodePort",
            &Value::from(port),
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    }
}

fn validate_workload(info: &ResourceInfo, obj: &Value, errors: &mut Vec<FieldError>) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    non_negative(&spec, "replicas", errors);
    let selector = spec.get("selector");
    let parsed = match selector {
        None | Some(Value::Null) => {
            errors.push(FieldError::required("spec.selector"));
            None
        }
        Some(sel) => match selector::from_label_selector_object(sel) {
            Ok(parsed) if parsed.is_empty() => {
                errors.push(FieldError::invalid(
                    "spec.selector",
                    sel,
                    "empty selector is invalid for deployment",
                ));
                None
            }
            Ok(parsed) => Some(parsed),
            Err(e) => {
                errors.push(FieldError::invalid("spec.selector", sel, &e.to_string()));
                None
            }
        },
    };
    let template = spec.get("template").cloned().unwrap_or(Value::Null);
    if let Some(parsed) = parsed
        && !parsed.matches(&template)
    {
        let labels = template
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(Value::Null);
        errors.push(FieldError::invalid(
            "spec.template.metadata.labels",
            &labels,
            "`selector` does not match template `labels`",
        ));
    }
    match template.get("spec") {
        Some(pod_spec) => {
            validate_pod_spec(pod_spec, "spec.template.spec", errors);
            if let Some(p) = pod_spec.get("restartPolicy").and_then(Value::as_str)
                && p != "Always"
            {
                errors.push(FieldError::not_supported(
                    "spec.template.spec.restartPolicy",
                    &Value::from(p),
                    &["Always"],
                ));
            }
        }
        None => errors.push(FieldError::required("spec.template.spec.containers")),
    }
    non_negative(&spec, "minReadySeconds", errors);
    if info.kind == "Deployment" {
        non_negative(&spec, "revisionHistoryLimit", errors);
        non_negative(&spec, "progressDeadlineSeconds", errors);
        if let Some(deadline) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
            let min_ready = spec
                .get("minReadySeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if deadline <= min_ready {
                errors.push(FieldError::invalid(
                    "spec.progressDeadlineSeconds",
                    &Value::from(deadline),
                    "must be greater than minReadySeconds",
                ));
            }
        }
        validate_strategy(spec.get("strategy").unwrap_or(&Value::Null), errors);
    }
}

/// `spec.FIELD`, when set, is not negative.
fn non_negative(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    if let Some(n) = spec.get(field).and_then(Value::as_i64)
        && n < 0
    {
        errors.push(FieldError::invalid(
            &format!("spec.{field}"),
            &Value::from(n),
            "must be greater than or equal to 0",
        ));
    }
}

/// A Deployment's `spec.strategy` (after defaulting), as Kubernetes checks it: a
/// rolling update's maxUnavailable and maxSurge are counts or percentages, not
/// both zero (the rollout could never move), and at most all of the pods may be
/// unavailable; a Recreate takes no rollingUpdate.
fn validate_strategy(strategy: &Value, errors: &mut Vec<FieldError>) {
    let rolling = strategy.get("rollingUpdate").filter(|r| !r.is_null());
    match strategy.get("type").and_then(Value::as_str) {
        Some("Recreate") if rolling.is_some() => errors.push(FieldError::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        Some("Recreate") => {}
        Some("RollingUpdate") => {
            let Some(rolling) = rolling else {
                errors.push(FieldError::required("spec.strategy.rollingUpdate"));
                return;
            };
            let at = "spec.strategy.rollingUpdate";
            let unavailable = rolling.get("maxUnavailable").unwrap_or(&Value::Null);
            let surge = rolling.get("maxSurge").unwrap_or(&Value::Null);
            let unavailable_n =
                count_or_percent(unavailable, &format!("{at}.maxUnavailable"), errors);
            let surge_n = count_or_percent(surge, &format!("{at}.maxSurge"), errors);
            if unavailable_n.is_some_and(CountOrPercent::is_zero)
                && surge_n.is_some_and(CountOrPercent::is_zero)
            {
                errors.push(FieldError::invalid(
                    &format!("{at}.maxUnavailable"),
                    unavailable,
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
            if let Some(CountOrPercent::Percent(p)) = unavailable_n
                && p > 100
            {
                errors.push(FieldError::invalid(
                    &format!("{at}.maxUnavailable"),
                    unavailable,
                    "must not be greater than 100%",
                ));
            }
        }
        Some(other) => errors.push(FieldError::not_supported(
            "spec.strategy.type",
            &Value::from(other),
            &["Recreate", "RollingUpdate"],
        )),
        None => {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountOrPercent {
    Count(i64),
    Percent(u64),
}

impl CountOrPercent {
    fn is_zero(self) -> bool {
        matches!(self, CountOrPercent::Count(0) | CountOrPercent::Percent(0))
    }
}

/// An IntOrString that must be a non-negative count or a percentage ("25%"); the
/// error for anything else, and None for an absent value or an error.
pub(crate) fn count_or_percent(
    value: &Value,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<CountOrPercent> {
    match value {
        Value::Null => None,
        Value::Number(n) => match n.as_i64() {
            Some(n) if n >= 0 => Some(CountOrPercent::Count(n)),
            _ => {
                errors.push(FieldError::invalid(
                    field,
                    value,
                    "must be greater than or equal to 0",
                ));
                None
            }
        },
        Value::String(s) => {
            let digits = s
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits.map(|d| d.parse::<u64>()) {
                Some(Ok(p)) => Some(CountOrPercent::Percent(p)),
                _ => {
                    errors.push(FieldError::invalid(
                        field,
                        value,
                        "a valid percent string must be a numeric string followed by an ending '%' \
                         (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    ));
                    None
                }
            }
        }
        _ => {
            errors.push(FieldError::invalid(
                field,
                value,
                "must be an integer or percentage (e.g '5%')",
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("Bad_Name").is_err());
        assert!(dns1123_subdomain("").is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1035_label("1svc").is_err() && dns1035_label("svc-1").is_ok());
        assert!(label_key("example.com/app").is_ok());
        assert!(label_key("-x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("a b").is_err());
        assert_eq!(
            label_value(&"c".repeat(64)),
            Err("must be no more than 63 characters".to_string())
        );
        assert!(label_value(&"c".repeat(63)).is_ok());
    }

    #[test]
    fn service_policies_are_checked_as_kubernetes_does() {
        let services = find("", "v1", "services").unwrap();
        let check = |spec: Value| {
            validate(services, &json!({"metadata": {"name": "s"}, "spec": spec}))
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        };
        let port = json!([{"port": 80}]);
        assert_eq!(
            check(json!({"ports": port, "externalTrafficPolicy": "Local"})),
            [
                r#"spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services"#
            ]
        );
        assert_eq!(
            check(json!({"ports": port, "type": "NodePort", "externalTrafficPolicy": "Sometimes"})),
            [
                r#"spec.externalTrafficPolicy: Unsupported value: "Sometimes": supported values: "Cluster", "Local""#
            ]
        );
        assert_eq!(
            check(
                json!({"ports": port, "sessionAffinity": "Sticky", "internalTrafficPolicy": "Near"})
            ),
            [
                r#"spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None""#,
                r#"spec.internalTrafficPolicy: Unsupported value: "Near": supported values: "Cluster", "Local""#,
            ]
        );
        // External IPs make a ClusterIP Service reachable from outside.
        assert!(
            check(json!({"ports": port, "externalIPs": ["192.0.2.1"], "externalTrafficPolicy": "Local"}))
                .is_empty()
        );
        assert!(
            check(json!({"ports": port, "type": "LoadBalancer", "externalTrafficPolicy": "Local"}))
                .is_empty()
        );
        assert_eq!(
            check(
                json!({"ports": port, "type": "NodePort", "externalTrafficPolicy": "Local",
                         "healthCheckNodePort": 30100, "allocateLoadBalancerNodePorts": false})
            ),
            [
                "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'",
                "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ]
        );
        assert!(
            check(
                json!({"ports": port, "type": "LoadBalancer", "externalTrafficPolicy": "Local",
                         "healthCheckNodePort": 30100, "allocateLoadBalancerNodePorts": false})
            )
            .is_empty()
        );
    }

    #[test]
    fn quantities() {
        for ok in ["1", "100m", "1.5Gi", "2e3", "0.5", "128Mi", "+1"] {
            assert!(quantity(ok).is_ok(), "{ok}");
        }
        for bad in ["", "abc", "1.2.3", "1Xi", ".", "1e"] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pod_needs_containers_with_images_and_unique_names() {
        let pods = find("", "v1", "pods").unwrap();
        let errs = validate(
            pods,
            &json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "x"}, {"name": "a", "image": ""}]}}),
        );
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.containers[1].name", "spec.containers[1].image"]
        );
        let errs = validate(pods, &json!({"metadata": {"name": "P_1"}, "spec": {}}));
        assert_eq!(errs[0].field, "metadata.name");
        assert_eq!(errs[1].message, "spec.containers: Required value");
    }

    #[test]
    fn label_selector_errors_name_their_field() {
        let selector = json!({"matchLabels": {"bad key!": "v"}, "matchExpressions": [
            {"key": "a", "operator": "Foo"},
            {"key": "b", "operator": "In"},
            {"key": "c", "operator": "Exists", "values": ["x"]},
        ]});
        let mut errors = Vec::new();
        validate_label_selector(&selector, "spec.selector", &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.selector.matchLabels",
                "spec.selector.matchExpressions[0].operator",
                "spec.selector.matchExpressions[1].values",
                "spec.selector.matchExpressions[2].values",
            ]
        );
        assert_eq!(
            errors[1].message,
            "spec.selector.matchExpressions[0].operator: Invalid value: \"Foo\": not a valid selector operator"
        );
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let d = find("apps", "v1", "deployments").unwrap();
        let errs = validate(
            d,
            &json!({"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}},
                         "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
    }

    #[test]
    fn deployment_strategy_and_timings_are_checked_as_kubernetes_does() {
        let d = find("apps", "v1", "deployments").unwrap();
        let with = |spec: Value| {
            let mut obj = json!({"metadata": {"name": "d"}, "spec": {
                "selector": {"matchLabels": {"app": "a"}},
                "template": {"metadata": {"labels": {"app": "a"}},
                             "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
            for (k, v) in spec.as_object().unwrap() {
                obj["spec"][k] = v.clone();
            }
            validate(d, &obj)
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
        };
        let rolling = |u: Value, s: Value| {
            json!({"strategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": u, "maxSurge": s}}})
        };
        assert!(with(rolling(json!("25%"), json!(1))).is_empty());
        assert!(with(rolling(json!(0), json!("10%"))).is_empty());
        assert_eq!(
            with(rolling(json!(0), json!("0%"))),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
            ]
        );
        assert_eq!(
            with(rolling(json!("150%"), json!(1))),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
            ]
        );
        let bad = with(rolling(json!(1), json!("150x")));
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].starts_with("spec.strategy.rollingUpdate.maxSurge: Invalid value: \"150x\": a valid percent string"),
            "{bad:?}"
        );
        assert_eq!(
            with(rolling(json!(-1), json!(1))),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"
            ]
        );
        assert_eq!(
            with(json!({"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}})),
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            ]
        );
        assert!(with(json!({"strategy": {"type": "Recreate"}})).is_empty());
        assert_eq!(
            with(json!({"minReadySeconds": 30, "progressDeadlineSeconds": 30})),
            [
                "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"
            ]
        );
        assert_eq!(
            with(json!({"revisionHistoryLimit": -1})),
            ["spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn config_maps_and_secrets_hold_at_most_a_mebibyte() {
        let cm = find("", "v1", "configmaps").unwrap();
        let secret = find("", "v1", "secrets").unwrap();
        let half = "a".repeat(600 * 1024);
        let messages = |info, obj: Value| -> Vec<String> {
            validate(info, &obj)
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert!(messages(cm, json!({"metadata": {"name": "c"}, "data": {"a": half}})).is_empty());
        assert_eq!(
            messages(
                cm,
                json!({"metadata": {"name": "c"}, "data": {"a": half, "b": half}})
            ),
            ["[]: Too long: may not be more than 1048576 bytes"]
        );
        // 800 KiB of base64 is 600 KiB of data.
        let encoded = "QUJD".repeat(800 * 1024 / 4);
        assert!(
            messages(
                secret,
                json!({"metadata": {"name": "s"}, "data": {"a": encoded}})
            )
            .is_empty()
        );
        assert_eq!(
            messages(
                secret,
                json!({"metadata": {"name": "s"}, "data": {"a": encoded, "b": encoded}})
            ),
            ["data: Too long: may not be more than 1048576 bytes"]
        );
        assert_eq!(
            messages(
                cm,
                json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "binaryData": {"k": "dg=="}})
            ),
            ["data[k]: Invalid value: \"k\": duplicate of key present in binaryData"]
        );
    }

    #[test]
    fn containers_env_mounts_and_requests_above_limits() {
        let pods = find("", "v1", "pods").unwrap();
        let messages = |container: Value, volumes: Value| -> Vec<String> {
            let mut c = json!({"name": "c", "image": "i"});
            for (k, v) in container.as_object().unwrap() {
                c[k] = v.clone();
            }
            let pod =
                json!({"metadata": {"name": "p"}, "spec": {"containers": [c], "volumes": volumes}});
            validate(pods, &pod)
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert!(
            messages(
                json!({"env": [{"name": "1_relaxed.name-ok", "value": "x"}],
                       "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                       "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                     "limits": {"cpu": "1", "memory": "1024Mi"}}}),
                json!([{"name": "data", "emptyDir": {}}])
            )
            .is_empty()
        );
        assert_eq!(
            messages(
                json!({"env": [{"name": "A=B"}, {"name": ""}],
                       "volumeMounts": [{"name": "missing", "mountPath": "/m"}, {"name": "data"}],
                       "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}),
                json!([{"name": "data", "emptyDir": {}}])
            ),
            [
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.containers[0].env[1].name: Required value",
                "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[0].volumeMounts[1].mountPath: Required value",
            ]
        );
    }

    /// The messages of a pod with one container `c` (fields merged in) and the
    /// given extra spec fields.
    fn pod_messages(container: Value, spec: Value) -> Vec<String> {
        let mut c = json!({"name": "c", "image": "i"});
        for (k, v) in container.as_object().unwrap() {
            c[k] = v.clone();
        }
        let mut full = json!({"containers": [c]});
        for (k, v) in spec.as_object().unwrap() {
            full[k] = v.clone();
        }
        let pod = json!({"metadata": {"name": "p"}, "spec": full});
        validate(find("", "v1", "pods").unwrap(), &pod)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn ports_probes_and_images_are_checked_as_kubernetes_does() {
        let good = json!({
            "ports": [{"name": "http", "containerPort": 80, "hostPort": 8080},
                      {"name": "metrics", "containerPort": 9090}],
            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
            "readinessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        });
        assert!(pod_messages(good, json!({})).is_empty());
        assert_eq!(
            pod_messages(
                json!({"image": " busybox",
                       "ports": [{"name": "http", "containerPort": 80, "hostPort": 8080},
                                 {"name": "http", "containerPort": 81, "hostPort": 8080},
                                 {"name": "Web_UI", "containerPort": 82}],
                       "livenessProbe": {"periodSeconds": 5},
                       "startupProbe": {"exec": {"command": ["true"]}, "tcpSocket": {"port": 1},
                                        "successThreshold": 3},
                       "readinessProbe": {"httpGet": {"port": "8080"}}}),
                json!({})
            ),
            [
                "spec.containers[0].image: Invalid value: \" busybox\": must not have leading or trailing whitespace",
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[2].name: Invalid value: \"Web_UI\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.containers[0].livenessProbe: Required value: must specify a handler type",
                "spec.containers[0].readinessProbe.httpGet.port: Invalid value: \"8080\": must contain at least one letter (a-z)",
                "spec.containers[0].startupProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1",
                "spec.containers[0].ports[1].hostPort: Duplicate value: \"TCP//8080\"",
            ]
        );
    }

    #[test]
    fn init_containers_sidecars_and_host_network_are_checked_as_kubernetes_does() {
        let sidecar = json!({"hostNetwork": true, "initContainers": [
            {"name": "setup", "image": "i"},
            {"name": "proxy", "image": "i", "restartPolicy": "Always",
             "readinessProbe": {"tcpSocket": {"port": 15021}}}]});
        assert!(
            pod_messages(
                json!({"ports": [{"containerPort": 80, "hostPort": 80}]}),
                sidecar
            )
            .is_empty()
        );
        assert_eq!(
            pod_messages(
                json!({"restartPolicy": "Always", "ports": [{"containerPort": 80, "hostPort": 81}]}),
                json!({"hostNetwork": true, "initContainers": [
                    {"name": "c", "image": "i", "restartPolicy": "Never"},
                    {"name": "once", "image": "i", "readinessProbe": {"exec": {"command": ["true"]}},
                     "lifecycle": {"preStop": {"sleep": {"seconds": 1}}}}]})
            ),
            [
                "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
                "spec.initContainers[0].name: Duplicate value: \"c\"",
                "spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                "spec.initContainers[1].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.initContainers[1].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
            ]
        );
    }

    #[test]
    fn node_selectors_and_tolerations_are_checked_as_kubernetes_does() {
        let good = json!({
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [
                {"operator": "Exists"},
                {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 30},
            ],
        });
        assert!(pod_messages(json!({}), good).is_empty());
        assert_eq!(
            pod_messages(
                json!({}),
                json!({
                    "nodeSelector": {"bad key!": "x"},
                    "tolerations": [
                        {"key": "a", "operator": "Exists", "value": "b"},
                        {"value": "v"},
                        {"key": "a", "operator": "In", "effect": "Sometimes"},
                        {"key": "a", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5},
                    ],
                })
            ),
            [
                "spec.nodeSelector: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "spec.tolerations[0].operator: Invalid value: {\"key\":\"a\",\"operator\":\"Exists\",\"value\":\"b\"}: value must be empty when `operator` is 'Exists'",
                "spec.tolerations[1].operator: Invalid value: \"\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[2].operator: Unsupported value: \"In\": supported values: \"Equal\", \"Exists\"",
                "spec.tolerations[2].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            ]
        );
    }

    #[test]
    fn service_ports_selectors_and_external_names_are_checked() {
        let services = find("", "v1", "services").unwrap();
        let messages = |spec: Value| -> Vec<String> {
            validate(services, &json!({"metadata": {"name": "s"}, "spec": spec}))
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert!(
            messages(json!({"selector": {"app": "web"}, "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"}]}))
            .is_empty()
        );
        assert!(
            messages(json!({"type": "ExternalName", "externalName": "db.example.com."})).is_empty()
        );
        assert_eq!(
            messages(json!({"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]})),
            [
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"
            ]
        );
        assert_eq!(
            messages(json!({"selector": {"app": "no spaces"}, "ports": [
                {"name": "a", "port": 80, "targetPort": "Not_A_Name"},
                {"name": "b", "port": 80, "targetPort": 70000}]})),
            [
                "spec.ports[0].targetPort: Invalid value: \"Not_A_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.ports[1]: Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}",
                "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.selector: Invalid value: \"no spaces\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ]
        );
        assert_eq!(
            messages(json!({"type": "ExternalName", "externalName": "Not A Host"})),
            [format!(
                "spec.externalName: Invalid value: \"Not A Host\": {DNS1123_SUBDOMAIN_MSG}"
            )]
        );
    }

    #[test]
    fn volumes_are_named_once_and_have_one_source() {
        let pods = find("", "v1", "pods").unwrap();
        let messages = |volumes: Value, mounts: Value| -> Vec<String> {
            let pod = json!({"metadata": {"name": "p"}, "spec": {
                "containers": [{"name": "c", "image": "i", "volumeMounts": mounts}],
                "volumes": volumes}});
            validate(pods, &pod)
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert!(messages(json!([{"name": "a", "emptyDir": {}}]), json!([])).is_empty());
        assert_eq!(
            messages(
                json!([{"name": "a", "configMap": {"name": "cm"}, "secret": {"secretName": "s"}},
                       {"name": "a", "secret": {}}]),
                json!([{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/x"}])
            ),
            [
                "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1].name: Duplicate value: \"a\"",
                "spec.volumes[1].secret.secretName: Required value",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/x\": must be unique",
            ]
        );
    }

    #[test]
    fn lease_durations_are_positive() {
        let leases = find("coordination.k8s.io", "v1", "leases").unwrap();
        let messages = |spec: Value| -> Vec<String> {
            validate(leases, &json!({"metadata": {"name": "l"}, "spec": spec}))
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert!(messages(json!({"leaseDurationSeconds": 40, "leaseTransitions": 0})).is_empty());
        assert_eq!(
            messages(json!({"leaseDurationSeconds": 0, "leaseTransitions": -1})),
            [
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn secrets_of_well_known_types_hold_their_keys() {
        let secrets = find("", "v1", "secrets").unwrap();
        let messages = |ty: &str, data: Value| -> Vec<String> {
            let obj = json!({"metadata": {"name": "s"}, "type": ty, "data": data});
            validate(secrets, &obj)
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        let x = json!("eA==");
        assert_eq!(
            messages("kubernetes.io/tls", json!({"tls.crt": x})),
            ["data[tls.key]: Required value"]
        );
        assert!(messages("kubernetes.io/tls", json!({"tls.crt": x, "tls.key": x})).is_empty());
        // {"auths":{}} in base64.
        let config = json!("eyJhdXRocyI6e319");
        assert!(
            messages(
                "kubernetes.io/dockerconfigjson",
                json!({".dockerconfigjson": config})
            )
            .is_empty()
        );
        let bad = messages(
            "kubernetes.io/dockerconfigjson",
            json!({".dockerconfigjson": x}),
        );
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].starts_with(
                "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": "
            ),
            "{bad:?}"
        );
        assert_eq!(
            messages("kubernetes.io/dockercfg", json!({})),
            ["data[.dockercfg]: Required value"]
        );
        assert_eq!(
            messages("kubernetes.io/basic-auth", json!({})),
            [
                "data[username]: Required value",
                "data[password]: Required value"
            ]
        );
        assert!(messages("kubernetes.io/basic-auth", json!({"password": x})).is_empty());
        assert_eq!(
            messages("kubernetes.io/ssh-auth", json!({})),
            ["data[ssh-privatekey]: Required value"]
        );
        assert_eq!(
            messages("kubernetes.io/service-account-token", json!({})),
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
        assert!(messages("Opaque", json!({})).is_empty());
        assert!(messages("example.com/custom", json!({})).is_empty());
    }
}
