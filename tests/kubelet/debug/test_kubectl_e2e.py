"""`kubectl logs/exec/attach` through the API server to a real `kwok` process, as users run them."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from kwok.kubelet.usage import default_documents
from tests.kubelet.harness import FAST_STAGES, KUBECTLS, Cluster, stage_file, wait_for

NOW = "2026-11-27T10:00:00.000000001Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def debug_config(log_file: Path, echo_port: int = 0) -> str:
    objects = [
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": "all-ports"},
         "spec": {"forwards": [{"ports": [80], "target": {"address": "127.0.0.1", "port": echo_port}},
                               {"ports": [8080], "command": ["sed", "-u", "s/^/sed:/"]}]}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "all-logs"},
         "spec": {"logs": [{"logsFile": str(log_file)}]}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterAttach", "metadata": {"name": "all-attach"},
         "spec": {"attaches": [{"logsFile": str(log_file)}]}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec", "metadata": {"name": "all-exec"},
         "spec": {"execs": [{"local": {"envs": [{"name": "KWOK_GREETING", "value": "hello from kwok"}],
                                        "workDir": str(log_file.parent)}}]}},
        *default_documents(),
    ]
    return stage_file(*FAST_STAGES) + "---\n" + yaml.dump_all(objects, Dumper=yaml.CSafeDumper)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path, int]]:
    workdir = tmp_path_factory.mktemp("kwok-debug")
    log_file = workdir / "web.log"
    log_file.write_text(f"{NOW} stdout F first line\n{NOW} stderr F second line\n")
    c = Cluster(workdir)
    echo = socket.socket()
    try:
        echo.bind(("127.0.0.1", 0))
        echo.listen()
        threading.Thread(target=_echo, args=(echo,), daemon=True).start()
        port = free_port()
        c.kwok("--manage-all-nodes", "--node-ip=127.0.0.1", f"--node-port={port}",
               config=debug_config(log_file, echo.getsockname()[1]))
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kwok-node"}}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default",
               "annotations": {"kwok.x-k8s.io/usage-memory": "300Mi"}},
               "spec": {"nodeName": "kwok-node", "containers": [{"name": "app", "image": "nginx"}]}}
        c.apply(node, pod)
        wait_for("pod web Running", lambda: (c.get("pod", "web", "default") or {}).get("status", {}).get("phase")
                 == "Running", 60)
        yield c, log_file, port
    finally:
        c.close()
        echo.close()


def _echo(server: socket.socket) -> None:
    """A TCP service the forwarded pod port leads to: answers `echo:<what it received>`."""
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"echo:" + conn.recv(100))


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_logs_show_the_configured_file(cluster: tuple[Cluster, Path, int], kubectl: str) -> None:
    c, _, _ = cluster
    assert c.kubectl("logs", "web", binary=kubectl) == "first line\nsecond line\n"
    assert c.kubectl("logs", "web", "--tail=1", "--timestamps", binary=kubectl) == f"{NOW} second line\n"


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_exec_runs_locally_with_the_configured_env(cluster: tuple[Cluster, Path, int], kubectl: str) -> None:
    c, log_file, _ = cluster
    env = c.kubectl("exec", "web", "--", "env", binary=kubectl)
    assert "KWOK_GREETING=hello from kwok" in env.splitlines()
    assert c.kubectl("exec", "web", "--", "pwd", binary=kubectl).strip() == str(log_file.parent)
    echoed = c.kubectl("exec", "-i", "web", "--", "cat", stdin="piped stdin\n", binary=kubectl)
    assert echoed == "piped stdin\n"


def test_exec_exit_code_reaches_the_user(cluster: tuple[Cluster, Path, int]) -> None:
    c, _, _ = cluster
    cmd = [KUBECTLS[0], f"--cache-dir={c.cache}", "-s", c.url, "exec", "web", "--", "sh", "-c", "echo out; exit 3"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert "command terminated with exit code 3" in result.stderr


def test_logs_follow_streams_lines_appended_later(cluster: tuple[Cluster, Path, int]) -> None:
    c, log_file, _ = cluster
    cmd = [KUBECTLS[0], f"--cache-dir={c.cache}", "-s", c.url, "logs", "-f", "--tail=0", "web"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        time.sleep(1.0)  # let kubectl connect before the line is written
        with open(log_file, "a") as f:
            f.write(f"{NOW} stdout F appended while following\n")
        seen = b""

        def arrived() -> bool:
            nonlocal seen
            seen += proc.stdout.read() or b""  # type: ignore[union-attr]
            return b"appended while following\n" in seen

        wait_for("the appended line", arrived, 10)
        assert seen == b"appended while following\n"
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.wait(timeout=5)


def test_attach_shows_lines_written_after_attaching(cluster: tuple[Cluster, Path, int]) -> None:
    c, log_file, _ = cluster
    cmd = [KUBECTLS[0], f"--cache-dir={c.cache}", "-s", c.url, "attach", "web"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        time.sleep(1.5)
        with open(log_file, "a") as f:
            f.write(f"{NOW} stdout F seen by attach\n")
        seen = b""

        def arrived() -> bool:
            nonlocal seen
            seen += proc.stdout.read() or b""  # type: ignore[union-attr]
            return b"seen by attach\n" in seen

        wait_for("the attached line", arrived, 10)
        assert b"first line" not in seen  # attach starts at the end of the file
    finally:
        proc.kill()
        proc.wait(timeout=5)


def test_kubelet_resource_metrics_and_discovery(cluster: tuple[Cluster, Path, int]) -> None:
    _, _, port = cluster
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{base}/metrics/nodes/kwok-node/metrics/resource", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    assert 'container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 3.145728e+08' in text
    assert "node_memory_working_set_bytes 3.145728e+08" in text
    with urllib.request.urlopen(f"{base}/discovery/prometheus", timeout=10) as response:
        targets = orjson.loads(response.read())
    assert {"targets": [f"127.0.0.1:{port}"], "labels": {"metrics_name": "metrics-resource", "__scheme__": "http",
            "__metrics_path__": "/metrics/nodes/kwok-node/metrics/resource"}} in targets


def test_exec_with_a_terminal(cluster: tuple[Cluster, Path, int]) -> None:
    """`kubectl exec -it`: the command gets a terminal of the user's size, output comes back."""
    c, _, _ = cluster
    cmd = [KUBECTLS[0], f"--cache-dir={c.cache}", "-s", c.url, "exec", "-it", "web", "--",
           "sh", "-c", "test -t 0 && stty size && echo tty-ok"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # the user's 30x100 terminal
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    out = b""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"tty-ok" not in out:
            if select.select([master], [], [], 0.5)[0]:
                out += os.read(master, 4096)
            elif proc.poll() is not None:
                break
    finally:
        proc.kill()
        proc.wait(timeout=5)
        os.close(master)
        os.close(slave)
    assert b"30 100\r\n" in out and b"tty-ok" in out, (proc.returncode, out)


def _exchange(port: int, payload: bytes, half_close: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(payload)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        out = b""
        while data := conn.recv(4096):
            out += data
            if not half_close and out.endswith(b"\n"):
                break
        return out


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_port_forward_reaches_the_configured_target_and_command(
    cluster: tuple[Cluster, Path, int], kubectl: str
) -> None:
    c, _, _ = cluster
    cmd = [kubectl, f"--cache-dir={c.cache}", "-s", c.url, "port-forward", "pod/web", ":80", ":8080", ":81"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        local = {}
        for _ in range(6):  # "Forwarding from 127.0.0.1:40123 -> 80" (and from [::1])
            line = proc.stdout.readline()
            if "127.0.0.1:" in line:
                local[int(line.rsplit("-> ", 1)[1])] = int(line.split("127.0.0.1:", 1)[1].split(" ", 1)[0])
            if len(local) == 3:
                break
        assert _exchange(local[80], b"first") == b"echo:first"
        assert _exchange(local[80], b"second") == b"echo:second"  # one tunnel, many connections
        assert _exchange(local[8080], b"to a command\n", half_close=True) == b"sed:to a command\n"
        assert _exchange(local[81], b"x", half_close=True) == b""  # no forward for port 81
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    # kubectl (wording varies by version) reports what kwok wrote on the error stream:
    assert "error forwarding port 81 to pod default/web: no forward found for port 81 in pod" in err
