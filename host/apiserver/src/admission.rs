//! The write pipeline every create and update goes through before it reaches the
//! store: decode (strictly, if asked), server-managed metadata, the spec/status
//! split, defaulting, immutability and validation.
//!
//! Everything here is pure: a request that fails any step writes nothing.

use base64::Engine;
use serde_json::{Map, Value};
use wharf_api_types::resources::{ResourceInfo, Subresource};
use wharf_api_types::validation::FieldError;
use wharf_api_types::{defaults, meta, validation};

use crate::decode;
use crate::error::ApiError;
use crate::request::FieldValidation;

/// Decodes a request body of `content_type` as an object of `info`'s kind (see
/// [`decode_body`]). A JSON body that decodes cleanly, with no field unknown or
/// repeated, goes straight into the kind's type; anything else takes the path that
/// finds and reports what is wrong.
pub fn decode_request(
    info: &ResourceInfo,
    content_type: Option<&str>,
    body: &[u8],
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    if crate::request::is_json(content_type)
        && let Some(fast) = info.decode_json
        && let Some(decoded) = fast(body)
        && !decode::has_duplicate_keys(body)
    {
        let mut decoded = decoded;
        wharf_api_types::canonical::apply(info, &mut decoded);
        let notes = unenforced(info, &decoded).into_iter().collect();
        return Ok((decoded, notes));
    }
    let (value, duplicates) = crate::request::parse_body(content_type, body)?;
    decode_body(info, value, duplicates, validation)
}

/// Checks that a request body is an object of `kind` in `api_version`, filling in
/// whichever of the two the client left out, as Kubernetes does.
pub fn settle_type(body: &mut Value, api_version: &str, kind: &str) -> Result<(), ApiError> {
    let Some(map) = body.as_object_mut() else {
        return Err(ApiError::bad_request(format!(
            "the body of the request must be a JSON object of kind {kind}"
        )));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::from(api_version));
        }
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::from(kind));
        }
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {kind}): kind {k:?} in the data"
            )));
        }
    }
    Ok(())
}

/// Decodes a request body as an object of `info`'s kind. Returns the canonical object
/// (unknown fields dropped) and warnings for what `Warn` validation noticed.
pub fn decode_body(
    info: &ResourceInfo,
    mut body: Value,
    duplicates: Vec<String>,
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    settle_type(&mut body, &info.api_version(), info.kind)?;
    let mut decoded = (info.decode)(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
            kind = info.kind,
            version = info.version,
        ))
    })?;
    let mut problems: Vec<String> = decode::unknown_fields(&body, &decoded)
        .into_iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    problems.extend(
        duplicates
            .into_iter()
            .map(|f| format!("duplicate field \"{f}\"")),
    );
    // After the comparison with the body: what canonical form leaves out is not
    // unknown to the kind.
    wharf_api_types::canonical::apply(info, &mut decoded);
    let mut warnings = match validation {
        FieldValidation::Strict if !problems.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
                problems.join(", "),
                kind = info.kind,
                version = info.version,
            )));
        }
        FieldValidation::Warn => problems,
        _ => Vec::new(),
    };
    warnings.extend(unenforced(info, &decoded));
    Ok((decoded, warnings))
}

/// A warning for a CRD whose schema asks for what is not enforced.
fn unenforced(info: &ResourceInfo, decoded: &Value) -> Option<String> {
    (info.group == wharf_api_types::custom::CRD_GROUP && info.kind == "CustomResourceDefinition")
        .then(|| wharf_api_types::custom::unenforced(decoded))
        .flatten()
}

/// Kinds whose client-supplied status is discarded on create (the system owns it).
fn resets_status_on_create(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("", "Pod")
            | ("", "Service")
            | ("apps", "Deployment")
            | ("apps", "ReplicaSet")
            | ("", "Namespace")
            | ("networking.k8s.io", "Ingress")
            | ("policy", "PodDisruptionBudget")
    )
}

/// Checks the object's namespace against the request's and sets it.
fn settle_namespace(
    info: &ResourceInfo,
    url_namespace: Option<&str>,
    obj: &mut Value,
) -> Result<(), ApiError> {
    let body_ns = meta::namespace(obj).map(str::to_string);
    if info.namespaced {
        let url_ns = url_namespace.unwrap_or_default();
        if let Some(ns) = body_ns
            && ns != url_ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta::set(obj, "namespace", url_ns);
    } else {
        meta::metadata_mut(obj).remove("namespace");
    }
    Ok(())
}

