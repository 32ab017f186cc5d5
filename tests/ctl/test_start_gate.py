"""Components kwokctl starts with its API server check their flags at once, and start their
work only when the API server's socket appears (kwok.cli.kwok, KWOK_START_AFTER_SOCKET)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from kwok.ctl.components import START_AFTER_SOCKET_ENV
from tests.conftest import command


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, **{START_AFTER_SOCKET_ENV: str(tmp_path / "apiserver.sock")})
    return subprocess.Popen([command("kwok"), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_bad_flag_fails_without_waiting(tmp_path: Path) -> None:
    for args in (["--no-such-flag=1"], ["control-plane", "--no-such-flag=1"]):
        proc = start(tmp_path, *args)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 2 and "No such option" in err


def test_the_work_starts_once_the_socket_exists(tmp_path: Path) -> None:
    proc = start(tmp_path, "--kubeconfig=/nonexistent", "--manage-all-nodes=true")
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "started before the API server's socket existed"
        (tmp_path / "apiserver.sock").touch()
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    # Past the gate it runs as always: here it finds no Stages and says so.
    assert proc.returncode == 1 and "no stages found" in err


def test_the_api_server_serves_once_its_files_exist(tmp_path: Path) -> None:
    """kwokctl writes the PKI while the API server imports; it must not serve before."""
    from kwok.ctl.components import START_AFTER_FILES_ENV

    sock, cert = tmp_path / "api.sock", tmp_path / "admin.crt"
    env = dict(os.environ, **{START_AFTER_FILES_ENV: str(cert)})
    proc = subprocess.Popen([command("kwok"), "apiserver", f"--unix-socket={sock}", f"--data-dir={tmp_path}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3.0)   # it serves within ~0.5 s when nothing holds it back
        assert not sock.exists(), "served before its files were there"
        cert.write_text("written by kwokctl\n")
        deadline = time.monotonic() + 30
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sock.exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
