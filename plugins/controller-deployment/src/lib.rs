//! The Deployment controller, as Kubernetes' behaves: a ReplicaSet per pod
//! template (named and labelled by the template's hash), rolled with
//! RollingUpdate (maxSurge, maxUnavailable) or Recreate; revisions recorded for
//! `kubectl rollout history|undo`; old ReplicaSets kept up to
//! `revisionHistoryLimit`; paused Deployments scaled but not rolled; status with
//! the `Available` and `Progressing` conditions `kubectl rollout status` reads,
//! including `ProgressDeadlineExceeded`.

pub mod revision;
pub mod rollout;
mod status;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wharf_controller_sdk::{
    Context, Error, ErrorReason, EventType, Key, Mapping, Outcome, Reconciler, Registration,
    ownership, registration, watch,
};

use crate::revision::{
    DESIRED_REPLICAS, HASH_LABEL, MAX_REPLICAS, NOT_COPIED, REVISION, template_hash, without_hash,
};
use crate::rollout::Rs;

pub struct DeploymentController;

impl Reconciler for DeploymentController {
    fn configure(config: &str) -> Result<Self, String> {
        wharf_controller_sdk::config::none("deployment", config)?;
        Ok(DeploymentController)
    }

    fn registration(&self) -> Registration {
        let mut r = registration::<Deployment>(vec![watch::<ReplicaSet>(
            Mapping::OwnerOrSelector("spec.selector".into()),
        )]);
        r.resync_seconds = 300;
        r
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        let Some(d) = ctx.get::<Deployment>(&key.namespace, &key.name)? else {
            return Ok(Outcome::Done);
        };
        let Some(spec) = d.spec.clone() else {
            return Ok(Outcome::Done);
        };
        let candidates = ownership::candidates::<_, ReplicaSet>(ctx, &d, &spec.selector)?;
        let mut sets = ownership::claim(ctx, &d, &spec.selector, candidates)?;
        sets.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
                .then(a.metadata.name.cmp(&b.metadata.name))
        });
        if d.metadata.deletion_timestamp.is_some() {
            return status::sync(ctx, &d, None, &sets, false);
        }
        let desired = spec.replicas.unwrap_or(1).max(0);
        let paused = spec.paused.unwrap_or(false);
        let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");

        let template = without_hash(&spec.template);
        let new_index = sets.iter().position(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| without_hash(t) == template)
        });
        let new = new_index.map(|i| sets.remove(i));
        let old = sets;

        if paused {
            scale_paused(ctx, &d, desired, new.as_ref(), &old)?;
            return status::sync(ctx, &d, new.as_ref(), &old, false);
        }
        if recreate {
            return recreate_rollout(ctx, &d, desired, new, &old);
        }
        rolling(ctx, &d, desired, new, &old)
    }
}

fn view(rs: &ReplicaSet) -> Rs {
    Rs {
        name: rs.metadata.name.clone().unwrap_or_default(),
        replicas: rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0),
        available: rs
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0),
    }
}

fn rolling(
    ctx: &Context<'_>,
    d: &Deployment,
    desired: i32,
    new: Option<ReplicaSet>,
    old: &[ReplicaSet],
) -> Result<Outcome, Error> {
    let spec = d.spec.as_ref().expect("checked by the caller");
    let ru = spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    let (surge, unavailable) = rollout::fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        desired,
    );
    let old_views: Vec<Rs> = old.iter().map(view).collect();

    // The new ReplicaSet: created if missing, then grown within maxSurge.
    let (new, created) = match new {
        Some(rs) => (sync_revision(ctx, d, rs, old)?, false),
        None => {
            let initial = {
                let empty = Rs {
                    name: String::new(),
                    replicas: 0,
                    available: 0,
                };
                let all: Vec<&Rs> = old_views.iter().chain([&empty]).collect();
                rollout::new_rs_replicas(desired, surge, &empty, &all)
            };
            (create_new(ctx, d, old, initial, desired + surge)?, true)
        }
    };
    if created {
        return status::sync(ctx, d, Some(&new), old, true);
    }
    let new_view = view(&new);
    let all: Vec<&Rs> = old_views.iter().chain([&new_view]).collect();
    let size = rollout::new_rs_replicas(desired, surge, &new_view, &all);
    if size != new_view.replicas {
        let scaled = scale(ctx, d, &new, size, desired + surge)?;
        return status::sync(ctx, d, Some(&scaled), old, false);
    }

    // Then the old ones shrink, keeping desired - maxUnavailable available.
    let cuts = rollout::old_rs_scale_down(desired, unavailable, Some(&new_view), &old_views);
    if !cuts.is_empty() {
        let mut old_now: Vec<ReplicaSet> = old.to_vec();
        for (name, size) in cuts {
            if let Some(rs) = old_now
                .iter_mut()
                .find(|r| r.metadata.name.as_deref() == Some(name.as_str()))
            {
                *rs = scale(ctx, d, rs, size, desired + surge)?;
            }
        }
        return status::sync(ctx, d, Some(&new), &old_now, false);
    }
    if status::complete(d, Some(&new), old) {
        cleanup(ctx, d, old)?;
    }
    status::sync(ctx, d, Some(&new), old, false)
}

