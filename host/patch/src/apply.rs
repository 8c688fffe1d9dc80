//! Server-side apply (`application/apply-patch+yaml`), after Kubernetes'
//! structured-merge-diff: a manager sends the fields it has an opinion about (its
//! *configuration*); they are merged into the object and become its; fields it
//! set by an earlier apply and leaves out now are removed, unless another
//! manager owns them too; a field another manager owns with a different value
//! is a conflict, refused unless the apply is forced, which takes it over.
//!
//! Lists merge as the kind's lists are keyed ([`ListRules`]): a container is
//! merged with the container of the same name, a list of scalars such as
//! finalizers is a set, any other list is replaced whole.

use serde_json::{Map, Value};

use crate::managed::{
    At, Entry, FieldSet, ListKind, ListRules, Path, Step, display, element_steps, entries_of,
    key_of, remove_at, set_entries, value_at,
};

/// Who applies, and how.
#[derive(Debug, Clone, Copy)]
pub struct Applier<'a> {
    /// The field manager (`fieldManager`).
    pub manager: &'a str,
    /// `force=true`: take over conflicting fields instead of refusing.
    pub force: bool,
    /// The time to record (RFC 3339).
    pub time: &'a str,
    pub rules: ListRules<'a>,
    /// The subresource applied through (`status`), if any: an apply through it is
    /// its own entry, so it does not drop what the same manager applied to the
    /// main resource.
    pub subresource: Option<&'a str>,
}

/// A field another manager owns with another value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub subresource: Option<String>,
    pub api_version: String,
    /// The other manager's operation: `Apply` or `Update`.
    pub operation: String,
    /// As Kubernetes prints it: `.spec.replicas`.
    pub field: String,
}

impl Conflict {
    /// Who the conflict is with, as Kubernetes words it: `conflict with "kubectl"`,
    /// then the subresource an update went through and, for an update, the
    /// version it wrote (`with subresource "scale" using apps/v1`).
    pub fn with(&self) -> String {
        let mut with = format!("conflict with {:?}", self.manager);
        if let Some(sub) = &self.subresource {
            with.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == "Update" {
            with.push_str(&format!(" using {}", self.api_version));
        }
        with
    }
}

/// Kubernetes' message for a refused apply: `Apply failed with 1 conflict:
/// conflict with "m" using v1: .data.a`, or the conflicts listed by manager.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: {}: {}",
            only.with(),
            only.field
        );
    }
    // Grouped by manager, in the order first met; a group after the first starts
    // its own line.
    let mut seen: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for c in conflicts {
        let with = c.with();
        if seen.contains(&with) {
            continue;
        }
        let mut group = format!("{}:", with.replacen("conflict ", "conflicts ", 1));
        for same in conflicts.iter().filter(|o| o.with() == with) {
            group.push_str(&format!("\n- {}", same.field));
        }
        groups.push(group);
        seen.push(with);
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        groups.join("\n")
    )
}

