//! Which primary objects a change concerns: the owner-reference mapping (a change
//! to a pod enqueues its ReplicaSet), selector mappings (a pod enqueues the
//! Services selecting it) and the simpler name mappings, as a controller's
//! registration declares them.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use wharf_api_types::selector::{LabelSelector, from_label_selector_object};
use wharf_client::Meta;
use wharf_plugin_host::controller::Mapping;

use crate::informer::{Change, Entry, Informer};

/// A primary object's place: (namespace, name); the namespace is empty for
/// cluster-scoped kinds.
pub type Key = (String, String);

/// The key of an object itself.
pub fn key_of(e: &Entry) -> Key {
    (e.namespace().to_string(), e.name().to_string())
}

/// The group of an apiVersion: `apps` of `apps/v1`, empty for `v1`. Owner
/// references match by group and kind, whatever the version.
pub fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map(|(g, _)| g).unwrap_or("")
}

/// The name of the controlling owner of an object (by its metadata), if it is of
/// `kind` in the group of `api_version`.
pub fn controller_owner<'a>(meta: &'a Meta, api_version: &str, kind: &str) -> Option<&'a str> {
    owner_references(meta)
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .filter(|r| {
            r.get("kind").and_then(Value::as_str) == Some(kind)
                && group_of(r.get("apiVersion").and_then(Value::as_str).unwrap_or(""))
                    == group_of(api_version)
        })
        .and_then(|r| r.get("name").and_then(Value::as_str))
}

/// Whether a garbage collector watching owners of the `watched` (group, kind)s
/// has to look at an object again unprompted: it has a finalizer, a deletion
/// mark, or an owner of another kind, whose deletion no watch reports.
pub fn unwatched_ownership(meta: &Meta, watched: &[(&str, &str)]) -> bool {
    !is_empty(&meta.finalizers)
        || !is_empty(&meta.deletion_timestamp)
        || owner_references(meta).any(|r| {
            let text = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or("");
            !watched.contains(&(group_of(text("apiVersion")), text("kind")))
        })
}

/// Whether an object's ownerReferences name `uid`.
pub fn owned_by(meta: &Meta, uid: &str) -> bool {
    owner_references(meta).any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
}

fn owner_references(meta: &Meta) -> impl Iterator<Item = &Value> {
    meta.owner_references
        .as_array()
        .map(|refs| refs.iter())
        .into_iter()
        .flatten()
}

/// The metadata a garbage collector looks at: owner references, finalizers and
/// the deletion mark.
fn ownership(meta: &Meta) -> [&Value; 3] {
    [
        &meta.owner_references,
        &meta.finalizers,
        &meta.deletion_timestamp,
    ]
}

/// Whether a change touches what a garbage collector looks at: creation,
/// deletion, owner references, finalizers, the deletion mark.
pub fn ownership_changed(change: &Change<'_>) -> bool {
    match change {
        Change::Upserted {
            old: Some(old),
            new,
        } => ownership(old.meta()) != ownership(new.meta()),
        _ => true,
    }
}

/// Whether a change to an owner can give its dependents work: its deletion, its
/// deletion mark, its finalizers (which say whether it waits for them or lets
/// them go), or its replacement under the same name. Its creation cannot: nothing names a uid before it exists, so
/// collectors watching common owner kinds (every pod) are not woken by each new one.
pub fn owner_leaving(change: &Change<'_>) -> bool {
    match change {
        Change::Upserted { old: None, .. } => false,
        Change::Upserted {
            old: Some(old),
            new,
        } => {
            let (old, new) = (old.meta(), new.meta());
            // A new uid under the old name: the owner was replaced while the
            // watch was away, which a relist shows as an update.
            old.uid != new.uid
                || old.deletion_timestamp != new.deletion_timestamp
                || old.finalizers != new.finalizers
        }
        Change::Deleted(_) => true,
    }
}

/// Whether a change to a garbage collector's own kind can give it work. As
/// [`ownership_changed`], except that a newly seen object with no owner
/// references, no finalizers and no deletion mark gives it none: it is neither a
/// dependent whose owners may be gone nor an owner being deleted (Kubernetes'
/// collector likewise only attempts deletion of objects with owners). Most pods
/// created outside a controller are such objects, and reconciling each in the
/// guest was ~3% of the server's time while pods were scheduled.
pub fn primary_ownership_trigger(change: &Change<'_>) -> bool {
    match change {
        Change::Upserted { old: None, new } => has_ownership(new.meta()),
        _ => ownership_changed(change),
    }
}