/// Prepares a new object for storage. `url_namespace` is the namespace in the path.
pub fn prepare_create(
    info: &ResourceInfo,
    url_namespace: Option<&str>,
    mut obj: Value,
) -> Result<Value, ApiError> {
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), Value::from(info.api_version()));
        map.insert("kind".into(), Value::from(info.kind));
    }
    settle_namespace(info, url_namespace, &mut obj)?;
    let generated = {
        let m = meta::metadata_mut(&mut obj);
        let has_name = m
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let prefix = m
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !has_name && !prefix.is_empty() {
            Some(meta::generate_name(&prefix))
        } else {
            None
        }
    };
    {
        let m = meta::metadata_mut(&mut obj);
        if let Some(name) = generated {
            m.insert("name".into(), Value::from(name));
        }
        for server_owned in [
            "resourceVersion",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
        ] {
            m.remove(server_owned);
        }
        m.insert("uid".into(), Value::from(meta::new_uid()));
        m.insert("creationTimestamp".into(), Value::from(meta::now_rfc3339()));
        if info.tracks_generation {
            m.insert("generation".into(), Value::from(1));
        } else {
            m.remove("generation");
        }
    }
    if resets_status_on_create(info)
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    normalize(info, &mut obj);
    defaults::apply(info, &mut obj);
    if (info.group, info.kind) == ("", "Pod") {
        defaults::admit_new_pod(&mut obj);
    }
    if (info.group, info.kind) == ("", "Node") {
        stamp_no_execute_taints(&mut obj, None);
    }
    if info.kind == "Namespace" {
        // Every namespace starts with the `kubernetes` finalizer, whatever the client
        // sent: it is what makes deletion empty the namespace before it goes.
        let spec = obj
            .as_object_mut()
            .map(|m| m.entry("spec").or_insert_with(|| Value::Object(Map::new())));
        if let Some(spec) = spec.and_then(Value::as_object_mut) {
            let finalizers = spec
                .entry("finalizers")
                .or_insert_with(|| Value::Array(Vec::new()));
            if !finalizers.is_array() {
                *finalizers = Value::Array(Vec::new());
            }
            if let Some(list) = finalizers.as_array_mut()
                && !list.iter().any(|f| f == "kubernetes")
            {
                list.push(Value::from("kubernetes"));
            }
        }
    }
    check(info, &obj, &[])?;
    crd_status(info, &mut obj);
    Ok(obj)
}

/// Prepares an update of `old` (the stored object) with `new` (the client's object),
/// through the main resource or a subresource.
/// A body sent to an object's URL names that object (or, left unnamed, is given
/// its name).
pub fn check_url_name(new: &mut Value, url_name: &str) -> Result<(), ApiError> {
    match meta::name(new) {
        Some(n) if n == url_name => Ok(()),
        None => {
            meta::set(new, "name", url_name);
            Ok(())
        }
        Some(n) => Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({url_name})"
        ))),
    }
}

pub fn prepare_update(
    info: &ResourceInfo,
    url_namespace: Option<&str>,
    url_name: &str,
    mut new: Value,
    old: &Value,
    subresource: Option<Subresource>,
) -> Result<Value, ApiError> {
    settle_namespace(info, url_namespace, &mut new)?;
    check_url_name(&mut new, url_name)?;
    // What the client may not change through this endpoint comes from the old object.
    let mut obj = match subresource {
        Some(Subresource::Status) => {
            let mut obj = old.clone();
            let status = new.as_object_mut().and_then(|m| m.remove("status"));
            set_field(&mut obj, "status", status);
            // As Kubernetes' status strategies: a built-in kind's labels,
            // annotations and finalizers may change through its status too (but
            // a Deployment's or ReplicaSet's labels may not); a custom
            // resource's status endpoint changes nothing but the status.
            if !wharf_api_types::custom::is_custom(info) {
                let keep_labels = info.group == "apps";
                let new_meta = new.get("metadata").and_then(Value::as_object).cloned();
                let m = meta::metadata_mut(&mut obj);
                for field in ["labels", "annotations", "finalizers"] {
                    if field == "labels" && keep_labels {
                        continue;
                    }
                    match new_meta.as_ref().and_then(|n| n.get(field)) {
                        Some(v) => m.insert(field.into(), v.clone()),
                        None => m.remove(field),
                    };
                }
            }
            obj
        }
        Some(Subresource::Finalize) => {
            let mut obj = old.clone();
            let finalizers = new.pointer("/spec/finalizers").cloned();
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                match finalizers {
                    Some(f) => spec.insert("finalizers".into(), f),
                    None => spec.remove("finalizers"),
                };
            }
            obj
        }
        _ => {
            if info.has_subresource(Subresource::Status) {
                set_field(&mut new, "status", old.get("status").cloned());
            }
            if info.kind == "Namespace" {
                // Only `finalize` changes a namespace's finalizers.
                let old_finalizers = old.pointer("/spec/finalizers").cloned();
                if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                    match old_finalizers {
                        Some(f) => spec.insert("finalizers".into(), f),
                        None => spec.remove("finalizers"),
                    };
                } else if let (Some(map), Some(f)) = (new.as_object_mut(), old_finalizers) {
                    map.insert("spec".into(), serde_json::json!({"finalizers": f}));
                }
            }
            if info.kind == "Service" {
                settle_service_update(&mut new, old);
            }
            if (info.group, info.kind) == ("", "Node") {
                stamp_no_execute_taints(&mut new, Some(old));
            }
            if (info.group, info.kind) == ("", "Pod") {
                crate::priority::keep_on_update(&mut new, old);
                crate::tolerations::keep_on_update(&mut new, old);
            }
            new
        }
    };
    if meta::is_deleting(old) {
        let before = meta::finalizers(old);
        let added: Vec<String> = meta::finalizers(&obj)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
            return Err(ApiError::invalid(
                info,
                url_name,
                &[FieldError::forbidden(
                    "metadata.finalizers",
                    &format!(
                        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                        quoted.join(", ")
                    ),
                )],
            ));
        }
    }
    {
        let old_meta = old.get("metadata").and_then(Value::as_object);
        let m = meta::metadata_mut(&mut obj);
        // Managed fields are kept through a write that leaves them out (the API
        // server then records the write in them, see `write.rs`); a write that
        // sets them replaces them, as in Kubernetes (how kubectl hands
        // client-side apply's fields over to server-side apply).
        let sets_managed = m
            .get("managedFields")
            .and_then(Value::as_array)
            .is_some_and(|entries| !entries.is_empty());
        if !sets_managed {
            match old_meta.and_then(|old| old.get("managedFields")) {
                Some(v) => m.insert("managedFields".into(), v.clone()),
                None => m.remove("managedFields"),
            };
        }
        for immutable in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match old_meta.and_then(|old| old.get(immutable)) {
                Some(v) => m.insert(immutable.into(), v.clone()),
                None => m.remove(immutable),
            };
        }
        m.remove("selfLink");
    }
    if matches!(subresource, Some(Subresource::Status)) {
        // Everything but the status is the stored object's, defaulted and checked
        // when it was written, so only the status is admitted, as Kubernetes' status
        // strategies admit it: no spec defaulting, generation or immutability to
        // redo. The built-in kinds' checks read no status field; a custom kind's
        // schema may.
        defaults::apply_to_status(info, &mut obj, old);
        if wharf_api_types::custom::is_custom(info) {
            check_update(info, &obj, old, &[])?;
        }
        return Ok(obj);
    }
    normalize(info, &mut obj);
    defaults::apply(info, &mut obj);
    if info.tracks_generation && generation_changes(info, &obj, old) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta::set(&mut obj, "generation", generation + 1);
    }
    let forbidden = immutability(info, &obj, old);
    check_update(info, &obj, old, &forbidden)?;
    if subresource.is_none() {
        crd_status(info, &mut obj);
    }
    Ok(obj)
}