/// Applies `config` to `live` (`None`: the object does not exist yet) for
/// `applier`. Returns the object with its managed fields, or the conflicts.
/// `live`'s and `config`'s other metadata is the caller's to settle.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    applier: Applier<'_>,
) -> Result<Value, Vec<Conflict>> {
    let mut entries = live.map(entries_of).unwrap_or_default();
    let mine = |e: &Entry| {
        e.manager == applier.manager
            && e.operation == "Apply"
            && e.subresource.as_deref() == applier.subresource
    };
    // A key field an element leaves out is its default, as Kubernetes defaults a
    // configuration before merging it (`- containerPort: 53` is port 53/TCP).
    let mut config = config.clone();
    fill_key_defaults(&mut config, At::root(applier.rules), 0);
    let config = &config;
    let wanted = FieldSet::of(config, applier.rules);
    let before = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let base = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));

    let mut conflicts = Vec::new();
    let mut taken: Vec<(usize, Path)> = Vec::new();
    for path in wanted.leaves() {
        if matches!(path.last(), Some(Step::Itself)) {
            continue;
        }
        let asked = value_at(config, &path);
        // An empty object in a configuration only says the field exists.
        if asked.is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
            continue;
        }
        match value_at(&base, &path) {
            Some(now) if Some(now) != asked => {}
            _ => continue,
        }
        for (i, e) in entries.iter().enumerate() {
            if !mine(e) && e.fields.owns(&path) {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    subresource: e.subresource.clone(),
                    api_version: e.api_version.clone(),
                    operation: e.operation.clone(),
                    field: display(&path),
                });
                taken.push((i, path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !applier.force {
        return Err(conflicts);
    }
    for (i, path) in taken {
        entries[i].fields.remove(&path);
    }

    let mut object = base;
    if let (Some(target), Some(source)) = (object.as_object_mut(), config.as_object()) {
        merge_map(target, source, At::root(applier.rules), 0);
    }
    // What this manager no longer asks for goes, unless someone else holds it.
    // Whole list elements first: their fields, removed first, would take the key
    // that finds the element with them.
    let mut dropped = before.leaves();
    dropped.sort_by_key(|p| !matches!(p.last(), Some(Step::Itself)));
    for path in dropped {
        if wanted.owns(&path) {
            continue;
        }
        // An element goes whole unless this configuration still names it or
        // another manager owns the element itself (its `.`): one that only
        // changed a field of it (`kubectl set image`) does not keep it, as in
        // Kubernetes. A field is kept if anyone else holds it, and an element's
        // key fields stay as long as the element does.
        let held = match path.last() {
            Some(Step::Itself) => {
                wanted.touches(&path[..path.len() - 1])
                    || entries.iter().any(|e| !mine(e) && e.fields.owns(&path))
            }
            _ => {
                is_key_field(&path)
                    || wanted.touches(&path)
                    || entries.iter().any(|e| !mine(e) && e.fields.touches(&path))
            }
        };
        if !held {
            remove_at(&mut object, &path);
            // An object emptied by it goes too, unless someone holds it as such.
            for end in (1..path.len()).rev() {
                let parent = &path[..end];
                let emptied = matches!(parent.last(), Some(Step::Field(_)))
                    && value_at(&object, parent)
                        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty));
                let owned = wanted.owns(parent)
                    || entries.iter().any(|e| !mine(e) && e.fields.owns(parent));
                if !emptied || owned {
                    break;
                }
                remove_at(&mut object, parent);
            }
        }
    }

    // An apply that changes nothing writes nothing, not even its time.
    if let Some(live) = live
        && before == wanted
        && without_managed(&object) == without_managed(live)
        && entries
            .iter()
            .map(|e| &e.fields)
            .eq(entries_of(live).iter().map(|e| &e.fields))
        && entries.iter().any(&mine)
    {
        return Ok(live.clone());
    }
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let entry = Entry {
        manager: applier.manager.to_string(),
        operation: "Apply".into(),
        api_version,
        time: applier.time.to_string(),
        subresource: applier.subresource.map(str::to_string),
        fields: wanted,
    };
    match entries.iter().position(mine) {
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    set_entries(&mut object, &entries);
    Ok(object)
}

/// Whether `path` names one of the key fields of a list element
/// (`…k:{"name":"c"}.f:name`).
fn is_key_field(path: &[Step]) -> bool {
    match path {
        [.., Step::Key(key), Step::Field(field)] => serde_json::from_str::<Value>(key)
            .ok()
            .and_then(|k| k.as_object().map(|m| m.contains_key(field)))
            .unwrap_or(false),
        _ => false,
    }
}

fn without_managed(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    obj
}

/// Refuses a configuration with two elements of one keyed list under the same
/// key, as Kubernetes does (`.spec.containers[name="c"].env: duplicate entries
/// for key [name="A"]`): which of them would the manager own?
pub fn check_keys(config: &Value, rules: ListRules<'_>) -> Result<(), String> {
    let mut config = config.clone();
    fill_key_defaults(&mut config, At::root(rules), 0);
    duplicate_keys(&config, At::root(rules), &mut Vec::new(), 0)
}

