//! Which fields of an object each field manager owns, as Kubernetes records it in
//! `metadata.managedFields` (the `FieldsV1` format of structured-merge-diff), and
//! the set operations server-side apply needs on them.
//!
//! A field set is a tree of path steps: `f:name` for an object's field, `k:{"name":"c"}`
//! for the element of a keyed list with those key values, `v:"x"` for the element
//! of a list of scalars, and `.` for a list element itself. A step with no children
//! is owned; a step with children is only the way to what is owned below it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::merge_keys::{ListStrategy, lookup};

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// `f:name`: a field of an object.
    Field(String),
    /// `k:{"name":"c"}`: the element of a keyed list whose key fields have these
    /// values (compact JSON, as Kubernetes writes it).
    Key(String),
    /// `v:"x"`: the element of a list of scalars with this value (as JSON).
    Value(String),
    /// `.`: the list element itself.
    Itself,
}

impl Step {
    fn encode(&self) -> String {
        match self {
            Step::Field(name) => format!("f:{name}"),
            Step::Key(key) => format!("k:{key}"),
            Step::Value(value) => format!("v:{value}"),
            Step::Itself => ".".into(),
        }
    }

    fn decode(s: &str) -> Option<Step> {
        if s == "." {
            return Some(Step::Itself);
        }
        let (kind, rest) = s.split_at_checked(2)?;
        match kind {
            "f:" => Some(Step::Field(rest.into())),
            "k:" => Some(Step::Key(rest.into())),
            "v:" => Some(Step::Value(rest.into())),
            _ => None,
        }
    }
}

pub type Path = Vec<Step>;

/// How a kind's lists and maps merge, which decides how their parts are named.
#[derive(Debug, Clone, Copy)]
pub enum ListRules<'s> {
    /// A built-in kind: lists merge as Kubernetes declares them (`containers` by
    /// `name`, a container's `ports` by port and protocol, `finalizers` as a set,
    /// the rest atomic).
    BuiltIn,
    /// A custom kind, as its version's OpenAPI schema declares:
    /// `x-kubernetes-list-type` `map` (keyed on `x-kubernetes-list-map-keys`),
    /// `set`, or `atomic`, the default; `x-kubernetes-map-type: atomic` for an
    /// object owned whole. Its `metadata` merges as a built-in kind's.
    Schema(&'s Value),
}

/// How one list merges.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListKind {
    /// Elements matched on these fields; a field an element leaves out counts as
    /// its default when it has one (a port's protocol is TCP).
    Keyed(Vec<(String, Option<Value>)>),
    /// A set of scalars.
    Set,
    /// Owned and replaced whole.
    Atomic,
}

/// The fields holding a list's object, the list's field, and its key fields
/// with their defaults.
type MultiKeyed = (&'static [&'static str], &'static str, &'static [KeyField]);
type KeyField = (&'static str, Option<&'static str>);

/// Lists Kubernetes keys on more than their strategic merge key
/// (`x-kubernetes-list-map-keys` of the built-in kinds), by the field holding
/// their object and their own field, with their key fields' defaults.
const MULTI_KEYED: &[MultiKeyed] = &[
    (
        &["containers", "initContainers", "ephemeralContainers"],
        "ports",
        &[("containerPort", None), ("protocol", Some("TCP"))],
    ),
    // A Service's ports (a pod spec has no `ports`).
    (
        &["spec"],
        "ports",
        &[("port", None), ("protocol", Some("TCP"))],
    ),
    (
        &["spec"],
        "topologySpreadConstraints",
        &[("topologyKey", None), ("whenUnsatisfiable", None)],
    ),
];

/// A place in an object during a walk: what its lists and maps are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    rules: ListRules<'a>,
    /// The field holding the value here (`""` at the top; for a list element,
    /// the list's field), which with `parent` names a built-in list.
    holder: &'a str,
    /// The field holding the object that holds the value here.
    parent: &'a str,
    /// The value's schema, for a custom kind.
    schema: Option<&'a Value>,
}