/// Whether an object has owner references, finalizers or a deletion mark: the
/// objects a garbage collector can have work for, and the only ones its resync
/// needs to look at again.
pub fn has_ownership(meta: &Meta) -> bool {
    ownership(meta).iter().any(|v| !is_empty(v))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn has_controller(meta: &Meta) -> bool {
    owner_references(meta).any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// The selector a primary object carries at a dotted path: a `LabelSelector`
/// (`matchLabels`/`matchExpressions`) or a plain map of labels. None when absent
/// or unreadable, which selects nothing.
pub fn selector_at(object: &Value, path: &str) -> Option<LabelSelector> {
    let pointer = format!("/{}", path.replace('.', "/"));
    let value = object.pointer(&pointer)?;
    let map = value.as_object()?;
    if map.contains_key("matchLabels") || map.contains_key("matchExpressions") {
        return from_label_selector_object(value).ok();
    }
    if map.is_empty() {
        return None;
    }
    let text: Vec<String> = map
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    LabelSelector::parse(&text.join(",")).ok()
}

/// Primaries in the object's namespace whose selector matches its labels.
fn selecting(primaries: &Informer, meta: &Meta, namespace: &str, path: &str) -> Vec<Key> {
    primaries
        .list(namespace)
        .iter()
        .filter(|p| selector_at(p.value(), path).is_some_and(|s| s.matches_labels(&meta.labels)))
        .map(|p| key_of(p))
        .collect()
}

/// The keys one change to a watched object maps to.
pub fn keys_for(mapping: &Mapping, primary: &Informer, change: &Change<'_>) -> BTreeSet<Key> {
    let api_version = &primary.resource.api_version;
    let kind = &primary.resource.kind;
    let (old, new): (Option<&Entry>, &Entry) = match change {
        Change::Upserted { old, new } => (*old, new),
        Change::Deleted(e) => (None, e),
    };
    let mut keys = BTreeSet::new();
    // Dependents care about an owner's deletion, not its spec or status: a
    // ReplicaSet's status updates during a scale-up would otherwise enqueue all
    // its pods each time (and scan the namespace to find them).
    if matches!(mapping, Mapping::Dependents) && !owner_leaving(change) {
        return keys;
    }
    // An update can move an object between owners or out of a selector: both the
    // old and the new state are mapped.
    for e in old.into_iter().chain(std::iter::once(new)) {
        let ns = e.namespace();
        match mapping {
            Mapping::Owner => {
                if let Some(owner) = controller_owner(e.meta(), api_version, kind) {
                    keys.insert((ns.to_string(), owner.to_string()));
                }
            }
            Mapping::OwnerOrSelector(path) => {
                if let Some(owner) = controller_owner(e.meta(), api_version, kind) {
                    keys.insert((ns.to_string(), owner.to_string()));
                } else if !has_controller(e.meta()) {
                    keys.extend(selecting(primary, e.meta(), ns, path));
                }
            }
            Mapping::Selector(path) => keys.extend(selecting(primary, e.meta(), ns, path)),
            Mapping::SameName => {
                keys.insert((ns.to_string(), e.name().to_string()));
            }
            Mapping::InNamespace => {
                if !ns.is_empty() {
                    keys.insert((String::new(), ns.to_string()));
                }
            }
            Mapping::ByName => {
                keys.insert((String::new(), e.name().to_string()));
            }
            Mapping::Dependents => {
                let uid = e.meta().uid.as_str();
                if !uid.is_empty() {
                    for d in primary.list(ns) {
                        if owned_by(d.meta(), uid) {
                            keys.insert(key_of(&d));
                        }
                    }
                }
            }
            Mapping::None => {}
        }
    }
    keys
}

/// A handler enqueueing the keys a watched kind's changes map to.
pub fn handler(
    mapping: Mapping,
    primary: Arc<Informer>,
    enqueue: Arc<dyn Fn(Key) + Send + Sync>,
) -> crate::informer::Handler {
    Arc::new(move |change: &Change<'_>| {
        for key in keys_for(&mapping, &primary, change) {
            enqueue(key);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_of_both_shapes_are_read() {
        let rs = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}});
        let svc = json!({"spec": {"selector": {"app": "web"}}});
        let pod = json!({"metadata": {"labels": {"app": "web", "x": "y"}}});
        let other = json!({"metadata": {"labels": {"app": "db"}}});
        for obj in [&rs, &svc] {
            let s = selector_at(obj, "spec.selector").unwrap();
            assert!(s.matches(&pod));
            assert!(!s.matches(&other));
        }
        assert!(selector_at(&json!({"spec": {}}), "spec.selector").is_none());
        assert!(selector_at(&json!({"spec": {"selector": {}}}), "spec.selector").is_none());
    }

    #[test]
    fn the_controlling_owner_of_the_right_kind_is_found() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "Node", "name": "n"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "controller": true},
        ]}});
        let pod = Entry::new(pod);
        let meta = pod.meta();
        assert_eq!(
            controller_owner(meta, "apps/v1", "ReplicaSet"),
            Some("web-1")
        );
        assert_eq!(controller_owner(meta, "apps/v1", "Deployment"), None);
        assert_eq!(controller_owner(meta, "example.com/v1", "ReplicaSet"), None);
    }

    #[test]
    fn a_collector_is_woken_by_objects_with_ownership_only() {
        let entry = Entry::new;
        let bare = entry(json!({"metadata": {"name": "p", "finalizers": []}}));
        let owned = entry(json!({"metadata": {"name": "p",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "u"}]}}));
        let finalized = entry(json!({"metadata": {"name": "p", "finalizers": ["x"]}}));
        let deleting =
            entry(json!({"metadata": {"name": "p", "deletionTimestamp": "2026-11-29T00:00:00Z"}}));
        let created = |e| Change::Upserted { old: None, new: e };
        // Created with nothing a collector looks at: no work.
        assert!(!primary_ownership_trigger(&created(&bare)));
        for e in [&owned, &finalized, &deleting] {
            assert!(primary_ownership_trigger(&created(e)));
        }
        // Later changes and deletions count as they always did.
        let gained = Change::Upserted {
            old: Some(&bare),
            new: &owned,
        };
        assert!(primary_ownership_trigger(&gained));
        let same = Change::Upserted {
            old: Some(&bare),
            new: &bare,
        };
        assert!(!primary_ownership_trigger(&same));
        assert!(primary_ownership_trigger(&Change::Deleted(&bare)));
    }

    #[test]
    fn a_periodic_resync_looks_only_at_what_no_watch_reports() {
        let watched = [("apps", "ReplicaSet"), ("", "Node")];
        let meta = |m: Value| Entry::new(json!({"metadata": m}));
        let by = |api_version: &str, kind: &str| json!({"apiVersion": api_version, "kind": kind, "name": "o", "uid": "u"});
        let again = |e: Entry| unwatched_ownership(e.meta(), &watched);
        assert!(!again(meta(json!({"name": "bare"}))));
        assert!(!again(meta(
            json!({"ownerReferences": [by("apps/v1", "ReplicaSet"), by("v1", "Node")]})
        )));
        assert!(again(meta(
            json!({"ownerReferences": [by("apps/v1", "ReplicaSet"), by("example.com/v1", "Widget")]})
        )));
        // The same kind name in another group is another kind.
        assert!(again(meta(
            json!({"ownerReferences": [by("example.com/v1", "ReplicaSet")]})
        )));
        assert!(again(meta(json!({"finalizers": ["example.com/hold"]}))));
        assert!(again(meta(
            json!({"deletionTimestamp": "2026-12-07T00:00:00Z"})
        )));
    }

    #[test]
    fn dependents_are_woken_by_their_owner_leaving_only() {
        let entry = Entry::new;
        let owner = |uid: &str, extra: Value| {
            let mut meta =
                json!({"name": "rs", "namespace": "a", "uid": uid, "labels": {"v": "1"}});
            meta.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            entry(json!({"metadata": meta}))
        };
        let standing = owner("u1", json!({}));
        let relabelled = owner("u1", json!({"labels": {"v": "2"}}));
        let orphaning = owner(
            "u1",
            json!({"deletionTimestamp": "2026-12-07T00:00:00Z", "finalizers": ["orphan"]}),
        );
        let replaced = owner("u2", json!({}));
        let update = |old, new| Change::Upserted {
            old: Some(old),
            new,
        };
        assert!(!owner_leaving(&Change::Upserted {
            old: None,
            new: &standing
        }));
        assert!(!owner_leaving(&update(&standing, &relabelled)));
        assert!(owner_leaving(&update(&standing, &orphaning)));
        assert!(owner_leaving(&update(&standing, &replaced)));
        assert!(owner_leaving(&Change::Deleted(&standing)));
    }
}