fn duplicate_keys(value: &Value, at: At<'_>, path: &mut Path, depth: usize) -> Result<(), String> {
    if depth >= crate::MAX_DEPTH {
        return Ok(());
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Step::Field(k.clone()));
                duplicate_keys(v, at.field(k), path, depth + 1)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = at.list_kind();
            if let ListKind::Keyed(keys) = &kind {
                let mut seen = std::collections::BTreeSet::new();
                for item in items {
                    if let Some(key) = key_of(item, keys) {
                        let key = Value::Object(key).to_string();
                        if !seen.insert(key.clone()) {
                            let shown = display(&[Step::Key(key)]);
                            return Err(format!(
                                "{}: duplicate entries for key {shown}",
                                display(path)
                            ));
                        }
                    }
                }
            }
            let element = at.element();
            for (i, item) in items.iter().enumerate() {
                let step = match element_steps(std::slice::from_ref(item), &kind) {
                    Some(mut steps) => steps.remove(0),
                    None => Step::Value(i.to_string()),
                };
                path.push(step);
                duplicate_keys(item, element, path, depth + 1)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Gives every element of a keyed list in `value` the defaults of the key
/// fields it leaves out.
fn fill_key_defaults(value: &mut Value, at: At<'_>, depth: usize) {
    if depth >= crate::MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                fill_key_defaults(v, at.field(k), depth + 1);
            }
        }
        Value::Array(items) => {
            if let ListKind::Keyed(keys) = at.list_kind() {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    for (k, default) in &keys {
                        if let (None, Some(d)) = (item.get(k).filter(|v| !v.is_null()), default) {
                            item.insert(k.clone(), d.clone());
                        }
                    }
                }
            }
            let element = at.element();
            for item in items {
                fill_key_defaults(item, element, depth + 1);
            }
        }
        _ => {}
    }
}

