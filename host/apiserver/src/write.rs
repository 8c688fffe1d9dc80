//! The write verbs: create, update, patch, delete, deletecollection, and the pod
//! binding and scale subresources.
//!
//! Every update is a read-modify-write guarded by the revision that was read; a
//! concurrent writer makes it retry (or, when the client named a resourceVersion,
//! answer 409 Conflict). Nothing reaches the store until the whole admission
//! pipeline has accepted the object.

use axum::http::Method;
use axum::response::Response;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions as MetaDeleteOptions;
use serde_json::{Value, json};
use wharf_api_types::custom::ScalePaths;
use wharf_api_types::resources::{self, ResourceInfo, Subresource};
use wharf_api_types::validation::{FieldError, FieldErrorKind};
use wharf_api_types::{meta, selector};
use wharf_patch::PatchType;

use crate::admission;
use crate::error::ApiError;
use crate::render::{Body, respond};
use crate::request::{self, Options, Representation, Target};
use crate::server::ApiServer;
use crate::storage::with_revision;

/// How many times a read-modify-write retries after losing a race.
const MAX_RETRIES: usize = 32;

/// Before retry `attempt` of a read-modify-write that lost a race. The write
/// that beat it may still be on its way to disk (a read sees only durable
/// state), so retrying at once can lose again and again within one flush;
/// waiting a little longer each time lets it land.
async fn before_retry(attempt: usize) {
    if attempt > 0 {
        let ms = (attempt as u64).min(20);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Kinds whose registries return the deleted object rather than a Status
/// (`ReturnDeletedObject` in kube-apiserver, or a custom delete that does).
fn returns_deleted_object(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("", "Pod") | ("", "ServiceAccount") | ("", "Service") | ("", "Namespace")
    )
}

/// `delete_one`'s code for "marked, not gone yet": Kubernetes answers 200 with the
/// object either way, and this crate tells the cases apart by this value.
pub(crate) const PENDING: u16 = 202;

/// Namespaces that can never be deleted (Kubernetes' "immortal" namespaces).
const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

pub async fn handle(
    server: &ApiServer,
    method: &Method,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    if let Some(value) = &options.dry_run_unsupported {
        let kind = match *method {
            Method::POST => "CreateOptions",
            Method::PUT => "UpdateOptions",
            Method::PATCH => "PatchOptions",
            _ => "DeleteOptions",
        };
        return Err(ApiError::invalid_object(
            "meta.k8s.io",
            kind,
            "",
            &[FieldError::not_supported(
                "dryRun",
                &json!([value]),
                &["All"],
            )],
        ));
    }
    let has_name = target.name.is_some();
    match (method, has_name, target.subresource) {
        (&Method::POST, false, None) => {
            create(server, target, options, repr, content_type, body).await
        }
        (&Method::POST, true, Some(Subresource::Binding)) => {
            bind(server, target, options, content_type, body).await
        }
        (&Method::POST, true, Some(Subresource::Eviction)) => {
            evict(server, target, options, content_type, body).await
        }
        (&Method::PUT, true, Some(Subresource::Scale)) => {
            let (scale, _) = request::parse_body(content_type, body)?;
            write_scale(server, target, options, repr, ScaleChange::Replace(scale)).await
        }
        (&Method::PATCH, true, Some(Subresource::Scale)) => {
            let patch_type = patch_type(content_type)?;
            write_scale(
                server,
                target,
                options,
                repr,
                ScaleChange::Patch(patch_type, body.to_vec()),
            )
            .await
        }
        (&Method::PUT, true, sub)
            if !matches!(sub, Some(Subresource::Binding | Subresource::Eviction)) =>
        {
            update(server, target, options, repr, content_type, body).await
        }
        (&Method::PATCH, true, sub)
            if !matches!(
                sub,
                Some(Subresource::Binding | Subresource::Finalize | Subresource::Eviction)
            ) =>
        {
            patch(server, target, options, repr, content_type, body).await
        }
        (&Method::DELETE, true, None) => {
            delete(server, target, options, repr, content_type, body).await
        }
        // Kubernetes serves no deletecollection of namespaces: one request would
        // empty the cluster (and stop half way, at the namespaces that stay).
        (&Method::DELETE, false, None)
            if (target.info.group, target.info.kind) == ("", "Namespace") =>
        {
            Err(ApiError::method_not_allowed("deletecollection"))
        }
        (&Method::DELETE, false, None) => {
            delete_collection(server, target, options, repr, content_type, body).await
        }
        _ => Err(ApiError::method_not_allowed(
            &method.to_string().to_lowercase(),
        )),
    }
}

fn patch_type(content_type: Option<&str>) -> Result<PatchType, ApiError> {
    let ct = content_type.unwrap_or("");
    PatchType::from_content_type(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))
}

/// Namespaced objects may only be created in a namespace that exists and is not
/// being deleted.
async fn check_namespace(server: &ApiServer, target: &Target, name: &str) -> Result<(), ApiError> {
    let Some(ns) = target
        .namespace
        .as_deref()
        .filter(|_| target.info.namespaced)
    else {
        return Ok(());
    };
    if server.objects.namespace_terminating(ns).await? {
        return Err(ApiError::forbidden(
            target.info,
            name,
            &format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
        ));
    }
    Ok(())
}