fn recreate_rollout(
    ctx: &Context<'_>,
    d: &Deployment,
    desired: i32,
    new: Option<ReplicaSet>,
    old: &[ReplicaSet],
) -> Result<Outcome, Error> {
    // Every old pod goes first.
    let mut old_now: Vec<ReplicaSet> = old.to_vec();
    let mut scaled_any = false;
    for rs in old_now.iter_mut() {
        if view(rs).replicas > 0 {
            *rs = scale(ctx, d, rs, 0, desired)?;
            scaled_any = true;
        }
    }
    let old_running = old_now
        .iter()
        .any(|rs| rs.status.as_ref().map_or(0, |s| s.replicas) > 0);
    if scaled_any || old_running {
        return status::sync(ctx, d, new.as_ref(), &old_now, false);
    }
    let new = match new {
        Some(rs) => sync_revision(ctx, d, rs, &old_now)?,
        None => {
            let created = create_new(ctx, d, &old_now, desired, desired)?;
            return status::sync(ctx, d, Some(&created), &old_now, true);
        }
    };
    let new = if view(&new).replicas != desired {
        scale(ctx, d, &new, desired, desired)?
    } else {
        new
    };
    if status::complete(d, Some(&new), &old_now) {
        cleanup(ctx, d, &old_now)?;
    }
    status::sync(ctx, d, Some(&new), &old_now, false)
}

/// A paused Deployment is scaled, never rolled: its ReplicaSets grow or shrink
/// in proportion.
fn scale_paused(
    ctx: &Context<'_>,
    d: &Deployment,
    desired: i32,
    new: Option<&ReplicaSet>,
    old: &[ReplicaSet],
) -> Result<(), Error> {
    let sets: Vec<&ReplicaSet> = old
        .iter()
        .filter(|r| view(r).replicas > 0)
        .chain(new)
        .collect();
    let views: Vec<Rs> = sets.iter().map(|r| view(r)).collect();
    for (rs, size) in sets.iter().zip(rollout::proportional(desired, &views)) {
        if view(rs).replicas != size {
            scale(ctx, d, rs, size, desired)?;
        }
    }
    Ok(())
}

/// Sets a ReplicaSet's size (and the annotations recording the Deployment's
/// size at the time).
fn scale(
    ctx: &Context<'_>,
    d: &Deployment,
    rs: &ReplicaSet,
    size: i32,
    max: i32,
) -> Result<ReplicaSet, Error> {
    let mut updated = rs.clone();
    if let Some(spec) = updated.spec.as_mut() {
        spec.replicas = Some(size);
    }
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let annotations = updated
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
    annotations.insert(MAX_REPLICAS.into(), max.to_string());
    let written = ctx.update(&updated)?;
    let direction = if size > view(rs).replicas {
        "up"
    } else {
        "down"
    };
    ctx.event(
        d,
        EventType::Normal,
        "ScalingReplicaSet",
        &format!(
            "Scaled {direction} replica set {} from {} to {size}",
            rs.metadata.name.as_deref().unwrap_or(""),
            view(rs).replicas
        ),
    );
    Ok(written)
}

fn max_revision(old: &[ReplicaSet]) -> i64 {
    old.iter().map(revision::revision).max().unwrap_or(0)
}