/// Merges `source` (a configuration) into `target`: its fields are set, objects
/// merged field by field (unless owned whole), keyed lists element by element,
/// sets unioned, and any other list replaced. `at` says where these objects are.
fn merge_map(
    target: &mut Map<String, Value>,
    source: &Map<String, Value>,
    at: At<'_>,
    depth: usize,
) {
    for (key, value) in source {
        let field = at.field(key);
        if at.is_root() && key == "metadata" {
            // Bookkeeping fields of a configuration are not applied.
            if let (Some(Value::Object(t)), Value::Object(s)) = (target.get_mut(key), value) {
                let mut s = s.clone();
                for bookkeeping in [
                    "managedFields",
                    "resourceVersion",
                    "uid",
                    "creationTimestamp",
                    "generation",
                ] {
                    s.remove(bookkeeping);
                }
                merge_map(t, &s, field, depth + 1);
                continue;
            }
        }
        match (target.get_mut(key), value) {
            (Some(Value::Object(t)), Value::Object(s))
                if depth < crate::MAX_DEPTH && !field.atomic_map() =>
            {
                merge_map(t, s, field, depth + 1);
            }
            (Some(Value::Array(t)), Value::Array(s)) if depth < crate::MAX_DEPTH => {
                if !merge_list(t, s, field, depth) {
                    *t = s.clone();
                }
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Merges a keyed list or a set; `false` when the list is atomic (or its
/// elements do not fit its kind), for the caller to replace.
fn merge_list(target: &mut Vec<Value>, source: &[Value], at: At<'_>, depth: usize) -> bool {
    let kind = at.list_kind();
    if element_steps(target, &kind).is_none() || element_steps(source, &kind).is_none() {
        return false;
    }
    match kind {
        ListKind::Keyed(keys) => {
            let element = at.element();
            for item in source {
                let id = key_of(item, &keys);
                match target.iter_mut().find(|t| key_of(t, &keys) == id) {
                    Some(Value::Object(t)) => {
                        if let Some(s) = item.as_object() {
                            merge_map(t, s, element, depth + 1);
                        }
                    }
                    _ => target.push(item.clone()),
                }
            }
            true
        }
        ListKind::Set => {
            for item in source {
                if !target.contains(item) {
                    target.push(item.clone());
                }
            }
            true
        }
        ListKind::Atomic => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::managed::record_update;

    fn applier(manager: &str, force: bool) -> Applier<'_> {
        Applier {
            manager,
            force,
            time: "2026-12-08T00:00:00Z",
            rules: ListRules::BuiltIn,
            subresource: None,
        }
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": replicas,
                        "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    #[test]
    fn a_first_apply_owns_what_it_set() {
        let created = apply(None, &deployment(2, "nginx"), applier("kubectl", false)).unwrap();
        let fields = &created["metadata"]["managedFields"][0];
        assert_eq!(fields["manager"], "kubectl");
        assert_eq!(fields["operation"], "Apply");
        assert_eq!(fields["apiVersion"], "apps/v1");
        assert_eq!(
            fields["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:app": {}}},
                   "f:spec": {"f:replicas": {},
                              "f:template": {"f:spec": {"f:containers": {
                                  "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        assert_eq!(created["spec"]["replicas"], 2);
        let mut later = applier("kubectl", false);
        later.time = "2026-12-09T00:00:00Z";
        assert_eq!(
            apply(Some(&created), &deployment(2, "nginx"), later).unwrap(),
            created,
            "an apply that changes nothing leaves even the time alone"
        );
    }

    #[test]
    fn fields_left_out_of_the_next_apply_go_unless_someone_else_holds_them() {
        let mut config = deployment(2, "nginx");
        config["metadata"]["labels"]["tier"] = json!("front");
        config["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "envoy"}));
        let live = apply(None, &config, applier("kubectl", false)).unwrap();
        // Another manager adds an annotation.
        let mut updated = live.clone();
        updated["metadata"]["annotations"] = json!({"note": "x"});
        record_update(&live, &mut updated, "ops", None, "t", ListRules::BuiltIn);
        let again = apply(
            Some(&updated),
            &deployment(2, "nginx"),
            applier("kubectl", false),
        )
        .unwrap();
        assert_eq!(again["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(again["metadata"]["annotations"], json!({"note": "x"}));
        let containers = again["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1, "{again}");
    }

    #[test]
    fn another_managers_value_is_a_conflict_unless_forced() {
        let live = apply(None, &deployment(2, "nginx"), applier("kubectl", false)).unwrap();
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(5);
        record_update(
            &live,
            &mut scaled,
            "kubectl-scale",
            Some("scale"),
            "t",
            ListRules::BuiltIn,
        );
        // The same value again is fine: the field is shared.
        let conflicts = apply(
            Some(&scaled),
            &deployment(3, "nginx"),
            applier("kubectl", false),
        )
        .unwrap_err();
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        let forced = apply(
            Some(&scaled),
            &deployment(3, "nginx"),
            applier("kubectl", true),
        )
        .unwrap();
        assert_eq!(forced["spec"]["replicas"], 3);
        let managers: Vec<&str> = forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["kubectl"], "the scaler's only field was taken");
        // A second applier agreeing on a value shares it without conflict.
        let shared = apply(
            Some(&forced),
            &deployment(3, "nginx"),
            applier("gitops", false),
        )
        .unwrap();
        assert_eq!(
            shared["metadata"]["managedFields"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let conflicts = apply(
            Some(&shared),
            &deployment(3, "httpd"),
            applier("gitops", false),
        )
        .unwrap_err();
        assert_eq!(
            conflicts[0].field,
            ".spec.template.spec.containers[name=\"c\"].image"
        );
    }

    #[test]
    fn ports_are_keyed_on_number_and_protocol() {
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dns"},
            "spec": {"ports": [{"name": "dns-udp", "port": 53, "protocol": "UDP"},
                               {"name": "dns-tcp", "port": 53}]}});
        let created = apply(None, &service, applier("kubectl", false)).unwrap();
        let fields = &created["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:ports"];
        assert!(
            fields.get("k:{\"port\":53,\"protocol\":\"TCP\"}").is_some(),
            "{fields}"
        );
        assert!(
            fields.get("k:{\"port\":53,\"protocol\":\"UDP\"}").is_some(),
            "{fields}"
        );
        // Applied again, each port merges with its own.
        let again = apply(Some(&created), &service, applier("kubectl", false)).unwrap();
        assert_eq!(
            again["spec"]["ports"].as_array().unwrap().len(),
            2,
            "{again}"
        );
        // Left out, one goes whole.
        let mut fewer = service.clone();
        fewer["spec"]["ports"].as_array_mut().unwrap().remove(1);
        let after = apply(Some(&again), &fewer, applier("kubectl", false)).unwrap();
        assert_eq!(
            after["spec"]["ports"],
            json!([{"name": "dns-udp", "port": 53, "protocol": "UDP"}])
        );
    }

    #[test]
    fn an_element_goes_whole_though_another_writer_changed_a_field_of_it() {
        let mut config = deployment(2, "nginx");
        config["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "side", "image": "envoy", "env": [{"name": "A", "value": "1"}]}));
        let live = apply(None, &config, applier("kubectl", false)).unwrap();
        let mut touched = live.clone();
        touched["spec"]["template"]["spec"]["containers"][1]["image"] = json!("envoy:2");
        record_update(
            &live,
            &mut touched,
            "kubectl-set",
            None,
            "t",
            ListRules::BuiltIn,
        );
        let after = apply(
            Some(&touched),
            &deployment(2, "nginx"),
            applier("kubectl", false),
        )
        .unwrap();
        let containers = after["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1, "{after}");
        // But an element another applier also names stays, with its key.
        let shared = apply(Some(&live), &config, applier("gitops", false)).unwrap();
        let after = apply(
            Some(&shared),
            &deployment(2, "nginx"),
            applier("kubectl", false),
        )
        .unwrap();
        let containers = after["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 2, "{after}");
        assert_eq!(containers[1]["name"], "side");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let mut config = deployment(2, "nginx");
        config["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]);
        assert_eq!(
            check_keys(&config, ListRules::BuiltIn).unwrap_err(),
            ".spec.template.spec.containers[name=\"c\"].env: duplicate entries for key [name=\"A\"]"
        );
        assert!(check_keys(&deployment(2, "nginx"), ListRules::BuiltIn).is_ok());
    }

    #[test]
    fn a_selector_is_owned_whole() {
        let live = apply(None, &deployment(2, "nginx"), applier("kubectl", false)).unwrap();
        let mut selected = deployment(2, "nginx");
        selected["spec"]["selector"] = json!({"matchLabels": {"app": "web", "tier": "front"}});
        let live = apply(Some(&live), &selected, applier("kubectl", false)).unwrap();
        let fields = &live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"];
        assert_eq!(fields["f:selector"], json!({}), "{fields}");
        // Another applier's different selector conflicts on the selector as one field.
        let mut other = selected.clone();
        other["spec"]["selector"] = json!({"matchLabels": {"app": "web"}});
        let conflicts = apply(Some(&live), &other, applier("gitops", false)).unwrap_err();
        assert_eq!(conflicts[0].field, ".spec.selector");
    }

    #[test]
    fn an_apply_through_status_is_its_own_entry() {
        let main = deployment(2, "nginx");
        let live = apply(None, &main, applier("kubectl", false)).unwrap();
        let status = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                            "status": {"replicas": 2}});
        let mut through_status = applier("kubectl", false);
        through_status.subresource = Some("status");
        let both = apply(Some(&live), &status, through_status).unwrap();
        let entries = both["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{both}");
        assert_eq!(entries[1]["subresource"], "status");
        assert_eq!(both["spec"]["replicas"], 2, "the main entry's fields stay");
    }

    #[test]
    fn a_custom_kinds_schema_says_how_it_merges() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                                  "size": {"type": "integer"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                         "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "additionalProperties": {"type": "object"}}}}}});
        let rules = ListRules::Schema(&schema);
        let mut a = applier("a", false);
        a.rules = rules;
        let mut b = applier("b", false);
        b.rules = rules;
        let widget = |spec: Value| json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "w"}, "spec": spec});
        let live = apply(
            None,
            &widget(json!({"items": [{"name": "one", "size": 1}], "tags": ["x"],
                                               "selector": {"app": "w"}, "free": {"p": {"q": 1}}})),
            a,
        )
        .unwrap();
        // Another manager adds an element and a tag: no conflict, both merged.
        let shared = apply(
            Some(&live),
            &widget(json!({"items": [{"name": "two", "size": 2}], "tags": ["y"]})),
            b,
        )
        .unwrap();
        assert_eq!(shared["spec"]["items"].as_array().unwrap().len(), 2);
        assert_eq!(shared["spec"]["tags"], json!(["x", "y"]));
        // The atomic map is one field: changing a key conflicts on the whole map.
        let conflicts =
            apply(Some(&shared), &widget(json!({"selector": {"app": "v"}})), b).unwrap_err();
        assert_eq!(conflicts[0].field, ".spec.selector");
        // Dropping `free` takes its emptied parents with it.
        let dropped = apply(
            Some(&shared),
            &widget(json!({"items": [{"name": "one", "size": 1}], "tags": ["x"],
                                                         "selector": {"app": "w"}})),
            a,
        )
        .unwrap();
        assert!(dropped["spec"].get("free").is_none(), "{dropped}");
    }

    #[test]
    fn several_conflicts_are_listed_by_manager() {
        let conflicts = vec![
            Conflict {
                manager: "a".into(),
                subresource: None,
                api_version: "v1".into(),
                operation: "Update".into(),
                field: ".data.x".into(),
            },
            Conflict {
                manager: "a".into(),
                subresource: None,
                api_version: "v1".into(),
                operation: "Update".into(),
                field: ".data.y".into(),
            },
        ];
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 2 conflicts: conflicts with \"a\" using v1:\n- .data.x\n- .data.y"
        );
    }
}
