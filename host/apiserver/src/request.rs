//! What a request asks for: the resource its path names, its query options, the
//! representation it accepts, and its decoded body.

use std::collections::HashMap;

use serde_json::Value;
use wharf_api_types::projection::Projection;
use wharf_api_types::resources::{self, ResourceInfo, Subresource};
use wharf_api_types::selector::{FieldSelector, LabelSelector};

use crate::error::ApiError;

/// A request path resolved against the resource table.
#[derive(Debug, Clone)]
pub struct Target {
    pub info: &'static ResourceInfo,
    /// The namespace in the path, for namespaced kinds (`None`: all namespaces).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<Subresource>,
    /// Legacy `/api/v1/watch/...` form.
    pub watch_path: bool,
}

/// Resolves `/api/v1/...` or `/apis/{group}/{version}/...`; `None` when the path is not
/// under a served group/version at all. Each segment is percent-decoded, as Go's
/// server decodes the path Kubernetes routes on: clients escape names such as
/// `system:node` (`system%3Anode`, the Python client) or `with space`.
pub fn parse_target(path: &str) -> Result<Option<Target>, ApiError> {
    let decoded = path
        .trim_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ApiError::bad_request(format!("the path {path:?} is not UTF-8 once decoded"))
        })?;
    let segments: Vec<&str> = decoded.iter().map(|s| s.as_ref()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Ok(None),
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let (watch_path, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let not_found = || ApiError::not_found_path(path);
    let lookup = |plural: &str| resources::find(group, version, plural).ok_or_else(not_found);
    let sub = |info: &ResourceInfo, s: &str| {
        info.subresources
            .iter()
            .copied()
            .find(|x| x.name() == s)
            .ok_or_else(not_found)
    };
    let target = match rest {
        // namespaces/{name}/{status|finalize} is the namespace's own subresource.
        ["namespaces", name, s]
            if group.is_empty() && matches!(*s, "status" | "finalize") && !watch_path =>
        {
            let info = lookup("namespaces")?;
            Target {
                info,
                namespace: None,
                name: Some(name.to_string()),
                subresource: Some(sub(info, s)?),
                watch_path,
            }
        }
        ["namespaces", ns, plural, tail @ ..] => {
            let info = lookup(plural)?;
            if !info.namespaced {
                return Err(not_found());
            }
            let (name, subresource) = match tail {
                [] => (None, None),
                [name] => (Some(name.to_string()), None),
                [name, s] => (Some(name.to_string()), Some(sub(info, s)?)),
                _ => return Err(not_found()),
            };
            Target {
                info,
                namespace: Some(ns.to_string()),
                name,
                subresource,
                watch_path,
            }
        }
        [plural, tail @ ..] => {
            let info = lookup(plural)?;
            let (name, subresource) = match tail {
                [] => (None, None),
                [name] if !info.namespaced => (Some(name.to_string()), None),
                [name, s] if !info.namespaced => (Some(name.to_string()), Some(sub(info, s)?)),
                _ => return Err(not_found()),
            };
            Target {
                info,
                namespace: None,
                name,
                subresource,
                watch_path,
            }
        }
        [] => return Ok(None),
    };
    if target.name.as_deref() == Some("") {
        return Err(not_found());
    }
    Ok(Some(target))
}

/// The query string as a map; repeated keys keep the last value.
pub fn query_map(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k), percent_decode(v));
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How strictly unknown and duplicate fields are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

/// Options shared by list, watch and the write verbs.
#[derive(Debug, Clone)]
pub struct Options {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// What the selectors read of an object, to test stored JSON without decoding
    /// all of it (derived from them at parse; see [`Options::selects_json`]).
    projection: Projection,
    pub limit: usize,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub watch: bool,
    pub allow_bookmarks: bool,
    /// `sendInitialEvents`, when given: whether a watch starts with the current
    /// objects (by default it does exactly when no `resourceVersion` is given).
    pub send_initial_events: Option<bool>,
    pub timeout_seconds: Option<u64>,
    pub field_validation: FieldValidation,
    pub dry_run: bool,
    /// A `dryRun` other than `All`: refused by the verbs that take one (as their
    /// Create/Update/Patch/DeleteOptions), ignored by reads, as in Kubernetes.
    pub dry_run_unsupported: Option<String>,
    /// `DeleteOptions` given as query parameters (the body may override them).
    pub grace_period: Option<i64>,
    pub propagation_policy: Option<String>,
    /// The deprecated `orphanDependents` query parameter.
    pub orphan_dependents: Option<bool>,
    /// `fieldManager`: who a write is by, for managed fields.
    pub field_manager: Option<String>,
    /// `force`: an apply takes over the fields it conflicts on.
    pub force: Option<bool>,
    /// The client's `User-Agent`, which names the manager of a write that names
    /// none (set by the server, not parsed from the query).
    pub user_agent: Option<String>,
}