async fn create(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let info = target.info;
    let (decoded, warnings) =
        admission::decode_request(info, content_type, body, options.field_validation)?;
    // As Kubernetes' storage does (a dry run never reaches it): a version that
    // parses and is not 0. One that does not parse is ignored there too.
    let stale_version = decoded
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|rv| rv.parse::<u64>().ok())
        .is_some_and(|rv| rv != 0);
    if stale_version && !options.dry_run {
        return Err(ApiError::resource_version_set_on_create());
    }
    let created = create_decoded(server, target, options, decoded).await?;
    Ok(respond(201, repr, created, &warnings))
}

/// Admits and stores a new object from its decoded body: a create's work once the
/// request is read (an update that creates does the same).
async fn create_decoded(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    decoded: Value,
) -> Result<Body<'static>, ApiError> {
    let by = Managed::By(options.field_manager.as_deref());
    create_managed(server, target, options.dry_run, decoded, by).await
}

/// Who a create is recorded as made by, in the object's managed fields.
pub(crate) enum Managed<'a> {
    /// A server-side apply, which computed them (see `apply.rs`).
    Applied(Value),
    /// A writer naming itself with `fieldManager` (`None`: not recorded).
    By(Option<&'a str>),
}

/// [`create_decoded`], recording the managed fields as `managed` says; any a
/// client sent are dropped.
pub(crate) async fn create_managed(
    server: &ApiServer,
    target: &Target,
    dry_run: bool,
    decoded: Value,
    managed: Managed<'_>,
) -> Result<Body<'static>, ApiError> {
    let info = target.info;
    // Admission errors name an object by its generateName when the server
    // generates its name, as Kubernetes' do (they come before the name does).
    let shown_name = match meta::name(&decoded).filter(|n| !n.is_empty()) {
        Some(name) => name.to_string(),
        None => meta::str_field(&decoded, "/metadata/generateName")
            .unwrap_or_default()
            .to_string(),
    };
    let mut obj = admission::prepare_create(info, target.namespace.as_deref(), decoded)?;
    match managed {
        Managed::Applied(fields) => {
            meta::metadata_mut(&mut obj).insert("managedFields".into(), fields);
            wharf_patch::managed::drop_absent(&mut obj);
        }
        Managed::By(Some(manager)) => {
            let schema = merge_schema(info);
            let nothing = json!({});
            wharf_patch::managed::record_update(
                &nothing,
                &mut obj,
                manager,
                None,
                &meta::now_rfc3339(),
                list_rules(schema.as_deref()),
            );
        }
        Managed::By(None) => {}
    }
    let name = meta::name(&obj).unwrap_or_default().to_string();
    check_namespace(server, target, &name).await?;
    match (info.group, info.kind) {
        ("", "Pod") => {
            crate::priority::admit_pod(&server.objects, info, &mut obj, &shown_name).await?;
            crate::tolerations::add(&mut obj, server.settings.default_tolerations);
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            crate::priority::check_class(&server.objects, info, &obj).await?
        }
        (wharf_api_types::networking::GROUP, "Ingress") => {
            crate::ingress_class::admit_ingress(&server.objects, &mut obj).await?
        }
        _ => {}
    }
    crate::blobs::check_references(server, info, &obj, None).await?;
    let ns = target.namespace.as_deref();
    if (info.group, info.kind) == ("", "Service") {
        // Allocation and the write happen under one lock, so two services can never
        // be given the same address.
        let _guard = server.allocation.lock().await;
        crate::allocate::service(&server.objects, &mut obj).await?;
        store_create(server, info, ns, &name, obj, dry_run).await
    } else {
        store_create(server, info, ns, &name, obj, dry_run).await
    }
}

/// Whether a PUT without a resourceVersion may overwrite whatever is stored: not
/// for custom resources or Leases, as in Kubernetes.
fn allows_unconditional_update(info: &ResourceInfo) -> bool {
    !wharf_api_types::custom::is_custom(info)
        && (info.group, info.kind) != ("coordination.k8s.io", "Lease")
}

/// A uid precondition that names another object (or none: `stored` empty).
fn uid_mismatch(info: &ResourceInfo, name: &str, uid: &str, stored: &str) -> ApiError {
    ApiError::conflict(
        info,
        name,
        &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {stored}"),
    )
}

/// The kinds a PUT creates when nothing has the name yet, as their Kubernetes
/// registries allow (`AllowCreateOnUpdate`): what controllers and leader election
/// keep writing whole.
fn creates_on_update(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("", "Service" | "Endpoints" | "Event") | ("coordination.k8s.io", "Lease")
    )
}

async fn store_create(
    server: &ApiServer,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
    obj: Value,
    dry_run: bool,
) -> Result<Body<'static>, ApiError> {
    if dry_run {
        if server.objects.try_get(info, ns, name).await?.is_some() {
            return Err(ApiError::already_exists(info, name));
        }
        return Ok(Body::Object(obj));
    }
    Ok(Body::Written(
        server.objects.create(info, ns, name, obj).await?,
    ))
}

/// What an update of one object must keep unique across objects: for a Service's
/// main resource, its cluster IP and node ports (the allocation lock is held until
/// the write is done); for anything else, nothing.
pub(crate) struct Uniqueness<'a> {
    service: Option<(tokio::sync::MutexGuard<'a, ()>, crate::allocate::Taken)>,
}

