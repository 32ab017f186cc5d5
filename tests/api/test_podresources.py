"""What a pod requests and limits, checked against the figures Kubernetes documents: the sidecar
KEP's formula (KEP-753), the init-container and pod-overhead pages, the pod-level resources page
(KEP-2837), in-place resize (KEP-1287) and the quota evaluator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kwok.api import podresources
from kwok.api.podresources import (
    NANO,
    QUANTITY,
    is_extended_resource_name,
    is_pod_quota_resource,
    node_nonzero_requests,
    pod_limits,
    pod_quota_usage,
    pod_requests,
    quota_constraint_error,
)
from kwok.api.quantity import Quantity
from kwok.controlplane.resources import pod_nonzero_requests, pod_scoring_requests
from kwok.controlplane.resources import pod_requests as scheduler_requests

Obj = dict[str, Any]
MI = 2**20


def ctr(name: str, requests: Obj | None = None, limits: Obj | None = None, **extra: Any) -> Obj:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v is not None}
    return {"name": name, "image": "x", "resources": resources, **extra}


def sidecar(name: str, requests: Obj | None = None, limits: Obj | None = None) -> Obj:
    return ctr(name, requests, limits, restartPolicy="Always")


def pod(containers: list[Obj], init: list[Obj] | None = None, **spec: Any) -> Obj:
    body: Obj = {"containers": containers, **spec}
    if init is not None:
        body["initContainers"] = init
    return {"metadata": {"name": "p", "namespace": "default"}, "spec": body}


def requests_of(p: Obj, **options: Any) -> dict[str, str]:
    return {k: str(v) for k, v in pod_requests(p, QUANTITY, **options).items()}


def limits_of(p: Obj, **options: Any) -> dict[str, str]:
    return {k: str(v) for k, v in pod_limits(p, QUANTITY, **options).items()}


# --- containers, init containers and sidecars ---------------------------------------------------


def test_regular_containers_add_up() -> None:
    p = pod([ctr("a", {"cpu": "250m", "memory": "64Mi"}), ctr("b", {"cpu": "500m", "memory": "128Mi"})])
    assert requests_of(p) == {"cpu": "750m", "memory": "192Mi"}


def test_init_containers_take_the_largest_one_against_the_sum() -> None:
    # init 1 cpu/2Gi and 2 cpu/4Gi; app 500m/1Gi + 200m/512Mi: the pod needs 2 cpu and 4Gi.
    p = pod([ctr("app", {"cpu": "500m", "memory": "1Gi"}), ctr("side", {"cpu": "200m", "memory": "512Mi"})],
            [ctr("download", {"cpu": "1", "memory": "2Gi"}), ctr("process", {"cpu": "2", "memory": "4Gi"})])
    assert requests_of(p) == {"cpu": "2", "memory": "4Gi"}
    # a resource only the init containers ask for still counts
    p["spec"]["initContainers"][0]["resources"]["requests"]["ephemeral-storage"] = "1Gi"
    assert requests_of(p)["ephemeral-storage"] == "1Gi"


def test_a_sidecar_runs_beside_the_app_and_every_later_init_container() -> None:
    # KEP-753: InitContainerUse(i) = sum(sidecars with index < i) + init(i);
    # pod = max(max_i InitContainerUse(i), sum(sidecars) + sum(containers)).
    p = pod([ctr("app", {"cpu": "100m"})], [sidecar("proxy", {"cpu": "200m"}), ctr("migrate", {"cpu": "900m"})])
    assert requests_of(p) == {"cpu": "1100m"}          # 200m + 900m while migrating
    # the same init container before the sidecar runs alone: order matters
    p["spec"]["initContainers"].reverse()
    assert requests_of(p) == {"cpu": "900m"}           # max(900m, 200m + 100m)


def test_sidecars_add_to_the_running_total() -> None:
    p = pod([ctr("app", {"cpu": "1"})],
            [sidecar("log", {"cpu": "500m"}), sidecar("mesh", {"cpu": "500m"}), ctr("init", {"cpu": "1500m"})])
    assert requests_of(p) == {"cpu": "2500m"}          # 500m + 500m + 1500m while init runs
    p["spec"]["initContainers"][2]["resources"]["requests"]["cpu"] = "100m"
    assert requests_of(p) == {"cpu": "2"}              # app + both sidecars once running


def test_a_limit_without_a_request_is_the_request() -> None:
    p = pod([ctr("a", limits={"cpu": "1", "memory": "1Gi"}), ctr("b", {"cpu": "100m"}, {"cpu": "2"})])
    assert requests_of(p) == {"cpu": "1100m", "memory": "1Gi"}
    assert limits_of(p) == {"cpu": "3", "memory": "1Gi"}


def test_limits_follow_the_same_rules() -> None:
    p = pod([ctr("app", limits={"cpu": "1"})], [sidecar("proxy", limits={"cpu": "500m"}),
                                                 ctr("init", limits={"cpu": "2"})])
    assert limits_of(p) == {"cpu": "2500m"}


# --- overhead ------------------------------------------------------------------------------------


def test_overhead_is_added_to_requests_and_to_the_limits_that_are_set() -> None:
    # The pod-overhead page: 500m + 1500m cpu and 2 x 100Mi, overhead 250m / 120Mi -> 2250m / 320Mi.
    p = pod([ctr("busybox", limits={"cpu": "500m", "memory": "100Mi"}),
             ctr("nginx", limits={"cpu": "1500m", "memory": "100Mi"})], overhead={"cpu": "250m", "memory": "120Mi"})
    assert requests_of(p) == {"cpu": "2250m", "memory": "320Mi"}
    assert limits_of(p) == {"cpu": "2250m", "memory": "320Mi"}
    assert requests_of(p, exclude_overhead=True) == {"cpu": "2", "memory": "200Mi"}


def test_overhead_leaves_an_unset_or_zero_limit_unlimited() -> None:
    p = pod([ctr("a", {"cpu": "0", "memory": "10Mi"}, {"cpu": "0"})], overhead={"cpu": "250m", "memory": "120Mi"})
    assert limits_of(p) == {"cpu": "0"}
    assert requests_of(p) == {"cpu": "250m", "memory": "130Mi"}


# --- pod-level resources -----------------------------------------------------------------------


def test_pod_level_requests_replace_the_containers_total() -> None:
    # The pod-level resources page: pod requests 1 cpu / 100Mi whatever the containers ask.
    p = pod([ctr("a", {"cpu": "500m", "memory": "50Mi"}), ctr("b")],
            resources={"requests": {"cpu": "1", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "200Mi"}})
    assert requests_of(p) == {"cpu": "1", "memory": "100Mi"}
    assert limits_of(p) == {"cpu": "1", "memory": "200Mi"}


def test_pod_level_resources_only_override_what_they_name() -> None:
    p = pod([ctr("a", {"cpu": "500m", "memory": "50Mi", "ephemeral-storage": "1Gi"})],
            resources={"requests": {"cpu": "2"}}, overhead={"cpu": "100m"})
    assert requests_of(p) == {"cpu": "2100m", "memory": "50Mi", "ephemeral-storage": "1Gi"}


def test_pod_level_limits_fill_in_missing_pod_level_requests() -> None:
    # SetDefaults_Pod: with pod-level limits, a missing pod-level request is the containers' total,
    # or the limit when no container asks.
    p = pod([ctr("a", {"cpu": "300m"})], resources={"limits": {"cpu": "1", "memory": "1Gi"}})
    assert requests_of(p) == {"cpu": "300m", "memory": "1Gi"}


def test_hugepages_are_pod_level_resources() -> None:
    p = pod([ctr("a", {"hugepages-2Mi": "10Mi"})], resources={"requests": {"hugepages-2Mi": "20Mi"}})
    assert requests_of(p) == {"hugepages-2Mi": "20Mi"}


# --- the scheduler's figures ----------------------------------------------------------------------


def test_scheduler_rounds_once_after_summing() -> None:
    # Go adds Quantities, then asks for MilliValue: 0.5m + 0.5m is 1m, not 2m.
    p = pod([ctr("a", {"cpu": "0.5m", "memory": "0.5"}), ctr("b", {"cpu": "0.5m", "memory": "0.5"})])
    assert scheduler_requests(p) == {"cpu": 1, "memory": 1}
    assert scheduler_requests(pod([ctr("a", {"cpu": "1.5", "memory": "16Gi"})])) == {"cpu": 1500, "memory": 16 * 2**30}


def test_best_effort_containers_count_100m_and_200mi_for_scoring() -> None:
    p = pod([ctr("a"), ctr("b", {"cpu": "250m"})], [ctr("init")])
    assert scheduler_requests(p) == {"cpu": 250}
    assert pod_nonzero_requests(p) == (350, 400 * MI)
    explicit_zero = pod([ctr("a", {"cpu": "0", "memory": "0"})])     # set, even to zero, is not missing
    assert pod_nonzero_requests(explicit_zero) == (0, 0)


def test_scoring_defaults_with_pod_level_requests_only_fill_what_the_pod_lacks() -> None:
    p = pod([ctr("a"), ctr("b", {"memory": "64Mi"})], resources={"requests": {"cpu": "1"}})
    assert pod_nonzero_requests(p) == (1000, 64 * MI)                # memory is requested: no default
    no_memory = pod([ctr("a"), ctr("b")], resources={"requests": {"cpu": "1"}})
    assert pod_nonzero_requests(no_memory) == (1000, 400 * MI)
    requests = pod_requests(no_memory, NANO)
    assert node_nonzero_requests(no_memory, NANO, requests) == node_nonzero_requests(no_memory, NANO)
    # the scorers charge the pod being placed the defaults per container, pod-level or not
    assert pod_scoring_requests(p) == (1000, 264 * MI)


# --- in-place resize -------------------------------------------------------------------------------


def resized(spec_cpu: str, allocated: str, actuated: str, reason: str | None = None) -> Obj:
    p = pod([ctr("a", {"cpu": spec_cpu})])
    p["status"] = {"containerStatuses": [{"name": "a", "allocatedResources": {"cpu": allocated},
                                          "resources": {"requests": {"cpu": actuated}}}]}
    if reason:
        p["status"]["conditions"] = [{"type": "PodResizePending", "status": "True", "reason": reason}]
    return p


def test_a_resize_in_flight_counts_the_largest_of_spec_allocated_and_actuated() -> None:
    assert requests_of(resized("500m", "1", "1")) == {"cpu": "1"}            # shrinking: still 1 cpu
    assert requests_of(resized("2", "1", "1")) == {"cpu": "2"}               # growing: the new spec
    assert requests_of(resized("2", "1", "1"), use_status=False) == {"cpu": "2"}
    assert requests_of(resized("500m", "1", "1"), use_status=False) == {"cpu": "500m"}


def test_an_infeasible_resize_leaves_the_spec_out() -> None:
    assert requests_of(resized("4", "1", "1", "Infeasible")) == {"cpu": "1"}
    assert requests_of(resized("4", "1", "1", "Deferred")) == {"cpu": "4"}


def test_pod_level_resize_status() -> None:
    p = pod([ctr("a")], resources={"requests": {"cpu": "1"}})
    p["status"] = {"allocatedResources": {"cpu": "2"}, "resources": {"requests": {"cpu": "2"}}}
    assert requests_of(p) == {"cpu": "2"}


# --- ResourceQuota's pod usage ----------------------------------------------------------------


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def charged(p: Obj, now: datetime | None = NOW) -> dict[str, str]:
    return {k: str(v) for k, v in pod_quota_usage(p, now).items()}


def test_quota_usage_names() -> None:
    p = pod([ctr("a", {"cpu": "250m", "memory": "64Mi", "nvidia.com/gpu": "1", "hugepages-2Mi": "4Mi"},
                 {"cpu": "1", "memory": "128Mi", "nvidia.com/gpu": "1", "hugepages-2Mi": "4Mi"})])
    assert charged(p) == {"count/pods": "1", "pods": "1", "cpu": "250m", "requests.cpu": "250m", "limits.cpu": "1",
                          "memory": "64Mi", "requests.memory": "64Mi", "limits.memory": "128Mi",
                          "requests.nvidia.com/gpu": "1",                  # no limits.* for extended resources
                          "hugepages-2Mi": "4Mi", "requests.hugepages-2Mi": "4Mi", "limits.hugepages-2Mi": "4Mi"}


def test_finished_and_long_deleted_pods_only_count_as_objects() -> None:
    p = pod([ctr("a", {"cpu": "1"})])
    p["status"] = {"phase": "Succeeded"}
    assert charged(p) == {"count/pods": "1"}
    p["status"] = {"phase": "Running"}
    p["metadata"].update(deletionTimestamp="2026-01-01T11:59:00Z", deletionGracePeriodSeconds=30)
    assert charged(p) == {"count/pods": "1"}                                # 30s grace ran out a minute ago
    assert charged(p, datetime(2026, 1, 1, 11, 59, 20, tzinfo=UTC))["requests.cpu"] == "1"
    assert charged(p, None)["pods"] == "1"


@pytest.mark.parametrize(("name", "extended"), [
    ("nvidia.com/gpu", True), ("example.com/foo", True), ("cpu", False), ("kubernetes.io/x", False),
    ("requests.example.com/foo", False), ("Example.com/foo", False), ("example.com/a/b", False)])
def test_extended_resource_names(name: str, extended: bool) -> None:
    assert is_extended_resource_name(name) is extended


@pytest.mark.parametrize(("name", "used"), [
    ("pods", True), ("count/pods", True), ("requests.cpu", True), ("limits.ephemeral-storage", True),
    ("hugepages-1Gi", True), ("requests.hugepages-1Gi", True), ("requests.nvidia.com/gpu", True),
    ("requests.storage", False), ("services", False), ("limits.nvidia.com/gpu", False)])
def test_which_quota_names_pods_use(name: str, used: bool) -> None:
    assert is_pod_quota_resource(name) is used


def test_quota_on_cpu_or_memory_makes_every_container_state_it() -> None:
    p = pod([ctr("web", {"cpu": "1"}), ctr("b", limits={"memory": "1Gi"})], [ctr("a-init")])
    assert quota_constraint_error(p, {"requests.cpu": "4", "limits.memory": "8Gi", "pods": "9"}) == \
        "must specify limits.memory for: a-init,web; requests.cpu for: a-init,b"
    assert quota_constraint_error(p, {"pods": "9", "requests.storage": "1Gi"}) == ""
    p["spec"]["resources"] = {"requests": {"cpu": "1"}}                 # pod-level resources waive the rule
    assert quota_constraint_error(p, {"requests.cpu": "4"}) == ""


def test_quantities_keep_their_form() -> None:
    p = pod([ctr("a", {"memory": "1Gi"}), ctr("b", {"memory": "1Gi"})])
    assert pod_requests(p, QUANTITY)["memory"] == Quantity("2Gi")
    assert str(pod_requests(p, QUANTITY)["memory"]) == "2Gi"


# --- QoS class and quota scopes -------------------------------------------------------------------

def _qos_pod(*resources: dict[str, Any], pod_level: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}
    if pod_level is not None:
        spec["resources"] = pod_level
    return spec


@pytest.mark.parametrize(("spec", "expected"), [
    (_qos_pod({}), "BestEffort"),
    (_qos_pod({"requests": {"cpu": "0"}}), "BestEffort"),                       # zero does not count
    (_qos_pod({"requests": {"nvidia.com/gpu": "1"}}), "BestEffort"),            # neither cpu nor memory
    (_qos_pod({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}}),
     "Guaranteed"),                                                              # compared as amounts
    (_qos_pod({"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}), "Burstable"),  # no memory limit
    (_qos_pod({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
              {"requests": {"cpu": "1"}}), "Burstable"),
    # pod-level resources decide alone once they name cpu or memory
    (_qos_pod({"requests": {"cpu": "100m"}}, pod_level={"requests": {"cpu": "1", "memory": "1Gi"},
                                                        "limits": {"cpu": "1", "memory": "1Gi"}}), "Guaranteed"),
    (_qos_pod({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
              pod_level={"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}),
     "Burstable"),
    # empty pod-level resources leave it to the containers (the 1.36 fix of nil vs empty)
    (_qos_pod({"requests": {"cpu": "100m"}}, pod_level={}), "Burstable"),
])
def test_qos_class(spec: dict[str, Any], expected: str) -> None:
    assert podresources.qos_class(spec) == expected


def test_quota_scopes_select_pods() -> None:
    best_effort = {"spec": {"containers": [{"name": "c"}]}}
    sized = {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}],
                      "activeDeadlineSeconds": 30, "priorityClassName": "high"}}

    def quota(scopes: list[str] | None = None, **selector: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {"hard": {"pods": "1"}}
        if scopes:
            spec["scopes"] = scopes
        if selector:
            spec["scopeSelector"] = {"matchExpressions": [{"scopeName": "PriorityClass", **selector}]}
        return {"spec": spec}

    match = podresources.pod_matches_quota_scopes
    assert match(quota(), best_effort) and match(quota(), sized)
    assert match(quota(["BestEffort"]), best_effort) and not match(quota(["BestEffort"]), sized)
    assert match(quota(["NotBestEffort", "Terminating"]), sized)
    assert not match(quota(["NotTerminating"]), sized) and match(quota(["NotTerminating"]), best_effort)
    assert match(quota(operator="In", values=["high"]), sized)
    assert not match(quota(operator="In", values=["high"]), best_effort)
    assert match(quota(operator="DoesNotExist"), best_effort) and match(quota(operator="Exists"), sized)