impl Options {
    /// Whether the selectors select `json`, a stored object, decoding only what
    /// they read.
    pub fn selects_json(&self, json: &[u8]) -> Result<bool, ApiError> {
        if self.projection.is_empty() {
            return Ok(true);
        }
        let sparse = self
            .projection
            .decode(json)
            .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
        Ok(self.labels.matches(&sparse) && self.fields.matches(&sparse))
    }

    /// Narrows the selectors to the object called `name`, as a watch on one object
    /// (`…/pods/NAME?watch=true`) is a watch on its collection with
    /// `fieldSelector=metadata.name=NAME`. The projection is derived again, so the
    /// stored JSON is tested for the name too.
    pub fn narrow_to_name(&mut self, name: &str) {
        self.fields
            .requirements
            .push(wharf_api_types::selector::FieldRequirement {
                field: "metadata.name".into(),
                value: name.to_string(),
                negated: false,
            });
        self.projection = Projection::for_selectors(&self.labels, &self.fields);
    }

    pub fn parse(q: &HashMap<String, String>, info: &ResourceInfo) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        for r in &fields.requirements {
            if !info.supports_field_label(&r.field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {}",
                    r.field
                )));
            }
        }
        // Flags are "true" or "1"; a bare `?watch` also means watch.
        let flag = |name: &str| {
            q.get(name)
                .is_some_and(|v| v == "true" || v == "1" || (name == "watch" && v.is_empty()))
        };
        // A flag whose absence means something of its own: true, false or not given.
        let given_flag = |name: &str| -> Result<Option<bool>, ApiError> {
            match q.get(name).map(String::as_str) {
                None | Some("") => Ok(None),
                Some("true" | "1") => Ok(Some(true)),
                Some("false" | "0") => Ok(Some(false)),
                Some(other) => Err(ApiError::bad_request(format!(
                    "invalid value for {name}: {other:?}"
                ))),
            }
        };
        let number = |name: &str| -> Result<Option<u64>, ApiError> {
            match q.get(name).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .parse::<i64>()
                    .map(|n| Some(n.max(0) as u64))
                    .map_err(|_| ApiError::bad_request(format!("invalid value for {name}: {v:?}"))),
            }
        };
        let field_validation = match q.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation must be one of Ignore, Warn or Strict, got {other:?}"
                )));
            }
        };
        let (dry_run, dry_run_unsupported) = match q.get("dryRun").map(String::as_str) {
            None | Some("") => (false, None),
            Some("All") => (true, None),
            Some(other) => (false, Some(other.to_string())),
        };
        Ok(Self {
            projection: Projection::for_selectors(&labels, &fields),
            labels,
            fields,
            limit: number("limit")?.unwrap_or(0) as usize,
            continue_token: q.get("continue").filter(|v| !v.is_empty()).cloned(),
            resource_version: q.get("resourceVersion").filter(|v| !v.is_empty()).cloned(),
            resource_version_match: q
                .get("resourceVersionMatch")
                .filter(|v| !v.is_empty())
                .cloned(),
            watch: flag("watch"),
            allow_bookmarks: flag("allowWatchBookmarks"),
            send_initial_events: given_flag("sendInitialEvents")?,
            timeout_seconds: number("timeoutSeconds")?,
            field_validation,
            dry_run,
            dry_run_unsupported,
            grace_period: match q.get("gracePeriodSeconds").filter(|v| !v.is_empty()) {
                None => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid value for gracePeriodSeconds: {v:?}"))
                })?),
            },
            propagation_policy: q
                .get("propagationPolicy")
                .filter(|v| !v.is_empty())
                .cloned(),
            orphan_dependents: given_flag("orphanDependents")?,
            field_manager: q.get("fieldManager").filter(|v| !v.is_empty()).cloned(),
            force: given_flag("force")?,
            user_agent: None,
        })
    }

    /// Who a write is by, as Kubernetes names the manager: `fieldManager`, else
    /// the client's `User-Agent` up to its first `/` (`kubectl`, `Go-http-client`).
    pub fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .or_else(|| {
                self.user_agent
                    .as_deref()
                    .and_then(|ua| ua.split('/').next())
                    .filter(|m| !m.is_empty())
            })
            .unwrap_or("unknown")
    }

    /// The watch-option combinations Kubernetes refuses (its `ValidateListOptions`
    /// for a watch): `resourceVersionMatch` only with `sendInitialEvents`, which
    /// in turn wants `NotOlderThan` and no continue token.
    pub fn check_watch_semantics(&self) -> Result<(), ApiError> {
        let forbidden = |field: &str, why: &str| {
            Err(ApiError::bad_request(format!("{field}: Forbidden: {why}")))
        };
        match (
            self.send_initial_events,
            self.resource_version_match.as_deref(),
        ) {
            (None, Some(_)) => forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ),
            (Some(_), m) if m != Some("NotOlderThan") => forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ),
            (Some(_), _) if self.continue_token.is_some() => forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden with continue",
            ),
            _ => Ok(()),
        }
    }

    /// The list-option combinations Kubernetes refuses (its `ValidateListOptions`).
    pub fn check_list_semantics(&self) -> Result<(), ApiError> {
        if self.send_initial_events.is_some() {
            return Err(ApiError::bad_request(
                "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
            ));
        }
        match self.resource_version_match.as_deref() {
            None => {}
            Some("Exact" | "NotOlderThan") if self.resource_version.is_none() => {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            Some("Exact") if self.resource_version.as_deref() == Some("0") => {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            Some(_) if self.continue_token.is_some() => {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            Some("Exact" | "NotOlderThan") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
                )));
            }
        }
        if self.continue_token.is_some()
            && self.resource_version.as_deref().is_some_and(|rv| rv != "0")
        {
            return Err(ApiError::bad_request(
                "resourceVersion: Forbidden: specifying resource version is not allowed when using continue",
            ));
        }
        Ok(())
    }

    /// `resourceVersion` as a revision; `None` for unset or "0" (any version).
    pub fn revision(&self) -> Result<Option<u64>, ApiError> {
        match self.resource_version.as_deref() {
            None | Some("0") => Ok(None),
            Some(rv) => rv
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}"))),
        }
    }
}

