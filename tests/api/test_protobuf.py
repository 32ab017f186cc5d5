"""Protobuf bodies: upstream round-trip fixtures, and the bodies real kubectl sends."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import orjson
import pytest

from kwok.api.protobuf import ProtobufError, decode, encode, go_duration, parse_go_duration
from tests.conftest import KUBECTL_137, SHARED_DIR

FIXTURES = Path(SHARED_DIR + "/upstream/k8s-api/testdata/HEAD")
PB_FILES = sorted(FIXTURES.glob("*.pb"))
KUBECTLS = [k for k in ("/usr/lib/google-cloud-sdk/bin/kubectl.1.32", KUBECTL_137) if Path(k).exists()]


def fixture_type(path: Path) -> tuple[str, str]:
    """("apps/v1", "Deployment") from "apps.v1.Deployment.pb" ("core" is the legacy group)."""
    group_version, _, kind = path.stem.rpartition(".")
    group, _, version = group_version.rpartition(".")
    return (version if group == "core" else f"{group}/{version}"), kind


def test_there_are_fixtures():
    assert len(PB_FILES) > 150


@pytest.mark.parametrize("path", PB_FILES, ids=lambda p: p.stem)
def test_fixture_decodes_to_its_json_twin(path):
    api_version, kind = fixture_type(path)
    assert decode(path.read_bytes(), api_version, kind) == orjson.loads(path.with_suffix(".json").read_bytes())


@pytest.mark.parametrize("path", PB_FILES, ids=lambda p: p.stem)
def test_fixture_json_encodes_to_the_same_bytes(path):
    api_version, kind = fixture_type(path)
    obj = orjson.loads(path.with_suffix(".json").read_bytes())
    assert encode(obj, api_version, kind) == path.read_bytes()


def test_keys_come_in_go_struct_order():
    body = (FIXTURES / "core.v1.Pod.pb").read_bytes()
    want = orjson.loads((FIXTURES / "core.v1.Pod.json").read_bytes())
    got = decode(body)
    assert list(got) == list(want)
    assert list(got["spec"]) == list(want["spec"])
    assert list(got["spec"]["volumes"][0]) == list(want["spec"]["volumes"][0])  # inline VolumeSource


# -- what kubectl really sends -------------------------------------------------------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # the dispatcher asks for /version; say 1.32
        self._reply(200, b'{"major":"1","minor":"32","gitVersion":"v1.32.4"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.bodies.append((self.headers.get("Content-Type", ""), body))
        self._reply(201, body if not body.startswith(b"k8s\x00") else orjson.dumps(decode(body)))

    def _reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


GENERATORS = [
    ["create", "namespace", "team-a"],
    ["create", "configmap", "cm1", "--from-literal=a=b", "--from-literal=empty="],
    ["create", "deployment", "d2", "--image=nginx", "--replicas=2", "--port=80"],
    ["create", "deployment", "d0", "--image=nginx", "--replicas=0"],  # a pointer's zero is kept
    ["create", "service", "clusterip", "s1", "--tcp=80:8080"],
    ["create", "job", "j1", "--image=busybox", "--", "sleep", "1"],
    ["create", "secret", "generic", "s", "--from-literal=token=c2VjcmV0"],
    ["create", "cronjob", "c1", "--image=busybox", "--schedule=*/1 * * * *"],
    ["create", "priorityclass", "pc0", "--value=0"],      # a required field's zero is kept
    ["create", "poddisruptionbudget", "pdb", "--selector=app=a", "--min-available=0"],
    ["create", "quota", "q", "--hard=pods=0,cpu=500m"],
    ["create", "serviceaccount", "sa1"],
    ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    ["create", "ingress", "ing", "--rule=foo.com/bar=svc1:8080,tls=my-cert", "--class=nginx"],
    ["create", "secret", "docker-registry", "dr", "--docker-username=u", "--docker-password=p"],
    ["create", "priorityclass", "pc1", "--value=1000", "--global-default=false", "--preemption-policy=Never"],
]


@pytest.mark.skipif(not KUBECTLS, reason="no kubectl")
@pytest.mark.parametrize("kubectl", KUBECTLS, ids=lambda k: Path(k).name)
@pytest.mark.parametrize("args", GENERATORS, ids=lambda a: "-".join(a[1:3]))
def test_kubectl_protobuf_body_decodes_as_kubectl_prints_it(recorder, tmp_path, kubectl, args):
    """kubectl's own `--dry-run=client -o json` is Go's JSON of the very object it sends."""
    common = [kubectl, f"--server={recorder}", f"--cache-dir={tmp_path}"]
    _Recorder.bodies.clear()
    sent = subprocess.run([*common, *args], capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr
    printed = subprocess.run([*common, args[0], "--dry-run=client", "-o", "json", *args[1:]],
                             capture_output=True, timeout=60, check=True).stdout
    [(content_type, body)] = _Recorder.bodies
    assert content_type == "application/vnd.kubernetes.protobuf"
    assert decode(body) == without_zero_creation_timestamps(orjson.loads(printed))


def without_zero_creation_timestamps(obj):
    """kubectl before 1.34 prints an unset creationTimestamp as null; 1.34+ (`omitzero`) and so a
    1.36 server leave it out."""
    if isinstance(obj, dict):
        return {k: without_zero_creation_timestamps(v) for k, v in obj.items()
                if not (k == "creationTimestamp" and v is None)}
    if isinstance(obj, list):
        return [without_zero_creation_timestamps(v) for v in obj]
    return obj


# -- errors ----------------------------------------------------------------------------------------
def test_bad_envelope_is_rejected_clearly():
    with pytest.raises(ProtobufError, match="k8s"):
        decode(b'{"kind": "Pod"}')


def test_truncated_body_is_rejected_clearly():
    body = (FIXTURES / "core.v1.Pod.pb").read_bytes()
    with pytest.raises(ProtobufError, match="truncated"):
        decode(body[:-7])


def test_unknown_kind_is_rejected_clearly():
    body = encode({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    renamed = body.replace(b"\x12\tNamespace", b"\x12\tNoSuchKnd")
    with pytest.raises(ProtobufError, match="NoSuchKnd"):
        decode(renamed)


def test_envelope_without_type_needs_a_hint():
    body = (FIXTURES / "core.v1.WatchEvent.pb").read_bytes()
    with pytest.raises(ProtobufError, match="apiVersion and kind"):
        decode(body)


# -- JSON forms of the Kubernetes special types ------------------------------------------------------
def test_special_values_round_trip():
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "n", "creationTimestamp": "2024-02-29T23:59:59Z",
                          "deletionGracePeriodSeconds": 2**40},
             "spec": {"holderIdentity": "n", "renewTime": "2024-02-29T23:59:59.123456Z"}}
    assert decode(encode(lease)) == lease
    sa = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"b": "AP8="}}
    assert decode(encode(sa)) == sa
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}}
    assert decode(encode(svc))["spec"]["ports"] == [{"port": 80, "targetPort": "http"},
                                                    {"port": 81, "targetPort": 8081}]


def test_negative_numbers_survive():
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "count": -3,
          "involvedObject": {}, "source": {}}
    assert decode(encode(ev))["count"] == -3


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (10**9, "1s"),
    (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (5400 * 10**9 + 500_000_000, "1h30m0.5s"),
    (-2 * 10**9, "-2s"),
])
def test_go_duration_strings(ns, text):
    assert go_duration(ns) == text
    assert parse_go_duration(text) == ns
