"""REST verbs over the real HTTP path (Unix socket, TCP, TLS with client certificates)."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest

from kwok.client import ApiError, Client, ClientConfig
from kwok.ctl.pki import PKIPaths, write_pki
from tests.client.conftest import run, serve
from tests.client.fakeapi import FakeAPI


def test_crud_over_unix_socket(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            pods = client.resource("v1", "pods")
            created = await pods.create({"metadata": {"name": "p1", "namespace": "ns"}, "spec": {}})
            assert created["metadata"]["resourceVersion"]
            patched = await pods.patch("p1", {"status": {"phase": "Running"}}, namespace="ns", subresource="status")
            assert patched["status"]["phase"] == "Running"
            assert (await pods.get("p1", namespace="ns"))["status"] == {"phase": "Running"}
            listed = await pods.list(namespace="ns")
            assert [i["metadata"]["name"] for i in listed["items"]] == ["p1"]
            await pods.delete("p1", namespace="ns", grace_period_seconds=0)
            with pytest.raises(ApiError) as err:
                await pods.get("p1", namespace="ns")
            assert err.value.is_not_found and err.value.reason == "NotFound" and not err.value.is_retryable
        methods = [(m, p) for m, p, _ in api.requests]
        assert ("PATCH", "/api/v1/namespaces/ns/pods/p1/status") in methods
        assert ("DELETE", "/api/v1/namespaces/ns/pods/p1") in methods

    run(scenario())


def test_errors_carry_the_servers_status(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            nodes = client.resource("v1", "nodes")
            await nodes.create({"metadata": {"name": "n"}})
            with pytest.raises(ApiError) as err:
                await nodes.create({"metadata": {"name": "n"}})
            assert err.value.is_already_exists and not err.value.is_conflict
            assert err.value.message == 'nodes "n" already exists'
            with pytest.raises(ApiError) as err:  # the fake only takes merge patches
                await nodes.patch("n", [{"op": "add", "path": "/x", "value": 1}], patch_type="json")
            assert err.value.status == 415 and err.value.reason == "UnsupportedMediaType"
            with pytest.raises(ValueError, match="unknown patch type"):
                await nodes.patch("n", {}, patch_type="yaml")

    run(scenario())


def test_429_is_retried_after_the_servers_delay_and_503_without_one_is_not(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        api.fail = [(429, {"Retry-After": "1"})]
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            nodes = client.resource("v1", "nodes")
            started = time.monotonic()
            await nodes.create({"metadata": {"name": "n"}})
            assert time.monotonic() - started >= 1.0
            api.fail = [(503, {})]
            with pytest.raises(ApiError) as err:
                await nodes.get("n")
            assert err.value.status == 503 and err.value.is_retryable

    run(scenario())


def test_unreachable_server_is_a_retryable_connection_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Client(ClientConfig(server=f"unix://{tmp_path}/none.sock")) as client:
            with pytest.raises(ApiError) as err:
                await client.resource("v1", "nodes").list(limit=1)
            assert err.value.status == 0 and err.value.reason == "ConnectionError" and err.value.is_retryable

    run(scenario())


def test_bearer_token_from_kubeconfig_over_tcp(tmp_path: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI(token="s3cret")
        async with serve(api) as url:
            kubeconfig = tmp_path / "config"
            kubeconfig.write_text(KUBECONFIG.format(server=url, user="token: s3cret"))
            async with Client(ClientConfig.load(kubeconfig=str(kubeconfig))) as client:
                assert (await client.resource("v1", "nodes").list())["items"] == []
        assert api.requests[0][2]["Authorization"] == "Bearer s3cret"

    run(scenario())


def test_client_certificate_over_tls(tmp_path: Path) -> None:
    pki = PKIPaths(tmp_path / "pki")
    write_pki(pki)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_crt))
    tls.load_cert_chain(str(pki.admin_crt), str(pki.admin_key))
    tls.verify_mode = ssl.CERT_REQUIRED  # a client without our certificate cannot connect at all

    async def scenario() -> None:
        api = FakeAPI()
        async with serve(api, tls=tls) as url:
            user = f"client-certificate: {pki.admin_crt}\n    client-key: {pki.admin_key}"
            kubeconfig = tmp_path / "config"
            kubeconfig.write_text(
                KUBECONFIG.format(server=url, user=user).replace(
                    "server:", f"certificate-authority: {pki.ca_crt}\n    server:"
                )
            )
            async with Client(ClientConfig.load(kubeconfig=str(kubeconfig))) as client:
                await client.resource("v1", "nodes").create({"metadata": {"name": "tls"}})
            async with Client(ClientConfig(server=url, ca_file=str(pki.ca_crt))) as anonymous:
                with pytest.raises(ApiError) as err:
                    await anonymous.resource("v1", "nodes").list()
                assert err.value.status == 0
        assert ("nodes", "", "tls") in api.objects

    run(scenario())


KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: c
  cluster:
    server: {server}
users:
- name: u
  user:
    {user}
contexts:
- name: ctx
  context: {{cluster: c, user: u}}
"""


