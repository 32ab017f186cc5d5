"""The README is a contract: its first two commands and its quick start run as written."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def code_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_first_two_commands_install_and_test() -> None:
    first = code_blocks()[0].strip().splitlines()
    assert first[0] == "pip install . && kwokctl create cluster"
    ci = (ROOT / ".ci" / "run").read_text()
    assert first[1] in ci.splitlines(), ".ci/run must run the README's test command verbatim"


def test_quick_start_runs_as_written(tmp_path: Path) -> None:
    script = next(b for b in code_blocks() if "kwokctl scale node" in b)
    env = dict(os.environ)
    env.update(KWOK_WORKDIR=str(tmp_path / "kwok"), KUBECONFIG=str(tmp_path / "kubeconfig"),
               KUBECACHEDIR=str(tmp_path / "cache"))
    env["PATH"] = f"{Path(os.sys.executable).parent}:{env['PATH']}"   # this venv's kwokctl and kubectl 1.37
    proc = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True,
                          timeout=600)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert 'deployment "fake-pod" successfully rolled out' in proc.stdout
        rows = [r for r in proc.stdout.splitlines() if r.startswith("fake-pod-")]
        assert rows and all("Running" in r for r in rows)
    finally:
        subprocess.run(["kwokctl", "delete", "cluster"], env=env, capture_output=True, timeout=60)
