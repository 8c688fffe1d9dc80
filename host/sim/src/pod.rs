//! A pod as a simulated kubelet reads it: who it is, where it is bound, whether it
//! is being deleted or already running, its containers' names and images (init
//! containers' too, and which of them are sidecars) and whether it uses the
//! host's network.
//! Everything else in the object is skipped while decoding, never built: the sim
//! hears every change of every bound pod, most of them its own status reports.

use serde::Deserialize;
use wharf_client::{Meta, Object, nullable};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SimPod {
    #[serde(deserialize_with = "nullable")]
    pub metadata: Meta,
    #[serde(deserialize_with = "nullable")]
    pub spec: Spec,
    #[serde(deserialize_with = "nullable")]
    pub status: Status,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Spec {
    #[serde(deserialize_with = "nullable")]
    pub node_name: String,
    #[serde(deserialize_with = "nullable")]
    pub containers: Vec<Container>,
    #[serde(deserialize_with = "nullable")]
    pub init_containers: Vec<Container>,
    #[serde(deserialize_with = "nullable")]
    pub host_network: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    /// `Always` on an init container: a sidecar, which keeps running.
    #[serde(deserialize_with = "nullable")]
    pub restart_policy: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    #[serde(deserialize_with = "nullable")]
    pub phase: String,
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type", deserialize_with = "nullable")]
    pub type_: String,
    #[serde(deserialize_with = "nullable")]
    pub status: String,
}

impl Status {
    /// Running, but not Ready: what the node lifecycle controller leaves of a pod
    /// whose node went silent.
    pub fn running_but_not_ready(&self) -> bool {
        self.phase == "Running"
            && !self
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
    }
}

impl Object for SimPod {
    fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_needs_and_tolerates_nulls_and_extras() {
        let pod: SimPod = serde_json::from_str(
            r#"{"apiVersion":"v1","kind":"Pod",
                "metadata":{"name":"p","namespace":"d","uid":"u","resourceVersion":"7",
                            "labels":{"a":"b"},"deletionTimestamp":null},
                "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i","env":[{"name":"X"}]}],
                        "tolerations":null},
                "status":{"phase":"Pending","conditions":[{"type":"PodScheduled"}]}}"#,
        )
        .unwrap();
        assert_eq!(pod.metadata.uid, "u");
        assert_eq!(pod.spec.node_name, "n1");
        assert_eq!(pod.spec.containers[0].image, "i");
        assert_eq!(pod.status.phase, "Pending");
        assert!(!pod.status.running_but_not_ready());
        assert_eq!(pod.resource_version(), Some("7"));
        assert!(!pod.metadata.is_deleting());
        let bare: SimPod = serde_json::from_str(r#"{"metadata":null,"spec":null}"#).unwrap();
        assert_eq!(bare.resource_version(), None);
        let deleting: SimPod =
            serde_json::from_str(r#"{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"}}"#)
                .unwrap();
        assert!(deleting.metadata.is_deleting());
    }

    #[test]
    fn a_running_pod_is_ready_only_with_a_true_ready_condition() {
        let status = |conditions: &str| -> Status {
            serde_json::from_str(&format!(
                r#"{{"phase":"Running","conditions":{conditions}}}"#
            ))
            .unwrap()
        };
        assert!(!status(r#"[{"type":"Ready","status":"True"}]"#).running_but_not_ready());
        assert!(status(r#"[{"type":"Ready","status":"False"}]"#).running_but_not_ready());
        assert!(status(r#"[{"type":"ContainersReady","status":"True"}]"#).running_but_not_ready());
        assert!(status("null").running_but_not_ready());
    }
}
