//! The pod subresources a kubelet serves (`log`, `exec`, `attach`, `portforward`,
//! `proxy`), which kube-apiserver forwards to the pod's node. No node runs a
//! kubelet yet (simulated nodes run no containers), so each gets a Status that
//! says so, after the checks Kubernetes makes before forwarding: the pod exists,
//! the container named is one of its own, and the pod is bound to a node.
//! Without this route kubectl printed "the server could not find the requested
//! resource", as if the pod did not exist.

use serde_json::Value;
use wharf_api_types::resources;

use crate::error::ApiError;
use crate::server::ApiServer;

/// The subresources of a pod that only a kubelet can answer.
const SERVED_BY_KUBELET: &[&str] = &["log", "exec", "attach", "portforward", "proxy"];

/// `(namespace, pod, subresource)` when `path` is one of those subresources. Every
/// request that is not a discovery or review one passes here, so it allocates
/// nothing.
pub fn target(path: &str) -> Option<(&str, &str, &str)> {
    let mut s = path.trim_matches('/').split('/');
    let mut next = || s.next().unwrap_or("");
    let (api, v1, namespaces, ns, pods, name, sub) =
        (next(), next(), next(), next(), next(), next(), next());
    let shape = (api, v1, namespaces, pods) == ("api", "v1", "namespaces", "pods");
    (shape && !ns.is_empty() && !name.is_empty() && SERVED_BY_KUBELET.contains(&sub))
        .then_some((ns, name, sub))
}

/// The error Kubernetes would give before reaching the kubelet, or else the one
/// saying that no kubelet serves the pod's node.
pub async fn answer(
    server: &ApiServer,
    namespace: &str,
    name: &str,
    sub: &str,
    container: Option<&str>,
) -> ApiError {
    let Some(pods) = resources::find("", "v1", "pods") else {
        return ApiError::not_found_path(&format!("/api/v1/namespaces/{namespace}/pods"));
    };
    match server.objects.get(pods, Some(namespace), name).await {
        Ok((pod, _)) => refusal(&pod, name, sub, container),
        Err(e) => e,
    }
}

fn refusal(pod: &Value, name: &str, sub: &str, container: Option<&str>) -> ApiError {
    if let Some(c) = container.filter(|c| !c.is_empty()) {
        let known = ["containers", "initContainers", "ephemeralContainers"]
            .iter()
            .filter_map(|list| pod["spec"][list].as_array())
            .flatten()
            .any(|k| k["name"] == c);
        if !known {
            return ApiError::bad_request(format!("container {c} is not valid for pod {name}"));
        }
    }
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    if node.is_empty() {
        return ApiError::bad_request(format!("pod {name} does not have a host assigned"));
    }
    ApiError::new(
        503,
        "ServiceUnavailable",
        format!(
            "{sub} for pod {name} is served by the kubelet of node {node:?}, and no node runs \
             one: Wharf's kubelet is not built yet, and simulated nodes run no containers"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_kubelet_subresources_of_core_pods_only() {
        assert_eq!(
            target("/api/v1/namespaces/default/pods/p/log"),
            Some(("default", "p", "log"))
        );
        assert_eq!(
            target("/api/v1/namespaces/d/pods/p/proxy/healthz"),
            Some(("d", "p", "proxy"))
        );
        assert_eq!(target("/api/v1/namespaces/d/pods/p/status"), None);
        assert_eq!(target("/api/v1/namespaces/d/pods/p"), None);
        assert_eq!(target("/apis/x/v1/namespaces/d/pods/p/log"), None);
    }

    #[test]
    fn checks_as_kubernetes_does_before_the_kubelet() {
        let pod = |node: Value| {
            json!({"spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "init"}],
                            "nodeName": node}})
        };
        let e = refusal(&pod(json!("n1")), "p", "log", Some("other"));
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container other is not valid for pod p")
        );
        let e = refusal(&pod(Value::Null), "p", "exec", Some("init"));
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "pod p does not have a host assigned")
        );
        let e = refusal(&pod(json!("n1")), "p", "log", None);
        assert_eq!((e.code, e.reason), (503, "ServiceUnavailable"));
        assert!(
            e.message
                .starts_with("log for pod p is served by the kubelet of node \"n1\""),
            "{}",
            e.message
        );
    }
}