impl<'a> Uniqueness<'a> {
    pub(crate) async fn for_update(
        server: &'a ApiServer,
        target: &Target,
    ) -> Result<Self, ApiError> {
        if (target.info.group, target.info.kind) != ("", "Service") || target.subresource.is_some()
        {
            return Ok(Self { service: None });
        }
        let guard = server.allocation.lock().await;
        let me = (
            target.namespace.as_deref().unwrap_or_default(),
            target.name.as_deref().unwrap_or_default(),
        );
        let taken = crate::allocate::taken(&server.objects, Some(me)).await?;
        Ok(Self {
            service: Some((guard, taken)),
        })
    }

    /// Allocates what `new` lacks and checks what it claims (per attempt: a retried
    /// update starts again from the same picture).
    pub(crate) fn assign(&self, new: &mut Value, current: &Value) -> Result<(), ApiError> {
        match &self.service {
            Some((_, taken)) => crate::allocate::assign(new, &mut taken.clone(), Some(current)),
            None => Ok(()),
        }
    }
}

/// What an update does with the current object: returns the new one.
pub(crate) type Mutation<'a> = dyn FnMut(&Value) -> Result<Value, ApiError> + Send + 'a;

/// How a write counts in an object's managed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// An update or a patch: the fields it changes become its manager's.
    Update,
    /// A server-side apply, which settles the managed fields itself.
    Apply,
}

/// The schema that says how a custom kind's lists and maps merge (`None` for a
/// built-in kind, whose lists merge as Kubernetes declares them); see
/// [`list_rules`].
pub(crate) fn merge_schema(info: &ResourceInfo) -> Option<std::sync::Arc<Value>> {
    wharf_api_types::custom::of(info).map(|c| c.schema)
}

/// How objects merge in managed fields, given [`merge_schema`]'s answer.
pub(crate) fn list_rules(schema: Option<&Value>) -> wharf_patch::managed::ListRules<'_> {
    match schema {
        Some(schema) => wharf_patch::managed::ListRules::Schema(schema),
        None => wharf_patch::managed::ListRules::BuiltIn,
    }
}

/// Read-modify-write of one object with optimistic concurrency. `precondition` is a
/// resourceVersion the client insisted on. Returns the object as it now is: as
/// written (so that its JSON is the stored bytes, not encoded again), or as it
/// was when the change made no difference, or as it would be on a dry run.
pub(crate) async fn update_with(
    server: &ApiServer,
    target: &Target,
    precondition: Option<u64>,
    options: &Options,
    write: Write,
    mutate: &mut Mutation<'_>,
) -> Result<Body<'static>, ApiError> {
    let info = target.info;
    let ns = target.namespace.as_deref();
    let name = target.name.as_deref().unwrap_or_default();
    let dry_run = options.dry_run;
    for attempt in 0..MAX_RETRIES {
        before_retry(attempt).await;
        let (current, revision) = server.objects.get(info, ns, name).await?;
        if precondition.is_some_and(|p| p != revision) {
            return Err(ApiError::modified(info, name));
        }
        let mut new = mutate(&current)?;
        // Fields are tracked once an object has managed fields, and for writers
        // that name themselves (`fieldManager`, as kubectl does); the writes of
        // others to objects that have none cost nothing more (see `apply.rs`).
        let tracked =
            new.pointer("/metadata/managedFields").is_some() || options.field_manager.is_some();
        if write == Write::Update && tracked {
            let schema = merge_schema(info);
            wharf_patch::managed::record_update(
                &current,
                &mut new,
                options.manager(),
                target.subresource.map(Subresource::name),
                &meta::now_rfc3339(),
                list_rules(schema.as_deref()),
            );
        }
        meta::set(&mut new, "resourceVersion", revision.to_string());
        if new == current {
            return Ok(Body::Object(current));
        }
        crate::blobs::check_references(server, info, &new, Some(&current)).await?;
        if (info.group, info.kind) == ("scheduling.k8s.io", "PriorityClass") {
            crate::priority::check_class(&server.objects, info, &new).await?;
        }
        if dry_run {
            return Ok(Body::Object(new));
        }
        // The last finalizer of an object being deleted is gone: finish the delete.
        // (Not for an object in graceful deletion — a pod its kubelet is still
        // stopping is updated as usual; the kubelet deletes it when it is done.)
        let graceful = current
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .is_some_and(|g| g > 0);
        if meta::is_deleting(&new)
            && meta::finalizers(&new).is_empty()
            && !graceful
            && !namespace_pending(info, &new)
        {
            return match server.objects.delete(info, ns, name, Some(revision)).await {
                Ok(_) => {
                    after_delete(server, info, ns, name).await;
                    Ok(Body::Object(new))
                }
                Err(e) if e.code == 409 && precondition.is_none() => continue,
                Err(e) => Err(e),
            };
        }
        match server
            .objects
            .update(info, ns, name, new, Some(revision))
            .await
        {
            Ok(written) => return Ok(Body::Written(written)),
            Err(e) if e.code == 409 && precondition.is_none() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        409,
        "Conflict",
        format!("too many concurrent writes to {name}; try again"),
    ))
}

