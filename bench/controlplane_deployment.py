"""End to end: a Deployment of N replicas on M fake nodes, Running, then scaled to 0.

    python bench/controlplane_deployment.py --nodes 5000 --replicas 10000

Runs the real processes on this machine: `kwok apiserver`, `kwok control-plane` (scheduler and
controllers) and `kwok` (fake kubelets with the default fast stages), creates the nodes, then
times (1) Deployment created -> all replicas Running and the Deployment available, and
(2) scaled to 0 -> no pods left. The target is <= 15 s and <= 10 s for 10,000 on 5,000.

`--lease 0` (the default) runs kwok as standalone KWOK does: no node leases, node heartbeats every
20-25 s by the node-heartbeat stage (≈220 status PATCHes/s at 5,000 nodes, beside the workload).
`--lease 200` runs it as `kwokctl create cluster` does (leases of 40 s x heartbeatFactor 5, renewed
every 50 s, and the with-lease heartbeat stage every 10 minutes).

After each phase it prints the API requests the cluster made in it (from the API server's
apiserver_request_total) and the CPU seconds each process used: on a shared machine these say
more than the wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kwok.client import Client, ClientConfig
from kwok.engine.stagesets import default_stages

PY = sys.executable


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)  # noqa: SIM115


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def fake_node(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i}",
            "labels": {"type": "kwok", "kubernetes.io/hostname": f"node-{i}"},
            "annotations": {"kwok.x-k8s.io/node": "fake"},
        },
        "spec": {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]},
        "status": {
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
        },
    }


def deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {
                "metadata": {"labels": {"app": "bench"}},
                "spec": {
                    "containers": [{"name": "c", "image": "busybox"}],
                    "tolerations": [
                        {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
                    ],
                },
            },
        },
    }


async def gather_bounded(coros: list, limit: int = 64) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(c):  # noqa: ANN001, ANN202
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


async def count_pods(pods, phase: str | None = None) -> int:  # noqa: ANN001
    if phase is None:
        # Only the benchmark's pods live in "default": a page of one and remainingItemCount count
        # them without the API server encoding 10,000 pods twice a second (which would slow the
        # very thing measured).
        page = await pods.list("default", limit=1)
        return len(page.get("items") or []) + int((page.get("metadata") or {}).get("remainingItemCount") or 0)
    items = (await pods.list("default", label_selector="app=bench")).get("items") or []
    return sum(
        1
        for p in items
        if (p.get("status") or {}).get("phase") == phase and not p["metadata"].get("deletionTimestamp")
    )


_SAMPLE = re.compile(r'^apiserver_request_total\{(.*)\} ([0-9.e+]+)$')


async def request_counts(url: str) -> collections.Counter[str]:
    """apiserver_request_total by `verb resource[/subresource]`."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    counts: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            what = labels.get("resource", "") + (f"/{labels['subresource']}" if labels.get("subresource") else "")
            counts[f"{labels.get('verb')} {what}"] += int(float(match.group(2)))
    return counts


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            out[name] = float("nan")
    return out


class Phase:
    """Prints the requests and CPU seconds of one phase."""

    def __init__(self, url: str, pids: dict[str, int]) -> None:
        self.url, self.pids = url, pids

    async def __aenter__(self) -> Phase:
        self.requests, self.cpu = await request_counts(self.url), cpu_seconds(self.pids)
        return self

    async def __aexit__(self, *exc: object) -> None:
        requests = await request_counts(self.url)
        requests.subtract(self.requests)
        cpu = cpu_seconds(self.pids)
        busy = ", ".join(f"{name} {cpu[name] - self.cpu[name]:.1f}s" for name in self.pids)
        print(f"  cpu: {busy}; load average {os.getloadavg()[0]:.1f}", flush=True)
        top = ", ".join(f"{what} {n}" for what, n in requests.most_common(12) if n > 0)
        print(f"  requests ({sum(n for n in requests.values() if n > 0)}): {top}", flush=True)


async def run(url: str, nodes: int, replicas: int, timeout: float, pids: dict[str, int]) -> None:
    async with Client(ClientConfig.load(master=url)) as client:
        node_api = client.resource("v1", "nodes")
        started = time.perf_counter()
        await gather_bounded([node_api.create(fake_node(i)) for i in range(nodes)])
        print(f"created {nodes} nodes in {time.perf_counter() - started:.1f}s", flush=True)
        deployments, pods = client.resource("apps/v1", "deployments"), client.resource("v1", "pods")
        waited = time.perf_counter()
        while time.perf_counter() - waited < timeout:  # kwok initializes the nodes (Ready) first
            items = (await node_api.list()).get("items") or []
            if sum(1 for n in items if any(c.get("type") == "Ready" and c.get("status") == "True"
                                           for c in (n.get("status") or {}).get("conditions") or ())) >= nodes:
                break
            await asyncio.sleep(1)
        print(f"nodes Ready after {time.perf_counter() - started:.1f}s", flush=True)
        async with Phase(url, pids):
            started = time.perf_counter()
            await deployments.create(deployment(replicas), "default")
            while time.perf_counter() - started < timeout:
                d = await deployments.get("bench", "default")
                if (d.get("status") or {}).get("availableReplicas") == replicas:
                    break
                await asyncio.sleep(0.5)
            up = time.perf_counter() - started
            running = await count_pods(pods, "Running")
            print(
                f"{replicas} replicas on {nodes} nodes: {running} Running, deployment available in {up:.1f}s",
                flush=True,
            )
        async with Phase(url, pids):
            started = time.perf_counter()
            await deployments.patch("bench", {"spec": {"replicas": 0}}, namespace="default")
            while time.perf_counter() - started < timeout:
                if await count_pods(pods) == 0:
                    break
                await asyncio.sleep(0.5)
            print(
                f"scaled to 0: {await count_pods(pods)} pods left after {time.perf_counter() - started:.1f}s",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--replicas", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--lease", type=int, default=0, help="kwok's --node-lease-duration-seconds (0: off, "
                        "as standalone KWOK; 200: as kwokctl)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kwok-bench-"))
    ready = work / "ready"
    (work / "kwok.yaml").write_text(yaml.safe_dump_all(default_stages(["fast"], lease=args.lease > 0)))
    procs = [
        start(
            [
                PY,
                "-m",
                "kwok.cli.apiserver",
                "--port",
                "0",
                "--no-generate-certs",
                "--ready-file",
                str(ready),
            ],
            work / "apiserver.log",
        )
    ]
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and ready.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        url = "http://127.0.0.1:" + dict(kv.split("=") for kv in ready.read_text().split())["http"]
        kwok_bin = str(Path(PY).parent / "kwok")
        procs.append(
            start([kwok_bin, "control-plane", f"--master={url}", "--port=0"], work / "control-plane.log")
        )
        procs.append(
            start(
                [
                    kwok_bin,
                    f"--master={url}",
                    "--manage-all-nodes",
                    "--cidr=10.0.0.0/8",
                    f"--config={work / 'kwok.yaml'}",
                    f"--node-lease-duration-seconds={args.lease}",
                ],
                work / "kwok.log",
            )
        )
        pids = dict(zip(("apiserver", "control-plane", "kwok"), (p.pid for p in procs), strict=True))
        asyncio.run(run(url, args.nodes, args.replicas, args.timeout, pids))
    finally:
        for proc in reversed(procs):
            stop(proc)
        print(f"logs in {work}")


if __name__ == "__main__":
    main()