impl<'a> At<'a> {
    pub(crate) fn root(rules: ListRules<'a>) -> Self {
        let schema = match rules {
            ListRules::Schema(s) => Some(s),
            ListRules::BuiltIn => None,
        };
        At {
            rules,
            holder: "",
            parent: "",
            schema,
        }
    }

    /// Whether this is the top of the object.
    pub(crate) fn is_root(self) -> bool {
        self.holder.is_empty()
    }

    /// The value of the field `name` of the object here.
    pub(crate) fn field(self, name: &'a str) -> Self {
        if self.holder.is_empty() && name == "metadata" {
            return At {
                rules: ListRules::BuiltIn,
                holder: name,
                parent: "",
                schema: None,
            };
        }
        let schema = self.schema.and_then(|s| {
            s.get("properties")
                .and_then(|p| p.get(name))
                .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
        });
        At {
            rules: self.rules,
            holder: name,
            parent: self.holder,
            schema,
        }
    }

    /// An element of the list here.
    pub(crate) fn element(self) -> Self {
        At {
            schema: self.schema.and_then(|s| s.get("items")),
            ..self
        }
    }

    /// How the list here merges.
    pub(crate) fn list_kind(self) -> ListKind {
        match self.rules {
            ListRules::BuiltIn => {
                let multi = MULTI_KEYED.iter().find(|(parents, field, _)| {
                    *field == self.holder && parents.contains(&self.parent)
                });
                if let Some((_, _, keys)) = multi {
                    return ListKind::Keyed(
                        keys.iter()
                            .map(|(k, d)| (k.to_string(), d.map(Value::from)))
                            .collect(),
                    );
                }
                match lookup(self.parent, self.holder) {
                    ListStrategy::MergeByKey(key) => ListKind::Keyed(vec![(key.to_string(), None)]),
                    ListStrategy::MergePrimitives => ListKind::Set,
                    ListStrategy::Replace => ListKind::Atomic,
                }
            }
            ListRules::Schema(_) => {
                let Some(schema) = self.schema else {
                    return ListKind::Atomic;
                };
                match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => {
                        let items = schema.pointer("/items/properties");
                        let keys: Vec<(String, Option<Value>)> = schema
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(|k| {
                                let default =
                                    items.and_then(|p| p.get(k)).and_then(|f| f.get("default"));
                                (k.to_string(), default.cloned())
                            })
                            .collect();
                        if keys.is_empty() {
                            ListKind::Atomic
                        } else {
                            ListKind::Keyed(keys)
                        }
                    }
                    _ => ListKind::Atomic,
                }
            }
        }
    }

    /// Whether the object here is owned and replaced whole.
    pub(crate) fn atomic_map(self) -> bool {
        match self.rules {
            ListRules::BuiltIn => BUILTIN_ATOMIC.iter().any(|(parents, field)| {
                *field == self.holder && (parents.is_empty() || parents.contains(&self.parent))
            }),
            ListRules::Schema(_) => {
                self.schema
                    .and_then(|s| s.get("x-kubernetes-map-type"))
                    .and_then(Value::as_str)
                    == Some("atomic")
            }
        }
    }
}

/// The maps and structs of the built-in kinds Kubernetes declares atomic
/// (`+mapType=atomic`, `+structType=atomic`), owned and replaced whole: by the
/// fields that may hold their object (none: any) and their own field. A
/// selector is one requirement, not a set of independent keys.
const BUILTIN_ATOMIC: &[(&[&str], &str)] = &[
    // A workload's label selector, a Service's selector.
    (&["spec"], "selector"),
    (&["spec"], "nodeSelector"),
    // Affinity terms' and topology spread constraints' selectors.
    (&[], "labelSelector"),
    (&[], "namespaceSelector"),
];

/// Fields the server owns, never a manager: identity and bookkeeping.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// A set of fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    children: BTreeMap<Step, FieldSet>,
}