/// A namespace still has `spec.finalizers` to run before it may go.
fn namespace_pending(info: &ResourceInfo, obj: &Value) -> bool {
    info.kind == "Namespace"
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

async fn update(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let info = target.info;
    let (decoded, warnings) =
        admission::decode_request(info, content_type, body, options.field_validation)?;
    let precondition = match meta::resource_version(&decoded) {
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {rv:?} in the object"))
        })?),
        None => None,
    };
    // "0" is no version at all, as in Kubernetes.
    let precondition = precondition.filter(|&rv| rv != 0);
    let name = target.name.clone().unwrap_or_default();
    // A uid in the object is a precondition too: the update is for that object,
    // not for another one since created under the same name.
    let precondition_uid = meta::str_field(&decoded, "/metadata/uid")
        .filter(|uid| !uid.is_empty())
        .map(str::to_string);
    if creates_on_update(info)
        && target.subresource.is_none()
        && server
            .objects
            .try_get(info, target.namespace.as_deref(), &name)
            .await?
            .is_none()
    {
        // As Kubernetes' registry: the object's resourceVersion plays no part
        // in a create, but a uid names an object that is not there.
        if let Some(uid) = &precondition_uid {
            return Err(uid_mismatch(info, &name, uid, ""));
        }
        let mut decoded = decoded.clone();
        admission::check_url_name(&mut decoded, &name)?;
        meta::metadata_mut(&mut decoded).remove("resourceVersion");
        // Created unless another writer got there first; then it is updated.
        match create_decoded(server, target, options, decoded).await {
            Err(e) if e.code == 409 && e.reason == "AlreadyExists" => {}
            created => return Ok(respond(201, repr, created?, &warnings)),
        }
    }
    if precondition.is_none() && !allows_unconditional_update(info) {
        // Kubernetes names the resource, not the kind, in this one.
        return Err(ApiError::invalid_object(
            info.group,
            info.plural,
            &name,
            // Its value printed as Go prints the number 0 with `%#v`.
            &[FieldError {
                kind: FieldErrorKind::Invalid,
                field: "metadata.resourceVersion".into(),
                message:
                    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
                        .into(),
            }],
        ));
    }
    let ns = target.namespace.clone();
    let sub = target.subresource;
    let unique = Uniqueness::for_update(server, target).await?;
    let mut mutate = |current: &Value| {
        if let Some(uid) = &precondition_uid {
            let stored = meta::str_field(current, "/metadata/uid").unwrap_or_default();
            if uid != stored {
                return Err(uid_mismatch(info, &name, uid, stored));
            }
        }
        let mut new =
            admission::prepare_update(info, ns.as_deref(), &name, decoded.clone(), current, sub)?;
        unique.assign(&mut new, current)?;
        Ok(new)
    };
    let written = update_with(
        server,
        target,
        precondition,
        options,
        Write::Update,
        &mut mutate,
    )
    .await?;
    Ok(respond(200, repr, written, &warnings))
}

async fn patch(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let info = target.info;
    if crate::apply::is_apply(content_type) {
        return crate::apply::serve(server, target, options, repr, body).await;
    }
    if options.force.is_some() {
        return Err(ApiError::invalid_object(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[FieldError::forbidden(
                "force",
                "may not be specified for non-apply patch",
            )],
        ));
    }
    let patch_type = patch_type(content_type)?;
    if matches!(patch_type, PatchType::StrategicMerge) && wharf_api_types::custom::is_custom(info) {
        // A custom kind has no merge keys to follow (kubectl sends it merge
        // patches); refused as Kubernetes refuses it, so a script that works
        // here works on a real cluster.
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "{} is not supported by {}, Kind={}: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json",
                PatchType::StrategicMerge.content_type(),
                info.api_version(),
                info.kind
            ),
        ));
    }
    let name = target.name.clone().unwrap_or_default();
    let ns = target.namespace.clone();
    let sub = target.subresource;
    let mut warnings = Vec::new();
    let field_validation = options.field_validation;
    let unique = Uniqueness::for_update(server, target).await?;
    let mut mutate = |current: &Value| {
        let patched = wharf_patch::apply(patch_type, current, body)
            .map_err(|e| ApiError::new(e.http_status(), e.reason(), e.to_string()))?;
        // A resourceVersion in the patch is a precondition.
        if let (Some(want), Some(have)) = (
            meta::resource_version(&patched),
            meta::resource_version(current),
        ) && want != have
        {
            return Err(ApiError::modified(info, &name));
        }
        if let Some(uid) = meta::str_field(&patched, "/metadata/uid")
            && Some(uid) != meta::str_field(current, "/metadata/uid")
        {
            return Err(ApiError::invalid(
                info,
                &name,
                &[wharf_api_types::validation::FieldError::invalid(
                    "metadata.uid",
                    &json!(uid),
                    "field is immutable",
                )],
            ));
        }
        let (decoded, w) = admission::decode_body(info, patched, Vec::new(), field_validation)?;
        warnings = w;
        let mut new = admission::prepare_update(info, ns.as_deref(), &name, decoded, current, sub)?;
        unique.assign(&mut new, current)?;
        Ok(new)
    };
    let written = update_with(server, target, None, options, Write::Update, &mut mutate).await?;
    Ok(respond(200, repr, written, &warnings))
}

