//! The garbage collector, for one kind of object per instance (its config names
//! the kind, the kinds that may own it, and the kinds it may own):
//!
//! - As a dependent: an object all of whose owners are gone is deleted (checked
//!   against the API itself, not only the cache, so a cache that lags never
//!   costs an object); references to owners that are gone are dropped while
//!   others remain; an owner being deleted in the foreground takes it along
//!   unless another owner still holds it (then only that reference goes); an
//!   owner being deleted with `orphan` still holds it until its own pass
//!   removes the reference.
//! - As an owner being deleted: with `foregroundDeletion`, its dependents are
//!   deleted (those another owner still holds are only let go) and the finalizer
//!   removed once none that block it remain; with
//!   `orphan`, its dependents are released and the finalizer removed.
//!
//! Background deletion is the first rule: the owner is gone at once and its
//! dependents follow.

use serde::Deserialize;
use serde_json::{Value, json};
use wharf_controller_sdk::kinds::{
    CUSTOM_RESOURCE_DEFINITION, NAMESPACED, custom_namespaced_kind, same_kind,
};
use wharf_controller_sdk::ownership::{skip_lost_race, unless_lost_race};
use wharf_controller_sdk::{
    Context, DeleteRequest, Error, Key, KindRef, Mapping, Outcome, PatchRequest, PatchType,
    Reconciler, Registration, Trigger, Watch, Write,
};

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";
/// How soon an owner being deleted in the foreground looks again for blocking
/// dependents that it does not control (their changes do not enqueue it).
const UNANNOUNCED_RECHECK_MS: u32 = 1_000;
/// How soon a pass whose write lost a race (the object changed meanwhile) looks
/// again, with what is there now.
const LOST_RACE_RECHECK_MS: u32 = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `v1/Pod`, `apps/v1/ReplicaSet`: the kind this instance collects.
    kind: String,
    /// Kinds whose objects may own it.
    #[serde(default)]
    owners: Vec<String>,
    /// Kinds it may own.
    #[serde(default)]
    dependents: Vec<String>,
    /// How often every object of the kind is looked at again, which is how
    /// objects owned by kinds not in `owners` are noticed (default 600).
    #[serde(default = "default_resync", rename = "resyncSeconds")]
    resync_seconds: u32,
}

fn default_resync() -> u32 {
    600
}

fn parse_kind(text: &str) -> Result<KindRef, String> {
    match text.rsplit_once('/') {
        Some((api_version, kind)) if !api_version.is_empty() && !kind.is_empty() => Ok(KindRef {
            api_version: api_version.into(),
            kind: kind.into(),
        }),
        _ => Err(format!(
            "{text:?} is not a kind; write apiVersion/Kind, e.g. apps/v1/ReplicaSet"
        )),
    }
}

pub struct GarbageCollector {
    kind: KindRef,
    owners: Vec<KindRef>,
    dependents: Vec<KindRef>,
    resync_seconds: u32,
}