impl FieldSet {
    /// The fields `obj` sets, named as its kind's lists are keyed. Type and identity
    /// (`apiVersion`, `kind`, the name, the uid …) are nobody's.
    pub fn of(obj: &Value, rules: ListRules<'_>) -> FieldSet {
        let mut set = FieldSet::default();
        let root = At::root(rules);
        if let Some(map) = obj.as_object() {
            let mut path = Vec::new();
            for (key, value) in map {
                if key == "apiVersion" || key == "kind" {
                    continue;
                }
                if key == "metadata"
                    && let Some(meta) = value.as_object()
                {
                    let at = root.field(key);
                    path.push(Step::Field(key.clone()));
                    for (field, v) in meta {
                        if !SERVER_METADATA.contains(&field.as_str()) {
                            set.collect_field(at.field(field), field, v, &mut path, 1);
                        }
                    }
                    path.pop();
                    continue;
                }
                set.collect_field(root.field(key), key, value, &mut path, 0);
            }
        }
        set
    }

    /// Adds what `value`, the field `field` of an object (`at` its place), sets.
    fn collect_field(
        &mut self,
        at: At<'_>,
        field: &str,
        value: &Value,
        path: &mut Path,
        depth: usize,
    ) {
        path.push(Step::Field(field.to_string()));
        self.collect_value(at, value, path, depth);
        path.pop();
    }

    fn collect_value(&mut self, at: At<'_>, value: &Value, path: &mut Path, depth: usize) {
        match value {
            Value::Object(map)
                if !map.is_empty() && depth < crate::MAX_DEPTH && !at.atomic_map() =>
            {
                for (k, v) in map {
                    self.collect_field(at.field(k), k, v, path, depth + 1);
                }
            }
            Value::Array(items) if !items.is_empty() && depth < crate::MAX_DEPTH => {
                match element_steps(items, &at.list_kind()) {
                    Some(steps) => {
                        let element = at.element();
                        for (step, item) in steps.into_iter().zip(items) {
                            let keyed = matches!(step, Step::Key(_));
                            path.push(step);
                            match item.as_object() {
                                Some(map) if keyed => {
                                    path.push(Step::Itself);
                                    self.insert(path);
                                    path.pop();
                                    for (k, v) in map {
                                        self.collect_field(element.field(k), k, v, path, depth + 1);
                                    }
                                }
                                _ => self.insert(path),
                            }
                            path.pop();
                        }
                    }
                    None => self.insert(path),
                }
            }
            _ => self.insert(path),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    pub fn insert(&mut self, path: &[Step]) {
        let mut node = self;
        for step in path {
            node = node.children.entry(step.clone()).or_default();
        }
    }

    /// Whether the set owns `path` (holds it, with nothing below it).
    pub fn owns(&self, path: &[Step]) -> bool {
        self.node(path).is_some_and(|n| n.children.is_empty())
    }

    /// Whether the set holds `path` or anything below it.
    pub fn touches(&self, path: &[Step]) -> bool {
        self.node(path).is_some()
    }

    fn node(&self, path: &[Step]) -> Option<&FieldSet> {
        let mut node = self;
        for step in path {
            node = node.children.get(step)?;
        }
        Some(node)
    }

    /// Removes `path` and whatever is below it, and the steps to it that lead
    /// nowhere else any more.
    pub fn remove(&mut self, path: &[Step]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.remove(first);
            return;
        }
        if let Some(child) = self.children.get_mut(first) {
            child.remove(rest);
            if child.children.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// Every owned path, in order.
    pub fn leaves(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.walk(&mut Vec::new(), &mut out);
        out
    }

    fn walk(&self, path: &mut Path, out: &mut Vec<Path>) {
        for (step, child) in &self.children {
            path.push(step.clone());
            if child.children.is_empty() {
                out.push(path.clone());
            } else {
                child.walk(path, out);
            }
            path.pop();
        }
    }

    /// As `FieldsV1` JSON.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.children
                .iter()
                .map(|(step, child)| (step.encode(), child.to_json()))
                .collect(),
        )
    }

    /// From `FieldsV1` JSON; `None` if it is not that.
    pub fn from_json(value: &Value) -> Option<FieldSet> {
        Self::from_json_at(value, 0)
    }

    fn from_json_at(value: &Value, depth: usize) -> Option<FieldSet> {
        if depth > crate::MAX_DEPTH {
            return None;
        }
        let mut set = FieldSet::default();
        for (k, v) in value.as_object()? {
            set.children
                .insert(Step::decode(k)?, Self::from_json_at(v, depth + 1)?);
        }
        Some(set)
    }
}

/// How the elements of a list are named: by their keys, by their values, or not
/// at all (`None`: the list is atomic, owned whole; so is a list whose elements
/// do not all have their keys, or repeat them).
pub(crate) fn element_steps(items: &[Value], kind: &ListKind) -> Option<Vec<Step>> {
    let steps: Vec<Step> = match kind {
        ListKind::Keyed(keys) => items
            .iter()
            .map(|item| key_of(item, keys).map(|k| Step::Key(Value::Object(k).to_string())))
            .collect::<Option<_>>()?,
        ListKind::Set => items
            .iter()
            .map(|item| {
                (!item.is_object() && !item.is_array()).then(|| Step::Value(item.to_string()))
            })
            .collect::<Option<_>>()?,
        ListKind::Atomic => return None,
    };
    let mut seen = std::collections::BTreeSet::new();
    steps.iter().all(|s| seen.insert(s)).then_some(steps)
}

/// An element's key fields (defaulted where it leaves one out), or `None` if it
/// has not got them.
pub(crate) fn key_of(item: &Value, keys: &[(String, Option<Value>)]) -> Option<Map<String, Value>> {
    let map = item.as_object()?;
    keys.iter()
        .map(|(k, default)| {
            let value = map.get(k).filter(|v| !v.is_null()).or(default.as_ref())?;
            Some((k.clone(), value.clone()))
        })
        .collect()
}

/// The value at `path` in `obj`, if it is there.
pub fn value_at<'a>(obj: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut current = obj;
    for step in path {
        current = match step {
            Step::Field(name) => current.as_object()?.get(name)?,
            Step::Key(_) | Step::Value(_) => {
                let list = current.as_array()?;
                list.iter().find(|item| matches(step, item))?
            }
            Step::Itself => current,
        };
    }
    Some(current)
}