/// `DeleteOptions`, from the body or the query.
#[derive(Default)]
pub(crate) struct DeleteOptions {
    grace_period: Option<i64>,
    /// `Foreground` or `Orphan` hold the object (by a finalizer) until the
    /// garbage collector has dealt with its dependents; `Background` does not.
    propagation: Option<String>,
    precondition_uid: Option<String>,
    precondition_rv: Option<u64>,
    dry_run: bool,
}

/// `POST pods/{name}/eviction`, as `kubectl drain` sends it: the pod's
/// PodDisruptionBudget, if it has one, must afford the eviction (`disruption.rs`);
/// then the pod is deleted with the eviction's `deleteOptions`, and the answer is
/// Kubernetes' `201` success Status.
async fn evict(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (mut eviction, _) = request::parse_body(content_type, body)?;
    let name = target.name.as_deref().unwrap_or_default();
    // The older policy/v1beta1 Eviction is the same object.
    let version = match eviction.get("apiVersion").and_then(Value::as_str) {
        Some("policy/v1beta1") => "policy/v1beta1",
        _ => "policy/v1",
    };
    admission::settle_type(&mut eviction, version, "Eviction")?;
    if meta::name(&eviction).is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let delete_doc = match eviction.get("deleteOptions") {
        None | Some(Value::Null) => json!({}),
        Some(doc) => doc.clone(),
    };
    let mut opts = delete_options_from(options, &delete_doc)?;
    let pod = Target {
        subresource: None,
        ..target.clone()
    };
    let namespace = target.namespace.as_deref().unwrap_or_default();
    let (current, revision) = server
        .objects
        .get(target.info, Some(namespace), name)
        .await?;
    crate::disruption::admit_eviction(&server.objects, namespace, &current, opts.dry_run).await?;
    // A precondition that does not hold fails the delete below, unmarked.
    let uid_holds = opts
        .precondition_uid
        .as_deref()
        .is_none_or(|uid| meta::str_field(&current, "/metadata/uid") == Some(uid));
    if !opts.dry_run && uid_holds && opts.precondition_rv.is_none_or(|rv| rv == revision) {
        crate::disruption::mark_target(&server.objects, target.info, namespace, current, revision)
            .await?;
        // Marking wrote a new version; the precondition held for the pod evicted.
        opts.precondition_rv = None;
    }
    delete_one(server, &pod, &opts, opts.dry_run).await?;
    Ok(respond(
        201,
        Representation::Json,
        Body::Plain(json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Success", "code": 201})),
        &[],
    ))
}

/// `DeleteOptions` from the body, falling back to the query parameters.
fn delete_options(
    options: &Options,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<DeleteOptions, ApiError> {
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        request::parse_body(content_type, body)?.0
    };
    delete_options_from(options, &doc)
}

/// `DeleteOptions` from a decoded document (a DELETE's body, an eviction's
/// `deleteOptions`), falling back to the query parameters.
fn delete_options_from(options: &Options, doc: &Value) -> Result<DeleteOptions, ApiError> {
    if !doc.is_object() {
        return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
    }
    // A field of the wrong type (`gracePeriodSeconds: "x"`, `dryRun: "All"`) is a
    // 400, as Kubernetes' decoding makes it, before anything reads the fields.
    if let Err(e) = serde_path_to_error::deserialize::<_, MetaDeleteOptions>(doc) {
        return Err(ApiError::bad_request(format!(
            "DeleteOptions: {}: {}",
            e.path(),
            e.inner()
        )));
    }
    // The deprecated `orphanDependents` (still sent by older clients) stands for
    // Orphan or Background when no policy is given.
    let orphan_dependents = doc
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or(options.orphan_dependents)
        .map(|orphan| if orphan { "Orphan" } else { "Background" }.to_string());
    let policy = doc
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| options.propagation_policy.clone());
    // Checked as Kubernetes' `ValidateDeleteOptions` does: every problem is a
    // cause of one 422 about the DeleteOptions.
    let mut invalid = Vec::new();
    if let (Some(given), Some(_)) = (&policy, &orphan_dependents) {
        invalid.push(FieldError::invalid(
            "propagationPolicy",
            &json!(given),
            "orphanDependents and deletionPropagation cannot be both set",
        ));
    }
    let policy = policy.or(orphan_dependents);
    if let Some(policy) = &policy
        && !["Orphan", "Background", "Foreground"].contains(&policy.as_str())
    {
        invalid.push(FieldError::not_supported(
            "propagationPolicy",
            &json!(policy),
            &["Foreground", "Background", "Orphan", "nil"],
        ));
    }
    let dry_run = match doc.get("dryRun") {
        None | Some(Value::Null) => options.dry_run,
        Some(Value::Array(values)) if values.is_empty() => options.dry_run,
        Some(Value::Array(values)) if values.iter().all(|v| v == "All") => true,
        Some(other) => {
            invalid.push(FieldError::not_supported("dryRun", other, &["All"]));
            false
        }
    };
    if !invalid.is_empty() {
        return Err(ApiError::invalid_object(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            &invalid,
        ));
    }
    let precondition_rv = match doc
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion precondition {rv:?}"))
        })?),
        None => None,
    };
    // A negative grace period is taken as one second, as Kubernetes takes it.
    let grace_period = doc
        .get("gracePeriodSeconds")
        .and_then(Value::as_i64)
        .or(options.grace_period)
        .map(|g| if g < 0 { 1 } else { g });
    Ok(DeleteOptions {
        grace_period,
        propagation: policy,
        precondition_uid: doc
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_rv,
        dry_run,
    })
}

