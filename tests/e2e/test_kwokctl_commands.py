"""kwokctl's other commands as users run them, and failures that must leave nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import KUBECTLS
from tests.e2e.conftest import kubectl, kwokctl, wait_for


@pytest.fixture
def cluster(env: dict[str, str]):  # type: ignore[no-untyped-def]
    kwokctl(env, "--name", "cmds", "create", "cluster")
    yield env
    kwokctl(env, "--name", "cmds", "delete", "cluster", check=False)


def test_kubectl_passthrough_logs_kubeconfig_and_export(cluster: dict[str, str], tmp_path: Path) -> None:
    env = dict(cluster, PATH=f"{Path(KUBECTLS['kubectl-1.37']).parent}:{cluster['PATH']}")
    out = kwokctl(env, "--name", "cmds", "kubectl", "get", "ns", "default", "-o", "name").stdout
    assert out.strip() == "namespace/default"

    assert kwokctl(env, "--name", "cmds", "logs", "kube-apiserver").returncode == 0
    bad = kwokctl(env, "--name", "cmds", "logs", "etcd", check=False)
    assert bad.returncode == 1 and "component 'etcd' not found" in bad.stderr

    alice = kwokctl(env, "--name", "cmds", "get", "kubeconfig", "--user", "alice", "--group", "dev").stdout
    config = yaml.safe_load(alice)
    assert config["current-context"] == "kwok-cmds"
    assert "client-certificate-data" in config["users"][0]["user"]
    path = tmp_path / "alice.yaml"
    path.write_text(alice)
    kubectl(env, KUBECTLS["kubectl-1.37"], f"--kubeconfig={path}", "get", "ns", "default")

    kwokctl(env, "--name", "cmds", "export", "logs", str(tmp_path / "export"))
    exported = {p.name for p in (tmp_path / "export" / "cmds").iterdir()}
    assert {"kwok.yaml", "kube-apiserver.log", "kwok-controller.log"} <= exported


def test_two_clusters_side_by_side(env: dict[str, str]) -> None:
    kube = KUBECTLS["kubectl-1.37"]
    kwokctl(env, "--name", "a", "create", "cluster")
    try:
        kwokctl(env, "--name", "b", "create", "cluster")
        try:
            kubectl(env, kube, "--context", "kwok-a", "create", "namespace", "only-in-a")
            names_b = kubectl(env, kube, "--context", "kwok-b", "get", "ns", "-o", "name").stdout
            assert "only-in-a" not in names_b
            assert kwokctl(env, "get", "clusters").stdout.split() == ["a", "b"]
        finally:
            kwokctl(env, "--name", "b", "delete", "cluster")
    finally:
        kwokctl(env, "--name", "a", "delete", "cluster")
    assert kwokctl(env, "get", "clusters").stdout.strip() == ""


def test_component_dying_at_start_shows_its_log_and_leaves_nothing(env: dict[str, str]) -> None:
    proc = kwokctl(env, "--name", "dies", "create", "cluster", "--extra-args", "kwok-controller=no-such-flag=1",
                   check=False)
    assert proc.returncode == 1
    assert "kwok-controller exited during start-up" in proc.stderr
    assert "no-such-flag" in proc.stderr           # the log tail says why
    assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "dies").exists()
    leftovers = subprocess.run(["pgrep", "-f", f"{env['KWOK_WORKDIR']}/clusters/dies"], capture_output=True)
    assert leftovers.stdout == b""


def test_corrupt_cluster_folder_is_reported(env: dict[str, str]) -> None:
    root = Path(env["KWOK_WORKDIR"]) / "clusters" / "broken"
    root.mkdir(parents=True)
    (root / "kwok.yaml").write_text("kind: [\n")
    proc = kwokctl(env, "--name", "broken", "start", "cluster", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: cluster 'broken' is corrupt:")
    assert len(proc.stderr.strip().splitlines()) == 1
    kwokctl(env, "--name", "broken", "delete", "cluster")
    assert not root.exists()
    assert os.path.exists(env["KWOK_WORKDIR"])


def test_cluster_whose_config_was_removed_is_listed_refused_and_deleted_with_its_processes(
        env: dict[str, str]) -> None:
    kwokctl(env, "--name", "gone", "create", "cluster")
    root = Path(env["KWOK_WORKDIR"]) / "clusters" / "gone"
    (root / "kwok.yaml").unlink()
    assert kwokctl(env, "get", "clusters").stdout.split() == ["gone"]
    wide = kwokctl(env, "get", "clusters", "-o", "wide").stdout
    assert "Error: cluster 'gone' is corrupt:" in wide and "kwok.yaml is missing" in wide
    again = kwokctl(env, "--name", "gone", "create", "cluster", check=False)   # its processes still run
    assert again.returncode == 1 and "already exists" in again.stderr
    kwokctl(env, "delete", "cluster", "--all")
    assert not root.exists()
    leftovers = subprocess.run(["pgrep", "-f", str(root)], capture_output=True)
    assert leftovers.stdout == b""


def test_audit_policy_records_requests_for_kwokctl_logs_audit(env: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "audit-policy.yaml"     # the policy of KWOK's auditing guide
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
    kwokctl(env, "--name", "audited", "create", "cluster", "--kube-audit-policy", str(policy))
    try:
        kubectl(env, KUBECTLS["kubectl-1.37"], "--context", "kwok-audited", "create", "namespace", "audited-ns")
        events = [json.loads(line) for line in kwokctl(env, "--name", "audited", "logs", "audit").stdout.splitlines()]
        created = [e for e in events if e["verb"] == "create" and e["stage"] == "ResponseComplete"
                   and e["objectRef"].get("name") == "audited-ns"]
        assert len(created) == 1
        assert created[0]["user"]["username"] == "kwok-admin"          # the admin certificate
        assert created[0]["userAgent"].startswith("kubectl/")
        assert created[0]["responseStatus"]["code"] == 201
        # the components, through the API server's socket, are the admin too (as KWOK's, by certificate)
        def components() -> set[str]:
            lines = kwokctl(env, "--name", "audited", "logs", "audit").stdout.splitlines()
            return {e["user"]["username"] for e in map(json.loads, lines) if e["userAgent"].startswith("kwok-python")}

        wait_for(components, 30, "the components' requests in the audit log")
        assert components() == {"kwok-admin"}
        root = Path(env["KWOK_WORKDIR"]) / "clusters" / "audited"
        assert (root / "audit.yaml").read_text() == policy.read_text()
    finally:
        kwokctl(env, "--name", "audited", "delete", "cluster")
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Verbose\n")
    bad = kwokctl(env, "--name", "audited", "create", "cluster", "--kube-audit-policy", str(policy), check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (f'Error: --kube-audit-policy {policy}: rules[0].level: Unsupported value: '
                                  '"Verbose": supported values: "None", "Metadata", "Request", "RequestResponse"')
    assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "audited").exists()


def test_logs_audit_without_a_policy_says_how_to_get_one(cluster: dict[str, str]) -> None:
    proc = kwokctl(cluster, "--name", "cmds", "logs", "audit", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: cluster 'cmds' has no audit log: create it with --kube-audit-policy"


def test_global_flags_after_the_subcommand_as_in_kwok_scripts(env: dict[str, str]) -> None:
    kube = KUBECTLS["kubectl-1.37"]
    kwokctl(env, "create", "cluster", "--name", "late")
    try:
        kwokctl(env, "scale", "node", "--replicas", "3", "--name", "late")
        nodes = kubectl(env, kube, "--context", "kwok-late", "get", "nodes", "-o", "name").stdout.split()
        assert nodes == [f"node/node-00000{i}" for i in range(3)]
        assert "kube-apiserver" in kwokctl(env, "get", "components", "--name=late").stdout
    finally:
        kwokctl(env, "delete", "cluster", "--name=late")
    assert not (Path(env["KWOK_WORKDIR"]) / "clusters" / "late").exists()


def test_metrics_are_served_by_default_and_kubectl_top_works(env: dict[str, str]) -> None:
    import urllib.request

    kwokctl(env, "create", "cluster", "--name", "top")
    try:
        config = next(yaml.safe_load_all((Path(env["KWOK_WORKDIR"]) / "clusters/top/kwok.yaml").read_text()))
        port = config["options"]["kwokControllerPort"]
        kwokctl(env, "scale", "node", "--replicas", "1", "--name", "top")
        kwokctl(env, "scale", "pod", "--replicas", "2", "--name", "top", "--param", '.nodeName="node-000000"')
        url = f"http://127.0.0.1:{port}/metrics/nodes/node-000000/metrics/resource"

        def scraped() -> str:
            try:   # kwok may still be starting (create returns once the API is ready)
                text = urllib.request.urlopen(url, timeout=5).read().decode()
            except OSError:
                return ""
            return text if 'pod="pod-000001"' in text else ""

        wait_for(scraped, what="both pods in the node's resource metrics")
        assert "container_memory_working_set_bytes{" in scraped()
        for kube in KUBECTLS.values():
            wait_for(lambda k=kube: "pod-000001" in kubectl(env, k, "--context", "kwok-top", "top", "pods",
                                                           check=False).stdout, what=f"{kube} top pods")
            # the same metrics through the API server's node proxy, as KWOK's docs read them: the
            # scaled node's Hostname (kwok's --node-name) leads to kwok, as with kube-apiserver's
            # default --kubelet-preferred-address-types
            raw = kubectl(env, kube, "--context", "kwok-top", "get", "--raw",
                          "/api/v1/nodes/node-000000/proxy/metrics/nodes/node-000000/metrics/resource").stdout
            assert 'pod="pod-000001"' in raw
    finally:
        kwokctl(env, "delete", "cluster", "--name", "top")


def test_disable_metrics_server_leaves_the_metrics_out(env: dict[str, str]) -> None:
    kwokctl(env, "create", "cluster", "--name", "nometrics", "--disable", "metrics-server")
    try:
        text = (Path(env["KWOK_WORKDIR"]) / "clusters/nometrics/kwok.yaml").read_text()
        assert "kind: Stage" in text and "kind: Metric" not in text
    finally:
        kwokctl(env, "delete", "cluster", "--name", "nometrics")


def test_a_deep_workdir_still_gets_a_cluster(env: dict[str, str], tmp_path: Path) -> None:
    """A $KWOK_WORKDIR too deep for a Unix socket path (108 bytes) does not stop the API server:
    its socket goes to a private folder of the temporary directory, and goes with the cluster."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep_env = dict(env, KWOK_WORKDIR=str(deep))
    kwokctl(deep_env, "create", "cluster", "--name", "deep")
    try:
        kube = KUBECTLS["kubectl-1.37"]
        assert "namespace/default" in kubectl(deep_env, kube, "--context", "kwok-deep", "get", "ns", "-o",
                                              "name").stdout
        internal = (deep / "clusters/deep/kubeconfig").read_text()
        socket = internal.split("unix://", 1)[1].split()[0]
        assert Path(socket).exists() and len(socket) <= 100
    finally:
        kwokctl(deep_env, "delete", "cluster", "--name", "deep")
    assert not Path(socket).exists()


