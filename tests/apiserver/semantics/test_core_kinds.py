"""Namespaces, Services, ConfigMaps, Secrets, PVCs, PriorityClasses: defaults and validation."""

from __future__ import annotations

from kwok.apiserver.strategies.cluster import finalize_namespace

from .helpers import create, messages, strategy, update


def test_namespace_gets_finalizer_phase_and_name_label() -> None:
    obj, causes = create("", "namespaces", {"metadata": {"name": "team-a"}}, namespace=None)
    assert causes == []
    assert obj["spec"] == {"finalizers": ["kubernetes"]} and obj["status"] == {"phase": "Active"}
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert "generation" not in obj["metadata"]


def test_namespace_names_are_dns_labels() -> None:
    _, causes = create("", "namespaces", {"metadata": {"name": "a.b"}}, namespace=None)
    assert messages(causes)[0].startswith('metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label')


def test_namespace_deletion_waits_for_its_finalizer() -> None:
    s = strategy("", "namespaces")
    obj, _ = create("", "namespaces", {"metadata": {"name": "t"}}, namespace=None)
    assert not s.delete_decision(obj, {}).remove_now
    s.prepare_for_delete(obj, {})
    assert obj["status"]["phase"] == "Terminating" and not s.finalized(obj)
    done = finalize_namespace({"spec": {"finalizers": []}}, obj)
    assert s.finalized(done) and done["status"]["phase"] == "Terminating"


def test_namespace_update_cannot_drop_the_finalizer() -> None:
    old, _ = create("", "namespaces", {"metadata": {"name": "t"}}, namespace=None)
    new, _ = update("", "namespaces", {**old, "spec": {"finalizers": []}}, old)
    assert new["spec"] == {"finalizers": ["kubernetes"]}