async fn delete(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let opts = delete_options(options, content_type, body)?;
    let (code, obj) = delete_one(server, target, &opts, opts.dry_run).await?;
    // Kubernetes answers with the object while it still exists (marked), and once it
    // is gone with the object for some kinds and a success Status for the rest.
    let gone = code != PENDING;
    if gone && !returns_deleted_object(target.info) {
        let details = json!({
            "name": meta::name(&obj).unwrap_or_default(),
            "group": target.info.group,
            "kind": target.info.plural,
            "uid": meta::str_field(&obj, "/metadata/uid").unwrap_or_default(),
        });
        return Ok(respond(
            200,
            Representation::Json,
            Body::Plain(json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Success", "details": details})),
            &[],
        ));
    }
    Ok(respond(200, repr, Body::Object(obj), &[]))
}

/// Deletes one object, or marks it for deletion when something must happen first
/// (finalizers, a namespace's contents, a running pod's graceful stop). Returns 200
/// with the last state when it is gone, [`PENDING`] when it is only marked.
pub(crate) async fn delete_one(
    server: &ApiServer,
    target: &Target,
    opts: &DeleteOptions,
    dry_run: bool,
) -> Result<(u16, Value), ApiError> {
    let info = target.info;
    let ns = target.namespace.as_deref();
    let name = target.name.as_deref().unwrap_or_default();
    crate::priority::check_delete(info, name)?;
    if info.kind == "Namespace" && PROTECTED_NAMESPACES.contains(&name) {
        return Err(ApiError::forbidden(
            info,
            name,
            "this namespace may not be deleted",
        ));
    }
    for attempt in 0..MAX_RETRIES {
        before_retry(attempt).await;
        let (current, revision) = server.objects.get(info, ns, name).await?;
        if let Some(uid) = &opts.precondition_uid
            && meta::str_field(&current, "/metadata/uid") != Some(uid.as_str())
        {
            let stored = meta::str_field(&current, "/metadata/uid").unwrap_or_default();
            return Err(uid_mismatch(info, name, uid, stored));
        }
        if let Some(rv) = opts.precondition_rv
            && rv != revision
        {
            return Err(ApiError::conflict(
                info,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {revision}"
                ),
            ));
        }
        let mut marked = current.clone();
        // Foreground and orphan deletion wait for the garbage collector, which
        // removes the finalizer once the dependents are deleted or released. Only
        // for the kinds a garbage collector deletes dependents of: on any other
        // the finalizer would never go, and the object (and `kubectl delete
        // --cascade=foreground`, which waits for it) would hang.
        let policy_finalizer = match opts.propagation.as_deref() {
            Some("Foreground") => Some("foregroundDeletion"),
            Some("Orphan") => Some("orphan"),
            _ => None,
        };
        let propagated = PROPAGATED_KINDS.contains(&(info.group, info.kind));
        if policy_finalizer == Some("orphan") && !propagated && info.kind != "Namespace" {
            // Deleting at once would let a collector that follows owners of any
            // kind (config maps', pods' of a Node) delete the dependents the
            // client asked to keep: refused rather than done otherwise.
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"Orphan\": no garbage collector orphans the dependents of {}; use Background or Foreground",
                info.plural
            )));
        }
        if let Some(f) = policy_finalizer
            && propagated
            && !meta::finalizers(&marked).iter().any(|x| x == f)
        {
            let list = meta::metadata_mut(&mut marked)
                .entry("finalizers")
                .or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(json!(f));
            }
        }
        let pending = if info.kind == "Namespace" {
            mark_deleting(&mut marked, 0);
            if let Some(status) = marked.get_mut("status").and_then(Value::as_object_mut) {
                status.insert("phase".into(), json!("Terminating"));
            }
            namespace_pending(info, &marked) || !meta::finalizers(&marked).is_empty()
        } else if !meta::finalizers(&marked).is_empty() {
            // The finalizers hold the object; a pod still gets its grace period,
            // for its kubelet to stop it.
            let grace = match info.kind {
                "Pod" => pod_grace(&current, opts.grace_period),
                _ => 0,
            };
            mark_deleting(&mut marked, grace);
            shorten_grace(&mut marked, &current, grace);
            true
        } else if info.kind == "Pod" {
            let grace = pod_grace(&current, opts.grace_period);
            let graceful = grace > 0;
            if graceful {
                mark_deleting(&mut marked, grace);
                shorten_grace(&mut marked, &current, grace);
            }
            graceful
        } else {
            false
        };
        if dry_run {
            return Ok((200, marked));
        }
        if pending {
            if marked == current {
                return Ok((PENDING, current));
            }
            match server
                .objects
                .update(info, ns, name, marked, Some(revision))
                .await
            {
                Ok(written) => return Ok((PENDING, written.object)),
                Err(e) if e.code == 409 => continue,
                Err(e) => return Err(e),
            }
        }
        match server.objects.delete(info, ns, name, Some(revision)).await {
            Ok(obj) => {
                after_delete(server, info, ns, name).await;
                return Ok((200, with_revision(obj, revision)));
            }
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        409,
        "Conflict",
        format!("too many concurrent writes to {name}; try again"),
    ))
}

