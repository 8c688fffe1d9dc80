//! The Namespace controller: a namespace being deleted (`Terminating`) has
//! everything in it deleted (the built-in kinds, and the objects of every
//! namespaced custom resource), and once nothing is left its `kubernetes` finalizer
//! is removed, which lets the API server remove the namespace itself. Meanwhile
//! the namespace's status conditions say what is left, as Kubernetes' namespace
//! controller reports them (`kubectl describe namespace` shows them).

mod conditions;

use serde_json::{Value, json};
use wharf_controller_sdk::kinds::{
    CUSTOM_RESOURCE_DEFINITION, NAMESPACED, Served, custom_namespaced_kind,
};
use wharf_controller_sdk::ownership::skip_lost_race;
use wharf_controller_sdk::{
    Context, DeleteRequest, Error, ErrorReason, Key, KindRef, Mapping, Outcome, Reconciler,
    Registration, SubresourceUpdate, Trigger, Watch, Write,
};

/// The resource a built-in kind is counted under in the conditions: `pods.`,
/// `deployments.apps` (Kubernetes writes the group after a dot, empty for core).
fn resource(k: &Served) -> String {
    format!("{}.{}", k.plural, k.group())
}

const FINALIZER: &str = "kubernetes";

const CRD: Served = CUSTOM_RESOURCE_DEFINITION;

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
            watches: NAMESPACED
                .iter()
                .chain([&CRD])
                .map(|k| Watch {
                    kind: k.kind_ref(),
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
        let mut deletes = Vec::new();
        let mut contents: Vec<(KindRef, String, Vec<Value>)> = Vec::new();
        for crd in ctx.list_json(&CRD.kind_ref(), "", "")? {
            let Some((custom, resource)) = custom_namespaced_kind(&crd) else {
                continue;
            };
            match ctx.fetch_list_json(&custom, &key.name, "") {
                Ok(objects) => contents.push((custom, resource, objects)),
                // The definition went away meanwhile, and its objects with it.
                Err(e) if e.reason() == Some(ErrorReason::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        for k in NAMESPACED {
            contents.push((
                k.kind_ref(),
                resource(k),
                ctx.list_json(&k.kind_ref(), &key.name, "")?,
            ));
        }
        // What is left once this pass's deletes are answered: objects already
        // being deleted, and those a delete only marked (finalizers, grace).
        let mut left = conditions::Remaining::default();
        let mut deleted = Vec::new();
        for (k, resource, objects) in contents {
            for obj in objects {
                if obj
                    .pointer("/metadata/deletionTimestamp")
                    .is_some_and(|t| !t.is_null())
                {
                    left.count(&resource, &obj);
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
                deleted.push((k.kind.clone(), resource.clone()));
            }
        }
        let mut failure = None;
        let answers = ctx.apply_all(deletes);
        for ((kind, resource), answer) in deleted.iter().zip(answers) {
            match answer {
                Ok(answer) => {
                    let answer: Value = serde_json::from_str(&answer).unwrap_or_default();
                    let marked = answer.get("kind").and_then(Value::as_str) == Some(kind)
                        && answer
                            .pointer("/metadata/deletionTimestamp")
                            .is_some_and(|t| !t.is_null());
                    if marked {
                        left.count(resource, &answer);
                    }
                }
                Err(e) => {
                    if let Err(e) = skip_lost_race(Err(Error::from(e))) {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        let ns = conditions::report(ctx, ns, &left, failure.as_ref())?;
        if let Some(e) = failure {
            return Err(e);
        }
        if !deleted.is_empty() || !left.is_empty() {
            // Deletions bring their own events; this is the backstop for pods
            // whose graceful termination takes its time. A pass that deleted
            // anything looks again before finalizing, so that what the cache had
            // not seen yet is found then.
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