/// The new ReplicaSet carries the highest revision (a roll back to an old
/// template makes its ReplicaSet new again), and the Deployment says so too.
fn sync_revision(
    ctx: &Context<'_>,
    d: &Deployment,
    rs: ReplicaSet,
    old: &[ReplicaSet],
) -> Result<ReplicaSet, Error> {
    let current = revision::revision(&rs);
    let wanted = if current > max_revision(old) {
        current
    } else {
        max_revision(old) + 1
    };
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
    let mut updated = rs.clone();
    let annotations = updated
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    if current != wanted {
        annotations.insert(REVISION.into(), wanted.to_string());
        changed = true;
    }
    for (k, v) in copied_annotations(d) {
        if annotations.get(&k) != Some(&v) {
            annotations.insert(k, v);
            changed = true;
        }
    }
    if let Some(spec) = updated.spec.as_mut()
        && spec.min_ready_seconds != min_ready
    {
        spec.min_ready_seconds = min_ready;
        changed = true;
    }
    let rs = if changed { ctx.update(&updated)? } else { rs };
    set_deployment_revision(ctx, d, wanted)?;
    Ok(rs)
}

fn set_deployment_revision(ctx: &Context<'_>, d: &Deployment, revision: i64) -> Result<(), Error> {
    let current = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION));
    if current.map(String::as_str) == Some(revision.to_string().as_str()) {
        return Ok(());
    }
    let patch = serde_json::json!({"metadata": {"annotations": {REVISION: revision.to_string()}}});
    let ns = d.metadata.namespace.as_deref().unwrap_or("");
    let name = d.metadata.name.as_deref().unwrap_or("");
    // Through the status endpoint, as Kubernetes' controller writes it: there an
    // annotation is no new generation (on the main resource it is).
    ctx.patch::<Deployment>(
        ns,
        name,
        wharf_controller_sdk::PatchType::Merge,
        &patch,
        Some("status"),
    )?;
    Ok(())
}

fn copied_annotations(d: &Deployment) -> BTreeMap<String, String> {
    d.metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Creates the ReplicaSet of the Deployment's current template.
fn create_new(
    ctx: &Context<'_>,
    d: &Deployment,
    old: &[ReplicaSet],
    replicas: i32,
    max: i32,
) -> Result<ReplicaSet, Error> {
    let spec = d.spec.as_ref().expect("checked by the caller");
    let collisions = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = template_hash(&spec.template, collisions);
    let mut template = spec.template.clone();
    template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut selector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    let revision = max_revision(old) + 1;
    let mut annotations = copied_annotations(d);
    annotations.insert(REVISION.into(), revision.to_string());
    annotations.insert(
        DESIRED_REPLICAS.into(),
        spec.replicas.unwrap_or(1).to_string(),
    );
    annotations.insert(MAX_REPLICAS.into(), max.to_string());
    let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or(""));
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: d.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![ownership::controller_reference(d)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    match ctx.create(&rs) {
        Ok(created) => {
            ctx.event(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {replicas}"),
            );
            set_deployment_revision(ctx, d, revision)?;
            Ok(created)
        }
        Err(e) if e.reason() == Some(ErrorReason::AlreadyExists) => {
            // Another template hashed to this name: count the collision, so the
            // next pass hashes differently.
            let mut bumped = d.clone();
            let status = bumped.status.get_or_insert_with(Default::default);
            status.collision_count = Some(collisions.unwrap_or(0) + 1);
            ctx.update_status(&bumped)?;
            Err(Error::Other(format!(
                "replica set {name} exists with another template; collision count raised"
            )))
        }
        Err(e) => Err(e),
    }
}

/// Old ReplicaSets scaled to zero beyond `revisionHistoryLimit` are deleted,
/// oldest revision first.
fn cleanup(ctx: &Context<'_>, d: &Deployment, old: &[ReplicaSet]) -> Result<(), Error> {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let mut idle: Vec<&ReplicaSet> = old
        .iter()
        .filter(|rs| {
            view(rs).replicas == 0
                && rs.status.as_ref().map_or(0, |s| s.replicas) == 0
                && rs.metadata.deletion_timestamp.is_none()
        })
        .collect();
    if idle.len() <= limit {
        return Ok(());
    }
    idle.sort_by_key(|rs| revision::revision(rs));
    for rs in &idle[..idle.len() - limit] {
        let ns = rs.metadata.namespace.as_deref().unwrap_or("");
        let name = rs.metadata.name.as_deref().unwrap_or("");
        ownership::skip_lost_race(ctx.delete::<ReplicaSet>(ns, name, rs.metadata.uid.as_deref()))?;
    }
    Ok(())
}

wharf_controller_sdk::export_controller!(DeploymentController);