/// What goes with an object once it is deleted, as Kubernetes' registry does it: a
/// Service takes its Endpoints (whoever wrote them; the endpoints controller only
/// deletes the ones it manages, and would miss a Service deleted while it is not
/// running). Best effort: the object is gone whatever happens here.
async fn after_delete(server: &ApiServer, info: &ResourceInfo, ns: Option<&str>, name: &str) {
    if (info.group, info.kind) != ("", "Service") {
        return;
    }
    let endpoints = resources::find("", "v1", "endpoints").expect("endpoints are served");
    match server.objects.delete(endpoints, ns, name, None).await {
        Ok(_) => {}
        Err(e) if e.code == 404 => {}
        Err(e) => tracing::warn!(
            service = name,
            namespace = ns.unwrap_or_default(),
            error = %e.message,
            "could not delete the endpoints of a deleted service"
        ),
    }
}

/// Kinds whose foreground and orphan deletion a built-in garbage collector carries
/// out (see `host/builtin-plugins`): it removes the policy finalizer once the
/// dependents are dealt with.
const PROPAGATED_KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
];

/// The grace period a pod's deletion gives its kubelet: the one asked for, else
/// the pod's own, else 30 s; none for a pod on no node (nothing to stop) or one
/// whose containers have all ended.
fn pod_grace(pod: &Value, asked: Option<i64>) -> i64 {
    let grace = asked.unwrap_or_else(|| {
        pod.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30)
    });
    let bound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if bound && !phase_is_final(pod) {
        grace
    } else {
        0
    }
}

fn phase_is_final(pod: &Value) -> bool {
    matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded") | Some("Failed")
    )
}

/// A repeated delete may shorten a deleting object's grace period (to 0 with
/// `--force --grace-period=0`), never lengthen it.
fn shorten_grace(marked: &mut Value, current: &Value, grace: i64) {
    let current_grace = current
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if current_grace.is_some_and(|g| grace < g) {
        let when = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
        meta::set(marked, "deletionTimestamp", meta::rfc3339(when));
        meta::set(marked, "deletionGracePeriodSeconds", grace);
    }
}

/// Sets `deletionTimestamp` (once) and the grace period.
fn mark_deleting(obj: &mut Value, grace_seconds: i64) {
    if !meta::is_deleting(obj) {
        // As Kubernetes' registry marks it: a new generation, so a controller
        // comparing observedGeneration sees the deletion.
        if let Some(generation) = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .filter(|g| *g > 0)
        {
            meta::set(obj, "generation", generation + 1);
        }
        let when = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace_seconds);
        meta::set(obj, "deletionTimestamp", meta::rfc3339(when));
        meta::set(obj, "deletionGracePeriodSeconds", grace_seconds);
    }
}

async fn delete_collection(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let opts = delete_options(options, content_type, body)?;
    let mut list_options = options.clone();
    list_options.limit = 0;
    list_options.continue_token = None;
    let listed = server
        .objects
        .list(target.info, target.namespace.as_deref(), &list_options)
        .await?;
    let mut deleted = Vec::new();
    for obj in listed.items {
        let one = Target {
            namespace: meta::namespace(&obj).map(str::to_string),
            name: meta::name(&obj).map(str::to_string),
            ..target.clone()
        };
        match delete_one(server, &one, &opts, opts.dry_run).await {
            Ok((_, obj)) => deleted.push(obj),
            // Deleted by someone else meanwhile: that is what was asked.
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(respond(
        200,
        repr,
        Body::List {
            info: target.info,
            items: deleted,
            revision: server.store().current_revision(),
            continue_token: None,
        },
        &[],
    ))
}

/// `POST pods/{name}/binding`: assigns an unscheduled pod to a node.
async fn bind(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (binding, _) = request::parse_body(content_type, body)?;
    let name = target.name.clone().unwrap_or_default();
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                target.info,
                &name,
                &[wharf_api_types::validation::FieldError::required(
                    "target.name",
                )],
            )
        })?
        .to_string();
    if let Some(bound_name) = meta::name(&binding)
        && bound_name != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the binding ({bound_name}) does not match the pod ({name})"
        )));
    }
    let info = target.info;
    let mut mutate = |current: &Value| {
        if let Some(existing) = current.pointer("/spec/nodeName").and_then(Value::as_str)
            && !existing.is_empty()
        {
            return Err(ApiError::conflict(
                info,
                &name,
                &format!("pod {name} is already assigned to node \"{existing}\""),
            ));
        }
        if meta::is_deleting(current) {
            return Err(ApiError::conflict(
                info,
                &name,
                &format!("pod {name} is being deleted, cannot be assigned to a host"),
            ));
        }
        let mut pod = current.clone();
        pod["spec"]["nodeName"] = json!(node);
        set_condition(&mut pod, "PodScheduled", "True");
        Ok(pod)
    };
    update_with(server, target, None, options, Write::Update, &mut mutate).await?;
    Ok(respond(
        201,
        Representation::Json,
        Body::Plain(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        ),
        &[],
    ))
}

