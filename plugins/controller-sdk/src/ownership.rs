//! Owner references as Kubernetes' controllers use them: who controls an object,
//! and claiming (adopting matching orphans, releasing owned objects that no
//! longer match) as the ControllerRefManager does.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Context, Error, ErrorReason};

/// The controlling owner reference of an object, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// A controlling reference to `owner`, blocking its foreground deletion.
pub fn controller_reference<K>(owner: &K) -> OwnerReference
where
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let meta = owner.metadata();
    OwnerReference {
        api_version: K::API_VERSION.into(),
        kind: K::KIND.into(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Whether a selector selects anything at all: an empty one would take every
/// object in the namespace, so controllers treat it as selecting nothing.
pub fn selects_something(selector: &LabelSelector) -> bool {
    selector
        .match_labels
        .as_ref()
        .is_some_and(|m| !m.is_empty())
        || selector
            .match_expressions
            .as_ref()
            .is_some_and(|e| !e.is_empty())
}

/// What [`claim`] needs to look at, read from the cache without decoding the
/// whole namespace: the objects `owner` owns (matching or not) and those its
/// selector matches (orphans to adopt among them), each once.
pub fn candidates<O, K>(
    ctx: &Context<'_>,
    owner: &O,
    selector: &LabelSelector,
) -> Result<Vec<K>, Error>
where
    O: k8s_openapi::Metadata<Ty = ObjectMeta>,
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + DeserializeOwned,
{
    let meta = owner.metadata();
    let namespace = meta.namespace.as_deref().unwrap_or("");
    let mut out: Vec<K> = ctx.list_owned(namespace, meta.uid.as_deref().unwrap_or(""))?;
    if selects_something(selector) {
        let seen: std::collections::HashSet<String> = out
            .iter()
            .filter_map(|o| o.metadata().uid.clone())
            .collect();
        // Most of what the selector matches is already owned: only the uid of
        // each is read to tell, and only the others are decoded in full.
        #[derive(serde::Deserialize)]
        struct Peek {
            metadata: PeekMeta,
        }
        #[derive(serde::Deserialize)]
        struct PeekMeta {
            uid: Option<String>,
        }
        let kind = crate::kind_of::<K>();
        for json in ctx.list_raw(&kind, namespace, &crate::selector::to_query(selector))? {
            let uid = serde_json::from_str::<Peek>(&json)
                .ok()
                .and_then(|p| p.metadata.uid);
            if uid.is_some_and(|u| seen.contains(&u)) {
                continue;
            }
            out.push(serde_json::from_str(&json).map_err(|e| Error::Decode {
                what: format!("a {} in {namespace}", K::KIND),
                message: e.to_string(),
            })?);
        }
    }
    Ok(out)
}

/// The objects `owner` controls, after claiming: an object it controls stays if
/// the selector still matches it and is released otherwise; an orphan that
/// matches is adopted (unless either is being deleted); objects controlled by
/// others are left alone. Adoption and release are updates with the object's
/// resourceVersion; one that lost a race is skipped (its change brings another
/// pass).
pub fn claim<O, K>(
    ctx: &Context<'_>,
    owner: &O,
    selector: &LabelSelector,
    objects: Vec<K>,
) -> Result<Vec<K>, Error>
where
    O: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>,
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + Serialize
        + DeserializeOwned,
{
    let owner_meta = owner.metadata();
    let uid = owner_meta.uid.clone().unwrap_or_default();
    let usable = selects_something(selector);
    let mut owned = Vec::new();
    for mut obj in objects {
        let meta = obj.metadata();
        let labels = meta.labels.clone().unwrap_or_default();
        let matches = usable && crate::selector::matches(selector, &labels);
        let controller = controller_of(meta).map(|r| r.uid.clone());
        match controller {
            Some(c) if c == uid => {
                if matches {
                    owned.push(obj);
                } else if meta.deletion_timestamp.is_none() {
                    if let Some(refs) = &mut obj.metadata_mut().owner_references {
                        refs.retain(|r| r.uid != uid);
                    }
                    skip_lost_race(ctx.update(&obj).map(|_| ()))?;
                }
            }
            Some(_) => {}
            None => {
                if matches
                    && meta.deletion_timestamp.is_none()
                    && owner_meta.deletion_timestamp.is_none()
                {
                    obj.metadata_mut()
                        .owner_references
                        .get_or_insert_with(Vec::new)
                        .push(controller_reference(owner));
                    match ctx.update(&obj) {
                        Ok(adopted) => owned.push(adopted),
                        Err(e) => skip_lost_race(Err(e))?,
                    }
                }
            }
        }
    }
    Ok(owned)
}

/// A write that lost a race (the object vanished or changed meanwhile) is not a
/// failure: the change that beat it brings another pass.
pub fn skip_lost_race(r: Result<(), Error>) -> Result<(), Error> {
    unless_lost_race(r).map(|_| ())
}

/// As [`skip_lost_race`], for a write whose result is wanted: `None` if it lost
/// the race.
pub fn unless_lost_race<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(written) => Ok(Some(written)),
        Err(e)
            if matches!(
                e.reason(),
                Some(ErrorReason::NotFound | ErrorReason::Conflict)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
