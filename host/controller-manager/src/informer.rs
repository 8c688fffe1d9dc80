//! Shared informers: one list+watch and one cache per kind, however many
//! controllers read it. Controllers read the cache (never the network) and are told
//! of every change through the handlers they register.
//!
//! The cache is also written through: the object a controller's write returns is
//! put in the cache at once, so the controller's next reconcile sees its own
//! writes even before the watch delivers them. Entries carry their
//! resourceVersion, and an older version never replaces a newer one (nor revives a
//! deleted object), whichever path brings it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use wharf_client::{Client, Meta, Object, Reflected, nullable, reflect};

use crate::discovery::{Discovery, DiscoveryError, Resource};

/// One cached object: its JSON text as the API sent it (what guests read), the
/// metadata the host's mappings read, and the whole tree, decoded only if asked.
///
/// Every watched change lands here, and nearly all of them (a pod's binding, its
/// status) are only mapped, by metadata, and never read whole: building each as a
/// `serde_json::Value` tree cost ~6% of the server's time while pods were
/// scheduled.
#[derive(Debug)]
pub struct Entry {
    raw: Box<RawValue>,
    meta: Meta,
    value: OnceLock<Value>,
    pub rv: u64,
}

impl Entry {
    /// From an object already decoded (the answer to a write).
    pub fn new(value: Value) -> Self {
        let raw = RawValue::from_string(value.to_string())
            .expect("a serde_json::Value always encodes as valid JSON");
        let meta = value
            .get("metadata")
            .and_then(|m| Meta::deserialize(m).ok())
            .unwrap_or_default();
        let entry = Entry::with(raw, meta);
        let _ = entry.value.set(value);
        entry
    }

    fn with(raw: Box<RawValue>, meta: Meta) -> Self {
        // Wharf's resourceVersions are revisions (integers); one that is not
        // parses as 0, which disables the ordering guard rather than dropping
        // changes.
        let rv = meta.resource_version.parse().unwrap_or(0);
        Entry {
            raw,
            meta,
            value: OnceLock::new(),
            rv,
        }
    }

    /// The object as JSON text, as guests receive it.
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The whole object, decoded on first use and kept.
    pub fn value(&self) -> &Value {
        self.value
            .get_or_init(|| serde_json::from_str(self.raw.get()).unwrap_or(Value::Null))
    }

    pub fn namespace(&self) -> &str {
        &self.meta.namespace
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }
}

impl From<Doc> for Entry {
    fn from(doc: Doc) -> Self {
        Entry::with(doc.raw, doc.meta)
    }
}

/// An object as an informer's watch delivers it: the JSON text kept as it came,
/// and its metadata read from it. The rest of the object is skipped by the
/// parser, not built.
#[derive(Debug)]
pub struct Doc {
    raw: Box<RawValue>,
    meta: Meta,
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default, deserialize_with = "nullable")]
            metadata: Meta,
        }
        let raw = Box::<RawValue>::deserialize(d)?;
        let probe: Probe = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        Ok(Doc {
            raw,
            meta: probe.metadata,
        })
    }
}

impl Object for Doc {
    fn resource_version(&self) -> Option<&str> {
        self.meta.resource_version()
    }
}

/// A change, as handlers see it.
pub enum Change<'a> {
    Upserted {
        old: Option<&'a Entry>,
        new: &'a Entry,
    },
    Deleted(&'a Entry),
}

