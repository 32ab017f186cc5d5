"""`kwok apiserver --audit-policy-file --audit-log-path`: the audit log of requests kubectl makes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.apiserver.harness import ApiServer, stream_lines
from tests.conftest import command

POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitManagedFields": True,
    "rules": [
        {"level": "None", "nonResourceURLs": ["/openapi*", "/api", "/apis", "/api/*", "/apis/*", "/version"]},
        {"level": "RequestResponse", "resources": [{"group": "", "resources": ["configmaps"]}]},
        {"level": "Request", "verbs": ["create"], "resources": [{"group": "", "resources": ["secrets"]}],
         "omitStages": ["RequestReceived"]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io"}]},
        {"level": "Metadata"},
    ],
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("audit")
    (workdir / "policy.yaml").write_text(yaml.safe_dump(POLICY))
    server = ApiServer(workdir, "--audit-policy-file", str(workdir / "policy.yaml"),
                       "--audit-log-path", str(workdir / "audit.log")).start()
    yield server, workdir / "audit.log"
    server.stop()


def events(log: Path, uri_part: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log.read_text().splitlines()) if uri_part in e["requestURI"]]


def test_kubectl_requests_at_each_level(audited: Any, kubectl_bin: str) -> None:
    server, log = audited
    suffix = hashlib.sha1(kubectl_bin.encode()).hexdigest()[:8]      # one set of names per kubectl
    server.kubectl(kubectl_bin, "create", "configmap", f"cm-{suffix}", "--from-literal=a=b")
    server.kubectl(kubectl_bin, "create", "secret", "generic", f"s-{suffix}", "--from-literal=k=v")
    server.kubectl(kubectl_bin, "create", "namespace", f"ns-{suffix}")
    missing = server.kubectl(kubectl_bin, "get", "pod", f"nope-{suffix}", check=False)
    assert missing.returncode == 1

    cm = events(log, "/configmaps?fieldManager")
    cm = [e for e in cm if e.get("objectRef", {}).get("name") == f"cm-{suffix}" or e["stage"] == "RequestReceived"]
    complete = [e for e in cm if e["stage"] == "ResponseComplete" and e["objectRef"].get("name") == f"cm-{suffix}"]
    assert len(complete) == 1
    event = complete[0]
    assert event["level"] == "RequestResponse" and event["verb"] == "create"
    assert event["objectRef"] == {"resource": "configmaps", "namespace": "default", "name": f"cm-{suffix}",
                                  "apiVersion": "v1"}
    assert event["responseStatus"] == {"metadata": {}, "code": 201}
    assert event["requestObject"]["data"] == {"a": "b"}
    assert event["responseObject"]["metadata"]["uid"]
    assert "managedFields" not in event["responseObject"]["metadata"]      # omitManagedFields
    assert event["userAgent"].startswith("kubectl")
    received = [e for e in cm if e["stage"] == "RequestReceived" and e["auditID"] == event["auditID"]]
    assert len(received) == 1 and "responseStatus" not in received[0]

    secret = [e for e in events(log, "/secrets") if e["auditID"] and e["objectRef"].get("name") == f"s-{suffix}"]
    assert [e["stage"] for e in secret] == ["ResponseComplete"]           # the rule omits RequestReceived
    assert secret[0]["level"] == "Request" and secret[0]["requestObject"]["kind"] == "Secret"
    assert "responseObject" not in secret[0]

    ns = [e for e in events(log, "/namespaces") if e["stage"] == "ResponseComplete"
          and e["objectRef"].get("name") == f"ns-{suffix}"]
    assert len(ns) == 1 and ns[0]["level"] == "Metadata" and "requestObject" not in ns[0]

    server.kubectl(kubectl_bin, "patch", "configmap", f"cm-{suffix}", "--type=json",
                   "-p", '[{"op": "add", "path": "/data/b", "value": "c"}]')
    patched = [e for e in events(log, f"/configmaps/cm-{suffix}") if e["verb"] == "patch"
               and e["stage"] == "ResponseComplete"]
    assert patched[0]["requestObject"] == [{"op": "add", "path": "/data/b", "value": "c"}]   # the patch as sent
    assert patched[0]["responseObject"]["data"] == {"a": "b", "b": "c"}

    failed = [e for e in events(log, f"/pods/nope-{suffix}") if e["stage"] == "ResponseComplete"]
    assert failed[0]["responseStatus"] == {
        "metadata": {}, "status": "Failure", "message": f'pods "nope-{suffix}" not found', "reason": "NotFound",
        "details": {"name": f"nope-{suffix}", "kind": "pods"}, "code": 404}
    assert not events(log, "/openapi/")                                   # level None: not logged


def test_audit_id_is_the_response_header_and_watches_have_a_started_stage(audited: Any) -> None:
    server, log = audited
    code, _body, headers = server.request("GET", "/api/v1/namespaces/default/services?limit=1")
    assert code == 200
    listed = [e for e in events(log, "/services?limit=1") if e["auditID"] == headers["Audit-Id"]]
    assert [e["stage"] for e in listed] == ["RequestReceived", "ResponseComplete"]
    assert listed[1]["verb"] == "list"

    lines = stream_lines(server, "/api/v1/namespaces?watch=true&timeoutSeconds=1")
    assert lines

    def watched() -> list[str]:   # the stream ends just before its last stage is logged
        return [e["stage"] for e in events(log, "/api/v1/namespaces?watch=true&timeoutSeconds=1")]

    deadline = time.monotonic() + 5
    while len(watched()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watched() == ["RequestReceived", "ResponseStarted", "ResponseComplete"]


def test_bad_policy_stops_the_server_with_what_and_where(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")
    proc = subprocess.run([command("kwok"), "apiserver", "--port", "0", "--audit-policy-file", str(policy),
                           "--audit-log-path", str(tmp_path / "audit.log")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f'Error: loading audit policy file: {policy}: rules[0].level: Unsupported value: "Loud"' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kubectl_as_impersonates_and_the_audit_log_names_both(audited: Any, kubectl_bin: str) -> None:
    server, log = audited
    who = json.loads(server.kubectl(kubectl_bin, "auth", "whoami", "--as", "alice", "--as-group", "dev",
                                    "--as-group", "ops", "-o", "json").stdout)
    assert who["status"]["userInfo"] == {"username": "alice", "groups": ["dev", "ops", "system:authenticated"]}
    sa = json.loads(server.kubectl(kubectl_bin, "auth", "whoami", "--as", "system:serviceaccount:ci:builder",
                                   "-o", "json").stdout)
    assert sa["status"]["userInfo"]["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ci",
                                                  "system:authenticated"]
    reviews = [e for e in events(log, "/selfsubjectreviews") if e["stage"] == "ResponseComplete"
               and e.get("impersonatedUser", {}).get("username") == "alice"]
    assert reviews and reviews[-1]["user"]["username"] == "system:anonymous"     # who really asked
    code, body, _headers = server.request("GET", "/api/v1/namespaces", headers={"Impersonate-Group": "x"})
    assert code == 500 and "without impersonating a user" in body["message"]
