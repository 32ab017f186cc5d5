"""The commands as processes: flags, health endpoint, leader election, clean stop."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request

from .harness import PY, Cluster, wait_for

LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"


def test_unknown_controller_is_rejected() -> None:
    result = subprocess.run([PY, "-m", "kwok.cli.controlplane", "controller-manager", "--controllers=*,bogus",
                             "--master=http://127.0.0.1:1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert '"bogus" is not in the list of known controllers' in result.stderr


def _port(proc_log: str) -> int:
    match = re.search(r"serving healthz and metrics on [\d.]+:(\d+)", proc_log)
    assert match, proc_log
    return int(match.group(1))


def test_only_one_scheduler_leads_and_a_standby_takes_over(cluster: Cluster) -> None:
    flags = ("--port=0", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s",
             "--leader-elect-retry-period=500ms")
    first = cluster.start("scheduler", *flags)
    holder = wait_for(lambda: cluster.api.get(LEASE)["spec"].get("holderIdentity"), 20, what="first leader")
    second = cluster.start("scheduler", *flags)
    port = wait_for(lambda: "serving healthz" in second.output() and _port(second.output()), 20)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        assert resp.read() == b"ok"
    time.sleep(1.5)
    assert cluster.api.get(LEASE)["spec"]["holderIdentity"] == holder  # the standby waits
    assert "attempting to acquire leader lease" in second.output()
    assert "successfully acquired" not in second.output()
    assert first.stop() == 0  # SIGTERM: clean exit, lease released
    assert "stopped" in first.output()
    new_holder = wait_for(lambda: (h := cluster.api.get(LEASE)["spec"].get("holderIdentity")) and h != holder and h,
                          10, what="standby takes over")
    assert new_holder
    lease = cluster.api.get(LEASE)["spec"]
    assert lease["leaseTransitions"] >= 1 and lease["leaseDurationSeconds"] == 4
    assert second.stop() == 0


def test_kwok_entry_point_lazily_offers_the_control_plane_commands() -> None:
    from tests.conftest import command

    for name, flag in (("scheduler", "--leader-elect"), ("controller-manager", "--node-monitor-grace-period"),
                       ("control-plane", "--disable-scheduler")):
        result = subprocess.run([command("kwok"), name, "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert flag in result.stdout
    accepted = subprocess.run([command("kwok"), "controller-manager", "--concurrent-deployment-syncs=10",
                               "--kube-api-qps=5000", "--controllers=bogus"], capture_output=True, text=True, timeout=60)
    assert '"bogus" is not in the list of known controllers' in accepted.stderr  # other flags parsed fine


def test_scheduler_and_controller_manager_as_separate_processes_run_a_deployment() -> None:
    """Each command alone keeps its own informers (only `control-plane` shares them)."""
    from .harness import create_node, node

    cluster = Cluster()
    try:
        create_node(cluster.api, node("solo-node"))
        cluster.start("controller-manager", "--port=0", "--node-monitor-grace-period=1h",
                      "--node-startup-grace-period=1h")
        cluster.start("scheduler", "--port=0")
        labels = {"app": "solo"}
        cluster.api.post("/apis/apps/v1/namespaces/default/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "solo"},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})

        def bound() -> list[str] | None:
            pods = cluster.api.items("/api/v1/namespaces/default/pods")
            nodes = [(p.get("spec") or {}).get("nodeName") for p in pods]
            return nodes if len(nodes) == 3 and all(nodes) else None

        assert wait_for(bound, 30, what="3 pods created and bound") == ["solo-node"] * 3
    finally:
        cluster.stop()
