"""The scheduler against a real API server: N pending pods onto M nodes, bound through pods/binding.

    python bench/controlplane_scheduler_live.py --nodes 5000 --pods 10000

Creates the nodes and the pending pods first (no kwok, no controllers), then starts
`kwok scheduler` and times until every pod has a node. This isolates the scheduler's own
throughput (cache, algorithm, binding round trips) from the rest of the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from kwok.client import Client, ClientConfig

sys.path.insert(0, str(Path(__file__).parent))
from controlplane_deployment import fake_node, gather_bounded, start, stop  # noqa: E402

PY = sys.executable


def pending_pod(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"pod-{i}", "namespace": "default",
                                                            "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                     "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}}


async def prepare(url: str, nodes: int, pods: int) -> None:
    async with Client(ClientConfig.load(master=url)) as client:
        await gather_bounded([client.resource("v1", "nodes").create(fake_node(i)) for i in range(nodes)])
        await gather_bounded([client.resource("v1", "pods").create(pending_pod(i), "default") for i in range(pods)])


async def wait_bound(url: str, pods: int, timeout: float) -> int:
    async with Client(ClientConfig.load(master=url)) as client:
        deadline = time.monotonic() + timeout
        bound = 0
        while time.monotonic() < deadline:
            items = (await client.resource("v1", "pods").list("default")).get("items") or []
            bound = sum(1 for p in items if (p.get("spec") or {}).get("nodeName"))
            if bound >= pods:
                break
            await asyncio.sleep(0.25)
        return bound


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kwok-sched-bench-"))
    ready = work / "ready"
    procs = [start([PY, "-m", "kwok.cli.apiserver", "--port", "0", "--no-generate-certs", "--ready-file", str(ready)],
                   work / "apiserver.log")]
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and ready.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        url = "http://127.0.0.1:" + dict(kv.split("=") for kv in ready.read_text().split())["http"]
        started = time.perf_counter()
        asyncio.run(prepare(url, args.nodes, args.pods))
        print(f"created {args.nodes} nodes and {args.pods} pending pods in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        procs.append(start([str(Path(PY).parent / "kwok"), "scheduler", f"--master={url}", "--port=0"],
                           work / "scheduler.log"))
        bound = asyncio.run(wait_bound(url, args.pods, args.timeout))
        elapsed = time.perf_counter() - started
        print(f"{bound}/{args.pods} pods bound in {elapsed:.1f}s (including scheduler start-up and cache sync): "
              f"{bound / elapsed:.0f} pods/s")
    finally:
        for proc in reversed(procs):
            stop(proc)
        print(f"logs in {work}")


if __name__ == "__main__":
    main()