pub type Handler = Arc<dyn Fn(&Change<'_>) + Send + Sync>;

type ObjectKey = (String, String);
/// Informers by (apiVersion, kind).
type ByKind = HashMap<(String, String), Arc<Informer>>;

#[derive(Default)]
struct Cache {
    /// Ordered by (namespace, name), so one namespace is a contiguous range.
    objects: BTreeMap<ObjectKey, Arc<Entry>>,
    /// Deleted objects' last resourceVersion, so a late event cannot revive them.
    tombstones: HashMap<ObjectKey, u64>,
}

/// Tombstones kept before the oldest are dropped (a late event older than this
/// many deletions is unlikely; the next relist corrects it anyway).
const TOMBSTONES: usize = 100_000;

pub struct Informer {
    pub resource: Resource,
    cache: RwLock<Cache>,
    synced: AtomicBool,
    handlers: Mutex<HashMap<String, Handler>>,
}

impl Informer {
    fn new(resource: Resource) -> Self {
        Informer {
            resource,
            cache: RwLock::default(),
            synced: AtomicBool::new(false),
            handlers: Mutex::default(),
        }
    }

    /// Whether the first list has arrived.
    pub fn has_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Entry>> {
        self.read()
            .objects
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects in `namespace`, or everywhere when it is empty.
    pub fn list(&self, namespace: &str) -> Vec<Arc<Entry>> {
        let cache = self.read();
        if namespace.is_empty() {
            return cache.objects.values().cloned().collect();
        }
        cache
            .objects
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Registers (or replaces) the handler of one controller.
    pub fn set_handler(&self, controller: &str, handler: Handler) {
        self.lock_handlers().insert(controller.to_string(), handler);
    }

    pub fn remove_handler(&self, controller: &str) {
        self.lock_handlers().remove(controller);
    }

    /// An object as the API returned it to a write: applied now, unless the cache
    /// already has something newer.
    pub fn write_through(&self, value: Value) {
        self.upsert(Entry::new(value));
    }

    /// A delete the API acknowledged.
    pub fn write_through_delete(&self, namespace: &str, name: &str, rv: u64) {
        self.remove((namespace.to_string(), name.to_string()), rv, None);
    }

    fn upsert(&self, entry: Entry) {
        let key = (entry.namespace().to_string(), entry.name().to_string());
        let entry = Arc::new(entry);
        let old = {
            let mut cache = self.write();
            if entry.rv != 0 {
                if cache.tombstones.get(&key).is_some_and(|&t| t >= entry.rv) {
                    return;
                }
                if let Some(current) = cache.objects.get(&key)
                    && current.rv >= entry.rv
                {
                    return;
                }
            }
            cache.objects.insert(key, entry.clone())
        };
        self.notify(&Change::Upserted {
            old: old.as_deref(),
            new: &entry,
        });
    }

    /// Removes an object; `seen` is the deleted object when the watch reported it.
    fn remove(&self, key: ObjectKey, rv: u64, seen: Option<Entry>) {
        let removed = {
            let mut cache = self.write();
            if let Some(current) = cache.objects.get(&key)
                && rv != 0
                && current.rv > rv
            {
                // Recreated since: this deletion is old news.
                return;
            }
            if cache.tombstones.len() >= TOMBSTONES {
                cache.tombstones.clear();
            }
            cache.tombstones.insert(key.clone(), rv);
            cache.objects.remove(&key)
        };
        if let Some(entry) = removed.or_else(|| seen.map(Arc::new)) {
            self.notify(&Change::Deleted(&entry));
        }
    }

    /// A complete list: what is missing from it was deleted.
    fn replace(&self, items: Vec<Entry>) {
        let fresh: BTreeMap<ObjectKey, Arc<Entry>> = items
            .into_iter()
            .map(|e| {
                (
                    (e.namespace().to_string(), e.name().to_string()),
                    Arc::new(e),
                )
            })
            .collect();
        let (old, gone): (BTreeMap<ObjectKey, Arc<Entry>>, Vec<Arc<Entry>>) = {
            let mut cache = self.write();
            let old = std::mem::replace(&mut cache.objects, fresh.clone());
            cache.tombstones.clear();
            let gone = old
                .iter()
                .filter(|(k, _)| !fresh.contains_key(*k))
                .map(|(_, e)| e.clone())
                .collect();
            (old, gone)
        };
        for e in &gone {
            self.notify(&Change::Deleted(e));
        }
        for (k, e) in &fresh {
            let before = old.get(k);
            if before.is_none_or(|b| b.rv != e.rv) {
                self.notify(&Change::Upserted {
                    old: before.map(|b| &**b),
                    new: e,
                });
            }
        }
        self.synced.store(true, Ordering::Release);
    }

    fn notify(&self, change: &Change<'_>) {
        let handlers: Vec<Handler> = self.lock_handlers().values().cloned().collect();
        for h in handlers {
            h(change);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_handlers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Handler>> {
        self.handlers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every informer of the process, started on first use.
#[derive(Clone)]
pub struct Informers {
    client: Client,
    pub discovery: Discovery,
    by_kind: Arc<Mutex<ByKind>>,
}

impl Informers {
    pub fn new(client: Client) -> Self {
        Informers {
            discovery: Discovery::new(client.clone()),
            client,
            by_kind: Arc::default(),
        }
    }

    /// The informer of a kind, already running, if some controller asked for it.
    pub fn get(&self, api_version: &str, kind: &str) -> Option<Arc<Informer>> {
        self.lock()
            .get(&(api_version.to_string(), kind.to_string()))
            .cloned()
    }

    /// The informer of a kind, started (list, then watch) if it is new.
    pub async fn ensure(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Arc<Informer>, DiscoveryError> {
        if let Some(i) = self.get(api_version, kind) {
            return Ok(i);
        }
        let resource = self.discovery.resolve(api_version, kind).await?;
        let mut by_kind = self.lock();
        let informer = by_kind
            .entry((api_version.to_string(), kind.to_string()))
            .or_insert_with(|| {
                let informer = Arc::new(Informer::new(resource.clone()));
                run(self.client.clone(), informer.clone());
                informer
            })
            .clone();
        Ok(informer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ByKind> {
        self.by_kind.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn run(client: Client, informer: Arc<Informer>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Reflected<Doc>>();
    tokio::spawn(reflect(client, informer.resource.collection(), tx));
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            match r {
                Reflected::Listed(items) => {
                    informer.replace(items.into_iter().map(Entry::from).collect())
                }
                Reflected::Applied(doc) => informer.upsert(Entry::from(doc)),
                Reflected::Deleted(doc) => {
                    let e = Entry::from(doc);
                    let key = (e.namespace().to_string(), e.name().to_string());
                    let rv = e.rv;
                    informer.remove(key, rv, Some(e));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ns: &str, name: &str, rv: u64) -> Value {
        json!({"metadata": {"namespace": ns, "name": name, "resourceVersion": rv.to_string()}})
    }

    fn entries(values: Vec<Value>) -> Vec<Entry> {
        values.into_iter().map(Entry::new).collect()
    }

    fn informer() -> Informer {
        Informer::new(Resource {
            api_version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            namespaced: true,
        })
    }

    #[test]
    fn older_versions_never_replace_newer_ones_nor_revive_deleted_objects() {
        let i = informer();
        i.write_through(pod("a", "p", 5));
        i.upsert(Entry::new(pod("a", "p", 4)));
        assert_eq!(i.get("a", "p").unwrap().rv, 5);
        i.write_through_delete("a", "p", 6);
        i.upsert(Entry::new(pod("a", "p", 5)));
        assert!(i.get("a", "p").is_none());
        i.upsert(Entry::new(pod("a", "p", 7)));
        assert_eq!(i.get("a", "p").unwrap().rv, 7);
    }

    #[test]
    fn a_watched_object_keeps_its_text_and_reads_only_its_metadata_up_front() {
        let text = r#"{"metadata":{"name":"p","namespace":"a","resourceVersion":"9","uid":"u","labels":{"app":"web"},"ownerReferences":null,"finalizers":["f"]},"spec":{"containers":[{"name":"c","image":"x"}]},"status":{"phase":"Running"}}"#;
        let e = Entry::from(serde_json::from_str::<Doc>(text).unwrap());
        assert_eq!(e.json(), text, "guests read the text as it came");
        assert_eq!((e.namespace(), e.name(), e.rv), ("a", "p", 9));
        assert_eq!(e.meta().uid, "u");
        assert_eq!(e.meta().labels, json!({"app": "web"}));
        assert!(e.meta().owner_references.is_null());
        assert_eq!(e.meta().finalizers, json!(["f"]));
        assert!(e.value.get().is_none(), "not decoded until asked");
        assert_eq!(e.value()["status"]["phase"], "Running");
        // An object without metadata still reads (as nameless, unversioned).
        let bare = Entry::from(serde_json::from_str::<Doc>(r#"{"metadata":null}"#).unwrap());
        assert_eq!((bare.name(), bare.rv), ("", 0));
        // Written through from a decoded answer: the same views.
        let written = Entry::new(serde_json::from_str(text).unwrap());
        assert_eq!(written.meta().labels, e.meta().labels);
        assert_eq!(written.value(), e.value());
    }

    #[test]
    fn namespaces_are_listed_apart() {
        let i = informer();
        i.replace(entries(vec![
            pod("a", "1", 1),
            pod("ab", "2", 2),
            pod("b", "3", 3),
        ]));
        assert!(i.has_synced());
        assert_eq!(i.list("a").len(), 1);
        assert_eq!(i.list("ab").len(), 1);
        assert_eq!(i.list("").len(), 3);
    }

    #[test]
    fn a_relist_reports_what_vanished_and_what_changed() {
        let i = informer();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        i.set_handler(
            "t",
            Arc::new(move |c: &Change<'_>| {
                s.lock().unwrap().push(match c {
                    Change::Upserted { new, .. } => format!("+{}", new.name()),
                    Change::Deleted(e) => format!("-{}", e.name()),
                })
            }),
        );
        i.replace(entries(vec![pod("a", "1", 1), pod("a", "2", 2)]));
        i.replace(entries(vec![pod("a", "1", 1), pod("a", "3", 3)]));
        assert_eq!(*seen.lock().unwrap(), ["+1", "+2", "-2", "+3"]);
    }
}