/// Whether an update is a new generation, as Kubernetes' strategies decide: a
/// change of the spec, or of a Deployment's annotations (they are copied to its
/// ReplicaSets; its controller writes its own through the status endpoint); for a
/// custom resource, a change of anything but its metadata (and its status, when
/// that is a subresource).
fn generation_changes(info: &ResourceInfo, new: &Value, old: &Value) -> bool {
    // No annotations and an empty map are the same (Kubernetes' semantic equality).
    fn annotations(v: &Value) -> Option<&serde_json::Map<String, Value>> {
        v.pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
    }
    if (info.group, info.kind) == ("apps", "Deployment") && annotations(new) != annotations(old) {
        return true;
    }
    if wharf_api_types::custom::is_custom(info) {
        let content = |v: &Value| {
            let mut map = v.as_object().cloned().unwrap_or_default();
            map.remove("metadata");
            if info.has_subresource(Subresource::Status) {
                map.remove("status");
            }
            map
        };
        return content(new) != content(old);
    }
    new.get("spec") != old.get("spec")
}

/// A valid CustomResourceDefinition is served as soon as it is stored, so its
/// status says so at once (`kubectl wait --for condition=established` reads it).
fn crd_status(info: &ResourceInfo, obj: &mut Value) {
    if info.group != wharf_api_types::custom::CRD_GROUP || info.kind != "CustomResourceDefinition" {
        return;
    }
    let now = meta::now_rfc3339();
    let names = obj.pointer("/spec/names").cloned().unwrap_or(Value::Null);
    let stored: Vec<Value> = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage") == Some(&Value::Bool(true)))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    // Every version objects were ever stored at stays listed (it is how an
    // operator knows what a migration must still rewrite).
    let mut stored_versions: Vec<Value> = obj
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for version in stored {
        if !stored_versions.contains(&version) {
            stored_versions.push(version);
        }
    }
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        serde_json::json!({"type": type_, "status": status, "reason": reason,
                           "message": message, "lastTransitionTime": now})
    };
    let (accepted, conditions) = match wharf_api_types::custom::name_conflict(obj) {
        None => (
            names,
            [
                condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
                condition(
                    "Established",
                    "True",
                    "InitialNamesAccepted",
                    "the initial names have been accepted",
                ),
            ],
        ),
        Some((reason, message)) => (
            serde_json::json!({}),
            [
                condition("NamesAccepted", "False", reason, &message),
                condition(
                    "Established",
                    "False",
                    "NotAccepted",
                    "not all names are accepted",
                ),
            ],
        ),
    };
    set_field(
        obj,
        "status",
        Some(serde_json::json!({
            "acceptedNames": accepted,
            "storedVersions": stored_versions,
            "conditions": conditions,
        })),
    );
}