/// The representation a client accepts, from its `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    Yaml,
    Table {
        include_object: IncludeObject,
    },
    /// `PartialObjectMetadata(List)`: metadata only.
    Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

pub fn negotiate(
    accept: Option<&str>,
    q: &HashMap<String, String>,
) -> Result<Representation, ApiError> {
    let accept = accept.unwrap_or("application/json");
    for part in accept.split(',') {
        let mut params = part.split(';').map(str::trim);
        let media = params.next().unwrap_or("").to_ascii_lowercase();
        let params: HashMap<&str, &str> = params.filter_map(|p| p.split_once('=')).collect();
        let json_like = matches!(media.as_str(), "application/json" | "*/*" | "application/*");
        if json_like && let Some(r#as) = params.get("as") {
            if params.get("g") != Some(&"meta.k8s.io") {
                continue;
            }
            match *r#as {
                "Table" => {
                    let include_object = match q.get("includeObject").map(String::as_str) {
                        Some("None") => IncludeObject::None,
                        Some("Object") => IncludeObject::Object,
                        _ => IncludeObject::Metadata,
                    };
                    return Ok(Representation::Table { include_object });
                }
                "PartialObjectMetadata" | "PartialObjectMetadataList" => {
                    return Ok(Representation::Metadata);
                }
                _ => continue,
            }
        }
        match media.as_str() {
            "application/json" | "*/*" | "application/*" | "" => return Ok(Representation::Json),
            "application/yaml" => return Ok(Representation::Yaml),
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable(accept))
}

