"""Serving: durability across restarts, TLS with client certificates and tokens, the Unix socket, metrics."""

from __future__ import annotations

import json
import os
import signal
import ssl
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.apiserver.harness import ApiServer
from tests.conftest import command

CM = "/api/v1/namespaces/default/configmaps"


def test_restart_keeps_objects_and_continues_resource_versions(tmp_path: Path) -> None:
    server = ApiServer(tmp_path).start()
    try:
        for i in range(20):
            assert server.request("POST", CM, {"metadata": {"name": f"keep-{i}"}, "data": {"i": str(i)}})[0] == 201
        assert server.request("DELETE", f"{CM}/keep-0")[0] == 200
        before = server.request("GET", CM)[1]
    finally:
        assert server.stop(signal.SIGTERM) == 0
    again = ApiServer(tmp_path).start()
    try:
        after = again.request("GET", CM)[1]
        assert after["items"] == before["items"]
        # never behind; the server's own start-up writes (the `kubernetes` Endpoints now name its new
        # port) may have moved it on
        assert int(after["metadata"]["resourceVersion"]) >= int(before["metadata"]["resourceVersion"])
        code, created, _ = again.request("POST", CM, {"metadata": {"name": "new"}})
        assert int(created["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    finally:
        again.stop()


def test_acknowledged_writes_survive_a_kill(tmp_path: Path) -> None:
    server = ApiServer(tmp_path).start()
    for i in range(30):
        assert server.request("POST", CM, {"metadata": {"name": f"k-{i}"}})[0] == 201
    server.stop(signal.SIGKILL)
    again = ApiServer(tmp_path).start()
    try:
        names = {o["metadata"]["name"] for o in again.request("GET", CM)[1]["items"]}
        assert {f"k-{i}" for i in range(30)} <= names
    finally:
        again.stop()


def _client_cert(tmp_path: Path, pki: Path, user: str, group: str) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, group)]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    crt, pem = tmp_path / "client.crt", tmp_path / "client.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def _whoami(port: str, ca: Path, cert: tuple[Path, Path] | None = None, token: str | None = None) -> dict:
    context = ssl.create_default_context(cafile=str(ca))
    if cert:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode()
    req = urllib.request.Request(f"https://127.0.0.1:{port}/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                 data=body, method="POST", headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, context=context, timeout=10) as resp:
        return json.loads(resp.read())["status"]["userInfo"]


def test_tls_identities_from_certificate_token_or_anonymous(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('secret-token,alice,uid-1,"dev,ops"\n')
    server = ApiServer(tmp_path, "--secure-port", "0", "--token-auth-file", str(tokens)).start()
    try:
        pki = tmp_path / "data" / "pki"
        port = server.ports["https"]
        assert _whoami(port, pki / "ca.crt") == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
        cert = _client_cert(tmp_path, pki, "bob", "system:masters")
        assert _whoami(port, pki / "ca.crt", cert) == {"username": "bob",
                                                       "groups": ["system:masters", "system:authenticated"]}
        assert _whoami(port, pki / "ca.crt", token="secret-token")["username"] == "alice"
    finally:
        server.stop()


def _foreign_ca(folder: Path) -> Path:
    """A CA the server was never told about, like any public CA in the system's trust store."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone-else-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder


def test_client_certificate_from_a_system_trusted_ca_is_refused(tmp_path: Path) -> None:
    # The foreign CA is made the process's system trust store: kube-apiserver trusts only
    # --client-ca-file for client certificates, never the public CAs every machine trusts.
    foreign = _foreign_ca(tmp_path / "foreign")
    server = ApiServer(tmp_path, "--secure-port", "0", env={"SSL_CERT_FILE": str(foreign / "ca.crt")}).start()
    try:
        pki = tmp_path / "data" / "pki"
        forged = _client_cert(tmp_path, foreign, "mallory", "system:masters")
        try:
            identity = _whoami(server.ports["https"], pki / "ca.crt", forged)
        except (ssl.SSLError, urllib.error.URLError, ConnectionError):
            identity = None
        assert identity is None, f"a certificate from an unknown CA was accepted as {identity}"
    finally:
        server.stop()


def test_unix_socket_is_private_and_serves(tmp_path: Path) -> None:
    sock = tmp_path / "apiserver.sock"
    server = ApiServer(tmp_path, "--port", "0", "--unix-socket", str(sock)).start()
    try:
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        out = subprocess.run(["curl", "-s", "--unix-socket", str(sock), "http://localhost/version"],
                             capture_output=True, text=True, timeout=10).stdout
        assert json.loads(out)["gitVersion"] == "v1.36.3"
    finally:
        server.stop()


def test_unix_socket_clients_get_the_identity_given_to_the_socket(tmp_path: Path) -> None:
    sock = tmp_path / "apiserver.sock"
    server = ApiServer(tmp_path, "--port", "0", "--unix-socket", str(sock), "--unix-socket-user", "kwok-admin",
                       "--unix-socket-group", "system:masters").start()
    review = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    try:
        out = subprocess.run(["curl", "-s", "--unix-socket", str(sock), "-XPOST", "-H", "Content-Type: application/json",
                              "-d", review, "http://localhost/apis/authentication.k8s.io/v1/selfsubjectreviews"],
                             capture_output=True, text=True, timeout=10).stdout
        assert json.loads(out)["status"]["userInfo"] == {"username": "kwok-admin",
                                                         "groups": ["system:masters", "system:authenticated"]}
        _code, body, _headers = server.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                               json.loads(review))
        assert body["status"]["userInfo"]["username"] == "system:anonymous"     # TCP without credentials
    finally:
        server.stop()


def test_metrics_count_requests_and_objects(apiserver: ApiServer) -> None:
    apiserver.request("GET", "/api/v1/namespaces/default/configmaps/absent")
    text = apiserver.request("GET", "/metrics")[1]
    assert 'apiserver_request_total{code="404",group="",resource="configmaps",subresource="",verb="GET",' \
           'version="v1"}' in text
    assert 'apiserver_storage_objects{resource="namespaces"} 4.0' in text


def _long_running(server: ApiServer) -> float:
    text = server.request("GET", "/metrics")[1]
    line = next(x for x in text.splitlines() if x.startswith('apiserver_longrunning_requests{verb="WATCH"}'))
    return float(line.split()[-1])


def test_watch_ends_when_client_disconnects_and_on_sigterm(tmp_path: Path) -> None:
    import http.client
    import time

    server = ApiServer(tmp_path).start()
    try:
        conns = []
        for _ in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", int(server.ports["http"]), timeout=10)
            conn.request("GET", f"{CM}?watch=true")
            assert conn.getresponse().status == 200
            conns.append(conn)
        assert _long_running(server) == 3
        conns.pop().close()
        deadline = time.monotonic() + 10
        while _long_running(server) != 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _long_running(server) == 2
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < 5
        for conn in conns:   # the open watches were ended cleanly by the shutdown
            resp = conn.sock.makefile("rb").read()
            assert resp.endswith(b"0\r\n\r\n")
    finally:
        server.stop()


def test_kubectl_over_tls_with_client_certificate(tmp_path: Path, kubectl_bin: str) -> None:
    server = ApiServer(tmp_path, "--secure-port", "0").start()
    try:
        pki = tmp_path / "data" / "pki"
        cert, key = _client_cert(tmp_path, pki, "bob", "system:masters")
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "k", "cluster": {"server": f"https://127.0.0.1:{server.ports['https']}",
                                                   "certificate-authority": str(pki / "ca.crt")}}],
            "users": [{"name": "k", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
            "contexts": [{"name": "k", "context": {"cluster": "k", "user": "k"}}], "current-context": "k"}))
        base = [kubectl_bin, f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}"]
        out = subprocess.run([*base, "get", "namespaces", "-o", "name"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert "namespace/kube-system" in out.stdout.split()
        who = subprocess.run([*base, "auth", "whoami", "-o", "json"], capture_output=True, text=True, timeout=30)
        assert who.returncode == 0, who.stderr
        assert json.loads(who.stdout)["status"]["userInfo"]["username"] == "bob"
    finally:
        server.stop()


def test_kube_apiserver_flags_are_accepted_and_the_log_names_those_without_effect(tmp_path: Path) -> None:
    """What KWOK users pass through --extra-args kube-apiserver=… must not stop the server."""
    server = ApiServer(tmp_path, "--max-requests-inflight=0", "--authorization-mode=Node,RBAC", "--profiling",
                       "--enable-priority-and-fairness=false", "--etcd-servers=http://127.0.0.1:2379",
                       "--default-not-ready-toleration-seconds=60").start()
    try:
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        code, body, _ = server.request("POST", "/api/v1/namespaces/default/pods", pod)
        assert code == 201
        assert [t["tolerationSeconds"] for t in body["spec"]["tolerations"]] == [60, 300]
        assert ("kube-apiserver flags without effect here: --authorization-mode=Node,RBAC "
                "--etcd-servers=http://127.0.0.1:2379 --max-requests-inflight=0 --profiling") in server.log.read_text()
    finally:
        server.stop()
    unknown = subprocess.run([command("kwok"), "apiserver", "--port", "0", "--no-such-flag=1"],
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "No such option '--no-such-flag'" in unknown.stderr


def test_service_ranges_from_kube_apiserver_flags(tmp_path: Path, kubectl_bin: str) -> None:
    server = ApiServer(tmp_path, "--service-cluster-ip-range=10.200.0.0/16",
                       "--service-node-port-range=31000-31010").start()
    try:
        _code, kubernetes, _ = server.request("GET", "/api/v1/namespaces/default/services/kubernetes")
        assert kubernetes["spec"]["clusterIP"] == "10.200.0.1"
        server.kubectl(kubectl_bin, "create", "service", "nodeport", "web", "--tcp=80:8080")
        _code, web, _ = server.request("GET", "/api/v1/namespaces/default/services/web")
        assert web["spec"]["clusterIP"].startswith("10.200.")
        assert 31000 <= web["spec"]["ports"][0]["nodePort"] <= 31010
        refused = server.kubectl(kubectl_bin, "create", "service", "nodeport", "low", "--tcp=80:8080",
                                 "--node-port=30000", check=False)
        assert "The range of valid ports is 31000-31010" in refused.stderr
    finally:
        server.stop()
    bad = subprocess.run([command("kwok"), "apiserver", "--port", "0", "--service-cluster-ip-range=10.0.0.1/16"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert 'Error: --service-cluster-ip-range "10.0.0.1/16": 10.0.0.1/16 has host bits set' in bad.stderr