/// Gives each NoExecute taint of a node the time it was added, when its writer
/// (`kubectl taint`, say) left it out: the one the stored node has for the same
/// taint, else now. Pods tolerating the taint for a while are evicted that long
/// after it; without a fixed start, the node lifecycle controller's deadline would
/// move with every pass (Kubernetes' taint manager keeps that start in memory).
fn stamp_no_execute_taints(node: &mut Value, old: Option<&Value>) {
    let same = |a: &Value, b: &Value| {
        ["key", "value", "effect"]
            .iter()
            .all(|f| a.get(*f) == b.get(*f))
    };
    let old_taints: Vec<Value> = old
        .and_then(|o| o.pointer("/spec/taints"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(taints) = node
        .pointer_mut("/spec/taints")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let now = meta::now_rfc3339();
    for taint in taints.iter_mut().filter(|t| t["effect"] == "NoExecute") {
        let Some(map) = taint.as_object_mut() else {
            continue;
        };
        if map.get("timeAdded").is_some_and(|t| !t.is_null()) {
            continue;
        }
        let kept = old_taints
            .iter()
            .find(|o| same(o, &Value::Object(map.clone())))
            .and_then(|o| o.get("timeAdded"))
            .filter(|t| !t.is_null())
            .cloned();
        map.insert(
            "timeAdded".into(),
            kept.unwrap_or_else(|| Value::from(now.clone())),
        );
    }
}

/// A Service update that leaves out what was allocated keeps it, as Kubernetes does
/// (`kubectl replace` of the original manifest must not give the address, node
/// ports or health-check node port back); node ports go when the type no longer
/// has them, and so do the fields only such a type has, unless the update itself
/// set them (then validation refuses them), as Kubernetes' `dropTypeDependentFields`
/// does.
fn settle_service_update(new: &mut Value, old: &Value) {
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    let old_spec = old
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let missing = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v == "" || v == 0);
    let health_check = defaults::needs_health_check_node_port(spec);
    if health_check
        && defaults::needs_health_check_node_port(&old_spec)
        && missing(spec.get("healthCheckNodePort"))
        && let Some(port) = old_spec.get("healthCheckNodePort")
    {
        spec.insert("healthCheckNodePort".into(), port.clone());
    }
    let type_dependent = [
        (
            "externalTrafficPolicy",
            defaults::externally_accessible(spec),
        ),
        ("allocateLoadBalancerNodePorts", ty == "LoadBalancer"),
        ("healthCheckNodePort", health_check),
    ];
    for (field, has_it) in type_dependent {
        if !has_it && spec.get(field) == old_spec.get(field) {
            spec.remove(field);
        }
    }
    // An ExternalName has no address: one carried over from the old type (as a
    // patch of the type alone carries it) goes, with its families.
    let old_type = old_spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if ty == "ExternalName" && old_type != "ExternalName" {
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            if spec.get(field) == old_spec.get(field) {
                spec.remove(field);
            }
        }
    }
    if ty != "ExternalName" && missing(spec.get("clusterIP")) {
        for field in ["clusterIP", "clusterIPs"] {
            if let Some(v) = old.pointer(&format!("/spec/{field}")) {
                spec.insert(field.into(), v.clone());
            }
        }
    }
    let old_ports: Vec<Value> = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let node_ports = |ports: Option<&Value>| -> std::collections::BTreeSet<i64> {
        ports
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            .collect()
    };
    // Node ports left out are kept only while the Service allocated them and
    // still does; a LoadBalancer that stops allocating them gives back those it
    // was given, unless the update chose some itself.
    let allocates = defaults::needs_node_ports(spec);
    let allocated_before = defaults::needs_node_ports(&old_spec);
    let drop_node_ports = !allocates
        && (ty != "LoadBalancer"
            || node_ports(spec.get("ports")) == node_ports(old_spec.get("ports")));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            if !drop_node_ports {
                if allocates && allocated_before && missing(port.get("nodePort")) {
                    let same = old_ports.iter().find(|p| {
                        p.get("port") == port.get("port")
                            && p.get("protocol").unwrap_or(&Value::from("TCP"))
                                == port.get("protocol").unwrap_or(&Value::from("TCP"))
                    });
                    if let Some(np) = same.and_then(|p| p.get("nodePort")) {
                        port.insert("nodePort".into(), np.clone());
                    }
                }
            } else {
                port.remove("nodePort");
            }
        }
    }
}

fn set_field(obj: &mut Value, field: &str, value: Option<Value>) {
    if let Some(map) = obj.as_object_mut() {
        match value {
            Some(v) => map.insert(field.into(), v),
            None => map.remove(field),
        };
    }
}

/// Kind-specific rewrites of what clients send (Secrets' `stringData`).
fn normalize(info: &ResourceInfo, obj: &mut Value) {
    if (info.group, info.kind) == ("", "Secret")
        && let Some(map) = obj.as_object_mut()
        && let Some(Value::Object(string_data)) = map.remove("stringData")
    {
        let data = map
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (k, v) in string_data {
                let text = v.as_str().unwrap_or_default();
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                data.insert(k, Value::from(encoded));
            }
        }
    }
}