/// Whether a list element is the one `step` names.
fn matches(step: &Step, item: &Value) -> bool {
    match step {
        Step::Key(key) => {
            let Ok(Value::Object(wanted)) = serde_json::from_str::<Value>(key) else {
                return false;
            };
            wanted
                .iter()
                .all(|(k, v)| item.as_object().and_then(|m| m.get(k)) == Some(v))
        }
        Step::Value(value) => serde_json::from_str::<Value>(value).is_ok_and(|v| v == *item),
        Step::Field(_) | Step::Itself => false,
    }
}

/// Removes what `path` names from `obj`: a field, or a list element (`path` ending
/// in its `.` or naming a value). Nothing happens if it is not there.
pub fn remove_at(obj: &mut Value, path: &[Step]) {
    let path = match path.last() {
        Some(Step::Itself) => &path[..path.len() - 1],
        _ => path,
    };
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut parent = obj;
    for step in parent_path {
        let next = match step {
            Step::Field(name) => parent.as_object_mut().and_then(|m| m.get_mut(name)),
            Step::Key(_) | Step::Value(_) => parent
                .as_array_mut()
                .and_then(|l| l.iter_mut().find(|item| matches(step, item))),
            Step::Itself => Some(parent),
        };
        let Some(next) = next else {
            return;
        };
        parent = next;
    }
    match last {
        Step::Field(name) => {
            if let Some(map) = parent.as_object_mut() {
                map.remove(name);
            }
        }
        Step::Key(_) | Step::Value(_) => {
            if let Some(list) = parent.as_array_mut() {
                list.retain(|item| !matches(last, item));
            }
        }
        Step::Itself => {}
    }
}

