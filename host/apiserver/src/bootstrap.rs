//! What exists on first start, as on a new Kubernetes cluster: the `default`,
//! `kube-system`, `kube-public` and `kube-node-lease` namespaces, the `kubernetes`
//! Service in `default`, the system PriorityClasses, and the `cluster-admin`,
//! `admin`, `edit` and `view` ClusterRoles. Safe to run on every start: what exists
//! is left alone.

use serde_json::{Value, json};
use wharf_api_types::{rbac, resources};

use crate::admission;
use crate::allocate::KUBERNETES_SERVICE_IP;
use crate::error::ApiError;
use crate::storage::Objects;

pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

pub async fn run(objects: &Objects, api_port: u16) -> Result<(), ApiError> {
    let namespaces = resources::find("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("no namespace kind"))?;
    for name in SYSTEM_NAMESPACES {
        let obj = admission::prepare_create(namespaces, None, json!({"metadata": {"name": name}}))?;
        create_if_missing(objects, namespaces, None, name, obj).await?;
    }
    let services = resources::find("", "v1", "services")
        .ok_or_else(|| ApiError::internal("no service kind"))?;
    let mut svc = admission::prepare_create(
        services,
        Some("default"),
        json!({"metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
               "spec": {"ports": [{"name": "https", "port": 443, "targetPort": api_port}]}}),
    )?;
    svc["spec"]["clusterIP"] = json!(KUBERNETES_SERVICE_IP.to_string());
    svc["spec"]["clusterIPs"] = json!([KUBERNETES_SERVICE_IP.to_string()]);
    create_if_missing(objects, services, Some("default"), "kubernetes", svc).await?;
    let classes = resources::find("scheduling.k8s.io", "v1", "priorityclasses")
        .ok_or_else(|| ApiError::internal("no PriorityClass kind"))?;
    for class in crate::priority::system_objects() {
        let obj = admission::prepare_create(classes, None, class)?;
        let name = wharf_api_types::meta::name(&obj)
            .unwrap_or_default()
            .to_string();
        create_if_missing(objects, classes, None, &name, obj).await?;
    }
    let cluster_roles = resources::find(rbac::GROUP, "v1", "clusterroles")
        .ok_or_else(|| ApiError::internal("no ClusterRole kind"))?;
    let cluster_role_bindings = resources::find(rbac::GROUP, "v1", "clusterrolebindings")
        .ok_or_else(|| ApiError::internal("no ClusterRoleBinding kind"))?;
    let rbac_objects = rbac::bootstrap_cluster_roles()
        .into_iter()
        .map(|role| (cluster_roles, role))
        .chain([(
            cluster_role_bindings,
            rbac::bootstrap_cluster_role_binding(),
        )]);
    for (info, obj) in rbac_objects {
        let obj = admission::prepare_create(info, None, obj)?;
        let name = wharf_api_types::meta::name(&obj)
            .unwrap_or_default()
            .to_string();
        create_if_missing(objects, info, None, &name, obj).await?;
    }
    Ok(())
}

async fn create_if_missing(
    objects: &Objects,
    info: &resources::ResourceInfo,
    ns: Option<&str>,
    name: &str,
    obj: Value,
) -> Result<(), ApiError> {
    match objects.create(info, ns, name, obj).await {
        Ok(_) => {
            tracing::info!(kind = info.kind, name, "created on first start");
            Ok(())
        }
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}
