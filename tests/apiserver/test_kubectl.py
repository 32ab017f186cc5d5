"""The real kubectl (1.32 through the dispatcher, and 1.37) against a real `kwok apiserver` process."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

from tests.apiserver.harness import ApiServer


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_version_picks_kubectl_for_server_minor(apiserver: ApiServer, kubectl_bin: str) -> None:
    out = apiserver.kubectl(kubectl_bin, "version", "-o", "json").stdout
    info = json.loads(out)
    assert info["serverVersion"]["gitVersion"] == "v1.36.3"
    assert info["serverVersion"]["minor"] == "36"
    if kubectl_bin == "/usr/bin/kubectl":
        assert info["clientVersion"]["gitVersion"].startswith("v1.32.")   # the dispatcher chose kubectl 1.32 for a 1.36 server


def test_api_resources_lists_short_names_and_groups(apiserver: ApiServer, kubectl_bin: str) -> None:
    out = apiserver.kubectl(kubectl_bin, "api-resources", "--no-headers").stdout
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():     # the first row of a name: core `pods` comes before metrics.k8s.io's
        rows.setdefault(line.split()[0], line.split())
    assert rows["pods"][1] == "po" and rows["pods"][-1] == "Pod"
    assert "apps/v1" in rows["deployments"]
    assert rows["namespaces"][-2] == "false"       # cluster scoped


def test_create_get_table_and_yaml(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("cm")
    apiserver.kubectl(kubectl_bin, "create", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"t": "x"}},
         "data": {"a": "1", "b": "2"}}))
    table = apiserver.kubectl(kubectl_bin, "get", "configmap", name).stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert table[1].split()[:2] == [name, "2"]
    obj = json.loads(apiserver.kubectl(kubectl_bin, "get", "configmap", name, "-o", "json").stdout)
    assert obj["data"] == {"a": "1", "b": "2"}
    assert obj["metadata"]["uid"] and obj["metadata"]["creationTimestamp"].endswith("Z")
    assert int(obj["metadata"]["resourceVersion"]) > 0
    wide = apiserver.kubectl(kubectl_bin, "get", "configmaps", "-A", "--show-labels").stdout
    line = next(row for row in wide.splitlines() if name in row)
    assert line.split()[0] == "default" and line.split()[-1] == "t=x"


def test_generators_send_protobuf_bodies(apiserver: ApiServer, kubectl_bin: str) -> None:
    ns, cm, deploy = _name("ns"), _name("cm"), _name("web")
    apiserver.kubectl(kubectl_bin, "create", "namespace", ns)
    apiserver.kubectl(kubectl_bin, "-n", ns, "create", "configmap", cm, "--from-literal=k=v")
    apiserver.kubectl(kubectl_bin, "-n", ns, "create", "deployment", deploy, "--image=nginx", "--replicas=2")
    got = json.loads(apiserver.kubectl(kubectl_bin, "-n", ns, "get", "deploy", deploy, "-o", "json").stdout)
    assert got["spec"]["replicas"] == 2
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert got["metadata"]["generation"] == 1
    data = json.loads(apiserver.kubectl(kubectl_bin, "-n", ns, "get", "cm", cm, "-o", "json").stdout)["data"]
    assert data == {"k": "v"}


def test_apply_client_side_then_server_side(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("app")
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "1"}}
    assert "created" in apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(manifest)).stdout
    assert "unchanged" in apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(manifest)).stdout
    manifest["data"] = {"k": "2"}
    assert "configured" in apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps(manifest)).stdout
    manifest["data"] = {"k": "3"}
    out = apiserver.kubectl(kubectl_bin, "apply", "--server-side", "-f", "-", stdin=json.dumps(manifest)).stdout
    assert "serverside-applied" in out
    got = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json").stdout)
    assert got["data"] == {"k": "3"}


def test_replace_with_stale_resource_version_conflicts(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("rep")
    apiserver.kubectl(kubectl_bin, "create", "configmap", name, "--from-literal=a=1")
    obj = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json").stdout)
    obj["data"] = {"a": "2"}
    assert "replaced" in apiserver.kubectl(kubectl_bin, "replace", "-f", "-", stdin=json.dumps(obj)).stdout
    obj["data"] = {"a": "3"}   # still carries the old resourceVersion
    result = apiserver.kubectl(kubectl_bin, "replace", "-f", "-", stdin=json.dumps(obj), check=False)
    assert result.returncode != 0
    assert "Conflict" in result.stderr and "the object has been modified" in result.stderr


def test_patch_label_annotate(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("pt")
    apiserver.kubectl(kubectl_bin, "create", "configmap", name, "--from-literal=a=1")
    apiserver.kubectl(kubectl_bin, "patch", "cm", name, "--type=merge", "-p", '{"data":{"b":"2"}}')
    apiserver.kubectl(kubectl_bin, "patch", "cm", name, "--type=json", "-p",
                      '[{"op":"replace","path":"/data/a","value":"9"}]')
    apiserver.kubectl(kubectl_bin, "patch", "cm", name, "-p", '{"data":{"c":"3"}}')   # strategic
    apiserver.kubectl(kubectl_bin, "label", "cm", name, "env=prod")
    apiserver.kubectl(kubectl_bin, "annotate", "cm", name, "note=hi")
    got = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json").stdout)
    assert got["data"] == {"a": "9", "b": "2", "c": "3"}
    assert got["metadata"]["labels"] == {"env": "prod"}
    assert got["metadata"]["annotations"] == {"note": "hi"}
    apiserver.kubectl(kubectl_bin, "label", "cm", name, "env-")
    got = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json").stdout)
    assert "labels" not in got["metadata"] or got["metadata"]["labels"] == {}


def test_delete_and_not_found(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("del")
    apiserver.kubectl(kubectl_bin, "create", "configmap", name)
    assert f'configmap "{name}" deleted' in apiserver.kubectl(kubectl_bin, "delete", "cm", name).stdout
    result = apiserver.kubectl(kubectl_bin, "get", "cm", name, check=False)
    assert result.returncode == 1
    assert f'Error from server (NotFound): configmaps "{name}" not found' in result.stderr


def test_delete_waits_for_finalizer_removal(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("fin")
    apiserver.kubectl(kubectl_bin, "create", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "finalizers": ["example.com/hold"]}}))
    apiserver.kubectl(kubectl_bin, "delete", "cm", name, "--wait=false")
    held = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json").stdout)
    assert held["metadata"]["deletionTimestamp"]
    waiter = subprocess.Popen([kubectl_bin, f"--kubeconfig={apiserver.kubeconfig()}",
                               f"--cache-dir={apiserver.workdir / 'kcache'}", "wait", "--for=delete",
                               f"cm/{name}", "--timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    time.sleep(1.0)
    apiserver.kubectl(kubectl_bin, "patch", "cm", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    out, err = waiter.communicate(timeout=25)
    assert waiter.returncode == 0, err
    assert apiserver.kubectl(kubectl_bin, "get", "cm", name, check=False).returncode == 1


def test_get_watch_prints_changes(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("w")
    apiserver.kubectl(kubectl_bin, "create", "configmap", name)
    watcher = subprocess.Popen([kubectl_bin, f"--kubeconfig={apiserver.kubeconfig()}",
                                f"--cache-dir={apiserver.workdir / 'kcache'}", "get", "cm", name, "-w",
                                "--request-timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows: list[list[str]] = []
    try:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            if line.startswith(name):
                rows.append(line.split())
                if len(rows) < 3:   # the watch is open: change the object (twice: only the first
                    # watch event carries the Table's column definitions, as from a real server)
                    data = f'{{"data":{{"x{len(rows)}":"1"}}}}'
                    apiserver.kubectl(kubectl_bin, "patch", "cm", name, "--type=merge", "-p", data)
                else:
                    break
    finally:
        watcher.kill()
        watcher.communicate()
    assert [r[1] for r in rows] == ["0", "1", "2"]    # the initial row, then DATA 1 and 2 after the patches


def test_explain_and_cluster_info_and_can_i(apiserver: ApiServer, kubectl_bin: str) -> None:
    out = apiserver.kubectl(kubectl_bin, "explain", "configmaps").stdout
    assert "KIND:" in out and "ConfigMap" in out
    info = apiserver.kubectl(kubectl_bin, "cluster-info").stdout
    assert f"Kubernetes control plane is running at {apiserver.url}" in info
    assert apiserver.kubectl(kubectl_bin, "auth", "can-i", "create", "pods").stdout.strip() == "yes"


def test_dry_run_server_persists_nothing(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("dry")
    out = apiserver.kubectl(kubectl_bin, "create", "configmap", name, "--dry-run=server", "-o", "json").stdout
    assert json.loads(out)["metadata"]["name"] == name
    assert apiserver.kubectl(kubectl_bin, "get", "cm", name, check=False).returncode == 1
    apiserver.kubectl(kubectl_bin, "create", "configmap", name)
    out = apiserver.kubectl(kubectl_bin, "delete", "cm", name, "--dry-run=server").stdout
    assert "(server dry run)" in out
    assert apiserver.kubectl(kubectl_bin, "get", "cm", name).returncode == 0


def test_server_side_apply_conflicts_and_force(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("ssa")
    apiserver.kubectl(kubectl_bin, "create", "configmap", name, "--from-literal=k=1")
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "2"}})
    result = apiserver.kubectl(kubectl_bin, "apply", "--server-side", "-f", "-", stdin=manifest, check=False)
    assert result.returncode != 0
    assert 'conflict with "kubectl-create"' in result.stderr and ".data.k" in result.stderr
    apiserver.kubectl(kubectl_bin, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=manifest)
    got = json.loads(apiserver.kubectl(kubectl_bin, "get", "cm", name, "-o", "json",
                                       "--show-managed-fields").stdout)
    assert got["data"] == {"k": "2"}
    managers = {(m["manager"], m["operation"]) for m in got["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_delete_cascade_foreground_marks_with_finalizer(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("fg")
    apiserver.kubectl(kubectl_bin, "create", "deployment", name, "--image=nginx")
    apiserver.kubectl(kubectl_bin, "delete", "deployment", name, "--cascade=foreground", "--wait=false")
    got = json.loads(apiserver.kubectl(kubectl_bin, "get", "deployment", name, "-o", "json").stdout)
    assert got["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert got["metadata"]["deletionTimestamp"]
    apiserver.kubectl(kubectl_bin, "patch", "deployment", name, "--type=json",
                      "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert apiserver.kubectl(kubectl_bin, "get", "deployment", name, check=False).returncode == 1


def test_scale_is_recorded_as_the_scale_subresource(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name("scaled")
    apiserver.kubectl(kubectl_bin, "create", "deployment", name, "--image=x", "--replicas=1")
    apiserver.kubectl(kubectl_bin, "scale", f"deployment/{name}", "--replicas=4")
    obj = json.loads(apiserver.kubectl(kubectl_bin, "get", f"deployment/{name}", "-o", "json",
                                       "--show-managed-fields").stdout)
    assert obj["spec"]["replicas"] == 4
    via_scale = [m for m in obj["metadata"]["managedFields"] if m.get("subresource") == "scale"]
    assert [(m["manager"], m["operation"], m["fieldsV1"]) for m in via_scale] == [
        ("kubectl", "Update", {"f:spec": {"f:replicas": {}}})]