def test_an_expired_exec_token_is_refreshed_once_on_401(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(
        f"#!/bin/sh\necho x >> {counter}\nn=$(wc -l < {counter})\n"
        'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        '"status":{"token":"tok-\'$n\'"}}\'\n'
    )
    plugin.chmod(0o755)

    async def scenario() -> None:
        api = FakeAPI(token="tok-2")  # the first token the plugin hands out is already stale
        async with serve(api) as url:
            user = f"exec: {{apiVersion: client.authentication.k8s.io/v1, command: {plugin}, interactiveMode: Never}}"
            kubeconfig = tmp_path / "config"
            kubeconfig.write_text(KUBECONFIG.format(server=url, user=user))
            async with Client(ClientConfig.load(kubeconfig=str(kubeconfig))) as client:
                assert (await client.resource("v1", "nodes").list())["items"] == []
                api.token = "tok-9"  # revoked for good: one refresh, then the 401 reaches the caller
                with pytest.raises(ApiError) as err:
                    await client.resource("v1", "nodes").list()
                assert err.value.status == 401
        assert counter.read_text().count("x") == 3

    run(scenario())


def test_in_cluster_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a pod: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA."""
    from kwok.client import _config

    pki = PKIPaths(tmp_path / "pki")
    write_pki(pki)
    token = tmp_path / "token"
    token.write_text("sa-token-1\n")
    monkeypatch.setattr(_config, "IN_CLUSTER_TOKEN", str(token))
    monkeypatch.setattr(_config, "IN_CLUSTER_CA", str(pki.ca_crt))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(pki.admin_crt), str(pki.admin_key))

    async def scenario() -> None:
        api = FakeAPI(token="sa-token-1")
        async with serve(api, tls=tls) as url:
            monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            monkeypatch.setenv("KUBERNETES_SERVICE_PORT", url.rsplit(":", 1)[1])
            cfg = ClientConfig.load()
            assert cfg.server == url and cfg.source == "in-cluster"
            async with Client(cfg) as client:
                await client.resource("v1", "nodes").create({"metadata": {"name": "from-a-pod"}})
            token.write_text("sa-token-2")  # the kubelet rotated it
            api.token = "sa-token-2"
            async with Client(cfg) as client:
                await client.resource("v1", "nodes").get("from-a-pod")

    run(scenario())


def test_a_patch_whose_result_is_not_wanted_is_not_decoded_but_still_fails_loudly(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            nodes = client.resource("v1", "nodes")
            await nodes.create({"metadata": {"name": "n"}})
            assert await nodes.patch("n", {"metadata": {"labels": {"a": "b"}}}, decode=False) == {}
            assert (await nodes.get("n"))["metadata"]["labels"] == {"a": "b"}
            with pytest.raises(ApiError) as err:
                await nodes.patch("missing", {"metadata": {"labels": {"a": "b"}}}, decode=False)
            assert err.value.is_not_found

    run(scenario())
