"""kwokctl figures (issue: create <= 1.0 s, delete <= 0.5 s, idle RSS <= 150 MB, and KWOK's own
benchmark: 5,000 nodes Ready <= 10 s, 10,000 pods Running <= 15 s, back to 0 <= 10 s).

Idle create/RSS/delete cycles run --repeat times (the machine is shared: medians, with the load
average), with the package's bytecode cached as after `pip install`, and, where this environment
sets PYTHONDONTWRITEBYTECODE, also as it leaves things (every process compiles the sources).

Each figure is printed beside a baseline measured in the same run on the same machine:
- create/delete/RSS: a bare aiohttp "hello" server process (start until it answers; SIGTERM until
  gone; its RSS), i.e. the floor any Python component pays;
- scale: creating the same number of ConfigMaps through the same client (the API server's raw
  write throughput, with no simulation behind it).

Usage: python bench/kwokctl_bench.py [--nodes 5000] [--pods 10000] [--repeat 3] [--scale-repeat 3] [--skip-scale]
Progress is watched with `kubectl get --watch --no-headers` as KWOK's benchmark does. This machine's
single-thread speed drifts by ±20 % from minute to minute (a fixed loop takes 0.69-0.99 s), so
KWOK's benchmark runs --scale-repeat times, each on a fresh cluster, and reports the median with
the range.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
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
    """Seconds until `count` distinct rows of `kubectl get --watch` contain `word` (KWOK's method).
    The watching kubectl's CPU is added to WATCH_CPU."""
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
        WATCH_CPU.append(wait_cpu(proc))
    return time.monotonic() - t0


WATCH_CPU: list[float] = []


def component_cpu(env: dict[str, str], name: str) -> dict[str, float]:
    """CPU seconds used so far by each component of cluster `name`."""
    pids = Path(env["KWOK_WORKDIR"]) / "clusters" / name / "pids"
    return {p.stem: cpu_seconds(int(p.read_text())) for p in sorted(pids.glob("*.pid"))}


def cpu_line(before: dict[str, float], after: dict[str, float], **others: float) -> str:
    """Where the CPU of one phase went: each component's seconds, then the clients'."""
    used = {k: after[k] - before.get(k, 0.0) for k in after}
    used.update(others)
    return f"{'':<6}CPU (s): " + ", ".join(f"{k} {v:.1f}" for k, v in used.items())


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


def bytecode_env(env: dict[str, str], tmp: Path) -> dict[str, str]:
    """As after `pip install`: compiled bytecode is there to load. This environment may set
    PYTHONDONTWRITEBYTECODE (a source checkout kept free of __pycache__), which makes every
    process compile the package's sources at each start; a private cache prefix, warmed by one
    create/delete, stands in for the bytecode an installed package carries."""
    cached = dict(env, PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    run(cached, "--name", "warm", "create", "cluster")
    run(cached, "--name", "warm", "delete", "cluster")
    return cached


def lifecycle(env: dict[str, str], name: str) -> tuple[float, dict[str, float], float, float]:
    """(create s, idle RSS MB per component, delete s, CPU s on the way to the API) of one idle
    cluster. The CPU figure (kwokctl's own plus the API server's until create returned) does not
    depend on how busy the shared machine is, the wall-clock times do."""
    t0 = time.monotonic()
    proc = subprocess.Popen([KWOKCTL, "--name", name, "create", "cluster"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kwokctl_cpu = wait_cpu(proc)
    create = time.monotonic() - t0
    pids = Path(env["KWOK_WORKDIR"]) / "clusters" / name / "pids"
    api_cpu = cpu_seconds(int((pids / "kube-apiserver.pid").read_text()))
    time.sleep(3.0)
    rss = {p.stem: rss_mb(int(p.read_text())) for p in sorted(pids.glob("*.pid"))}
    delete = run(env, "--name", name, "delete", "cluster")
    return create, rss, delete, kwokctl_cpu + api_cpu


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report_lifecycles(label: str, env: dict[str, str], repeat: int, base: tuple[float, float, float]) -> None:
    runs = [lifecycle(env, f"life{i}") for i in range(repeat)]
    creates = sorted(r[0] for r in runs)
    deletes = sorted(r[2] for r in runs)
    totals = sorted(sum(r[1].values()) for r in runs)
    last = runs[-1][1]
    print(f"-- {label}: median (min..max) of {repeat}, load average {load()}")
    print(f"{'create cluster, API ready (s)':<44}{spread(creates):>24}{base[0]:>10.2f}   <= 1.0")
    print(f"{'  CPU on the way: kwokctl + API server (s)':<44}{spread(sorted(r[3] for r in runs)):>24}")
    print(f"{'idle RSS, all components (MB)':<44}{spread(totals, '.0f'):>24}{base[2]:>10.1f}   <= 150")
    print(f"{'':<6}" + ", ".join(f"{k} {v:.0f}" for k, v in last.items()))
    print(f"{'delete idle cluster (s)':<44}{spread(deletes):>24}{base[1]:>10.2f}   <= 0.5")


def spread(values: list[float], fmt: str = ".2f") -> str:
    return f"{values[len(values) // 2]:{fmt}} ({values[0]:{fmt}}..{values[-1]:{fmt}})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3, help="idle create/RSS/delete cycles per condition")
    ap.add_argument("--scale-repeat", type=int, default=3, help="runs of KWOK's benchmark, each on a fresh cluster")
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kwokctl-bench-"))
    try:
        measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args: argparse.Namespace, tmp: Path) -> None:
    env = dict(os.environ, KWOK_WORKDIR=str(tmp / "kwok"), KUBECONFIG=str(tmp / "kubeconfig"),
               KUBECACHEDIR=str(tmp / "cache"))
    base = baseline_server()
    print(f"load average at start {load()} ({os.cpu_count()} cores)")
    print(f"{'figure':<44}{'kwokctl':>24}{'baseline':>10}   goal")
    cached = bytecode_env(env, tmp)
    report_lifecycles("bytecode cached, as installed by pip", cached, args.repeat, base)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        report_lifecycles("PYTHONDONTWRITEBYTECODE: sources compiled at every start", env, args.repeat, base)
    if args.skip_scale:
        return
    runs = []
    for i in range(args.scale_repeat):
        create = run(cached, "--name", "bench", "create", "cluster")
        print(f"-- KWOK's benchmark, run {i + 1} (bytecode cached; cluster created in {create:.2f} s), "
              f"load average {load()}", flush=True)
        try:
            runs.append(scale_figures(cached, args.nodes, args.pods))
        finally:
            delete = run(cached, "--name", "bench", "delete", "cluster")
        print(f"{'delete cluster after the benchmark (s)':<44}{delete:>24.2f}{base[1]:>10.2f}   <= 0.5", flush=True)
    print(f"-- KWOK's benchmark: median (min..max) of {len(runs)}")
    labels = (f"{args.nodes} nodes Ready (s)", f"{args.pods} pods Running (s)", f"{args.pods} pods deleted (s)",
              f"{args.nodes} ConfigMaps created (baseline, s)")
    for i, (label, goal) in enumerate(zip(labels, ("<= 10", "<= 15", "<= 10", ""), strict=True)):
        print(f"{label:<44}{spread(sorted(r[i] for r in runs)):>24}{'':>10}   {goal}")
    print(f"load average at end {load()}")


def scale_figures(env: dict[str, str], nodes: int, pods: int) -> tuple[float, float, float, float]:
    """(nodes Ready s, pods Running s, pods deleted s, ConfigMaps baseline s) of one run."""
    base = configmaps_baseline(env, "bench", nodes)
    cpu0 = component_cpu(env, "bench")
    t0 = time.monotonic()
    scaler = subprocess.Popen([KWOKCTL, "--name", "bench", "scale", "node", "fake-node", "--replicas", str(nodes)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch_until(env, "nodes", "Ready", nodes, 300)
    ready = time.monotonic() - t0
    cpu = wait_cpu(scaler)
    print(f"{f'{nodes} nodes Ready (s)':<44}{ready:>24.2f}{base:>10.2f}   <= 10  (baseline: as many ConfigMaps)")
    print(f"{'':<6}kwokctl scale node: {cpu:.2f} s CPU, {1000 * cpu / nodes:.2f} ms per node")
    cpu1 = component_cpu(env, "bench")
    print(cpu_line(cpu0, cpu1, kubectl_watch=WATCH_CPU[-1]))
    t0 = time.monotonic()
    scaler = subprocess.Popen([KWOKCTL, "--name", "bench", "scale", "pod", "fake-pod", "--replicas", str(pods),
                               "--param", '.nodeName="fake-node-000000"'],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch_until(env, "pods", "Running", pods, 600)
    running = time.monotonic() - t0
    cpu = wait_cpu(scaler)
    print(f"{f'{pods} pods Running (s)':<44}{running:>24.2f}{'':>10}   <= 15")
    print(f"{'':<6}kwokctl scale pod: {cpu:.2f} s CPU, {1000 * cpu / pods:.2f} ms per pod")
    cpu2 = component_cpu(env, "bench")
    print(cpu_line(cpu1, cpu2, kubectl_watch=WATCH_CPU[-1]))
    t0 = time.monotonic()
    scaler = subprocess.Popen([KWOKCTL, "--name", "bench", "scale", "pod", "fake-pod", "--replicas", "0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = wait_cpu(scaler)
    if scaler.returncode:
        raise SystemExit(f"kwokctl scale pod --replicas 0 failed ({scaler.returncode})")
    until_empty(env, "pods", 600)
    gone = time.monotonic() - t0
    print(f"{f'{pods} pods deleted (s)':<44}{gone:>24.2f}{'':>10}   <= 10")
    print(cpu_line(cpu2, component_cpu(env, "bench"), kwokctl_scale=cpu), flush=True)
    return ready, running, gone, base


def wait_cpu(proc: subprocess.Popen[bytes]) -> float:
    """Wait for `proc`; the user+system CPU seconds it used."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
