"""Benchmark of the embedded API server against a bare aiohttp ceiling (a script, not a test).

Each figure is printed beside the same measurement against a trivial aiohttp server that returns
the same bytes, measured in the same run, so the ratio says how much of the ceiling the request
flow keeps (goal: >= 50%). Servers run as separate processes; the load comes from this one.

Writes are measured too: pods created, then pods created and given a Running status by a
strategic-merge PATCH of /status (what the kwok controller does to each pod), with the server's CPU
time per write read from /proc (user + system, the SQLite writer thread included). Compare those
figures only between runs at a similar load average: the machine is shared.

    python bench/apiserver_bench.py [--seconds 3] [--pods 10000] [--pairs 5000] [--watches 1000]
    python bench/apiserver_bench.py --writes-only      # the write figures alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "", "namespace": "default",
                                                        "labels": {"app": "bench", "tier": "web"}},
       "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9",
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                "nodeName": "node-1", "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists",
                                                       "effect": "NoSchedule"}]}}

BARE = r'''
import asyncio, sys
from aiohttp import web
import uvloop
one = open(sys.argv[2], "rb").read()
listing = open(sys.argv[3], "rb").read()
event = open(sys.argv[4], "rb").read()
streams = []
async def get(request): return web.Response(body=one, content_type="application/json")
async def lst(request): return web.Response(body=listing, content_type="application/json")
async def watch(request):
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    done = asyncio.Event(); streams.append((resp, done))
    await done.wait()
    return resp
async def fire(request):
    n = int(request.query["n"])
    for _ in range(n):
        for resp, _done in list(streams):
            await resp.write(event)
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/one", get); app.router.add_get("/list", lst)
app.router.add_get("/watch", watch); app.router.add_post("/fire", fire)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url + "/healthz") as resp:
                    if resp.status in (200, 404):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def rate(url: str, seconds: float, concurrency: int = 32) -> float:
    """Requests per second of GET url with `concurrency` keep-alive clients."""
    count = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                async with session.get(url) as resp:
                    await resp.read()
                count += 1
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


async def timed_get(url: str, repeat: int = 3) -> float:
    best = float("inf")
    async with aiohttp.ClientSession(read_bufsize=1 << 20) as session:
        for _ in range(repeat):
            start = time.perf_counter()
            async with session.get(url, headers={"Accept": "application/json"}) as resp:
                await resp.read()
            best = min(best, time.perf_counter() - start)
    return best


async def create_pods(url: str, count: int, concurrency: int = 64, prefix: str = "p") -> float:
    """Pods created per second."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    names = iter(range(count))
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            for i in names:
                body = json.loads(json.dumps(POD))
                body["metadata"]["name"] = f"{prefix}-{i}"
                async with session.post(f"{url}/api/v1/namespaces/default/pods", json=body) as resp:
                    if resp.status != 201:
                        raise RuntimeError(await resp.text())
                    await resp.read()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