/// A path as Kubernetes prints it in a conflict: `.spec.containers[name="c"].image`.
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Key(key) => {
                let parts: Vec<String> = match serde_json::from_str::<Value>(key) {
                    Ok(Value::Object(m)) => m.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    _ => vec![key.clone()],
                };
                out.push('[');
                out.push_str(&parts.join(","));
                out.push(']');
            }
            Step::Value(value) => {
                out.push_str("[=");
                out.push_str(value);
                out.push(']');
            }
            Step::Itself => {}
        }
    }
    out
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    /// The subresource an update went through (`status`, `scale`), if any.
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl Entry {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("manager".into(), Value::from(self.manager.as_str()));
        map.insert("operation".into(), Value::from(self.operation.as_str()));
        map.insert("apiVersion".into(), Value::from(self.api_version.as_str()));
        map.insert("time".into(), Value::from(self.time.as_str()));
        map.insert("fieldsType".into(), Value::from("FieldsV1"));
        map.insert("fieldsV1".into(), self.fields.to_json());
        if let Some(sub) = &self.subresource {
            map.insert("subresource".into(), Value::from(sub.as_str()));
        }
        Value::Object(map)
    }

    fn from_json(value: &Value) -> Option<Entry> {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
        Some(Entry {
            manager: text("manager").unwrap_or_default(),
            operation: text("operation")?,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time").unwrap_or_default(),
            subresource: text("subresource").filter(|s| !s.is_empty()),
            fields: value
                .get("fieldsV1")
                .and_then(FieldSet::from_json)
                .unwrap_or_default(),
        })
    }
}

/// The managed fields an object carries (entries that do not parse are dropped).
pub fn entries_of(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Entry::from_json)
        .collect()
}

/// Writes `entries` into `obj`'s metadata (none: the field goes).
pub fn set_entries(obj: &mut Value, entries: &[Entry]) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let kept: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    if kept.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(kept));
    }
}

/// Takes out of `obj`'s managed fields what `obj` does not have: what decoding
/// dropped from a configuration (an unknown field) or the server reset (a status
/// written through the main resource) is nobody's.
pub fn drop_absent(obj: &mut Value) {
    let mut entries = entries_of(obj);
    for entry in &mut entries {
        for path in entry.fields.leaves() {
            if value_at(obj, &path).is_none() {
                entry.fields.remove(&path);
            }
        }
    }
    set_entries(obj, &entries);
}

/// Records a write that was not an apply (a create, an update, a patch) by
/// `manager`, through `subresource` if any: the fields it changed become its, and
/// no one else's; fields it removed are no one's. As Kubernetes does for an
/// `Update` operation, nothing conflicts. `new` carries the managed fields to
/// record into (a create: none, and `old` is empty).
pub fn record_update(
    old: &Value,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    time: &str,
    rules: ListRules<'_>,
) {
    // The new object's record: the stored one, or the one the client wrote
    // (kubectl rewrites it when it hands client-side apply's fields to server-side apply).
    let mut entries = entries_of(new);
    let before = FieldSet::of(old, rules);
    let after = FieldSet::of(new, rules);
    let changed: Vec<Path> = after
        .leaves()
        .into_iter()
        .filter(|p| match p.last() {
            // An element is the writer's only if it added it; its fields count
            // on their own.
            Some(Step::Itself) => value_at(old, p).is_none(),
            _ => value_at(new, p) != value_at(old, p),
        })
        .collect();
    let gone: Vec<Path> = before
        .leaves()
        .into_iter()
        .filter(|p| !after.owns(p))
        .collect();
    if changed.is_empty() && gone.is_empty() {
        set_entries(new, &entries);
        return;
    }
    for entry in &mut entries {
        for path in changed.iter().chain(&gone) {
            entry.fields.remove(path);
        }
    }
    let api_version = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mine = entries.iter().position(|e| {
        e.manager == manager && e.operation == "Update" && e.subresource.as_deref() == subresource
    });
    let entry = match mine {
        Some(i) => &mut entries[i],
        None => {
            entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.clone(),
                time: String::new(),
                subresource: subresource.map(str::to_string),
                fields: FieldSet::default(),
            });
            entries.last_mut().expect("just pushed")
        }
    };
    for path in &changed {
        entry.fields.insert(path);
    }
    entry.time = time.to_string();
    entry.api_version = api_version;
    set_entries(new, &entries);
}