def service(**spec: object) -> dict[str, object]:
    return {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


def test_service_defaults() -> None:
    obj, causes = create("", "services", service())
    assert causes == []
    spec = obj["spec"]
    assert (spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"]) == ("ClusterIP", "None", "Cluster")
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert obj["status"] == {"loadBalancer": {}}


def test_service_validation_messages() -> None:
    _, causes = create("", "services", {"metadata": {"name": "1web"}, "spec": {"ports": [
        {"port": 80}, {"port": 0, "name": "b"}]}})
    text = messages(causes)
    assert text[0].startswith('metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case')
    assert "spec.ports[0].name: Required value" in text
    assert "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive" in text
    _, causes = create("", "services", service(ports=[{"port": 80, "nodePort": 80}], type="NodePort"))
    assert messages(causes) == ["spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid "
                                "range. The range of valid ports is 30000-32767"]


def test_service_update_keeps_allocated_ip_and_refuses_a_new_one() -> None:
    old, _ = create("", "services", service())
    old["spec"].update(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"])
    applied, causes = update("", "services", service(), old)
    assert causes == [] and applied["spec"]["clusterIP"] == "10.96.0.10"
    _, causes = update("", "services", service(clusterIP="10.96.0.11"), old)
    assert messages(causes) == ['spec.clusterIPs[0]: Invalid value: "10.96.0.11": field is immutable']


def test_secret_defaults_type_and_checks_keys() -> None:
    obj, causes = create("", "secrets", {"metadata": {"name": "s"}, "data": {"ok.key": "eA=="}})
    assert causes == [] and obj["type"] == "Opaque"
    _, causes = create("", "secrets", {"metadata": {"name": "s"}, "data": {"bad key": "eA=="}})
    assert messages(causes)[0].startswith('data: Invalid value: "bad key": a valid config key must consist of')
    _, causes = create("", "secrets", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {}})
    assert messages(causes) == ["data[tls.crt]: Required value", "data[tls.key]: Required value"]


def test_immutable_configmap_refuses_data_changes() -> None:
    old, _ = create("", "configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": True})
    assert "generation" not in old["metadata"]
    _, causes = update("", "configmaps", {**old, "data": {"a": "2"}}, old)
    assert messages(causes) == ["data: Forbidden: field is immutable when `immutable` is set"]


def test_labels_and_annotations_are_checked() -> None:
    _, causes = create("", "configmaps", {"metadata": {"name": "c", "labels": {"-x": "y", "k": "v" * 64}}})
    text = messages(causes)
    assert text[0].startswith('metadata.labels: Invalid value: "-x": name part must consist of alphanumeric')
    assert text[1] == f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'
    _, causes = create("", "configmaps", {"metadata": {"name": "c", "annotations": {"a": "x" * 262144}}})
    assert messages(causes) == ["metadata.annotations: Too long: may not be more than 262144 bytes"]


def test_cluster_scoped_objects_have_no_namespace() -> None:
    _, causes = create("", "nodes", {"metadata": {"name": "n", "namespace": "x"}}, namespace=None)
    assert messages(causes) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_pvc_defaults_and_requirements() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    obj, causes = create("", "persistentvolumeclaims", claim)
    assert causes == [] and obj["spec"]["volumeMode"] == "Filesystem" and obj["status"] == {"phase": "Pending"}
    _, causes = create("", "persistentvolumeclaims", {"metadata": {"name": "d"}, "spec": {}})
    assert messages(causes) == ["spec.accessModes: Required value", "spec.resources[storage]: Required value"]


def test_priority_class_rules() -> None:
    obj, causes = create("scheduling.k8s.io", "priorityclasses", {"metadata": {"name": "high"}, "value": 1000},
                         namespace=None)
    assert causes == [] and obj["preemptionPolicy"] == "PreemptLowerPriority"
    _, causes = create("scheduling.k8s.io", "priorityclasses", {"metadata": {"name": "huge"}, "value": 2 * 10**9},
                       namespace=None)
    assert messages(causes) == ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    _, causes = update("scheduling.k8s.io", "priorityclasses", {**obj, "value": 1}, obj)
    assert messages(causes) == ["value: Forbidden: may not be changed in an update."]


def test_limit_range_container_item_defaults() -> None:
    obj, _ = create("", "limitranges", {"metadata": {"name": "l"}, "spec": {"limits": [
        {"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "10Mi"}}]}})
    item = obj["spec"]["limits"][0]
    assert item["default"] == {"cpu": "1"} and item["defaultRequest"] == {"cpu": "1", "memory": "10Mi"}


def test_events_are_selectable_by_involved_object() -> None:
    event = {"metadata": {"name": "e", "namespace": "default"}, "reason": "Started", "type": "Normal",
             "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"}}
    fields = strategy("", "events").field_values(event)
    assert (fields["involvedObject.name"], fields["involvedObject.uid"], fields["reason"]) == ("web", "u1", "Started")


def test_kubernetes_service_is_valid_with_the_reserved_ip() -> None:
    from kwok.apiserver.strategies.services import kubernetes_service

    obj, causes = create("", "services", kubernetes_service(6443))
    assert causes == [] and obj["spec"]["clusterIP"] == "10.96.0.1"
    assert obj["spec"]["ports"][0]["targetPort"] == 6443


def test_hpa_defaults_to_cpu_utilization() -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"maxReplicas": 5,
                                               "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                  "name": "web"}}}
    obj, causes = create("autoscaling", "horizontalpodautoscalers", hpa)
    assert causes == [] and obj["spec"]["minReplicas"] == 1
    assert obj["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 80}
    _, causes = create("autoscaling", "horizontalpodautoscalers", {**hpa, "spec": {**hpa["spec"], "minReplicas": 9}})
    assert messages(causes) == ["spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`"]


def test_rbac_names_are_path_segments() -> None:
    role = {"metadata": {"name": "system:controller:kwok"}, "rules": []}
    _, causes = create("rbac.authorization.k8s.io", "clusterroles", role, namespace=None)
    assert causes == []
    _, causes = create("rbac.authorization.k8s.io", "clusterroles", {"metadata": {"name": "a/b"}}, namespace=None)
    assert messages(causes) == ['metadata.name: Invalid value: "a/b": may not contain \'/\'']