impl Reconciler for GarbageCollector {
    fn configure(config: &str) -> Result<Self, String> {
        let c: Config = serde_json::from_str(config)
            .map_err(|e| format!("config: {e} (expected {{\"kind\": \"apiVersion/Kind\", \"owners\": [...], \"dependents\": [...]}})"))?;
        let list = |v: &[String]| {
            v.iter()
                .map(|k| parse_kind(k))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(GarbageCollector {
            kind: parse_kind(&c.kind)?,
            owners: list(&c.owners)?,
            dependents: list(&c.dependents)?,
            resync_seconds: c.resync_seconds,
        })
    }

    fn registration(&self) -> Registration {
        let mut watches: Vec<Watch> = self
            .owners
            .iter()
            .map(|k| Watch {
                kind: k.clone(),
                mapping: Mapping::Dependents,
            })
            .collect();
        watches.extend(self.dependents.iter().map(|k| Watch {
            kind: k.clone(),
            mapping: Mapping::Owner,
        }));
        Registration {
            primary: self.kind.clone(),
            primary_trigger: Trigger::OwnershipChange,
            watches,
            resync_seconds: self.resync_seconds,
        }
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(obj) = ctx.get_json(&self.kind, &key.namespace, &key.name)? else {
            return Ok(Outcome::Done);
        };
        if deleting(&obj) {
            return self.finish_owner(ctx, key, &obj);
        }
        self.check_owners(ctx, key, &obj)
    }
}

fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn refs(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// How an owner reference stands.
enum OwnerState {
    Present,
    /// Gone, or replaced by another object of the same name.
    Absent,
    /// Being deleted and waiting for its dependents to go.
    DeletingForeground,
    /// Being deleted and letting its dependents go.
    DeletingOrphan,
}

/// A dependent's owner references by how their owners stand, as Kubernetes'
/// collector sorts them.
#[derive(Default)]
struct Owners {
    /// Owners that are there and not being deleted in the foreground (one being
    /// deleted with `orphan` still holds it: releasing it is that owner's pass).
    solid: Vec<Value>,
    /// Owners being deleted in the foreground, waiting for their dependents.
    waiting: Vec<Value>,
    /// References to owners that are gone.
    absent: usize,
}

impl GarbageCollector {
    fn owner_kind(&self, r: &Value) -> Option<&KindRef> {
        let referenced = KindRef {
            api_version: str_at(r, "/apiVersion").into(),
            kind: str_at(r, "/kind").into(),
        };
        self.owners.iter().find(|k| same_kind(k, &referenced))
    }

    fn owner_state(
        &self,
        ctx: &Context<'_>,
        namespace: &str,
        r: &Value,
    ) -> Result<OwnerState, Error> {
        // Owners of the kinds this instance watches are looked up in the cache
        // first; any other kind only through the API (resolved by discovery, so
        // custom kinds work too). A lookup that fails is an error, retried: an
        // owner is never taken for absent without a definite 404.
        let watched = self.owner_kind(r).cloned();
        let kind = watched.clone().unwrap_or_else(|| KindRef {
            api_version: str_at(r, "/apiVersion").into(),
            kind: str_at(r, "/kind").into(),
        });
        let name = str_at(r, "/name");
        let uid = str_at(r, "/uid");
        let cached = match &watched {
            Some(k) => ctx
                .get_json(k, namespace, name)?
                .or(ctx.get_json(k, "", name)?),
            None => None,
        };
        let owner = match cached {
            Some(o) if str_at(&o, "/metadata/uid") == uid => Some(o),
            // Missing from the cache, or not cached: ask the API, which may be
            // ahead of the cache. (A cluster-scoped owner's path ignores the
            // namespace.)
            _ => ctx
                .fetch_json(&kind, namespace, name)?
                .filter(|o| str_at(o, "/metadata/uid") == uid),
        };
        Ok(match owner {
            None => OwnerState::Absent,
            Some(o) if deleting(&o) && finalizers(&o).iter().any(|f| f == FOREGROUND) => {
                OwnerState::DeletingForeground
            }
            Some(o) if deleting(&o) && finalizers(&o).iter().any(|f| f == ORPHAN) => {
                OwnerState::DeletingOrphan
            }
            Some(_) => OwnerState::Present,
        })
    }

    /// Sorts `obj`'s owner references by how their owners stand, as Kubernetes'
    /// collector does before deciding anything about a dependent.
    fn classify(&self, ctx: &Context<'_>, namespace: &str, obj: &Value) -> Result<Owners, Error> {
        let mut owners = Owners::default();
        for r in refs(obj) {
            match self.owner_state(ctx, namespace, &r)? {
                OwnerState::Present | OwnerState::DeletingOrphan => owners.solid.push(r),
                OwnerState::DeletingForeground => owners.waiting.push(r),
                OwnerState::Absent => owners.absent += 1,
            }
        }
        Ok(owners)
    }

    fn check_owners(&self, ctx: &Context<'_>, key: &Key, obj: &Value) -> Result<Outcome, Error> {
        let references = refs(obj).len();
        if references == 0 {
            return Ok(Outcome::Done);
        }
        let owners = self.classify(ctx, &key.namespace, obj)?;
        let uid = str_at(obj, "/metadata/uid").to_string();
        if owners.solid.is_empty() {
            if !owners.waiting.is_empty() {
                // Every owner left waits for it in the foreground: it goes,
                // taking its own dependents first.
                return self.delete(ctx, key, &uid, "Foreground");
            }
            if owners.absent > 0 {
                // Every owner is gone: so is this.
                return self.delete(ctx, key, &uid, "Background");
            }
        }
        if owners.solid.len() < references
            && !self.keep_only(ctx, key, &self.kind, obj, &owners.solid)?
        {
            // An owner that is still there keeps it. References to owners that
            // are gone or being deleted in the foreground are dropped (so such
            // an owner need not wait for it) — once this write wins.
            return Ok(Outcome::RequeueAfter(LOST_RACE_RECHECK_MS));
        }
        Ok(Outcome::Done)
    }

    /// Rewrites `obj`'s owner references to `keep`, provided it is still the
    /// object read (its uid and resourceVersion are preconditions): a reference
    /// added meanwhile (an adoption) is never dropped unseen. False when the
    /// object changed or went; the caller looks again.
    fn keep_only(
        &self,
        ctx: &Context<'_>,
        key: &Key,
        kind: &KindRef,
        obj: &Value,
        keep: &[Value],
    ) -> Result<bool, Error> {
        let patch = json!({"metadata": {
            "ownerReferences": keep,
            "uid": str_at(obj, "/metadata/uid"),
            "resourceVersion": str_at(obj, "/metadata/resourceVersion"),
        }});
        self.patch(ctx, key, kind, patch)
    }

    fn delete(
        &self,
        ctx: &Context<'_>,
        key: &Key,
        uid: &str,
        propagation: &str,
    ) -> Result<Outcome, Error> {
        let r = ctx.apply(Write::Delete(DeleteRequest {
            kind: self.kind.clone(),
            key: key.clone(),
            uid: Some(uid.to_string()),
            propagation: Some(propagation.into()),
        }));
        skip_lost_race(r.map(|_| ()))?;
        Ok(Outcome::Done)
    }

    /// A JSON merge patch of `key`; false if it lost a race (the object changed
    /// against a precondition in `body`, or went).
    fn patch(
        &self,
        ctx: &Context<'_>,
        key: &Key,
        kind: &KindRef,
        body: Value,
    ) -> Result<bool, Error> {
        let r = ctx.apply(Write::Patch(PatchRequest {
            kind: kind.clone(),
            key: key.clone(),
            patch_type: PatchType::Merge,
            body: body.to_string(),
            subresource: None,
        }));
        Ok(unless_lost_race(r)?.is_some())
    }

    /// Every kind an owner's dependents may be of, and whether this instance
    /// caches it: the configured `dependents` (cached, so their changes wake the
    /// owner), then every other namespaced kind the API serves, built-in and
    /// custom, listed from the API. An owner is only let go once dependents of
    /// every kind are dealt with: one of a kind left out would be taken by its
    /// own collector as soon as the owner is gone, whatever the policy said.
    fn dependent_kinds(&self, ctx: &Context<'_>) -> Result<Vec<(KindRef, bool)>, Error> {
        let mut kinds: Vec<(KindRef, bool)> =
            self.dependents.iter().map(|k| (k.clone(), true)).collect();
        let mut add = |k: KindRef| {
            if !kinds.iter().any(|(have, _)| same_kind(have, &k)) {
                kinds.push((k, false));
            }
        };
        for served in NAMESPACED {
            add(served.kind_ref());
        }
        for crd in ctx.fetch_list_json(&CUSTOM_RESOURCE_DEFINITION.kind_ref(), "", "")? {
            if let Some((kind, _)) = custom_namespaced_kind(&crd) {
                add(kind);
            }
        }
        Ok(kinds)
    }

    /// An owner being deleted: deal with its dependents, then let it go.
    fn finish_owner(&self, ctx: &Context<'_>, key: &Key, obj: &Value) -> Result<Outcome, Error> {
        let held = finalizers(obj);
        let policy = if held.iter().any(|f| f == ORPHAN) {
            ORPHAN
        } else if held.iter().any(|f| f == FOREGROUND) {
            FOREGROUND
        } else {
            return Ok(Outcome::Done);
        };
        let uid = str_at(obj, "/metadata/uid").to_string();
        let mut waiting = 0;
        // Whether a dependent it waits for will not enqueue it when it goes.
        let mut unannounced = false;
        // Whether a dependent changed while this pass wrote to it.
        let mut lost_race = false;
        for (kind, cached) in self.dependent_kinds(ctx)? {
            let candidates = if cached {
                ctx.list_json(&kind, &key.namespace, "")?
            } else {
                ctx.fetch_list_json(&kind, &key.namespace, "")?
            };
            for d in candidates {
                let all = refs(&d);
                let Some(mine) = all.iter().find(|r| str_at(r, "/uid") == uid) else {
                    continue;
                };
                let dkey = Key {
                    namespace: str_at(&d, "/metadata/namespace").into(),
                    name: str_at(&d, "/metadata/name").into(),
                };
                let duid = str_at(&d, "/metadata/uid").to_string();
                if policy == ORPHAN {
                    let rest: Vec<Value> = all
                        .iter()
                        .filter(|r| str_at(r, "/uid") != uid)
                        .cloned()
                        .collect();
                    lost_race |= !self.keep_only(ctx, &dkey, &kind, &d, &rest)?;
                    continue;
                }
                if all.len() > 1 {
                    // A dependent that another owner still holds stays: only
                    // its reference to this owner (and to owners gone) goes.
                    let owners = self.classify(ctx, &dkey.namespace, &d)?;
                    if !owners.solid.is_empty() {
                        lost_race |= !self.keep_only(ctx, &dkey, &kind, &d, &owners.solid)?;
                        continue;
                    }
                }
                if mine.get("blockOwnerDeletion") == Some(&json!(true)) {
                    waiting += 1;
                    // Only a dependent's controlling reference, of a kind this
                    // instance watches, maps its changes back to this owner (see
                    // `registration`).
                    unannounced |= !cached || mine.get("controller") != Some(&json!(true));
                }
                if !deleting(&d) {
                    let r = ctx.apply(Write::Delete(DeleteRequest {
                        kind: kind.clone(),
                        key: dkey,
                        uid: Some(duid),
                        propagation: Some("Foreground".into()),
                    }));
                    skip_lost_race(r.map(|_| ()))?;
                }
            }
        }
        if lost_race {
            // Not released until every dependent is: one still naming this
            // owner once it is gone would be collected.
            return Ok(Outcome::RequeueAfter(LOST_RACE_RECHECK_MS));
        }
        if waiting > 0 {
            // A controlled dependent's deletion enqueues this owner again; one
            // that merely names it is looked for again shortly.
            return Ok(if unannounced {
                Outcome::RequeueAfter(UNANNOUNCED_RECHECK_MS)
            } else {
                Outcome::Done
            });
        }
        let rest: Vec<String> = held.into_iter().filter(|f| f != policy).collect();
        let patch = json!({"metadata": {"finalizers": rest, "uid": uid}});
        // Lost only if the owner is gone already.
        self.patch(ctx, key, &self.kind, patch)?;
        Ok(Outcome::Done)
    }
}

wharf_controller_sdk::export_controller!(GarbageCollector);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_config_key_is_refused_by_name() {
        assert!(GarbageCollector::configure(r#"{"kind": "v1/Pod"}"#).is_ok());
        let err = GarbageCollector::configure(r#"{"kind": "v1/Pod", "owner": ["v1/Node"]}"#)
            .err()
            .expect("a misspelt key is refused");
        assert!(err.contains("`owner`"), "{err}");
    }
}
