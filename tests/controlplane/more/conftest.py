from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import KUBECTL_137

from ..e2e.harness import Cluster, FakeKubelet, wait_for

KUBECTLS = [k for k in ("/usr/bin/kubectl", KUBECTL_137) if shutil.which(k)]


@pytest.fixture(scope="module")
def control_plane() -> Iterator[Cluster]:
    """API server + `kwok control-plane` (scheduler and every controller) in real processes."""
    cluster = Cluster()
    try:
        cluster.start("control-plane", "--port=0", "--leader-elect=false")
        wait_for(lambda: cluster.api.get("/api/v1/namespaces/default/serviceaccounts/default"), 20,
                 what="controllers running")
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def kubelet_running(cluster: Cluster, ns: str, interval: float = 0.2) -> Iterator[FakeKubelet]:
    """Plays the kubelet for the namespace's bound pods in the background."""
    stop = threading.Event()
    kubelet = FakeKubelet(cluster.api)

    def loop() -> None:
        while not stop.wait(interval):
            try:
                kubelet.step(ns)
            except Exception:  # noqa: BLE001 - a transient error must not end the loop
                continue

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield kubelet
    finally:
        stop.set()
        thread.join(5)


def kubectl(binary: str, cluster: Cluster, tmp: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, f"--server={cluster.url}", f"--cache-dir={tmp / 'kubectl-cache'}", *args],
                          capture_output=True, text=True, timeout=timeout)
