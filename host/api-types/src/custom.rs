//! Custom resources: kinds defined at run time by CustomResourceDefinitions.
//!
//! A CRD (`apiextensions.k8s.io/v1`) becomes one [`ResourceInfo`] per served
//! version, registered beside the built-in table, so routing, discovery, OpenAPI,
//! watch and storage treat custom kinds like built-in ones. Objects are checked
//! against the version's `openAPIV3Schema` (a structural schema): fields the
//! schema does not know are pruned (and refused under `fieldValidation=Strict`,
//! through the same comparison as built-in kinds), and types, required fields,
//! enums and bounds are validated with one field error each.
//!
//! Registered kinds live as long as the process: the `ResourceInfo` rows are
//! `'static` like the built-in ones, so a CRD replaced or deleted leaves its old
//! row allocated (a few hundred bytes per change).

use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

use crate::resources::{DecodeError, ResourceInfo, Subresource};
use crate::validation::FieldError;

pub const CRD_GROUP: &str = "apiextensions.k8s.io";

/// One served version of a custom kind.
#[derive(Debug, Clone)]
pub struct CustomKind {
    pub info: &'static ResourceInfo,
    /// The CRD's name (`plural.group`), which owns this row.
    pub crd: String,
    pub schema: Arc<Value>,
    pub printer_columns: Vec<PrinterColumn>,
    /// Where the `scale` subresource reads and writes, when the version has one.
    pub scale: Option<ScalePaths>,
    /// The warning a request through this version gets, when it is deprecated.
    pub deprecation_warning: Option<String>,
    /// The kind of its lists (`names.listKind`, `<Kind>List` by default).
    pub list_kind: String,
}

/// The kind of a list of `info`'s objects: a custom kind's `listKind`, else
/// `<Kind>List`.
pub fn list_kind(info: &ResourceInfo) -> String {
    match read().iter().find(|c| std::ptr::eq(c.info, info)) {
        Some(c) => c.list_kind.clone(),
        None => info.list_kind(),
    }
}

/// A version's `subresources.scale`: JSON pointers (made from the CRD's
/// `.spec.replicas`-style paths) to the desired and observed replicas, and to the
/// label selector in its string form.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// A CRD's `.a.b` path as a JSON pointer (`/a/b`).
fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut p, part| {
            p.push('/');
            p.push_str(part);
            p
        })
}

/// An `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub json_path: String,
    pub priority: i64,
    pub format: String,
    pub description: String,
}

impl PrinterColumn {
    /// The column a CRD version without `additionalPrinterColumns` is printed
    /// with, after the name, as in Kubernetes.
    fn age() -> Self {
        PrinterColumn {
            name: "Age".into(),
            type_: "date".into(),
            json_path: ".metadata.creationTimestamp".into(),
            priority: 0,
            format: String::new(),
            description: String::new(),
        }
    }
}

static REGISTERED: RwLock<Vec<CustomKind>> = RwLock::new(Vec::new());

fn read() -> std::sync::RwLockReadGuard<'static, Vec<CustomKind>> {
    REGISTERED.read().unwrap_or_else(|e| e.into_inner())
}

/// Every custom kind served now.
pub fn registered() -> Vec<CustomKind> {
    read().clone()
}

pub fn lookup(group: &str, version: &str, kind: &str) -> Option<CustomKind> {
    read()
        .iter()
        .find(|c| c.info.group == group && c.info.version == version && c.info.kind == kind)
        .cloned()
}

pub fn is_custom(info: &ResourceInfo) -> bool {
    read().iter().any(|c| std::ptr::eq(c.info, info))
}

/// The custom kind served as `info`, if it is one.
pub fn of(info: &ResourceInfo) -> Option<CustomKind> {
    read().iter().find(|c| std::ptr::eq(c.info, info)).cloned()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn leak_list(v: &Value) -> &'static [&'static str] {
    let items: Vec<&'static str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(leak))
        .collect();
    Box::leak(items.into_boxed_slice())
}

