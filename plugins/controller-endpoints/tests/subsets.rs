//! Endpoints as Kubernetes packs them.

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Pod, PodCondition, PodSpec, PodStatus, ServicePort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use wharf_controller_endpoints::subsets;

fn pod(name: &str, ip: &str, ready: bool, port_name: Option<&str>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            containers: vec![Container {
                name: "c".into(),
                ports: port_name.map(|n| {
                    vec![ContainerPort {
                        name: Some(n.into()),
                        container_port: 8080,
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(PodStatus {
            pod_ip: Some(ip.into()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn ready_and_not_ready_addresses_with_named_ports_resolved() {
    let ports = [ServicePort {
        name: Some("http".into()),
        port: 80,
        target_port: Some(IntOrString::String("web".into())),
        ..Default::default()
    }];
    let pods = [
        pod("b", "10.0.0.2", true, Some("web")),
        pod("a", "10.0.0.1", true, Some("web")),
        pod("c", "10.0.0.3", false, Some("web")),
        // No port named "web": not an endpoint of this service.
        pod("d", "10.0.0.4", true, None),
    ];
    let s = subsets(&pods, &ports, false);
    assert_eq!(s.len(), 1);
    let ready: Vec<&str> = s[0]
        .addresses
        .iter()
        .flatten()
        .map(|a| a.ip.as_str())
        .collect();
    assert_eq!(ready, ["10.0.0.1", "10.0.0.2"]);
    let not_ready: Vec<&str> = s[0]
        .not_ready_addresses
        .iter()
        .flatten()
        .map(|a| a.ip.as_str())
        .collect();
    assert_eq!(not_ready, ["10.0.0.3"]);
    assert_eq!(s[0].ports.as_ref().unwrap()[0].port, 8080);
    assert!(
        subsets(&pods, &ports, true)[0]
            .not_ready_addresses
            .is_none()
    );
}
