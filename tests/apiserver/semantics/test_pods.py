"""Pods: defaults as `kubectl get -o yaml` shows them, validation messages, update and delete rules."""

from __future__ import annotations

import pytest

from kwok.api.podresources import qos_class
from kwok.apiserver.defaults import image_pull_policy

from .helpers import create, messages, pod, strategy, update


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("registry:5000/app", "Always"), ("registry:5000/app:v1", "IfNotPresent"),
    ("app@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_created_pod_carries_the_server_defaults() -> None:
    obj, causes = create("", "pods", pod("web", {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}))
    assert causes == []
    spec = obj["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == ("Always", "ClusterFirst",
                                                                                 "default-scheduler")
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    c = spec["containers"][0]
    assert c["terminationMessagePath"] == "/dev/termination-log" and c["terminationMessagePolicy"] == "File"
    assert c["imagePullPolicy"] == "Always" and c["ports"][0]["protocol"] == "TCP" and c["resources"] == {}
    assert obj["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert obj["metadata"]["generation"] == 1


def test_requests_default_to_limits_and_make_the_pod_guaranteed() -> None:
    limited = {"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    obj, _ = create("", "pods", pod("p", limited))
    assert obj["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert obj["status"]["qosClass"] == "Guaranteed"
    assert qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]}) == "Burstable"


def test_pod_level_limits_fill_in_pod_level_requests() -> None:
    """defaultPodRequests: cpu from the containers' effective total (a limit-only container counts
    its limit, a sidecar adds to the running total), memory from the pod-level limit since no
    container requests memory; requests already set are kept."""
    spec_resources = {"limits": {"cpu": "2", "memory": "1Gi"}}
    containers = [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "0.2"}}},
                  {"name": "b", "image": "x", "resources": {"requests": {"cpu": "100m"}}}]
    sidecar = {"name": "s", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}}
    obj, causes = create("", "pods", pod("p", *containers, resources=spec_resources, initContainers=[sidecar]))
    assert causes == []
    assert obj["spec"]["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"},
                                        "requests": {"cpu": "350m", "memory": "1Gi"}}
    assert obj["status"]["qosClass"] == "Burstable"
    kept = {"limits": {"cpu": "2"}, "requests": {"cpu": "1"}}
    obj, _ = create("", "pods", pod("q", {"name": "a", "image": "x"}, resources=kept))
    assert obj["spec"]["resources"]["requests"] == {"cpu": "1"}
    obj, _ = create("", "pods", pod("r", {"name": "a", "image": "x"}, resources={"requests": {"cpu": "1"}}))
    assert obj["spec"]["resources"] == {"requests": {"cpu": "1"}}      # no pod-level limits: nothing to fill


def test_pod_level_quantities_are_validated() -> None:
    _, causes = create("", "pods", pod("p", {"name": "a", "image": "x"}, resources={"limits": {"cpu": "abc"}}))
    assert messages(causes)[0].startswith('spec.resources.limits[cpu]: Invalid value: "abc": '
                                          "quantities must match the regular expression")
    over = {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}
    _, causes = create("", "pods", pod("p", {"name": "a", "image": "x"}, resources=over))
    assert messages(causes) == ['spec.resources.requests: Invalid value: "2Gi": must be less than or equal to '
                                "memory limit of 1Gi"]


def test_pod_without_containers_is_invalid() -> None:
    _, causes = create("", "pods", {"metadata": {"name": "p"}, "spec": {"containers": []}})
    assert messages(causes) == ["spec.containers: Required value"]


def test_container_errors_use_the_real_wording() -> None:
    bad = pod("Bad_Name", {"name": "c"}, {"name": "c", "image": "x", "ports": [{"containerPort": 70000}]},
              restartPolicy="Sometimes")
    _, causes = create("", "pods", bad)
    text = messages(causes)
    assert text[0].startswith('metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must '
                              "consist of lower case alphanumeric characters, '-' or '.'")
    assert "spec.containers[0].image: Required value" in text
    assert 'spec.containers[1].name: Duplicate value: "c"' in text
    assert "spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, " \
           "inclusive" in text
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", ' \
           '"Never"' in text


def test_only_images_and_a_few_fields_of_a_pod_may_change() -> None:
    old, _ = create("", "pods", pod("p"))
    new, causes = update("", "pods", {**old, "spec": {**old["spec"], "containers": [
        {**old["spec"]["containers"][0], "image": "nginx:2"}]}}, old)
    assert causes == [] and new["metadata"]["generation"] == 2
    _, causes = update("", "pods", {**old, "spec": {**old["spec"], "restartPolicy": "Never"}}, old)
    assert [c.field for c in causes] == ["spec"]
    assert causes[0].message.startswith("Forbidden: pod updates may not change fields other than "
                                        "`spec.containers[*].image`")