/// Why a CRD's names cannot be accepted, as Kubernetes' `NamesAccepted`
/// condition gives it (reason, message): another CRD of its group already serves
/// its kind, or one of its names. Serving both would hide one's objects behind the
/// other's.
pub fn name_conflict(crd: &Value) -> Option<(&'static str, String)> {
    let name = crd_name(crd);
    let spec = crd.get("spec")?;
    let group = spec.get("group").and_then(Value::as_str)?;
    let names = spec.get("names")?;
    let text = |f: &str| names.get(f).and_then(Value::as_str).unwrap_or("");
    let kind = text("kind");
    let singular = match text("singular") {
        "" => kind.to_lowercase(),
        s => s.to_string(),
    };
    let short: Vec<&str> = names
        .get("shortNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let in_use = |what: &str| format!("\"{what}\" is already in use");
    for other in read()
        .iter()
        .filter(|c| c.crd != name && c.info.group == group)
        .map(|c| c.info)
    {
        let taken =
            |n: &str| other.plural == n || other.singular == n || other.short_names.contains(&n);
        if other.kind == kind {
            return Some(("KindConflict", in_use(kind)));
        }
        if taken(&singular) {
            return Some(("SingularConflict", in_use(&singular)));
        }
        if let Some(n) = short.iter().find(|n| taken(n)) {
            return Some(("ShortNamesConflict", in_use(n)));
        }
    }
    None
}

/// Whether a stored CRD's status says its names were refused (so it is not
/// served again at start, whatever order the CRDs are read in).
fn names_refused(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "NamesAccepted" && c["status"] == "False")
}

/// Serves the kinds a CRD defines (replacing what it defined before), unless its
/// names clash with another CRD's.
pub fn register(crd: &Value) -> Result<(), String> {
    if let Some((_, why)) = name_conflict(crd) {
        return Err(why);
    }
    if names_refused(crd) {
        return Err("its names were not accepted".into());
    }
    let kinds = kinds_of(crd)?;
    let name = crd_name(crd);
    let mut all = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    all.retain(|c| c.crd != name);
    all.extend(kinds);
    Ok(())
}

/// Stops serving the kinds of the CRD named `name`.
pub fn unregister(name: &str) {
    REGISTERED
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|c| c.crd != name);
}

fn crd_name(crd: &Value) -> String {
    crd.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn kinds_of(crd: &Value) -> Result<Vec<CustomKind>, String> {
    let spec = crd.get("spec").ok_or("the CRD has no spec")?;
    let s = |p: &str| spec.pointer(p).and_then(Value::as_str).unwrap_or("");
    let group = s("/group");
    let names = spec.get("names").cloned().unwrap_or(Value::Null);
    let n = |f: &str| names.get(f).and_then(Value::as_str).unwrap_or("");
    let plural = n("plural");
    let kind = n("kind");
    let singular = if n("singular").is_empty() {
        kind.to_lowercase()
    } else {
        n("singular").to_string()
    };
    let namespaced = s("/scope") != "Cluster";
    let mut out = Vec::new();
    for v in spec
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let version = v.get("name").and_then(Value::as_str).unwrap_or("");
        let mut subresources = Vec::new();
        if v.pointer("/subresources/status").is_some() {
            subresources.push(Subresource::Status);
        }
        let scale = v.pointer("/subresources/scale").map(|scale| {
            let path = |f: &str| scale.get(f).and_then(Value::as_str).map(pointer);
            ScalePaths {
                spec_replicas: path("specReplicasPath").unwrap_or_else(|| "/spec/replicas".into()),
                status_replicas: path("statusReplicasPath")
                    .unwrap_or_else(|| "/status/replicas".into()),
                label_selector: path("labelSelectorPath"),
            }
        });
        if scale.is_some() {
            subresources.push(Subresource::Scale);
        }
        let deprecation_warning = (v.get("deprecated") == Some(&Value::Bool(true))).then(|| {
            v.get("deprecationWarning")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{group}/{version} {kind} is deprecated"))
        });
        let info: &'static ResourceInfo = Box::leak(Box::new(ResourceInfo {
            group: leak(group),
            version: leak(version),
            kind: leak(kind),
            plural: leak(plural),
            singular: leak(&singular),
            namespaced,
            short_names: leak_list(names.get("shortNames").unwrap_or(&Value::Null)),
            categories: leak_list(names.get("categories").unwrap_or(&Value::Null)),
            subresources: Box::leak(subresources.into_boxed_slice()),
            // `selectableFields` (beta, on by default in Kubernetes 1.32): the
            // fields a field selector may name, beside the name and namespace.
            field_labels: leak_list(&Value::from(
                v.get("selectableFields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.get("jsonPath").and_then(Value::as_str))
                    .map(|p| p.trim_start_matches('.').to_string())
                    .collect::<Vec<_>>(),
            )),
            tracks_generation: true,
            decode,
            decode_json: None,
            schema: None,
        }));
        let printer_columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| PrinterColumn {
                name: c["name"].as_str().unwrap_or("").to_string(),
                type_: c["type"].as_str().unwrap_or("string").to_string(),
                json_path: c["jsonPath"].as_str().unwrap_or("").to_string(),
                priority: c["priority"].as_i64().unwrap_or(0),
                format: c["format"].as_str().unwrap_or("").to_string(),
                description: c["description"].as_str().unwrap_or("").to_string(),
            })
            .collect::<Vec<_>>();
        let printer_columns = if printer_columns.is_empty() {
            vec![PrinterColumn::age()]
        } else {
            printer_columns
        };
        out.push(CustomKind {
            info,
            crd: crd_name(crd),
            schema: Arc::new(
                v.pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            printer_columns,
            scale,
            deprecation_warning,
            list_kind: match n("listKind") {
                "" => format!("{kind}List"),
                list_kind => list_kind.to_string(),
            },
        });
    }
    // Served in Kubernetes' version priority (GA before beta before alpha, higher
    // numbers first, others last by name), which discovery lists and kubectl
    // takes the first of.
    out.sort_by_key(|c| version_priority(c.info.version));
    Ok(out)
}