fn set_condition(pod: &mut Value, kind: &str, status: &str) {
    let now = meta::now_rfc3339();
    let status_obj = pod
        .as_object_mut()
        .map(|m| m.entry("status").or_insert_with(|| json!({})));
    let Some(status_obj) = status_obj else { return };
    if !status_obj.get("conditions").is_some_and(Value::is_array) {
        status_obj["conditions"] = json!([]);
    }
    let Some(conditions) = status_obj["conditions"].as_array_mut() else {
        return;
    };
    let entry =
        json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    match conditions.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => *c = entry,
        None => conditions.push(entry),
    }
}

/// The `autoscaling/v1 Scale` view of a workload.
/// Where an object keeps what its `scale` subresource shows: a custom kind's
/// CRD says; the built-in kinds keep it at `spec.replicas`, `status.replicas` and
/// the `spec.selector` label selector.
fn scale_paths(info: &ResourceInfo) -> ScalePaths {
    wharf_api_types::custom::of(info)
        .and_then(|c| c.scale)
        .unwrap_or_else(|| ScalePaths {
            spec_replicas: "/spec/replicas".into(),
            status_replicas: "/status/replicas".into(),
            label_selector: None,
        })
}

/// The `autoscaling/v1 Scale` of an object.
fn scale_of(info: &ResourceInfo, obj: &Value) -> Value {
    let paths = scale_paths(info);
    let selector = match &paths.label_selector {
        // A custom kind keeps its selector in string form.
        Some(at) => obj
            .pointer(at)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        None => obj
            .pointer("/spec/selector")
            .and_then(|s| selector::from_label_selector_object(s).ok())
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    // The object's identity, without the fields it does not have (a
    // cluster-scoped object has no namespace).
    let metadata: serde_json::Map<String, Value> = obj
        .get("metadata")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "name" | "namespace" | "uid" | "resourceVersion" | "creationTimestamp"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut status = json!({
        "replicas": obj.pointer(&paths.status_replicas).cloned().unwrap_or(json!(0)),
    });
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": obj.pointer(&paths.spec_replicas).cloned().unwrap_or(json!(0))},
        "status": status,
    })
}

/// Sets the value at a JSON pointer, making the objects on the way.
fn set_at(obj: &mut Value, pointer: &str, value: Value) {
    let mut at = obj;
    let mut parts = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(map) = at.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return;
        }
        at = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

pub async fn get_scale(
    server: &ApiServer,
    target: &Target,
    repr: Representation,
) -> Result<Response, ApiError> {
    let (obj, _) = server
        .objects
        .get(
            target.info,
            target.namespace.as_deref(),
            target.name.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(respond(
        200,
        repr,
        Body::Plain(scale_of(target.info, &obj)),
        &[],
    ))
}

enum ScaleChange {
    Replace(Value),
    Patch(PatchType, Vec<u8>),
}

async fn write_scale(
    server: &ApiServer,
    target: &Target,
    options: &Options,
    repr: Representation,
    change: ScaleChange,
) -> Result<Response, ApiError> {
    let info = target.info;
    let name = target.name.clone().unwrap_or_default();
    let ns = target.namespace.clone();
    if let ScaleChange::Replace(scale) = &change
        && let Some(other) = meta::name(scale).filter(|n| *n != name)
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({other}) does not match the name on the URL ({name})"
        )));
    }
    let precondition = match &change {
        ScaleChange::Replace(scale) => meta::resource_version(scale)
            .map(|rv| {
                rv.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))
            })
            .transpose()?,
        ScaleChange::Patch(..) => None,
    };
    let mut mutate = |current: &Value| {
        let scale = match &change {
            ScaleChange::Replace(s) => s.clone(),
            ScaleChange::Patch(t, body) => {
                let patched = wharf_patch::apply(*t, &scale_of(info, current), body)
                    .map_err(|e| ApiError::new(e.http_status(), e.reason(), e.to_string()))?;
                // A resourceVersion in the patch is a precondition (`kubectl scale
                // --resource-version`), as on the object itself.
                if meta::resource_version(&patched) != meta::resource_version(current) {
                    return Err(ApiError::modified(info, &name));
                }
                patched
            }
        };
        let replicas = match scale.pointer("/spec/replicas") {
            Some(Value::Number(n))
                if n.as_i64()
                    .is_some_and(|n| (0..=i32::MAX as i64).contains(&n)) =>
            {
                n.clone()
            }
            other => {
                return Err(ApiError::invalid_object(
                    "autoscaling",
                    "Scale",
                    &name,
                    &[wharf_api_types::validation::FieldError::invalid(
                        "spec.replicas",
                        other.unwrap_or(&Value::Null),
                        "must be greater than or equal to 0",
                    )],
                ));
            }
        };
        let mut obj = current.clone();
        set_at(
            &mut obj,
            &scale_paths(info).spec_replicas,
            Value::Number(replicas),
        );
        admission::prepare_update(info, ns.as_deref(), &name, obj, current, None)
    };
    let written = update_with(
        server,
        target,
        precondition,
        options,
        Write::Update,
        &mut mutate,
    )
    .await?
    .into_object();
    Ok(respond(
        200,
        repr,
        Body::Plain(scale_of(info, &written)),
        &[],
    ))
}