/// Fields an update may not change.
fn immutability(info: &ResourceInfo, new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match (info.group, info.kind) {
        ("", "Pod") => {
            let strip = |spec: Option<&Value>| {
                let mut spec = spec.cloned().unwrap_or(Value::Null);
                if let Some(map) = spec.as_object_mut() {
                    // Checked on their own below, with the changes each allows.
                    for mutable in [
                        "activeDeadlineSeconds",
                        "tolerations",
                        "terminationGracePeriodSeconds",
                        "schedulingGates",
                    ] {
                        map.remove(mutable);
                    }
                    for field in ["containers", "initContainers"] {
                        if let Some(Value::Array(cs)) = map.get_mut(field) {
                            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                                c.remove("image");
                            }
                        }
                    }
                }
                spec
            };
            let field = |v: &Value, name: &str| v.pointer(&format!("/spec/{name}")).cloned();
            let list = |v: &Value, name: &str| match field(v, name) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            // Tolerations may only be added; the grace period may only go from
            // negative to 1.
            let new_tolerations = list(new, "tolerations");
            let tolerations_kept = list(old, "tolerations")
                .iter()
                .all(|t| new_tolerations.contains(t));
            let grace =
                |v: &Value| field(v, "terminationGracePeriodSeconds").and_then(|g| g.as_i64());
            let grace_ok = grace(new) == grace(old)
                || (grace(old).is_some_and(|g| g < 0) && grace(new) == Some(1));
            if strip(new.get("spec")) != strip(old.get("spec")) || !tolerations_kept || !grace_ok {
                errors.push(FieldError::forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
                ));
            }
            // An active deadline may be set or shortened, not lengthened or removed.
            let deadline = |v: &Value| field(v, "activeDeadlineSeconds").and_then(|d| d.as_i64());
            match (deadline(old), deadline(new)) {
                (Some(_), None) => errors.push(FieldError::invalid(
                    "spec.activeDeadlineSeconds",
                    &Value::String("null".into()),
                    "must not update from a positive integer to nil value",
                )),
                (Some(was), Some(now)) if now > was => errors.push(FieldError::invalid(
                    "spec.activeDeadlineSeconds",
                    &Value::from(now),
                    "must be less than or equal to previous value",
                )),
                _ => {}
            }
            // Scheduling gates may only be removed (what lets a gated pod be
            // scheduled), never added after creation.
            let old_gates = list(old, "schedulingGates");
            for gate in list(new, "schedulingGates") {
                if !old_gates.contains(&gate) {
                    let name = gate.get("name").and_then(Value::as_str).unwrap_or_default();
                    errors.push(FieldError::forbidden(
                        "spec.schedulingGates",
                        &format!(
                            "only deletion is allowed, but found new scheduling gate '{name}'"
                        ),
                    ));
                }
            }
        }
        ("apps", "Deployment") | ("apps", "ReplicaSet")
            if new.pointer("/spec/selector") != old.pointer("/spec/selector") =>
        {
            errors.push(FieldError::invalid(
                "spec.selector",
                new.pointer("/spec/selector").unwrap_or(&Value::Null),
                "field is immutable",
            ));
        }
        (wharf_api_types::custom::CRD_GROUP, "CustomResourceDefinition")
            if new.pointer("/spec/scope") != old.pointer("/spec/scope") =>
        {
            // Objects are stored by scope: changing it would strand them.
            errors.push(FieldError::invalid(
                "spec.scope",
                new.pointer("/spec/scope").unwrap_or(&Value::Null),
                "field is immutable",
            ));
        }
        (wharf_api_types::plugin::GROUP, "Plugin")
            if new.pointer("/spec/kind") != old.pointer("/spec/kind") =>
        {
            // A scheduling policy cannot become a controller, or the other way
            // round: what runs it (and any built-in of that name) is of one kind.
            errors.push(FieldError::invalid(
                "spec.kind",
                new.pointer("/spec/kind").unwrap_or(&Value::Null),
                "field is immutable",
            ));
        }
        (wharf_api_types::networking::GROUP, "IngressClass") => {
            wharf_api_types::networking::check_ingress_class_update(new, old, &mut errors)
        }
        (wharf_api_types::rbac::GROUP, "RoleBinding" | "ClusterRoleBinding") => {
            wharf_api_types::rbac::check_binding_update(new, old, &mut errors)
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            if new.get("value") != old.get("value") {
                errors.push(FieldError::forbidden(
                    "value",
                    "may not be changed in an update.",
                ));
            }
            if new.get("preemptionPolicy") != old.get("preemptionPolicy") {
                errors.push(FieldError::invalid(
                    "preemptionPolicy",
                    new.get("preemptionPolicy").unwrap_or(&Value::Null),
                    "field is immutable",
                ));
            }
        }
        ("", "Secret") | ("", "ConfigMap") => {
            if info.kind == "Secret" && new.get("type") != old.get("type") {
                errors.push(FieldError::invalid(
                    "type",
                    new.get("type").unwrap_or(&Value::Null),
                    "field is immutable",
                ));
            }
            // `immutable: true` freezes the contents, and itself.
            if old.get("immutable") == Some(&Value::Bool(true)) {
                const WHY: &str = "field is immutable when `immutable` is set";
                if new.get("immutable") != Some(&Value::Bool(true)) {
                    errors.push(FieldError::forbidden("immutable", WHY));
                }
                for field in ["data", "binaryData"] {
                    if new.get(field) != old.get(field) {
                        errors.push(FieldError::forbidden(field, WHY));
                    }
                }
            }
        }
        ("", "Service") => {
            let ip = |o: &Value| o.pointer("/spec/clusterIP").cloned();
            if ip(new).is_some_and(|v| v != "") && ip(new) != ip(old) {
                errors.push(FieldError::invalid(
                    "spec.clusterIP",
                    &ip(new).unwrap_or(Value::Null),
                    "field is immutable",
                ));
            }
            let health_check = |o: &Value| {
                o.get("spec")
                    .and_then(Value::as_object)
                    .filter(|spec| defaults::needs_health_check_node_port(spec))
                    .map(|spec| spec.get("healthCheckNodePort").cloned())
            };
            if let (Some(Some(now)), Some(before)) = (health_check(new), health_check(old))
                && Some(&now) != before.as_ref()
            {
                errors.push(FieldError::invalid(
                    "spec.healthCheckNodePort",
                    &now,
                    "cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update",
                ));
            }
        }
        _ => {}
    }
    errors
}

fn check(info: &ResourceInfo, obj: &Value, extra: &[FieldError]) -> Result<(), ApiError> {
    let mut errors = extra.to_vec();
    errors.extend(validation::validate(info, obj));
    refuse(info, obj, errors)
}

/// [`check`] for an update. A custom object's schema errors on fields the update
/// leaves as they were are let through, as Kubernetes' validation ratcheting does:
/// tightening a CRD's schema must not freeze the objects it already has (not even
/// the removal of a finalizer from one being deleted).
fn check_update(
    info: &ResourceInfo,
    obj: &Value,
    old: &Value,
    extra: &[FieldError],
) -> Result<(), ApiError> {
    let mut errors = extra.to_vec();
    let found = validation::validate(info, obj);
    if wharf_api_types::custom::is_custom(info) {
        errors.extend(
            found
                .into_iter()
                .filter(|e| value_at(obj, &e.field) != value_at(old, &e.field)),
        );
    } else {
        errors.extend(found);
    }
    refuse(info, obj, errors)
}

/// The value at a field error's path (`spec.items[2].name`), if any.
fn value_at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = obj;
    for part in path.split('.') {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            at = at.get(name)?;
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            at = at.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(at)
}