/// The sort key of a version in Kubernetes' priority order: `v2` < `v1` <
/// `v1beta2` < `v1beta1` < `v1alpha1` < versions not of that form, by name.
pub fn version_priority(
    version: &str,
) -> (u8, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, String) {
    use std::cmp::Reverse;
    let parsed = version.strip_prefix('v').and_then(|rest| {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let major: u64 = rest[..digits].parse().ok()?;
        match &rest[digits..] {
            "" => Some((0, major, 0)),
            tail => {
                let (level, n) = if let Some(n) = tail.strip_prefix("beta") {
                    (1, n)
                } else {
                    (2, tail.strip_prefix("alpha")?)
                };
                Some((level, major, n.parse().ok()?))
            }
        }
    });
    match parsed {
        Some((level, major, minor)) => (level, Reverse(major), Reverse(minor), String::new()),
        None => (3, Reverse(0), Reverse(0), version.to_string()),
    }
}

/// Decoding a custom object: the fields its schema does not know are pruned
/// (the admission step compares, to refuse them under strict validation).
fn decode(value: &Value) -> Result<Value, DecodeError> {
    let Some(map) = value.as_object() else {
        return Err(DecodeError {
            path: ".".into(),
            message: "expected an object".into(),
        });
    };
    if map.get("metadata").is_some_and(|m| !m.is_object()) {
        return Err(DecodeError {
            path: "metadata".into(),
            message: "expected an object".into(),
        });
    }
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut out = value.clone();
    if let Some(custom) = lookup(group, version, kind) {
        prune_root(&custom.schema, &mut out);
    }
    // The metadata is every kind's ObjectMeta: decoded as one, so that a field it
    // does not have is unknown here as on a built-in kind.
    if let Some(metadata) = out.get_mut("metadata") {
        let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta =
            serde_path_to_error::deserialize(&*metadata).map_err(|e| DecodeError {
                path: format!("metadata.{}", e.path()),
                message: e.inner().to_string(),
            })?;
        *metadata = serde_json::to_value(typed).map_err(|e| DecodeError {
            path: "metadata".into(),
            message: e.to_string(),
        })?;
    }
    Ok(out)
}

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// Prunes an object against the root schema; apiVersion, kind and metadata are
/// the server's and always kept.
fn prune_root(schema: &Value, obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let keep_all = preserves_unknown(schema);
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(&k)) {
            Some(s) => {
                if let Some(v) = map.get_mut(&k) {
                    prune(s, v);
                }
            }
            None if keep_all => {}
            None => {
                map.remove(&k);
            }
        }
    }
}