/// Largest request body accepted (as Kubernetes: 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Parses a request body as JSON, YAML or Kubernetes protobuf (by `Content-Type`). Returns the value and
/// the paths of keys that occurred twice in one object (later occurrences win).
/// The media type of a `Content-Type`, lower-cased and without parameters; JSON
/// when there is none.
fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a body of this `Content-Type` is read as JSON.
pub fn is_json(content_type: Option<&str>) -> bool {
    matches!(
        media_type(content_type).as_str(),
        "application/json" | "" | "*/*"
    )
}

pub fn parse_body(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Value, Vec<String>), ApiError> {
    match media_type(content_type).as_str() {
        "application/json" | "" | "*/*" => crate::decode::json_with_duplicates(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON body: {e}"))),
        crate::protobuf::MEDIA_TYPE => crate::protobuf::decode(body)
            .map(|v| (v, Vec::new()))
            .map_err(|e| ApiError::bad_request(format!("error decoding protobuf body: {e}"))),
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            let value: Value = serde_yaml_ng::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML body: {e}")))?;
            // JSON bodies stop at serde_json's recursion limit; YAML's goes deeper,
            // and an object stored deeper than JSON can be read back would be
            // stuck (neither readable nor deletable).
            if nesting(&value) > MAX_YAML_DEPTH {
                return Err(ApiError::bad_request(format!(
                    "error decoding YAML body: nested more than {MAX_YAML_DEPTH} levels deep"
                )));
            }
            Ok((value, Vec::new()))
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// The deepest a YAML body may nest: well inside the 128 levels at which the
/// stored JSON could no longer be parsed.
const MAX_YAML_DEPTH: usize = 100;

/// How deep `value` nests (a scalar: 0), counted without recursion.
fn nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_bodies_nest_no_deeper_than_json_reads_back() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_body(Some("application/yaml"), deep(100).as_bytes()).is_ok());
        let err = parse_body(Some("application/yaml"), deep(101).as_bytes()).unwrap_err();
        assert_eq!(err.code, 400, "{}", err.message);
    }

    #[test]
    fn paths_resolve_like_kubernetes() {
        let t = parse_target("/api/v1/namespaces/default/pods/p1/status")
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.info.kind, t.namespace.as_deref(), t.name.as_deref()),
            ("Pod", Some("default"), Some("p1"))
        );
        assert_eq!(t.subresource, Some(Subresource::Status));
        let t = parse_target("/api/v1/namespaces/kube-system/status")
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.info.kind, t.name.as_deref()),
            ("Namespace", Some("kube-system"))
        );
        let t = parse_target("/api/v1/namespaces/kube-system")
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.info.kind, t.name.as_deref()),
            ("Namespace", Some("kube-system"))
        );
        let t = parse_target("/apis/apps/v1/deployments").unwrap().unwrap();
        assert_eq!(
            (t.info.kind, t.namespace, t.name),
            ("Deployment", None, None)
        );
        let t = parse_target("/api/v1/watch/namespaces/ns/pods")
            .unwrap()
            .unwrap();
        assert!(t.watch_path);
        assert!(
            parse_target("/api/v1/namespaces/default/nodes").is_err(),
            "nodes are cluster-scoped"
        );
        assert!(
            parse_target("/api/v1/pods/p1").is_err(),
            "pods need a namespace"
        );
        assert!(parse_target("/api/v1/bogus").is_err());
        assert!(parse_target("/api/v1/namespaces/d/pods/p/nope").is_err());
        assert!(parse_target("/version").unwrap().is_none());
    }

    #[test]
    fn accept_negotiation() {
        let q = HashMap::new();
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert!(matches!(
            negotiate(Some(kubectl_get), &q),
            Ok(Representation::Table { .. })
        ));
        assert_eq!(negotiate(None, &q).unwrap(), Representation::Json);
        assert_eq!(
            negotiate(
                Some("application/vnd.kubernetes.protobuf,application/json"),
                &q
            )
            .unwrap(),
            Representation::Json
        );
        assert!(negotiate(Some("text/html"), &q).is_err());
    }

    #[test]
    fn query_strings_decode() {
        let q = query_map(Some(
            "labelSelector=app%3Dweb%2Ctier+in+%28a%29&limit=5&watch",
        ));
        assert_eq!(q["labelSelector"], "app=web,tier in (a)");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["watch"], "");
        assert_eq!(query_map(Some("x=%zz&y=%4"))["x"], "%zz");
    }
}