async def watch_fanout(open_url: str, fire: object, watchers: int, events: int) -> float:
    """Deliveries per second: `events` events to each of `watchers` open watches."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        ready = 0
        done = asyncio.Event()
        finished = 0

        async def watch() -> None:
            nonlocal ready, finished
            async with session.get(open_url) as resp:
                ready += 1
                seen = 0
                async for line in resp.content:
                    if line.strip():
                        if not line.startswith(b'{"type":"MODIFIED"'):
                            raise RuntimeError(f"watch got {line[:200]!r}, not the MODIFIED events fired")
                        seen += 1
                        if seen >= events:
                            break
            if seen < events:
                raise RuntimeError(f"a watch ended after {seen} of {events} events")
            finished += 1
            if finished == watchers:
                done.set()

        tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
        while ready < watchers:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        start = time.perf_counter()
        await fire(session)  # type: ignore[operator]
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - start
        for t in tasks:
            t.cancel()
        return watchers * events / elapsed


STATUS = {"status": {"phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.244.0.{i}",
                     "podIPs": [{"ip": "10.244.0.{i}"}], "startTime": "2026-01-01T00:00:00Z",
                     "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
                                    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                     "containerStatuses": [{"name": "c", "image": "registry.k8s.io/pause:3.9", "ready": True,
                                            "restartCount": 0, "started": True, "imageID": "", "containerID": "",
                                            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def create_and_patch_pods(url: str, count: int, concurrency: int = 64, prefix: str = "w") -> float:
    """Pods per second, each created and then given a Running status by a strategic-merge PATCH of
    its status subresource under the field manager `kwok`, as the kwok controller does."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    names = iter(range(count))
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            for i in names:
                body = json.loads(json.dumps(POD))
                body["metadata"]["name"] = f"{prefix}-{i}"
                async with session.post(f"{url}/api/v1/namespaces/default/pods", json=body) as resp:
                    if resp.status != 201:
                        raise RuntimeError(await resp.text())
                    await resp.read()
                status = json.dumps(STATUS).replace("{i}", str(i % 250))
                async with session.patch(f"{url}/api/v1/namespaces/default/pods/{prefix}-{i}/status?fieldManager=kwok",
                                         data=status, headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(await resp.text())
                    await resp.read()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


def start(args: list[str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def print_writes(writes: float, create_cpu: float, pair_rate: float, pair_cpu: float) -> None:
    print(f"{'create pods, durable (writes/s)':<36}{writes:>16.0f}")
    print(f"{'create + status PATCH (pods/s)':<36}{pair_rate:>16.0f}")
    print(f"server CPU: {create_cpu * 1000:.2f} ms per pod create; {pair_cpu * 1000:.2f} ms per pod create + "
          f"status PATCH; load average {os.getloadavg()[0]:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=5000, help="pods created and then status-patched")
    parser.add_argument("--writes-only", action="store_true", help="measure the write figures only")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kwok-bench-"))
    port = free_port()
    server = start([sys.executable, "-m", "kwok.cli.apiserver", "--port", str(port), "--data-dir", str(tmp / "data")])
    url = f"http://127.0.0.1:{port}"
    bare = None
    try:
        await wait_up(url)
        await asyncio.sleep(1.0)
        idle = rss_mb(server.pid)
        cpu = cpu_seconds(server.pid)
        writes = await create_pods(url, opts.pods)
        create_cpu = (cpu_seconds(server.pid) - cpu) / opts.pods
        stored = rss_mb(server.pid)
        cpu = cpu_seconds(server.pid)
        pair_rate = await create_and_patch_pods(url, opts.pairs) if opts.pairs else 0.0
        pair_cpu = (cpu_seconds(server.pid) - cpu) / max(opts.pairs, 1)
        print_writes(writes, create_cpu, pair_rate, pair_cpu)
        if opts.writes_only:
            return
        one_url = f"{url}/api/v1/namespaces/default/pods/p-1"
        async with aiohttp.ClientSession() as s, s.get(one_url) as r:
            one = await r.read()
        async with aiohttp.ClientSession(read_bufsize=1 << 20) as s, s.get(f"{url}/api/v1/pods") as r:
            listing = await r.read()
        (tmp / "one").write_bytes(one)
        (tmp / "list").write_bytes(listing)
        (tmp / "event").write_bytes(b'{"type":"MODIFIED","object":' + one + b"}\n")
        bare_port = free_port()
        bare = start([sys.executable, "-c", BARE, str(bare_port), str(tmp / "one"), str(tmp / "list"),
                      str(tmp / "event")])
        bare_url = f"http://127.0.0.1:{bare_port}"
        await wait_up(bare_url)
        get_ours, get_bare = await rate(one_url, opts.seconds), await rate(f"{bare_url}/one", opts.seconds)
        list_ours, list_bare = await timed_get(f"{url}/api/v1/pods"), await timed_get(f"{bare_url}/list")

        async def fire_ours(session: aiohttp.ClientSession) -> None:
            # all writes in flight at once, as many controllers writing do: group commit batches them
            async def patch(i: int) -> None:
                body = {"metadata": {"labels": {"round": str(i)}}}
                async with session.patch(one_url, json=body,
                                         headers={"Content-Type": "application/merge-patch+json"}) as resp:
                    await resp.read()

            await asyncio.gather(*(patch(i) for i in range(opts.events)))

        async def fire_bare(session: aiohttp.ClientSession) -> None:
            async with session.post(f"{bare_url}/fire?n={opts.events}") as resp:
                await resp.read()

        watch_path = "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dp-1&resourceVersion="
        # the watches start from now: p-1's own resourceVersion may have left the retained window
        async with aiohttp.ClientSession() as s, s.get(f"{url}/api/v1/namespaces/default/pods?limit=1") as r:
            rv = json.loads(await r.read())["metadata"]["resourceVersion"]
        watch_ours = await watch_fanout(f"{url}{watch_path}{rv}", fire_ours, opts.watches, opts.events)
        watch_bare = await watch_fanout(f"{bare_url}/watch", fire_bare, opts.watches, opts.events)
        loaded = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if bare is not None:
            bare.kill()   # its open watch streams would hold a graceful stop
            bare.wait(timeout=10)
    print(f"{'measure':<36}{'kwok apiserver':>16}{'bare aiohttp':>16}{'ratio':>8}")
    print(f"{'GET one pod (req/s)':<36}{get_ours:>16.0f}{get_bare:>16.0f}{get_ours / get_bare:>8.0%}")
    print(f"{'LIST ' + str(opts.pods + opts.pairs) + ' pods (s)':<36}{list_ours:>16.3f}{list_bare:>16.3f}"
          f"{list_bare / list_ours:>8.0%}")
    print(f"{'watch deliveries to ' + str(opts.watches) + ' (ev/s)':<36}{watch_ours:>16.0f}{watch_bare:>16.0f}"
          f"{watch_ours / watch_bare:>8.0%}")
    print(f"RSS: idle {idle:.1f} MB; {stored:.1f} MB with {opts.pods} pods stored; {loaded:.1f} MB after the "
          f"{opts.watches} watches and lists")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
