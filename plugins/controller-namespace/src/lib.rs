//! The Namespace controller: a namespace being deleted (`Terminating`) has
//! everything in it deleted (the built-in kinds, and the objects of every
//! namespaced custom resource), and once nothing is left its `kubernetes` finalizer
//! is removed, which lets the API server remove the namespace itself.

use serde_json::{Value, json};
use wharf_controller_sdk::ownership::skip_lost_race;
use wharf_controller_sdk::{
    Context, DeleteRequest, Error, ErrorReason, Key, KindRef, Mapping, Outcome, Reconciler,
    Registration, SubresourceUpdate, Trigger, Watch, Write,
};

/// The namespaced kinds emptied, in this order (owners before what they own, so
/// controllers do not recreate what was just deleted).
pub const KINDS: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "Endpoints"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("coordination.k8s.io/v1", "Lease"),
    ("v1", "Event"),
];

const FINALIZER: &str = "kubernetes";

const CRD: (&str, &str) = ("apiextensions.k8s.io/v1", "CustomResourceDefinition");

/// The kind a namespaced CustomResourceDefinition serves, at its storage version;
/// none for a cluster-scoped one.
fn custom_kind(crd: &Value) -> Option<KindRef> {
    let spec = crd.get("spec")?;
    if spec.get("scope").and_then(Value::as_str) != Some("Namespaced") {
        return None;
    }
    let group = spec.get("group").and_then(Value::as_str)?;
    let kind = spec.pointer("/names/kind").and_then(Value::as_str)?;
    let versions = spec.get("versions").and_then(Value::as_array)?;
    let version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| versions.first())?
        .get("name")
        .and_then(Value::as_str)?;
    Some(KindRef {
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
    })
}

fn kind(k: &(&str, &str)) -> KindRef {
    KindRef {
        api_version: k.0.into(),
        kind: k.1.into(),
    }
}

pub struct NamespaceController;

impl Reconciler for NamespaceController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("namespace", config)?;
        Ok(NamespaceController)
    }

    fn registration(&self) -> Registration {
        Registration {
            primary: KindRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
            },
            primary_trigger: Trigger::AnyChange,
            // Read to empty a terminating namespace; their changes wake nothing
            // (a terminating namespace is looked at again every two seconds).
            // The definitions are read to find the custom kinds to empty, whose
            // objects are then listed from the API server.
            watches: KINDS
                .iter()
                .chain([&CRD])
                .map(|k| Watch {
                    kind: kind(k),
                    mapping: Mapping::None,
                })
                .collect(),
            resync_seconds: 0,
        }
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let ns_kind = KindRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
        };
        let Some(ns) = ctx.get_json(&ns_kind, "", &key.name)? else {
            return Ok(Outcome::Done);
        };
        if ns
            .pointer("/metadata/deletionTimestamp")
            .is_none_or(Value::is_null)
        {
            return Ok(Outcome::Done);
        }
        let mut remaining = 0usize;
        let mut deletes = Vec::new();
        let mut contents: Vec<(KindRef, Vec<Value>)> = Vec::new();
        for crd in ctx.list_json(&kind(&CRD), "", "")? {
            let Some(custom) = custom_kind(&crd) else {
                continue;
            };
            match ctx.fetch_list_json(&custom, &key.name, "") {
                Ok(objects) => contents.push((custom, objects)),
                // The definition went away meanwhile, and its objects with it.
                Err(e) if e.reason() == Some(ErrorReason::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        for k in KINDS {
            contents.push((kind(k), ctx.list_json(&kind(k), &key.name, "")?));
        }
        for (k, objects) in contents {
            for obj in objects {
                remaining += 1;
                if obj
                    .pointer("/metadata/deletionTimestamp")
                    .is_some_and(|t| !t.is_null())
                {
                    continue;
                }
                let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_string);
                deletes.push(Write::Delete(DeleteRequest {
                    kind: k.clone(),
                    key: Key {
                        namespace: key.name.clone(),
                        name: s("/metadata/name").unwrap_or_default(),
                    },
                    uid: s("/metadata/uid"),
                    propagation: Some("Background".into()),
                }));
            }
        }
        for r in ctx.apply_all(deletes) {
            skip_lost_race(r.map(|_| ()).map_err(Error::from))?;
        }
        if remaining > 0 {
            // Deletions bring their own events; this is the backstop for pods
            // whose graceful termination takes its time.
            return Ok(Outcome::RequeueAfter(2_000));
        }
        let finalizers: Vec<Value> = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == FINALIZER) {
            return Ok(Outcome::Done);
        }
        let mut finalized = ns.clone();
        finalized["spec"]["finalizers"] = json!(
            finalizers
                .into_iter()
                .filter(|f| f != FINALIZER)
                .collect::<Vec<_>>()
        );
        let r = ctx.apply(Write::UpdateSubresource(SubresourceUpdate {
            subresource: "finalize".into(),
            object: finalized.to_string(),
        }));
        skip_lost_race(r.map(|_| ()))?;
        Ok(Outcome::Done)
    }
}

wharf_controller_sdk::export_controller!(NamespaceController);
