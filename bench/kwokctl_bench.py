"""kwokctl figures (issue: create <= 1.0 s, delete <= 0.5 s, idle RSS <= 150 MB, and KWOK's own
benchmark: 5,000 nodes Ready <= 10 s, 10,000 pods Running <= 15 s, back to 0 <= 10 s).

Each figure is printed beside a baseline measured in the same run on the same machine:
- create/delete/RSS: a bare aiohttp "hello" server process (start until it answers; SIGTERM until
  gone; its RSS), i.e. the floor any Python component pays;
- scale: creating the same number of ConfigMaps through the same client (the API server's raw
  write throughput, with no simulation behind it).

Usage: python bench/kwokctl_bench.py [--nodes 5000] [--pods 10000] [--skip-scale]
Progress is watched with `kubectl get --watch --no-headers` as KWOK's benchmark does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BIN = Path(sys.executable).parent
KWOKCTL = str(BIN / "kwokctl")
KUBECTL = str(BIN / "kubectl")


def rss_mb(pid: int) -> float:
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1])
    return total / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def baseline_server() -> tuple[float, float, float]:
    """(start-to-ready s, stop s, RSS MB) of a bare aiohttp server process."""
    port = free_port()
    code = textwrap.dedent(f"""
        from aiohttp import web
        async def ok(request): return web.Response(text="ok")
        app = web.Application(); app.router.add_get("/healthz", ok)
        web.run_app(app, host="127.0.0.1", port={port}, print=None)
    """)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code])
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                if b"200" in s.recv(100):
                    break
        except OSError:
            time.sleep(0.005)
    start = time.monotonic() - t0
    time.sleep(1.0)
    rss = rss_mb(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    return start, time.monotonic() - t0, rss


def run(env: dict[str, str], *args: str) -> float:
    t0 = time.monotonic()
    subprocess.run([KWOKCTL, *args], env=env, check=True, capture_output=True)
    return time.monotonic() - t0


def cluster_rss(env: dict[str, str], name: str) -> float:
    pids = Path(env["KWOK_WORKDIR"]) / "clusters" / name / "pids"
    return sum(rss_mb(int(p.read_text())) for p in pids.glob("*.pid"))


def watch_until(env: dict[str, str], kind: str, word: str, count: int, timeout: float) -> float:
    """Seconds until `count` distinct rows of `kubectl get --watch` contain `word` (KWOK's method)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([KUBECTL, f"--cache-dir={env['KUBECACHEDIR']}", "get", kind, "--watch",
                             "--no-headers", "--chunk-size=0"], env=env, stdout=subprocess.PIPE, text=True)
    seen: set[str] = set()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if word in line:
                seen.add(line.split()[0])
                if len(seen) >= count:
                    break
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"timeout: {len(seen)}/{count} {kind} {word}")
    finally:
        proc.kill()
    return time.monotonic() - t0


def until_empty(env: dict[str, str], kind: str, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        out = subprocess.run([KUBECTL, f"--cache-dir={env['KUBECACHEDIR']}", "get", kind, "--no-headers",
                              "-o", "name"], env=env, capture_output=True, text=True).stdout
        if not out.strip():
            return time.monotonic() - t0
        time.sleep(0.5)
    raise SystemExit(f"timeout waiting for {kind} to be gone")


def configmaps_baseline(env: dict[str, str], name: str, n: int) -> float:
    from kwok.client import Client, ClientConfig

    kubeconfig = Path(env["KWOK_WORKDIR"]) / "clusters" / name / "kubeconfig"

    async def go() -> float:
        async with Client(ClientConfig.load(kubeconfig=str(kubeconfig))) as client:
            api = client.resource("v1", "configmaps")
            sem = asyncio.Semaphore(64)

            async def one(i: int) -> None:
                async with sem:
                    await api.create({"metadata": {"name": f"cm-{i}"}, "data": {"k": "v"}}, namespace="default")

            t0 = time.monotonic()
            await asyncio.gather(*(one(i) for i in range(n)))
            return time.monotonic() - t0

    return asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kwokctl-bench-"))
    env = dict(os.environ, KWOK_WORKDIR=str(tmp / "kwok"), KUBECONFIG=str(tmp / "kubeconfig"),
               KUBECACHEDIR=str(tmp / "cache"))
    b_start, b_stop, b_rss = baseline_server()
    print(f"{'figure':<44}{'kwokctl':>12}{'baseline':>12}   goal")
    create = run(env, "--name", "bench", "create", "cluster")
    print(f"{'create cluster, API ready (s)':<44}{create:>12.2f}{b_start:>12.2f}   <= 1.0")
    time.sleep(3.0)
    rss = cluster_rss(env, "bench")
    print(f"{'idle RSS, all components (MB)':<44}{rss:>12.1f}{b_rss:>12.1f}   <= 150")
    try:
        if not args.skip_scale:
            base = configmaps_baseline(env, "bench", args.nodes)
            t0 = time.monotonic()
            subprocess.Popen([KWOKCTL, "--name", "bench", "scale", "node", "fake-node", "--replicas", str(args.nodes)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            watch_until(env, "nodes", "Ready", args.nodes, 300)
            nodes = time.monotonic() - t0
            print(f"{f'{args.nodes} nodes Ready (s)':<44}{nodes:>12.2f}{base:>12.2f}   <= 10  (baseline: same number of ConfigMaps created)")
            t0 = time.monotonic()
            subprocess.Popen([KWOKCTL, "--name", "bench", "scale", "pod", "fake-pod", "--replicas", str(args.pods),
                              "--param", '.nodeName="fake-node-000000"'],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            watch_until(env, "pods", "Running", args.pods, 600)
            pods = time.monotonic() - t0
            print(f"{f'{args.pods} pods Running (s)':<44}{pods:>12.2f}{'':>12}   <= 15")
            t0 = time.monotonic()
            subprocess.run([KWOKCTL, "--name", "bench", "scale", "pod", "fake-pod", "--replicas", "0"], env=env,
                           check=True, capture_output=True)
            until_empty(env, "pods", 600)
            gone = time.monotonic() - t0
            print(f"{f'{args.pods} pods deleted (s)':<44}{gone:>12.2f}{'':>12}   <= 10")
    finally:
        delete = run(env, "--name", "bench", "delete", "cluster")
        print(f"{'delete cluster (s)':<44}{delete:>12.2f}{b_stop:>12.2f}   <= 0.5")


if __name__ == "__main__":
    main()
