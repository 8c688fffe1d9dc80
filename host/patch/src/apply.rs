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
    Entry, FieldSet, ListRules, Path, Step, display, entries_of, remove_at, set_entries, value_at,
};
use crate::merge_keys::ListStrategy;

/// Who applies, and how.
#[derive(Debug, Clone, Copy)]
pub struct Applier<'a> {
    /// The field manager (`fieldManager`).
    pub manager: &'a str,
    /// `force=true`: take over conflicting fields instead of refusing.
    pub force: bool,
    /// The time to record (RFC 3339).
    pub time: &'a str,
    pub rules: ListRules,
}

/// A field another manager owns with another value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub subresource: Option<String>,
    pub api_version: String,
    /// As Kubernetes prints it: `.spec.replicas`.
    pub field: String,
}

impl Conflict {
    /// Who the conflict is with, as Kubernetes words it: `conflict with "kubectl"
    /// using apps/v1`, naming the subresource an update went through.
    pub fn with(&self) -> String {
        match &self.subresource {
            Some(sub) => format!(
                "conflict with {:?} with subresource {sub:?} using {}",
                self.manager, self.api_version
            ),
            None => format!(
                "conflict with {:?} using {}",
                self.manager, self.api_version
            ),
        }
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
    let mut message = format!("Apply failed with {} conflicts:", conflicts.len());
    let mut seen: Vec<String> = Vec::new();
    for c in conflicts {
        let with = c.with();
        if seen.contains(&with) {
            continue;
        }
        message.push_str(&format!(
            " {}:",
            with.replacen("conflict ", "conflicts ", 1)
        ));
        for same in conflicts.iter().filter(|o| o.with() == with) {
            message.push_str(&format!("\n- {}", same.field));
        }
        message.push('\n');
        seen.push(with);
    }
    message.trim_end().to_string()
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
        e.manager == applier.manager && e.operation == "Apply" && e.subresource.is_none()
    };
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
        merge_map(target, source, "", applier.rules, 0);
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
        let owner_path: &[Step] = match path.last() {
            Some(Step::Itself) => &path[..path.len() - 1],
            _ => &path,
        };
        let held = wanted.touches(owner_path)
            || entries
                .iter()
                .any(|e| !mine(e) && e.fields.touches(owner_path));
        if !held {
            remove_at(&mut object, &path);
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
        subresource: None,
        fields: wanted,
    };
    match entries.iter().position(mine) {
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    set_entries(&mut object, &entries);
    Ok(object)
}

fn without_managed(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    obj
}

/// Merges `source` (a configuration) into `target`: its fields are set, objects
/// merged field by field, keyed lists element by element, sets unioned, and any
/// other list replaced. `holder` names the field holding these objects.
fn merge_map(
    target: &mut Map<String, Value>,
    source: &Map<String, Value>,
    holder: &str,
    rules: ListRules,
    depth: usize,
) {
    for (key, value) in source {
        if holder.is_empty() && key == "metadata" {
            // Bookkeeping fields of a configuration are not applied.
            if let (Some(Value::Object(t)), Value::Object(s)) = (target.get_mut(key), value) {
                let mut s = s.clone();
                for field in [
                    "managedFields",
                    "resourceVersion",
                    "uid",
                    "creationTimestamp",
                    "generation",
                ] {
                    s.remove(field);
                }
                merge_map(t, &s, key, rules, depth + 1);
                continue;
            }
        }
        match (target.get_mut(key), value) {
            (Some(Value::Object(t)), Value::Object(s)) if depth < crate::MAX_DEPTH => {
                merge_map(t, s, key, rules, depth + 1);
            }
            (Some(Value::Array(t)), Value::Array(s)) if depth < crate::MAX_DEPTH => {
                if !merge_list(t, s, rules.list(holder, key), key, rules, depth) {
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
fn merge_list(
    target: &mut Vec<Value>,
    source: &[Value],
    strategy: ListStrategy,
    field: &str,
    rules: ListRules,
    depth: usize,
) -> bool {
    match strategy {
        ListStrategy::MergeByKey(key) => {
            let keyed = |l: &[Value]| {
                l.iter()
                    .all(|i| i.as_object().is_some_and(|m| m.contains_key(key)))
            };
            if !keyed(target) || !keyed(source) {
                return false;
            }
            for element in source {
                let id = &element[key];
                match target.iter_mut().find(|t| &t[key] == id) {
                    Some(Value::Object(t)) => {
                        if let Some(s) = element.as_object() {
                            merge_map(t, s, field, rules, depth + 1);
                        }
                    }
                    _ => target.push(element.clone()),
                }
            }
            true
        }
        ListStrategy::MergePrimitives => {
            let scalar = |v: &Value| !v.is_object() && !v.is_array();
            if !target.iter().all(scalar) || !source.iter().all(scalar) {
                return false;
            }
            for element in source {
                if !target.contains(element) {
                    target.push(element.clone());
                }
            }
            true
        }
        ListStrategy::Replace => false,
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
    fn several_conflicts_are_listed_by_manager() {
        let conflicts = vec![
            Conflict {
                manager: "a".into(),
                subresource: None,
                api_version: "v1".into(),
                field: ".data.x".into(),
            },
            Conflict {
                manager: "a".into(),
                subresource: None,
                api_version: "v1".into(),
                field: ".data.y".into(),
            },
        ];
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 2 conflicts: conflicts with \"a\" using v1:\n- .data.x\n- .data.y"
        );
    }
}
