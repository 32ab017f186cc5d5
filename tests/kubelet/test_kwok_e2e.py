"""`kwok` as a process against the embedded API server, driven with the real kubectl."""

from __future__ import annotations

import ipaddress
import ssl
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kubelet.harness import FAST_STAGES, KUBECTLS, Cluster, Process, condition, stage_file, wait_for

SELECT = "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("kwok-e2e"))
    yield c
    c.close()


def node(name: str, cidr: str | None = None, fake: bool = True, labels: dict[str, str] | None = None) -> dict:
    meta = {"name": name, "labels": labels or {}}
    if fake:
        meta["annotations"] = {"kwok.x-k8s.io/node": "fake"}
    spec = {"podCIDR": cidr} if cidr else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec}


def pod(name: str, node_name: str, host_network: bool = False, owner: str | None = None) -> dict:
    meta: dict[str, object] = {"name": name, "namespace": "default"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": owner,
                                    "uid": "6f9d1c2e-0000-4000-8000-000000000001"}]
    spec = {"nodeName": node_name, "hostNetwork": host_network, "containers": [{"name": "c", "image": "busybox"}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def test_nodes_and_pods_are_simulated(cluster: Cluster) -> None:
    kwok = cluster.kwok(SELECT, "--node-ip=10.9.0.7", "--node-name=kwok-host", "--node-port=10250",
                        config=stage_file(*FAST_STAGES), name="main")
    cluster.apply(node("fake-1", "10.20.0.0/24"), node("real-1", fake=False))
    ready = wait_for("fake-1 Ready", lambda: condition(cluster.get("node", "fake-1"), "Ready") == "True")
    assert ready
    fake = cluster.get("node", "fake-1")
    assert fake is not None
    status = fake["status"]
    assert {"address": "10.9.0.7", "type": "InternalIP"} in status["addresses"]
    assert {"address": "kwok-host", "type": "Hostname"} in status["addresses"]
    assert status["capacity"] == {"cpu": "1k", "memory": "1Ti", "pods": "1M"}
    assert status["nodeInfo"]["kubeletVersion"].startswith("kwok-")
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250
    untouched = cluster.get("node", "real-1")
    assert untouched is not None and not (untouched.get("status") or {}).get("conditions")
    for kubectl in KUBECTLS:  # both kubectl versions show the node Ready
        line = next(ln for ln in cluster.kubectl("get", "nodes", binary=kubectl).splitlines() if "fake-1" in ln)
        assert " Ready " in line and "kwok-" in line

    pods = [pod(f"web-{i}", "fake-1") for i in range(6)]
    pods += [pod("host", "fake-1", host_network=True), pod("job-1", "fake-1", owner="batch")]
    cluster.apply(*pods)

    def running() -> list[dict]:
        items = [p for p in cluster.list("pods", "-n", "default") if p["spec"].get("nodeName") == "fake-1"]
        done = [p for p in items if p["status"].get("phase") in ("Running", "Succeeded")]
        return items if len(done) == 8 else []

    items = {p["metadata"]["name"]: p for p in wait_for("8 pods started", running)}
    web_ips = [items[f"web-{i}"]["status"]["podIP"] for i in range(6)]
    assert len(set(web_ips)) == 6
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.20.0.0/24") for ip in web_ips)
    assert items["host"]["status"]["podIP"] == "10.9.0.7" == items["web-0"]["status"]["hostIP"]
    web = items["web-0"]["status"]
    assert web["phase"] == "Running" and condition(items["web-0"], "Ready") == "True"
    assert [c["name"] for c in web["containerStatuses"]] == ["c"] and web["containerStatuses"][0]["ready"] is True
    assert "running" in web["containerStatuses"][0]["state"]
    wait_for("the Job's pod to succeed",
             lambda: (cluster.get("pod", "job-1", "default") or {}).get("status", {}).get("phase") == "Succeeded")

    cluster.kubectl("delete", "pod", "web-0", "-n", "default", "--wait=true", "--timeout=15s", binary=KUBECTLS[-1])
    assert cluster.get("pod", "web-0", "default") is None
    # The released IP can serve a new pod, and no two live pods share one.
    cluster.apply(pod("web-new", "fake-1"))
    new_ip = wait_for("web-new IP", lambda: (cluster.get("pod", "web-new", "default") or {})
                      .get("status", {}).get("podIP"))
    assert new_ip not in web_ips[1:]

    # A restarted controller re-learns the IPs in use before handing out new ones.
    assert kwok.stop() == 0
    assert "kwok controller stopped" in kwok.output()
    cluster.kwok(SELECT, "--node-ip=10.9.0.7", config=stage_file(*FAST_STAGES), name="main-again")
    cluster.apply(pod("after-restart", "fake-1"))
    ip = wait_for("after-restart IP", lambda: (cluster.get("pod", "after-restart", "default") or {})
                  .get("status", {}).get("podIP"))
    assert ip not in set(web_ips[1:]) | {new_ip}


def test_stages_applied_while_running_take_effect_and_chaos_flips_a_node(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(Path(__file__).parents[2] / "deploy" / "kwok" / "crds.yaml"))
    cluster.kwok("--enable-crds=Stage", "--manage-nodes-with-label-selector=e2e=crd", name="crd")
    cluster.apply(node("crd-1", fake=False, labels={"e2e": "crd"}))
    # No Stage yet: the node is managed but nothing happens to it.
    wait_for("the node to exist", lambda: cluster.get("node", "crd-1"))
    assert condition(cluster.get("node", "crd-1"), "Ready") is None
    cluster.kubectl("apply", "-f", "-", stdin=stage_file("node-initialize"))
    wait_for("crd-1 Ready after the Stage was applied",
             lambda: condition(cluster.get("node", "crd-1"), "Ready") == "True")

    cluster.kubectl("apply", "-f", "-", stdin=stage_file("chaos/node-not-ready"))
    cluster.kubectl("label", "node", "crd-1", "node-not-ready.stage.kwok.x-k8s.io=true")
    wait_for("crd-1 NotReady", lambda: condition(cluster.get("node", "crd-1"), "Ready") == "False", timeout=10)
    reason = next(c["reason"] for c in cluster.get("node", "crd-1")["status"]["conditions"] if c["type"] == "Ready")
    assert reason == "nodeFailed"


def lease_of(cluster: Cluster, name: str) -> dict:
    return (cluster.get("lease", name, "kube-node-lease") or {}).get("spec") or {}


def test_leases_are_renewed_and_taken_over_when_the_holder_stops(cluster: Cluster) -> None:
    cluster.kubectl("create", "namespace", "kube-node-lease", check=False)
    args = ("--manage-nodes-with-label-selector=e2e=lease", "--node-lease-duration-seconds=2")
    first = cluster.kwok(*args, config=stage_file(*FAST_STAGES), name="lease-a")
    cluster.apply(node("lease-1", "10.30.0.0/24", fake=False, labels={"e2e": "lease"}))
    spec = wait_for("a lease held by the first kwok", lambda: lease_of(cluster, "lease-1").get("holderIdentity"))
    holder_a = spec
    renewed = lease_of(cluster, "lease-1")["renewTime"]
    wait_for("the lease renewed", lambda: lease_of(cluster, "lease-1")["renewTime"] != renewed, timeout=5)
    lease = cluster.get("lease", "lease-1", "kube-node-lease")
    assert lease is not None and lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert lease["spec"]["leaseDurationSeconds"] == 2
    wait_for("lease-1 Ready", lambda: condition(cluster.get("node", "lease-1"), "Ready") == "True")

    second = cluster.kwok(*args, config=stage_file(*FAST_STAGES), name="lease-b")
    wait_for("the second kwok to start", lambda: "controller running" in second.output())
    assert lease_of(cluster, "lease-1")["holderIdentity"] == holder_a  # still the first one's
    assert first.stop() == 0
    holder_b = wait_for("the second kwok to take the lease over",
                        lambda: (h := lease_of(cluster, "lease-1").get("holderIdentity")) != holder_a and h, timeout=10)
    assert holder_b and lease_of(cluster, "lease-1").get("leaseTransitions", 0) >= 1
    cluster.apply(pod("leased", "lease-1"))
    wait_for("a pod on the taken-over node Running",
             lambda: (cluster.get("pod", "leased", "default") or {}).get("status", {}).get("phase") == "Running")


def test_kubelet_server_serves_http_and_https_on_one_port(cluster: Cluster) -> None:
    proc = cluster.kwok("--manage-single-node=none-such", "--server-address=127.0.0.1:0",
                        config=stage_file(*FAST_STAGES), name="server")
    line = wait_for("the server to listen", lambda: next(
        (ln for ln in proc.output().splitlines() if "kubelet server listening" in ln), None))
    port = int(line.split(":")[-1].split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        assert resp.read() == b"ok" and resp.headers["Server"].startswith("kwok/")
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", timeout=5, context=insecure) as resp:
        assert resp.read() == b"ok"
    wait_for("controller running", lambda: "controller running" in proc.output())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert 'kwok_managed_objects{kind="Node"} 0.0' in text and "kwok_api_request_duration_seconds_bucket" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no nodes are managed"),
        (("--manage-all-nodes", "--manage-single-node=x"), "manage-single-node is conflicted"),
        (("--manage-all-nodes",), "no stages found"),
        (("--manage-all-nodes", "--enable-crds=Pod"), "invalid crd: Pod"),
        (("--manage-all-nodes", "--enable-crds=Stage", "--config=STAGES"), "Stage already exists in --config"),
        (("--manage-nodes-with-label-selector=a in (", "--config=STAGES"), "manage-nodes-with-label-selector"),
    ],
)
def test_configuration_errors_exit_1_at_start(cluster: Cluster, tmp_path: Path, args: tuple[str, ...],
                                             message: str) -> None:
    stages = tmp_path / "stages.yaml"
    stages.write_text(stage_file(*FAST_STAGES))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    argv = [a.replace("STAGES", str(stages)) for a in args]
    if not any(a.startswith("--config") for a in argv):
        argv.append(f"--config={empty}")
    proc = cluster.kwok(*argv, name=f"bad-{abs(hash(args))}")
    assert proc.proc.wait(timeout=20) == 1
    assert message in proc.output()


def test_an_exhausted_cidr_is_logged_once_and_other_pods_keep_running(cluster: Cluster) -> None:
    proc = cluster.kwok("--manage-nodes-with-label-selector=e2e=small", config=stage_file(*FAST_STAGES),
                        name="small")
    cluster.apply(node("small-1", "10.40.0.0/30", fake=False, labels={"e2e": "small"}))  # 2 usable IPs
    cluster.apply(*[pod(f"small-{i}", "small-1") for i in range(4)])

    def phases() -> list[str]:
        return sorted(str((cluster.get("pod", f"small-{i}", "default") or {}).get("status", {}).get("phase"))
                      for i in range(4))

    wait_for("two pods Running", lambda: phases().count("Running") == 2)
    assert phases() == ["Pending", "Pending", "Running", "Running"]
    wait_for("the problem logged", lambda: "exhausted" in proc.output())
    assert proc.output().count("exhausted") == 1  # once per cause, not once per pod


def test_an_api_server_that_comes_up_late_is_waited_for(cluster: Cluster) -> None:
    late = cluster.workdir / "late.sock"
    proc = cluster.kwok("--manage-all-nodes", f"--master=unix://{late}", config=stage_file(*FAST_STAGES),
                        name="late")
    wait_for("the wait to be logged", lambda: "waiting for the API server" in proc.output())
    ready = cluster.workdir / "late-ready"
    apiserver = Process([sys.executable, "-m", "kwok.cli.apiserver", "--unix-socket", str(late),
                         "--ready-file", str(ready)], cluster.workdir / "late-apiserver.log")
    try:
        wait_for("the controller to start", lambda: "controller running" in proc.output(), timeout=20)
        assert proc.output().count("waiting for the API server") == 1
        assert proc.proc.poll() is None
    finally:
        proc.stop()
        apiserver.stop()


GENERIC_STAGE = """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: configmap-touch}
spec:
  resourceRef: {apiGroup: v1, kind: ConfigMap}
  selector:
    matchLabels: {e2e: generic}
    matchExpressions:
    - {key: .data.touched, operator: DoesNotExist}
  steps:
  - event: {type: Normal, reason: Touched, message: touched by kwok}
  - patch:
      type: merge
      root: data
      template: 'touched: {{ .metadata.name | Quote }}'
"""


def test_a_stage_for_any_other_kind_is_played_by_a_generic_controller(cluster: Cluster) -> None:
    proc = cluster.kwok("--manage-single-node=none-such", config=GENERIC_STAGE, name="generic")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-1", "namespace": "default",
                                                                "labels": {"e2e": "generic"}}, "data": {"a": "b"}}
    cluster.apply(cm, {**cm, "metadata": {"name": "cm-other", "namespace": "default"}})
    touched = wait_for("the ConfigMap patched", lambda: (cluster.get("configmap", "cm-1", "default") or {})
                       .get("data", {}).get("touched"))
    assert touched == "cm-1"
    assert "touched" not in (cluster.get("configmap", "cm-other", "default") or {}).get("data", {})
    events = wait_for("the event", lambda: [e for e in cluster.list("events", "-n", "default")
                                           if e.get("reason") == "Touched"])
    assert events[0]["involvedObject"]["name"] == "cm-1" and events[0]["source"]["component"] == "kwok_controller"
    assert "no Node stages found" in proc.output()