def test_snapshot_export_of_one_cluster_restores_into_another(env: dict[str, str], tmp_path: Path) -> None:
    """KWOK's workflow for simulating a cluster: export it, then load the objects into a kwok cluster."""
    kube = KUBECTLS["kubectl-1.37"]
    kwokctl(env, "--name", "source", "create", "cluster")
    try:
        kubectl(env, kube, "--context", "kwok-source", "create", "namespace", "shop")
        kubectl(env, kube, "--context", "kwok-source", "-n", "shop", "create", "configmap", "prices",
                "--from-literal=apple=3")
        kubectl(env, kube, "--context", "kwok-source", "-n", "shop", "create", "deployment", "web",
                "--image=nginx", "--replicas=2")
        source = Path(env["KWOK_WORKDIR"]) / "clusters" / "source" / "kubeconfig.yaml"
        snap = tmp_path / "source.yaml"
        proc = kwokctl(env, "snapshot", "export", "--kubeconfig", str(source), "--path", str(snap),
                       "--filter", "namespace,configmap,deployment.apps")
        assert "Exported snapshot of https://127.0.0.1:" in proc.stderr
        docs = list(yaml.safe_load_all(snap.read_text()))
        assert {(d["kind"], d["metadata"]["name"]) for d in docs} >= {
            ("Namespace", "shop"), ("ConfigMap", "prices"), ("Deployment", "web")}
        assert not any("resourceVersion" in d["metadata"] or "managedFields" in d["metadata"] for d in docs)
    finally:
        kwokctl(env, "--name", "source", "delete", "cluster")
    kwokctl(env, "--name", "target", "create", "cluster")
    try:
        kwokctl(env, "--name", "target", "snapshot", "restore", "--format", "k8s", "--path", str(snap),
                "--filter", "namespace,configmap,deployment.apps")
        out = kubectl(env, kube, "--context", "kwok-target", "-n", "shop", "get", "configmap", "prices",
                      "-o", "jsonpath={.data.apple}").stdout
        assert out == "3"
        assert kubectl(env, kube, "--context", "kwok-target", "-n", "shop", "get", "deployment", "web",
                       "-o", "name").stdout.strip() == "deployment.apps/web"
    finally:
        kwokctl(env, "--name", "target", "delete", "cluster")
    bad = kwokctl(env, "snapshot", "export", "--kubeconfig", str(tmp_path / "missing"), "--path", str(snap),
                  check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ") and len(bad.stderr.strip().splitlines()) == 1
    record = kwokctl(env, "snapshot", "export", "--path", str(snap), "--record", check=False)
    assert record.returncode == 1 and "--record is not available" in record.stderr


def test_kube_apiserver_extra_args_of_kwok_configs_start_the_cluster(env: dict[str, str]) -> None:
    kwokctl(env, "--name", "extra", "create", "cluster", "--extra-args", "kube-apiserver=max-requests-inflight=0",
            "--extra-args", "kube-apiserver=default-unreachable-toleration-seconds=30")
    try:
        log = (Path(env["KWOK_WORKDIR"]) / "clusters" / "extra" / "logs" / "kube-apiserver.log").read_text()
        assert "kube-apiserver flags without effect here: --max-requests-inflight=0" in log
        kubectl(env, KUBECTLS["kubectl-1.37"], "--context", "kwok-extra", "run", "p", "--image=nginx")
        seconds = kubectl(env, KUBECTLS["kubectl-1.37"], "--context", "kwok-extra", "get", "pod", "p", "-o",
                          "jsonpath={.spec.tolerations[?(@.key=='node.kubernetes.io/unreachable')].tolerationSeconds}")
        assert seconds.stdout == "30"
    finally:
        kwokctl(env, "--name", "extra", "delete", "cluster")
