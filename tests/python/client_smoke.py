"""The official Kubernetes Python client against a Wharf API server.

Run by tests/python_client.rs with the admin kubeconfig as its only argument.
Exits non-zero (with the failed assertion) when anything differs from Kubernetes.
"""
import sys
import threading
import time

from kubernetes import client, config, watch

config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()

assert client.VersionApi().get_code().major == "1"
v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))

pod = client.V1Pod(
    metadata=client.V1ObjectMeta(name="pp", labels={"a": "b"}),
    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
)
created = v1.create_namespaced_pod("py", pod)
assert created.spec.restart_policy == "Always", created.spec
assert created.status.phase == "Pending"
listed = v1.list_namespaced_pod("py", label_selector="a=b")
assert [p.metadata.name for p in listed.items] == ["pp"]
assert v1.list_namespaced_pod("py", label_selector="a=c").items == []

events = []


def watcher():
    for ev in watch.Watch().stream(v1.list_namespaced_pod, "py", timeout_seconds=4):
        events.append((ev["type"], ev["object"].metadata.name))


t = threading.Thread(target=watcher)
t.start()
time.sleep(1)
v1.patch_namespaced_pod("pp", "py", {"metadata": {"labels": {"x": "y"}}})
v1.delete_namespaced_pod("pp", "py")
t.join()
# The scheduler may also modify the pod (with no nodes it records
# PodScheduled=False), so there can be more than one MODIFIED in between.
assert events[0] == ("ADDED", "pp"), events
assert events[-1] == ("DELETED", "pp"), events
assert len(events) >= 3 and all(e == ("MODIFIED", "pp") for e in events[1:-1]), events

deployment = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="d"),
    spec=client.V1DeploymentSpec(
        replicas=2,
        selector=client.V1LabelSelector(match_labels={"app": "d"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "d"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1")]),
        ),
    ),
)
created = apps.create_namespaced_deployment("py", deployment)
# Kubernetes always returns a status, empty at first, so `.status.x` is safe.
assert created.status is not None and created.status.ready_replicas is None, created.status
assert apps.read_namespaced_deployment_scale("d", "py").spec.replicas == 2
apps.patch_namespaced_deployment_scale("d", "py", {"spec": {"replicas": 4}})
assert apps.read_namespaced_deployment("d", "py").spec.replicas == 4

try:
    v1.read_namespaced_pod("nope", "py")
    raise AssertionError("reading a missing pod must fail")
except client.exceptions.ApiException as e:
    assert e.status == 404, e

# Permission checks: Wharf has no authorization, so every review says allowed.
authz = client.AuthorizationV1Api()
attributes = client.V1ResourceAttributes(verb="create", resource="pods", namespace="py")
review = authz.create_self_subject_access_review(
    client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes))
)
assert review.status.allowed, review.status
try:
    authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec()))
    raise AssertionError("a review that asks nothing must be refused")
except client.exceptions.ApiException as e:
    assert e.status == 422, e
me = client.AuthenticationV1Api().create_self_subject_review(client.V1SelfSubjectReview())
assert me.status.user_info.username == "system:anonymous", me.status

# A pod no scheduler serves, bound through the namespace's `bindings` resource
# (the form the Python client's create_namespaced_binding uses).
v1.create_namespaced_pod("py", client.V1Pod(
    metadata=client.V1ObjectMeta(name="manual"),
    spec=client.V1PodSpec(scheduler_name="nobody", containers=[client.V1Container(name="c", image="busybox:1.36")]),
))
binding = client.V1Binding(
    metadata=client.V1ObjectMeta(name="manual"),
    target=client.V1ObjectReference(kind="Node", name="node-x"),
)
answer = v1.create_namespaced_binding("py", binding, _preload_content=False)
assert answer.status == 201, answer.status
assert v1.read_namespaced_pod("manual", "py").spec.node_name == "node-x"
try:
    v1.create_namespaced_binding("py", binding, _preload_content=False)
    raise AssertionError("binding a bound pod must conflict")
except client.exceptions.ApiException as e:
    assert e.status == 409, e
# No kubelet runs node-x to confirm a graceful stop.
v1.delete_namespaced_pod("manual", "py", grace_period_seconds=0)

stale = v1.read_namespace("py")
v1.patch_namespace("py", {"metadata": {"labels": {"touched": "yes"}}})
try:
    v1.replace_namespace("py", stale)
    raise AssertionError("a stale replace must conflict")
except client.exceptions.ApiException as e:
    assert e.status == 409, e

v1.delete_namespace("py")
deadline = time.time() + 20
while time.time() < deadline:
    try:
        v1.read_namespace("py")
        time.sleep(0.2)
    except client.exceptions.ApiException as e:
        assert e.status == 404, e
        break
else:
    raise AssertionError("namespace py was not deleted")
print("python client: ok")
