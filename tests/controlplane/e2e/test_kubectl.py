"""What users do with kubectl against the controllers: rollout status, rollout undo, scale."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import KUBECTL_137

from .harness import Cluster, FakeKubelet, namespace, wait_for
from .test_workloads import deployment


@contextmanager
def kubelet_running(cluster: Cluster, ns: str) -> Iterator[None]:
    stop = threading.Event()
    kubelet = FakeKubelet(cluster.api)

    def loop() -> None:
        while not stop.wait(0.2):
            kubelet.step(ns)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def kubectl(binary: str, cluster: Cluster, tmp: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([binary, f"--server={cluster.url}", f"--cache-dir={tmp / 'kubectl-cache'}", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_rollout_status_and_undo(control_plane: Cluster, kubectl_bin: str, tmp_path: Path) -> None:
    ns = namespace(control_plane.api, "rollout-" + ("v137" if kubectl_bin == KUBECTL_137 else "v132"))
    control_plane.api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("web", 3, image="nginx:1.25"))
    with kubelet_running(control_plane, ns):
        done = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "rollout", "status", "deployment/web",
                       "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert 'deployment "web" successfully rolled out' in done.stdout
        update = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "set", "image", "deployment/web",
                         "c=nginx:1.26")
        assert update.returncode == 0, update.stderr
        done = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "rollout", "status", "deployment/web",
                       "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert "Waiting for deployment" in done.stdout or "successfully rolled out" in done.stdout
        history = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "rollout", "history", "deployment/web")
        assert history.returncode == 0, history.stderr
        assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()] == ["1", "2"]
        undo = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "rollout", "undo", "deployment/web")
        assert undo.returncode == 0, undo.stderr
        done = kubectl(kubectl_bin, control_plane, tmp_path, "-n", ns, "rollout", "status", "deployment/web",
                       "--timeout=40s")
        assert done.returncode == 0, done.stderr
    d = control_plane.api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"

    def converged() -> bool:
        sets = control_plane.api.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")
        by_image = {s["spec"]["template"]["spec"]["containers"][0]["image"]: s["spec"]["replicas"] for s in sets}
        return by_image == {"nginx:1.25": 3, "nginx:1.26": 0}

    wait_for(converged, 5, what="old replica set scaled to 0")
    wait_for(lambda: control_plane.api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web")["status"]
             .get("availableReplicas") == 3)