fn refuse(info: &ResourceInfo, obj: &Value, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        let name = meta::name(obj).unwrap_or_default();
        Err(ApiError::invalid(info, name, &errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wharf_api_types::resources::find;

    fn pods() -> &'static ResourceInfo {
        find("", "v1", "pods").unwrap()
    }

    #[test]
    fn no_execute_taints_keep_the_time_they_were_added() {
        let old = json!({"spec": {"taints": [
            {"key": "maint", "value": "now", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]}});
        let mut node = json!({"spec": {"taints": [
            {"key": "maint", "value": "now", "effect": "NoExecute"},
            {"key": "other", "effect": "NoExecute"},
            {"key": "soft", "effect": "NoSchedule"}]}});
        stamp_no_execute_taints(&mut node, Some(&old));
        let taints = node["spec"]["taints"].as_array().unwrap();
        assert_eq!(taints[0]["timeAdded"], "2026-01-01T00:00:00Z");
        assert!(taints[1]["timeAdded"].is_string(), "{node}");
        assert!(taints[2].get("timeAdded").is_none(), "{node}");
    }

    #[test]
    fn field_error_paths_lead_to_their_values() {
        let obj = json!({"spec": {"items": [{"name": "a"}, {"name": "b"}], "n": 5}});
        assert_eq!(value_at(&obj, "spec.n"), Some(&json!(5)));
        assert_eq!(value_at(&obj, "spec.items[1].name"), Some(&json!("b")));
        assert_eq!(value_at(&obj, "spec.items[2].name"), None);
        assert_eq!(value_at(&obj, "spec.missing"), None);
    }

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}})
    }

    #[test]
    fn strict_decoding_rejects_unknown_and_duplicate_fields() {
        let mut body = pod();
        body["spec"]["bogus"] = json!(1);
        let err = decode_body(
            pods(),
            body.clone(),
            vec!["metadata.name".into()],
            FieldValidation::Strict,
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.bogus\", duplicate field \"metadata.name\""
        );
        let (obj, warnings) = decode_body(pods(), body, vec![], FieldValidation::Warn).unwrap();
        assert_eq!(warnings, ["unknown field \"spec.bogus\""]);
        assert!(
            obj["spec"].get("bogus").is_none(),
            "unknown fields are never stored"
        );
    }

    /// The fast path for clean JSON bodies decides exactly as the path that reports
    /// problems: the same object for a clean body, the same error or warnings
    /// otherwise.
    #[test]
    fn clean_json_takes_the_fast_path_to_the_same_object() {
        let deployments = find("apps", "v1", "deployments").unwrap();
        let services = find("", "v1", "services").unwrap();
        let rich_pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "b"}, "annotations": {"x": "y"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                             "name": "rs", "uid": "u", "controller": true}]},
            "spec": {"containers": [{"name": "c", "image": "busybox:1", "args": ["sleep", "1"],
                        "ports": [{"containerPort": 80, "hostPort": 8080}],
                        "resources": {"requests": {"cpu": "100m", "memory": 1048576}},
                        "env": [{"name": "E", "value": "v"}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}],
                     "tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 30}],
                     "nodeSelector": {"zone": "a"}, "priority": 5, "hostNetwork": null}});
        let cases: Vec<(&ResourceInfo, Value)> = vec![
            (pods(), pod()),
            (pods(), rich_pod.clone()),
            (
                pods(),
                json!({"metadata": {"name": "no-type-meta"},
                            "spec": {"containers": [{"name": "c", "image": "i"}]}}),
            ),
            (
                deployments,
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d"}, "spec": {"replicas": 2,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}},
                             "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
            ),
            (
                services,
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 80, "targetPort": "web"}]}}),
            ),
        ];
        for (info, body) in cases {
            let text = serde_json::to_vec(&body).unwrap();
            assert!(
                (info.decode_json.unwrap())(&text).is_some(),
                "fast path taken for {body}"
            );
            let fast = decode_request(info, None, &text, FieldValidation::Strict).unwrap();
            let slow = decode_body(info, body.clone(), vec![], FieldValidation::Strict).unwrap();
            assert_eq!(fast, slow, "{body}");
        }

        // Whatever is not clean goes the slow way and is reported as before.
        let mut unknown = rich_pod.clone();
        unknown["spec"]["containers"][0]["bogus"] = json!(1);
        let text = serde_json::to_vec(&unknown).unwrap();
        assert!((pods().decode_json.unwrap())(&text).is_none());
        let (_, warnings) = decode_request(pods(), None, &text, FieldValidation::Warn).unwrap();
        assert_eq!(warnings, ["unknown field \"spec.containers[0].bogus\""]);
        let dup = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#;
        let err = decode_request(pods(), None, dup, FieldValidation::Strict).unwrap_err();
        assert!(
            err.message.contains("duplicate field \"metadata.name\""),
            "{}",
            err.message
        );
        let wrong = br#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}}"#;
        let err = decode_request(pods(), None, wrong, FieldValidation::Strict).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("must be of type Pod"),
            "{}",
            err.message
        );
    }

    #[test]
    fn wrong_kind_or_type_is_a_bad_request() {
        let mut body = pod();
        body["kind"] = json!("Service");
        assert_eq!(
            decode_body(pods(), body, vec![], FieldValidation::Strict)
                .unwrap_err()
                .code,
            400
        );
        let mut body = pod();
        body["spec"]["containers"] = json!("nope");
        let err = decode_body(pods(), body, vec![], FieldValidation::Strict).unwrap_err();
        assert!(err.message.contains("spec.containers"), "{}", err.message);
    }

    #[test]
    fn create_sets_server_metadata_and_defaults() {
        let mut body = pod();
        body["metadata"] = json!({"generateName": "web-", "resourceVersion": "9"});
        body["status"] = json!({"phase": "Running"});
        let obj = prepare_create(pods(), Some("default"), body).unwrap();
        assert!(meta::name(&obj).unwrap().starts_with("web-"));
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert!(obj["metadata"]["uid"].is_string());
        assert!(obj["metadata"].get("resourceVersion").is_none());
        assert_eq!(
            obj["status"]["phase"], "Pending",
            "clients do not set pod status on create"
        );
    }

    /// A pod's spec changes only as Kubernetes lets it after creation: gates
    /// removed, tolerations added, the deadline set or shortened.
    #[test]
    fn pod_updates_allow_what_kubernetes_allows() {
        let mut old = pod();
        old["spec"]["schedulingGates"] = json!([{"name": "a"}, {"name": "b"}]);
        old["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
        old["spec"]["activeDeadlineSeconds"] = json!(60);
        let old = prepare_create(pods(), Some("default"), old).unwrap();
        let update = |change: &dyn Fn(&mut Value)| {
            let mut new = old.clone();
            change(&mut new);
            prepare_update(pods(), Some("default"), "p", new, &old, None)
        };
        type Change<'a> = &'a dyn Fn(&mut Value);
        let allowed: [Change; 3] = [
            &|p| p["spec"]["schedulingGates"] = json!([{"name": "b"}]),
            &|p| {
                p["spec"]["tolerations"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"key": "other", "operator": "Exists"}))
            },
            &|p| p["spec"]["activeDeadlineSeconds"] = json!(30),
        ];
        for change in allowed {
            update(change).unwrap();
        }
        let refused: [(Change, &str); 5] = [
            (
                &|p| {
                    p["spec"]["schedulingGates"] =
                        json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])
                },
                "found new scheduling gate 'c'",
            ),
            (
                &|p| p["spec"]["tolerations"] = json!([]),
                "pod updates may not change",
            ),
            (
                &|p| p["spec"]["terminationGracePeriodSeconds"] = json!(5),
                "pod updates may not change",
            ),
            (
                &|p| p["spec"]["activeDeadlineSeconds"] = json!(90),
                "must be less than or equal to previous value",
            ),
            (
                &|p| {
                    p["spec"]
                        .as_object_mut()
                        .unwrap()
                        .remove("activeDeadlineSeconds");
                },
                "must not update from a positive integer to nil value",
            ),
        ];
        for (change, why) in refused {
            let e = update(change).unwrap_err();
            assert_eq!(e.code, 422);
            assert!(e.message.contains(why), "{why}: {}", e.message);
        }
    }

    #[test]
    fn namespace_mismatch_is_rejected() {
        let mut body = pod();
        body["metadata"]["namespace"] = json!("other");
        assert_eq!(
            prepare_create(pods(), Some("default"), body)
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn a_secret_keeps_its_type_and_an_immutable_one_its_data() {
        let secrets = find("", "v1", "secrets").unwrap();
        let old = prepare_create(
            secrets,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "immutable": true, "data": {"k": "dg=="}}),
        )
        .unwrap();
        let update = |change: &dyn Fn(&mut Value)| {
            let mut new = old.clone();
            change(&mut new);
            prepare_update(secrets, Some("default"), "s", new, &old, None)
        };
        // Labels may change; the type, the data and `immutable` may not.
        assert!(update(&|n| n["metadata"]["labels"] = json!({"a": "b"})).is_ok());
        let err = update(&|n| n["type"] = json!("kubernetes.io/basic-auth")).unwrap_err();
        assert!(
            err.message
                .contains("type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"),
            "{}",
            err.message
        );
        let err = update(&|n| n["data"]["k"] = json!("eA==")).unwrap_err();
        assert!(
            err.message
                .contains("data: Forbidden: field is immutable when `immutable` is set"),
            "{}",
            err.message
        );
        let err = update(&|n| n["immutable"] = json!(false)).unwrap_err();
        assert!(
            err.message.contains("immutable: Forbidden"),
            "{}",
            err.message
        );
    }

    #[test]
    fn update_keeps_status_and_identity_and_guards_the_pod_spec() {
        let old = prepare_create(pods(), Some("default"), pod()).unwrap();
        let mut new = old.clone();
        new["status"] = json!({"phase": "Running"});
        new["metadata"]["uid"] = json!("forged");
        new["spec"]["containers"][0]["image"] = json!("busybox:2");
        let updated = prepare_update(pods(), Some("default"), "p", new, &old, None).unwrap();
        assert_eq!(
            updated["status"], old["status"],
            "status changes go through /status"
        );
        assert_eq!(updated["metadata"]["uid"], old["metadata"]["uid"]);
        assert_eq!(updated["spec"]["containers"][0]["image"], "busybox:2");

        let mut bad = old.clone();
        bad["spec"]["restartPolicy"] = json!("Never");
        let err = prepare_update(pods(), Some("default"), "p", bad, &old, None).unwrap_err();
        assert_eq!(err.code, 422);

        let mut status = old.clone();
        status["status"] = json!({"phase": "Running"});
        status["spec"]["containers"][0]["image"] = json!("ignored:1");
        let updated = prepare_update(
            pods(),
            Some("default"),
            "p",
            status,
            &old,
            Some(Subresource::Status),
        )
        .unwrap();
        assert_eq!(updated["status"]["phase"], "Running");
        assert_eq!(
            updated["spec"], old["spec"],
            "status writes leave the spec alone"
        );
        assert_eq!(
            updated["status"]["qosClass"], old["status"]["qosClass"],
            "a status without a QoS class keeps the stored one"
        );
        assert_eq!(
            updated["metadata"]["generation"],
            old["metadata"]["generation"]
        );

        // The QoS class is fixed at creation: kept from the stored pod even when its
        // spec would now say otherwise.
        let mut stored = old.clone();
        stored["status"]["qosClass"] = json!("Burstable");
        let empty = json!({"metadata": {"name": "p"}, "status": {}});
        let updated = prepare_update(
            pods(),
            Some("default"),
            "p",
            empty,
            &stored,
            Some(Subresource::Status),
        )
        .unwrap();
        assert_eq!(updated["status"]["qosClass"], "Burstable");
        assert_eq!(updated["status"]["phase"], "Pending");
    }

    /// A Service's allocations through updates, as Kubernetes keeps and drops them.
    #[test]
    fn a_service_update_keeps_or_gives_back_its_node_ports() {
        let services = find("", "v1", "services").unwrap();
        let manifest = |spec: Value| json!({"metadata": {"name": "s"}, "spec": spec});
        let update = |new: Value, old: &Value| {
            prepare_update(services, Some("default"), "s", new, old, None)
        };
        let mut old = prepare_create(
            services,
            Some("default"),
            manifest(
                json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                            "ports": [{"port": 80}]}),
            ),
        )
        .unwrap();
        old["spec"]["clusterIP"] = json!("10.96.0.20");
        old["spec"]["ports"][0]["nodePort"] = json!(30080);
        old["spec"]["healthCheckNodePort"] = json!(30081);

        // The original manifest again (`kubectl replace`) keeps every allocation.
        let same = update(
            manifest(
                json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                            "ports": [{"port": 80}]}),
            ),
            &old,
        )
        .unwrap();
        assert_eq!(same["spec"]["healthCheckNodePort"], 30081);
        assert_eq!(same["spec"]["ports"][0]["nodePort"], 30080);

        // The health-check port goes with the Local policy...
        let mut cluster = old.clone();
        cluster["spec"]["externalTrafficPolicy"] = json!("Cluster");
        let cluster = update(cluster, &old).unwrap();
        assert!(
            cluster["spec"].get("healthCheckNodePort").is_none(),
            "{cluster}"
        );
        // ... and may not be moved while it stays.
        let mut moved = old.clone();
        moved["spec"]["healthCheckNodePort"] = json!(30090);
        let err = update(moved, &old).unwrap_err();
        assert_eq!(
            err.message,
            "Service \"s\" is invalid: spec.healthCheckNodePort: Invalid value: 30090: \
             cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update"
        );

        // A load balancer that stops allocating node ports gives them back, unless
        // the update chose its own.
        let mut off = old.clone();
        off["spec"]["allocateLoadBalancerNodePorts"] = json!(false);
        let off_same = update(off.clone(), &old).unwrap();
        assert!(
            off_same["spec"]["ports"][0].get("nodePort").is_none(),
            "{off_same}"
        );
        off["spec"]["ports"][0]["nodePort"] = json!(31000);
        assert_eq!(
            update(off, &old).unwrap()["spec"]["ports"][0]["nodePort"],
            31000
        );

        // A NodePort keeps its node port, not the load balancer's fields.
        let mut node_port = old.clone();
        node_port["spec"]["type"] = json!("NodePort");
        let node_port = update(node_port, &old).unwrap();
        assert_eq!(node_port["spec"]["ports"][0]["nodePort"], 30080);
        for gone in ["healthCheckNodePort", "allocateLoadBalancerNodePorts"] {
            assert!(node_port["spec"].get(gone).is_none(), "{gone}: {node_port}");
        }
    }

    #[test]
    fn generation_moves_with_the_spec_and_a_deployments_annotations() {
        let deploys = find("apps", "v1", "deployments").unwrap();
        let body = json!({"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        let old = prepare_create(deploys, Some("ns"), body).unwrap();
        assert_eq!(old["metadata"]["generation"], 1);
        let mut labelled = old.clone();
        labelled["metadata"]["labels"] = json!({"x": "y"});
        let same = prepare_update(deploys, Some("ns"), "d", labelled, &old, None).unwrap();
        assert_eq!(same["metadata"]["generation"], 1);
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(3);
        let bumped = prepare_update(deploys, Some("ns"), "d", scaled, &old, None).unwrap();
        assert_eq!(bumped["metadata"]["generation"], 2);
        // A Deployment's annotations are copied to its ReplicaSets: a new
        // generation on the main resource, none through the status endpoint.
        let mut annotated = old.clone();
        annotated["metadata"]["annotations"] = json!({"note": "x"});
        let bumped =
            prepare_update(deploys, Some("ns"), "d", annotated.clone(), &old, None).unwrap();
        assert_eq!(bumped["metadata"]["generation"], 2);
        let mut emptied = old.clone();
        emptied["metadata"]["annotations"] = json!({});
        let same = prepare_update(deploys, Some("ns"), "d", emptied, &old, None).unwrap();
        assert_eq!(same["metadata"]["generation"], 1);
        let status = Some(Subresource::Status);
        let same = prepare_update(deploys, Some("ns"), "d", annotated, &old, status).unwrap();
        assert_eq!(same["metadata"]["generation"], 1);
        assert_eq!(same["metadata"]["annotations"]["note"], "x");
    }

    #[test]
    fn secrets_fold_string_data_into_data() {
        let secrets = find("", "v1", "secrets").unwrap();
        let obj = prepare_create(
            secrets,
            Some("ns"),
            json!({"metadata": {"name": "s"}, "stringData": {"user": "admin"}}),
        )
        .unwrap();
        assert_eq!(obj["data"]["user"], "YWRtaW4=");
        assert_eq!(obj["type"], "Opaque");
        assert!(obj.get("stringData").is_none());
    }
}