def test_update_keeps_status_and_labels_do_not_bump_generation() -> None:
    old, _ = create("", "pods", pod("p"))
    old["status"] = {"phase": "Running"}
    new, causes = update("", "pods", {**old, "metadata": {"labels": {"a": "b"}}, "status": {"phase": "Failed"}}, old)
    assert causes == []
    assert new["status"] == {"phase": "Running"} and new["metadata"]["generation"] == 1


@pytest.mark.parametrize(("node", "phase", "options", "grace", "now"), [
    ("n1", "Running", {}, 30, False),
    ("n1", "Running", {"gracePeriodSeconds": 5}, 5, False),
    ("n1", "Running", {"gracePeriodSeconds": 0}, 0, True),
    ("", "Pending", {}, 0, True),             # never scheduled: nothing to stop
    ("n1", "Succeeded", {}, 0, True),         # finished: nothing to stop
])
def test_pod_deletion_is_graceful_only_for_running_pods(node: str, phase: str, options: dict[str, int],
                                                        grace: int, now: bool) -> None:
    obj, _ = create("", "pods", pod("p", nodeName=node) if node else pod("p"))
    obj["status"]["phase"] = phase
    decision = strategy("", "pods").delete_decision(obj, options)
    assert (decision.remove_now, decision.grace_period_seconds) == (now, grace)


def test_foreground_deletion_adds_its_finalizer() -> None:
    obj, _ = create("", "pods", pod("p"))
    decision = strategy("", "pods").delete_decision(obj, {"propagationPolicy": "Foreground"})
    assert not decision.remove_now and decision.add_finalizers == ("foregroundDeletion",)


def test_pods_answer_delete_with_the_object_and_index_their_node() -> None:
    s = strategy("", "pods")
    obj, _ = create("", "pods", pod("p", nodeName="n1"))
    assert s.returns_deleted_object
    fields = s.field_values(obj)
    assert fields["spec.nodeName"] == "n1" and fields["status.phase"] == "Pending"
    assert not strategy("", "configmaps").returns_deleted_object


def test_requests_may_not_exceed_limits() -> None:
    over = {"name": "c", "image": "x", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    _, causes = create("", "pods", pod("p", over))
    assert messages(causes) == ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or '
                                "equal to cpu limit of 1"]
    _, causes = create("", "pods", pod("p", {"name": "c", "image": "x", "resources": {"requests": {"cpu": "lots"}}}))
    assert messages(causes)[0].startswith('spec.containers[0].resources.requests[cpu]: Invalid value: "lots": '
                                          "quantities must match the regular expression")


def test_wrongly_typed_fields_are_a_bad_request() -> None:
    from kwok.api.errors import ApiError

    with pytest.raises(ApiError) as caught:
        create("", "pods", pod("p", tolerations=["not-an-object"]))
    assert caught.value.code == 400
    assert caught.value.message.startswith('Pod in version "v1" cannot be handled as a Pod:')


def test_volume_mounts_must_name_a_volume() -> None:
    mounting = {"name": "c", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                                            {"name": "cache", "mountPath": "/data"}]}
    _, causes = create("", "pods", pod("p", mounting, volumes=[{"name": "cache", "emptyDir": {}}]))
    assert messages(causes) == ['spec.containers[0].volumeMounts[0].name: Not found: "data"',
                                'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique']
    obj, causes = create("", "pods", pod("p", {**mounting, "volumeMounts": mounting["volumeMounts"][1:]},
                                         volumes=[{"name": "cache"}]))
    assert causes == [] and obj["spec"]["volumes"] == [{"name": "cache", "emptyDir": {}}]


def test_pod_level_resources_must_cover_the_containers() -> None:
    """validatePodResourceConsistency, with the real messages (as a 1.34+ server answers)."""
    containers = [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "4Gi"}}},
                  {"name": "b", "image": "x", "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}]
    _, causes = create("", "pods", pod("p", *containers, resources={"requests": {"cpu": "1", "memory": "576Mi"}}))
    assert messages(causes) == [
        'spec.resources.requests[cpu]: Invalid value: "1": must be greater than or equal to aggregate container '
        "requests of 1500m",
        'spec.resources.requests[memory]: Invalid value: "576Mi": must be greater than or equal to aggregate '
        "container requests of 6Gi"]
    limited = [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "2"}}}]
    _, causes = create("", "pods", pod("p", *limited, resources={"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}))
    assert 'spec.resources.containers[0][cpu].limits: Invalid value: "2": must be less than or equal to pod ' \
           "limits of 1" in messages(causes)
    _, causes = create("", "pods", pod("p", {"name": "a", "image": "x"}, resources={"limits": {"pods": "1"}}))
    assert messages(causes) == ['spec.resources.limits[pods]: Unsupported value: "pods": supported values: "cpu", '
                                '"hugepages-", "memory"']
    fitting = pod("p", *containers, resources={"requests": {"cpu": "2", "memory": "6Gi"}})
    assert create("", "pods", fitting)[1] == []
