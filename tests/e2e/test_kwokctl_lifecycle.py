"""A new user's day with kwokctl: create, use with kubectl, scale, snapshot, stop/start, delete."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import KUBECTLS
from tests.e2e.conftest import kubectl, kwokctl, pod_phases, wait_for

FAKE_NODE = """
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
spec:
  taints:
  - effect: NoSchedule
    key: kwok.x-k8s.io/node
    value: fake
"""


def test_cluster_lifecycle_with_the_real_kubectl(env: dict[str, str], tmp_path: Path) -> None:
    kube = KUBECTLS["kubectl-1.37"]
    kwokctl(env, "--name", "life", "create", "cluster", "--wait", "30s")
    config = Path(env["KUBECONFIG"]).read_text()
    assert "kwok-life" in config
    assert (Path(env["KWOK_WORKDIR"]) / "clusters" / "life" / "kubeconfig.yaml").exists()
    try:
        namespaces = kubectl(env, kube, "get", "ns", "-o", "name").stdout.split()
        assert "namespace/default" in namespaces and "namespace/kube-system" in namespaces

        node = tmp_path / "node.yaml"
        node.write_text(FAKE_NODE)
        kubectl(env, kube, "apply", "-f", str(node))
        kubectl(env, kube, "wait", "--for=condition=Ready", "node/kwok-node-0", "--timeout=30s")

        kwokctl(env, "--name", "life", "scale", "pod", "--replicas", "3", "--param", '.nodeName="kwok-node-0"')
        wait_for(lambda: set(pod_phases(env, kube).values()) == {"Running"} and len(pod_phases(env, kube)) == 3,
                 what="3 pods Running")

        table = kwokctl(env, "get", "clusters", "-o", "wide").stdout
        assert "life" in table and "Ready" in table

        snap = tmp_path / "snap.db"
        kwokctl(env, "--name", "life", "snapshot", "save", "--path", str(snap))
        kwokctl(env, "--name", "life", "scale", "pod", "--replicas", "0")
        wait_for(lambda: pod_phases(env, kube) == {}, what="pods gone")
        kwokctl(env, "--name", "life", "snapshot", "restore", "--path", str(snap))
        wait_for(lambda: len(pod_phases(env, kube)) == 3, what="pods restored")

        kwokctl(env, "--name", "life", "stop", "cluster")
        assert "Stopped" in kwokctl(env, "--name", "life", "get", "components").stdout
        kwokctl(env, "--name", "life", "start", "cluster", "--wait", "30s")
        assert len(pod_phases(env, kube)) == 3          # objects survive stop/start
    finally:
        kwokctl(env, "--name", "life", "delete", "cluster", check=False)
    assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "life").exists()
    assert "kwok-life" not in Path(env["KUBECONFIG"]).read_text()


def test_name_in_use_and_port_taken_fail_cleanly(env: dict[str, str]) -> None:
    import socket

    kwokctl(env, "--name", "dup", "create", "cluster")
    try:
        again = kwokctl(env, "--name", "dup", "create", "cluster", check=False)
        assert again.returncode != 0
        assert 'cluster \'dup\' already exists' in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            taken = kwokctl(env, "--name", "other", "create", "cluster", "--kube-apiserver-port", str(port),
                            check=False)
        assert taken.returncode != 0
        assert f"port {port}" in taken.stderr and "already in use" in taken.stderr
        assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "other").exists()
    finally:
        kwokctl(env, "--name", "dup", "delete", "cluster", check=False)


def test_unknown_config_field_names_file_and_field(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\noptions:\n  nodeLeaseDuration: 5\n")
    proc = kwokctl(env, "--name", "bad", "-c", str(bad), "create", "cluster", check=False)
    assert proc.returncode != 0
    assert str(bad) in proc.stderr and "nodeLeaseDuration" in proc.stderr
    assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "bad").exists()


def test_missing_cluster_is_a_one_line_error(env: dict[str, str]) -> None:
    proc = kwokctl(env, "--name", "ghost", "stop", "cluster", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: cluster 'ghost' does not exist ({env['KWOK_WORKDIR']}/clusters/ghost)"


def test_k8s_snapshot_moves_objects_between_clusters(env: dict[str, str], tmp_path: Path) -> None:
    """`snapshot save --format k8s` from one cluster, `restore` into another: the objects arrive,
    owner references point at the new owners' uids, and what the new cluster already has (its
    namespaces, its own `kubernetes` Service and Endpoints on its own port) is kept."""
    import json

    kube = KUBECTLS["kubectl-1.37"]
    snap = tmp_path / "snap.yaml"
    kwokctl(env, "--name", "src", "create", "cluster")
    kwokctl(env, "--name", "dst", "create", "cluster")
    try:
        src = ("--context", "kwok-src")
        kubectl(env, kube, *src, "create", "deployment", "web", "--image=nginx", "--replicas=0")
        kubectl(env, kube, *src, "create", "service", "clusterip", "web", "--tcp=80:8080")
        wait_for(lambda: kubectl(env, kube, *src, "get", "rs", "-o", "name").stdout.strip() != "", what="a ReplicaSet")
        kwokctl(env, "--name", "src", "snapshot", "save", "--format", "k8s", "--path", str(snap))
        out = kwokctl(env, "--name", "dst", "snapshot", "restore", "--format", "k8s", "--path", str(snap))
        assert out.stderr.startswith("Restored ")     # progress goes to stderr, as KWOK logs it

        dst = ("--context", "kwok-dst")

        def get(*what: str) -> dict:  # type: ignore[type-arg]
            return json.loads(kubectl(env, kube, *dst, "get", *what, "-o", "json").stdout)

        deployment = get("deployment", "web")
        rs = get("rs")["items"]
        assert len(rs) == 1 and rs[0]["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]
        assert get("service", "web")["spec"]["ports"][0]["targetPort"] == 8080
        server = Path(env["KWOK_WORKDIR"], "clusters", "dst", "kubeconfig.yaml").read_text()
        port = get("endpoints", "kubernetes")["subsets"][0]["ports"][0]["port"]
        assert f"127.0.0.1:{port}" in server
    finally:
        kwokctl(env, "delete", "cluster", "--all", check=False)
