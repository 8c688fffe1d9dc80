//! Which pods leave a tainted node, and when.

use k8s_openapi::api::core::v1::{Pod, PodSpec, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_controller_nodelifecycle::{UNREACHABLE, evict_due};

fn pod(name: &str, tolerations: Vec<Toleration>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            tolerations: Some(tolerations),
            ..Default::default()
        }),
        status: None,
    }
}

fn tolerate(seconds: Option<i64>) -> Toleration {
    Toleration {
        key: Some(UNREACHABLE.into()),
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        toleration_seconds: seconds,
        value: None,
    }
}

#[test]
fn tolerations_decide_when_pods_leave() {
    let now = Timestamp::now();
    let taint = Taint {
        key: UNREACHABLE.into(),
        effect: "NoExecute".into(),
        value: None,
        time_added: Some(Time(now - SignedDuration::from_secs(60))),
    };
    let pods = vec![
        pod("default-toleration", vec![]),
        pod("short", vec![tolerate(Some(30))]),
        pod("long", vec![tolerate(Some(600))]),
        pod("forever", vec![tolerate(None)]),
    ];
    let (due, next) = evict_due(&pods, std::slice::from_ref(&taint), 300, now);
    let names: Vec<&str> = due.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(names, ["short"]);
    // The next is the default 300 s one: 240 s from now.
    assert_eq!(next, Some(SignedDuration::from_secs(240)));
    let (due, _) = evict_due(&pods, &[taint], 0, now);
    assert_eq!(
        due.len(),
        2,
        "a zero default evicts untolerating pods at once"
    );
}

#[test]
fn a_users_no_execute_taint_evicts_at_once_what_does_not_tolerate_it() {
    let now = Timestamp::now();
    let taint = Taint {
        key: "maintenance".into(),
        effect: "NoExecute".into(),
        value: Some("yes".into()),
        time_added: Some(Time(now)),
    };
    let tolerating = Toleration {
        key: Some("maintenance".into()),
        operator: Some("Equal".into()),
        value: Some("yes".into()),
        effect: Some("NoExecute".into()),
        toleration_seconds: Some(60),
    };
    let pods = vec![
        pod("untolerating", vec![]),
        pod("lifecycle-only", vec![tolerate(None)]),
        pod("for-a-minute", vec![tolerating]),
    ];
    let (due, next) = evict_due(&pods, &[taint], 300, now);
    let names: Vec<&str> = due.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(names, ["untolerating", "lifecycle-only"]);
    assert_eq!(next, Some(SignedDuration::from_secs(60)));
}
