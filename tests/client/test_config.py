"""Choosing the server and credentials the way kubectl/client-go users expect."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kwok.client import ClientConfig, ConfigError
from tests.client.conftest import run
from tests.client.test_rest import KUBECONFIG

TWO_CONTEXTS = """
apiVersion: v1
kind: Config
current-context: a
clusters:
- {name: ca, cluster: {server: "unix:///tmp/a.sock"}}
- {name: cb, cluster: {server: "http://127.0.0.1:1234/"}}
users:
- {name: u, user: {}}
contexts:
- {name: a, context: {cluster: ca, user: u}}
- {name: b, context: {cluster: cb, user: u}}
"""


def write(tmp_path: Path, text: str, name: str = "config") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_current_context_and_explicit_context(tmp_path: Path) -> None:
    path = write(tmp_path, TWO_CONTEXTS)
    cfg = ClientConfig.load(kubeconfig=path)
    assert cfg.server == "unix:///tmp/a.sock" and cfg.unix_socket == "/tmp/a.sock"
    assert ClientConfig.load(kubeconfig=path, context="b").server == "http://127.0.0.1:1234"


def test_master_overrides_the_kubeconfig_server(tmp_path: Path) -> None:
    cfg = ClientConfig.load(kubeconfig=write(tmp_path, TWO_CONTEXTS), master="http://10.0.0.1:8080")
    assert cfg.server == "http://10.0.0.1:8080"


def test_master_works_with_a_kubeconfig_that_has_no_current_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `kwokctl delete cluster` leaves when it removed the only context.
    empty = write(tmp_path, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: ''\n")
    monkeypatch.setenv("KUBECONFIG", empty)
    assert ClientConfig.load(master="http://127.0.0.1:8080").server == "http://127.0.0.1:8080"
    with pytest.raises(ConfigError, match="no current-context"):
        ClientConfig.load()


def test_kubeconfig_env_lists_several_files_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path, TWO_CONTEXTS.replace("current-context: a", "current-context: b"), "one")
    second = write(tmp_path, TWO_CONTEXTS.replace("/tmp/a.sock", "/tmp/other.sock"), "two")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), first, second]))
    assert ClientConfig.load().server == "http://127.0.0.1:1234"


def test_unknown_context_and_missing_config_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match='context "nope" does not exist'):
        ClientConfig.load(kubeconfig=write(tmp_path, TWO_CONTEXTS), context="nope")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        ClientConfig.load()
    assert ClientConfig.load(master="unix:///x.sock").server == "unix:///x.sock"


def test_exec_plugin_token_is_used_and_rerun_on_refresh(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(
        "#!/bin/sh\necho x >> " + str(counter) + "\n"
        'n=$(wc -l < ' + str(counter) + ')\n'
        'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        '"status":{"token":"tok-\'$n\'"}}\'\n'
    )
    plugin.chmod(0o755)
    user = f"exec: {{apiVersion: client.authentication.k8s.io/v1, command: {plugin}, interactiveMode: Never}}"
    cfg = ClientConfig.load(kubeconfig=write(tmp_path, KUBECONFIG.format(server="http://127.0.0.1:1", user=user)))

    async def scenario() -> tuple[str | None, str | None, str | None]:
        first = (await cfg.credentials()).authorization
        cached = (await cfg.credentials()).authorization
        refreshed = (await cfg.credentials(refresh=True)).authorization
        return first, cached, refreshed

    assert run(scenario()) == ("Bearer tok-1", "Bearer tok-1", "Bearer tok-2")