fn prune(schema: &Value, value: &mut Value) {
    if preserves_unknown(schema) && schema.get("properties").is_none() {
        return;
    }
    match value {
        Value::Object(map) => prune_object(schema, map),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    prune(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

fn prune_object(schema: &Value, map: &mut Map<String, Value>) {
    if schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
        return;
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let keep_all = preserves_unknown(schema) || additional == Some(&Value::Bool(true));
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        let sub = props
            .and_then(|p| p.get(&k))
            .or(additional.filter(|a| a.is_object()));
        match sub {
            Some(s) => {
                if let Some(v) = map.get_mut(&k) {
                    prune(s, v);
                }
            }
            None if keep_all => {}
            None => {
                map.remove(&k);
            }
        }
    }
}

/// A stored object of a custom kind as read through `info`'s version, as
/// Kubernetes decodes it from storage: pruned and defaulted by that version's
/// schema (which may have changed since the object was written).
pub fn on_read(info: &ResourceInfo, obj: &mut Value) {
    let Some(custom) = of(info) else {
        return;
    };
    prune_root(&custom.schema, obj);
    apply_defaults(info, obj);
}

/// Fills in the defaults the schema of `info`'s version declares, as Kubernetes'
/// structural defaulting does: a field that is absent, or null where the schema
/// does not allow null, gets a copy of its `default` (a null without one is
/// dropped), and defaults inside it and inside present fields are applied in
/// turn. apiVersion, kind and metadata are the server's.
pub fn apply_defaults(info: &ResourceInfo, obj: &mut Value) {
    let Some(custom) = of(info) else {
        return;
    };
    let (Some(props), Some(map)) = (
        custom.schema.get("properties").and_then(Value::as_object),
        obj.as_object_mut(),
    ) else {
        return;
    };
    for (key, schema) in props {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            default_field(map, key, schema);
        }
    }
}

fn default_field(map: &mut Map<String, Value>, key: &str, schema: &Value) {
    let nullable = schema.get("nullable") == Some(&Value::Bool(true));
    match map.get(key) {
        None => {
            if let Some(default) = schema.get("default") {
                map.insert(key.to_string(), default.clone());
            }
        }
        Some(Value::Null) if !nullable => match schema.get("default") {
            Some(default) => {
                map.insert(key.to_string(), default.clone());
            }
            None => {
                map.remove(key);
            }
        },
        Some(_) => {}
    }
    if let Some(value) = map.get_mut(key) {
        default_value(schema, value);
    }
}

fn default_value(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in props {
                    default_field(map, key, sub);
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for v in map.values_mut() {
                    default_value(additional, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    default_value(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// Validates a custom object against its version's schema: one error per field.
pub fn validate(info: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(custom) = lookup(info.group, info.version, info.kind) else {
        return errors;
    };
    let schema = &*custom.schema;
    let props = schema.get("properties").and_then(Value::as_object);
    for field in required(schema) {
        if matches!(field.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        if obj.get(&field).is_none_or(Value::is_null) {
            errors.push(FieldError::required(&field));
        }
    }
    if let (Some(props), Some(map)) = (props, obj.as_object()) {
        for (k, v) in map {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(s) = props.get(k) {
                check(s, v, k, &mut errors);
            }
        }
    }
    errors
}

fn required(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            errors.push(FieldError::invalid(
                path,
                value,
                &format!(
                    "{path} in body must be of type {}",
                    schema
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("object")
                ),
            ));
        }
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    if let Some(want) = schema.get("type").and_then(Value::as_str) {
        let got = type_name(value);
        let ok = got == want
            || (want == "number" && got == "integer")
            || (int_or_string && (got == "integer" || got == "string"));
        if !ok {
            errors.push(FieldError::invalid(
                path,
                value,
                &format!("{path} in body must be of type {want}: \"{got}\""),
            ));
            return;
        }
    } else if int_or_string && !matches!(type_name(value), "integer" | "string") {
        errors.push(FieldError::invalid(
            path,
            value,
            "must be an integer or a string",
        ));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let supported: Vec<String> = options
            .iter()
            .map(|o| {
                o.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| o.to_string())
            })
            .collect();
        let supported: Vec<&str> = supported.iter().map(String::as_str).collect();
        errors.push(FieldError::not_supported(path, value, &supported));
    }
    let limits = Limits {
        schema,
        value,
        path,
    };
    if let Some(n) = value.as_f64() {
        limits.check(
            n,
            "minimum",
            "maximum",
            "should be greater than or equal to {n}",
            "should be less than or equal to {n}",
            errors,
        );
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as f64;
        limits.check(
            len,
            "minLength",
            "maxLength",
            "should be at least {n} chars long",
            "may not be longer than {n}",
            errors,
        );
    }
    if let (Some(s), Some(pattern)) = (
        value.as_str(),
        schema.get("pattern").and_then(Value::as_str),
    ) && regex::Regex::new(pattern).is_ok_and(|re| !re.is_match(s))
    {
        errors.push(FieldError::invalid(
            path,
            value,
            &format!("{path} in body should match '{pattern}'"),
        ));
    }
    if let Some(items) = value.as_array()
        && schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set")
    {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                errors.push(FieldError::duplicate(&format!("{path}[{i}]"), item));
            }
        }
    }
    if let Some(items) = value.as_array()
        && schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map")
    {
        check_map_keys(schema, items, path, errors);
    }
    if let Some(items) = value.as_array() {
        let len = items.len() as f64;
        limits.check(
            len,
            "minItems",
            "",
            "should have at least {n} items",
            "",
            errors,
        );
        if let Some(max) = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .filter(|&max| items.len() as u64 > max)
        {
            errors.push(FieldError::too_many(path, items.len(), max));
        }
    }
    match value {
        Value::Object(map) => {
            for field in required(schema) {
                if map.get(&field).is_none_or(Value::is_null) {
                    errors.push(FieldError::required(&format!("{path}.{field}")));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map {
                if let Some(s) = props.and_then(|p| p.get(k)).or(additional) {
                    check(s, v, &format!("{path}.{k}"), errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

/// A value's bounds in its schema (`minimum`/`maximum`, `minLength`/…), checked
/// against a measure of it, with Kubernetes' wording (`{n}` is the bound).
struct Limits<'a> {
    schema: &'a Value,
    value: &'a Value,
    path: &'a str,
}

impl Limits<'_> {
    fn check(
        &self,
        measure: f64,
        min_key: &str,
        max_key: &str,
        below: &str,
        above: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let bound = |key: &str| self.schema.get(key).and_then(Value::as_f64);
        let mut fail = |template: &str, n: f64| {
            let why = format!(
                "{} in body {}",
                self.path,
                template.replace("{n}", &n.to_string())
            );
            errors.push(FieldError::invalid(self.path, self.value, &why));
        };
        if let Some(min) = bound(min_key).filter(|&min| measure < min) {
            fail(below, min);
        }
        if let Some(max) = bound(max_key).filter(|&max| measure > max) {
            fail(above, max);
        }
    }
}

/// What a CRD asks for that Wharf does not enforce, as a warning for its writer:
/// CEL validation rules (`x-kubernetes-validations`). Such CRDs are served, as
/// operators ship them, with the rules unchecked.
/// A map-typed list (`x-kubernetes-list-type: map`) holds each combination of its
/// key fields once, as Kubernetes' structural-schema validation requires; the
/// duplicate is named as Kubernetes prints it (a Go map of the key fields).
fn check_map_keys(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if keys.is_empty() {
        return;
    }
    let key_of = |item: &Value| -> Vec<Value> {
        keys.iter()
            .map(|k| item.get(*k).cloned().unwrap_or(Value::Null))
            .collect()
    };
    let mut seen: Vec<Vec<Value>> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = key_of(item);
        if seen.contains(&key) {
            let shown: Vec<String> = keys
                .iter()
                .zip(&key)
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k:?}:{v}"))
                .collect();
            errors.push(FieldError {
                kind: crate::validation::FieldErrorKind::Duplicate,
                field: format!("{path}[{i}]"),
                message: format!(
                    "{path}[{i}]: Duplicate value: map[string]interface {{}}{{{}}}",
                    shown.join(", ")
                ),
            });
        }
        seen.push(key);
    }
}

pub fn unenforced(crd: &Value) -> Option<String> {
    fn has_rules(schema: &Value) -> bool {
        let Some(map) = schema.as_object() else {
            return false;
        };
        map.contains_key("x-kubernetes-validations")
            || map
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|props| props.values().any(has_rules))
            || ["items", "additionalProperties"]
                .iter()
                .filter_map(|k| map.get(*k))
                .any(has_rules)
    }
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array)?;
    versions
        .iter()
        .any(|v| v.pointer("/schema/openAPIV3Schema").is_some_and(has_rules))
        .then(|| {
            "x-kubernetes-validations rules are not enforced by this server: objects are checked against the rest of the schema only".to_string()
        })
}

/// Validates a CustomResourceDefinition beyond its types.
pub fn validate_crd(obj: &Value, errors: &mut Vec<FieldError>) {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let group = s("/spec/group");
    let plural = s("/spec/names/plural");
    if group.is_empty() {
        errors.push(FieldError::required("spec.group"));
    } else if !group.contains('.') {
        errors.push(FieldError::invalid(
            "spec.group",
            &Value::from(group),
            "should be a domain with at least one dot",
        ));
    }
    if plural.is_empty() {
        errors.push(FieldError::required("spec.names.plural"));
    }
    if s("/spec/names/kind").is_empty() {
        errors.push(FieldError::required("spec.names.kind"));
    }
    let name = s("/metadata/name");
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            "metadata.name",
            &Value::from(name),
            &format!("must be spec.names.plural+\".\"+spec.group ({plural}.{group})"),
        ));
    }
    if !matches!(s("/spec/scope"), "Namespaced" | "Cluster") {
        errors.push(FieldError::not_supported(
            "spec.scope",
            &Value::from(s("/spec/scope")),
            &["Cluster", "Namespaced"],
        ));
    }
    // Only strategy None is served: a webhook it would never call would hand out
    // unconverted objects.
    if let Some(strategy) = obj
        .pointer("/spec/conversion/strategy")
        .filter(|s| s.as_str() != Some("None"))
    {
        errors.push(FieldError::not_supported(
            "spec.conversion.strategy",
            strategy,
            &["None"],
        ));
    }
    let versions = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        errors.push(FieldError::required("spec.versions"));
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage") == Some(&Value::Bool(true)))
        .count();
    if !versions.is_empty() && storage != 1 {
        errors.push(FieldError::invalid(
            "spec.versions",
            &Value::from(storage),
            "must have exactly one version marked as storage version",
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        let root = v.pointer("/schema/openAPIV3Schema");
        let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
        match root.and_then(|r| r.get("type")).and_then(Value::as_str) {
            Some("object") => {}
            _ => errors.push(FieldError::required(&format!("{path}.type"))),
        }
        if let Some(root) = root {
            check_schema_types(root, &path, errors);
        }
    }
}

/// The types a structural schema may use.
const SCHEMA_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];

/// Checks, as Kubernetes does, that every `type` in a CRD's schema is one it
/// supports and that every array says what its items are: clients (kubectl's
/// OpenAPI reader among them) refuse a schema that breaks either.
fn check_schema_types(schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Value::Object(node) = schema else { return };
    let is_array = node.get("type").and_then(Value::as_str) == Some("array");
    if is_array && !node.get("items").is_some_and(Value::is_object) {
        errors.push(FieldError::required(&format!("{path}.items")));
    }
    match node.get("type") {
        None => {}
        Some(Value::String(t)) if SCHEMA_TYPES.contains(&t.as_str()) => {}
        Some(other) => errors.push(FieldError::not_supported(
            &format!("{path}.type"),
            other,
            SCHEMA_TYPES,
        )),
    }
    if let Some(default) = node.get("default") {
        // A default must be a value its own schema accepts.
        let mut problems = Vec::new();
        check(schema, default, "default", &mut problems);
        if !problems.is_empty() {
            let why: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            errors.push(FieldError::invalid(
                &format!("{path}.default"),
                default,
                &format!("does not validate against its schema: {}", why.join("; ")),
            ));
        }
    }
    if node.contains_key("properties")
        && node
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(true))
    {
        errors.push(FieldError::forbidden(
            &format!("{path}.additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    if node.get("uniqueItems") == Some(&Value::Bool(true)) {
        errors.push(FieldError::forbidden(
            &format!("{path}.uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if node.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map")
        && node
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .is_none_or(|keys| keys.is_empty())
    {
        errors.push(FieldError::required_because(
            &format!("{path}.x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
    }
    if let Some(Value::String(pattern)) = node.get("pattern")
        && let Err(e) = regex::Regex::new(pattern)
    {
        errors.push(FieldError::invalid(
            &format!("{path}.pattern"),
            &Value::from(pattern.as_str()),
            &format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
    // A structural schema says what type each field and item is (unless it is
    // an int-or-string or keeps whatever it is given).
    let untyped = |sub: &Value| {
        sub.get("type").is_none()
            && sub.get("x-kubernetes-int-or-string") != Some(&Value::Bool(true))
            && sub.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
    };
    if let Some(Value::Object(properties)) = node.get("properties") {
        for (name, property) in properties {
            let at = format!("{path}.properties[{name}]");
            if untyped(property) {
                errors.push(FieldError::required_because(
                    &format!("{at}.type"),
                    "must not be empty for specified object fields",
                ));
            }
            check_schema_types(property, &at, errors);
        }
    }
    if let Some(items) = node.get("items").filter(|i| i.is_object())
        && untyped(items)
    {
        errors.push(FieldError::required_because(
            &format!("{path}.items.type"),
            "must not be empty for specified array items",
        ));
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = node.get(key) {
            check_schema_types(sub, &format!("{path}.{key}"), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "required": ["size"], "properties": {
                                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                "color": {"type": "string", "enum": ["red", "blue"]},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                            }},
                            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                        },
                    }},
                }],
            },
        })
    }

    #[test]
    fn schema_defaults_fill_absent_and_null_fields_at_every_depth() {
        let mut crd = crd();
        crd["metadata"]["name"] = json!("gizmos.defaults.example.com");
        crd["spec"]["group"] = json!("defaults.example.com");
        crd["spec"]["names"] = json!({"plural": "gizmos", "kind": "Gizmo"});
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"] = json!({
            "spec": {"type": "object", "default": {}, "properties": {
                "color": {"type": "string", "default": "red"},
                "size": {"type": "integer", "default": 1},
                "maybe": {"type": "string", "nullable": true, "default": "x"},
                "gone": {"type": "string"},
                "nested": {"type": "object", "default": {}, "properties": {
                    "inner": {"type": "string", "default": "deep"}}},
                "ports": {"type": "array", "items": {"type": "object", "properties": {
                    "protocol": {"type": "string", "default": "TCP"}}}},
                "byName": {"type": "object", "additionalProperties": {"type": "object",
                    "properties": {"weight": {"type": "integer", "default": 5}}}},
            }},
        });
        register(&crd).unwrap();
        let info = lookup("defaults.example.com", "v1", "Gizmo").unwrap().info;
        let mut obj = json!({"apiVersion": "defaults.example.com/v1", "kind": "Gizmo",
            "metadata": {"name": "g"},
            "spec": {"size": 3, "color": null, "maybe": null, "gone": null,
                     "ports": [{}, {"protocol": "UDP"}], "byName": {"a": {}}}});
        apply_defaults(info, &mut obj);
        assert_eq!(
            obj["spec"],
            json!({"size": 3, "color": "red", "maybe": null, "nested": {"inner": "deep"},
                   "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}],
                   "byName": {"a": {"weight": 5}}})
        );
        // An object with no spec gets the spec's default, itself defaulted.
        let mut empty = json!({"metadata": {"name": "e"}});
        apply_defaults(info, &mut empty);
        assert_eq!(empty["spec"]["nested"]["inner"], "deep", "{empty}");
        assert_eq!(empty["spec"]["color"], "red", "{empty}");
        unregister("gizmos.defaults.example.com");
    }

    #[test]
    fn crds_are_refused_for_what_kubernetes_refuses_them() {
        let mut bad = crd();
        bad["spec"]["conversion"] = json!({"strategy": "Webhook"});
        let spec = &mut bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
            ["properties"];
        spec["a"] = json!({"type": "string", "default": 5});
        spec["b"] = json!({"type": "integer", "maximum": 3, "default": 7});
        spec["c"] = json!({"type": "object", "properties": {"x": {"type": "string"}},
                           "additionalProperties": false});
        spec["d"] = json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true});
        spec["e"] =
            json!({"type": "array", "items": {"type": "object"}, "x-kubernetes-list-type": "map"});
        spec["f"] = json!({"type": "object", "required": ["x"], "default": {},
                           "properties": {"x": {"type": "string"}}});
        let mut errors = Vec::new();
        validate_crd(&bad, &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let at = "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties";
        assert_eq!(
            fields,
            [
                "spec.conversion.strategy".to_string(),
                format!("{at}[a].default"),
                format!("{at}[b].default"),
                format!("{at}[c].additionalProperties"),
                format!("{at}[d].uniqueItems"),
                format!("{at}[e].x-kubernetes-list-map-keys"),
                format!("{at}[f].default"),
            ]
        );
        assert!(
            errors[1].message.contains("must be of type string"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_crd_may_not_take_names_another_serves_and_rules_are_flagged() {
        let mut first = crd();
        first["metadata"]["name"] = json!("widgets.names.example.com");
        first["spec"]["group"] = json!("names.example.com");
        register(&first).unwrap();
        let mut same_kind = first.clone();
        same_kind["metadata"]["name"] = json!("widgets2.names.example.com");
        same_kind["spec"]["names"] = json!({"plural": "widgets2", "kind": "Widget"});
        assert_eq!(
            name_conflict(&same_kind),
            Some(("KindConflict", "\"Widget\" is already in use".to_string()))
        );
        assert!(register(&same_kind).is_err());
        let mut same_short = same_kind.clone();
        same_short["spec"]["names"] =
            json!({"plural": "gadgets", "kind": "Gadget", "shortNames": ["wd"]});
        assert_eq!(
            name_conflict(&same_short).map(|c| c.0),
            Some("ShortNamesConflict")
        );
        // Updating the first CRD itself is no conflict.
        assert_eq!(name_conflict(&first), None);
        unregister("widgets.names.example.com");

        assert_eq!(unenforced(&crd()), None);
        let mut ruled = crd();
        ruled["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] =
            json!([{"rule": "self.size > 1"}]);
        assert!(unenforced(&ruled).is_some_and(|w| w.contains("not enforced")));
    }

    #[test]
    fn versions_sort_in_kubernetes_priority() {
        let mut versions = vec![
            "v1alpha1",
            "foo",
            "v1beta2",
            "v2",
            "v1",
            "v11alpha2",
            "v1beta1",
            "bar",
        ];
        versions.sort_by_key(|v| version_priority(v));
        assert_eq!(
            versions,
            [
                "v2",
                "v1",
                "v1beta2",
                "v1beta1",
                "v11alpha2",
                "v1alpha1",
                "bar",
                "foo"
            ]
        );
    }

    #[test]
    fn structural_schemas_type_every_field_and_patterns_compile() {
        let mut bad = crd();
        let spec = &mut bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
            ["properties"];
        spec["untyped"] = json!({"properties": {"a": {"type": "string"}}});
        spec["either"] = json!({"x-kubernetes-int-or-string": true});
        spec["badPattern"] = json!({"type": "string", "pattern": "(["});
        let mut errors = Vec::new();
        validate_crd(&bad, &mut errors);
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with(
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[badPattern].pattern: Invalid value: \"([\": must be a valid regular expression"
        ), "{messages:?}");
        assert_eq!(
            messages[1],
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[untyped].type: Required value: must not be empty for specified object fields"
        );
    }

    #[test]
    fn crd_schemas_use_known_types_and_arrays_name_their_items() {
        let mut bad = crd();
        bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["n"] = json!({"type": "foo"});
        bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["list"] = json!({"type": "array"});
        let mut errors = Vec::new();
        validate_crd(&bad, &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items",
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[n].type",
            ]
        );
        let mut errors = Vec::new();
        validate_crd(&crd(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_crd_serves_its_kind_and_checks_objects_against_its_schema() {
        register(&crd()).unwrap();
        let c = lookup("example.com", "v1", "Widget").unwrap();
        assert!(c.info.namespaced && c.info.has_subresource(Subresource::Status));
        assert_eq!(c.info.short_names, ["wd"]);
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 3, "bogus": 1, "labels": {"a": "b"}, "free": {"any": {"thing": 1}}}, "junk": true});
        let decoded = (c.info.decode)(&obj).unwrap();
        assert!(decoded["spec"].get("bogus").is_none() && decoded.get("junk").is_none());
        assert_eq!(decoded["spec"]["free"]["any"]["thing"], 1);
        assert_eq!(decoded["spec"]["labels"]["a"], "b");
        assert!(validate(c.info, &decoded).is_empty());

        let bad = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 30, "color": "green", "labels": {"a": 1}}});
        let fields: Vec<String> = validate(c.info, &bad)
            .iter()
            .map(|e| e.field.clone())
            .collect();
        assert_eq!(fields, ["spec.color", "spec.labels.a", "spec.size"]);
        let missing = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}});
        assert_eq!(validate(c.info, &missing)[0].field, "spec.size");
        unregister("widgets.example.com");
        assert!(lookup("example.com", "v1", "Widget").is_none());
    }

    #[test]
    fn a_map_list_holds_each_key_once() {
        let schema = json!({"type": "array", "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["port", "protocol"],
                            "items": {"type": "object"}});
        let items = [
            json!({"port": 80, "protocol": "TCP"}),
            json!({"port": 80, "protocol": "UDP"}),
            json!({"port": 80, "protocol": "TCP", "name": "again"}),
        ];
        let mut errors = Vec::new();
        check(
            &schema,
            &Value::from(items.to_vec()),
            "spec.ports",
            &mut errors,
        );
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                r#"spec.ports[2]: Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}"#
            ]
        );
        assert_eq!(errors[0].kind.reason(), "FieldValueDuplicate");
    }

    #[test]
    fn crds_are_validated() {
        let mut errors = Vec::new();
        validate_crd(&crd(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let mut bad = crd();
        bad["metadata"]["name"] = json!("widgets");
        bad["spec"]["versions"][0]["storage"] = json!(false);
        validate_crd(&bad, &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["metadata.name", "spec.versions"]);
    }
}
