"""Engine throughput on one core: stage matches/s and template renders/s for pod-ready.

    python bench/engine_bench.py [--seconds 1.0]

Each figure is printed beside a baseline measured in the same run, so machine load shows in both:
* match: the default pod-ready stage (3 jq selectors) vs. the same three checks as bare dict
  lookups;
* render: the pod-ready status template (text only) vs. a bare Python str.format of the same
  document; reading the rendered YAML vs. a bare PyYAML C load of it; and the whole `plan`
  (render + YAML read + patch, what the controller calls).
Goals (issue): >= 20,000 matches/s and >= 5,000 renders/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import yaml

from kwok.engine import CELContext, StageSet, default_stages
from kwok.engine.templatefuncs import environment_funcs
from kwok.engine.yamlcodec import load_rendered

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d4b9c7f5-x2x7q",
        "namespace": "default",
        "uid": "3f2a4c1e-9f5b-4e2a-8d8e-2b1f0c9a7e11",
        "resourceVersion": "12345",
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "labels": {"app": "web", "pod-template-hash": "7d4b9c7f5"},
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c7f5", "uid": "u"}
        ],
    },
    "spec": {
        "nodeName": "kwok-node-0",
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            },
            {"name": "sidecar", "image": "busybox", "command": ["sleep", "infinity"]},
        ],
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
    },
    "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
}

FORMAT = """conditions:
- lastTransitionTime: "{now}"
  status: "True"
  type: Initialized
- lastTransitionTime: "{now}"
  status: "True"
  type: Ready
- lastTransitionTime: "{now}"
  status: "True"
  type: ContainersReady
containerStatuses:
{containers}
hostIP: "{host}"
podIP: "{ip}"
phase: Running
startTime: "{now}"
"""
CONTAINER = """- image: "{image}"
  name: "{name}"
  ready: true
  restartCount: 0
  state:
    running:
      startedAt: "{now}"
"""


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of `fn`, measured for about `seconds` after a warm-up."""
    for _ in range(50):
        fn()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            fn()
        calls += 100
    return calls / elapsed


def bare_match(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    ready = [c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return (
        "deletionTimestamp" not in pod["metadata"]
        and status.get("phase") == "Pending"
        and "True" not in ready
    )


def bare_format(pod: dict[str, Any]) -> str:
    now = "2026-01-01T00:00:00Z"
    containers = "".join(
        CONTAINER.format(image=c["image"], name=c["name"], now=now) for c in pod["spec"]["containers"]
    )
    return FORMAT.format(now=now, containers=containers, host="10.0.0.1", ip="10.0.0.2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    seconds = parser.parse_args().seconds

    stages = StageSet.load(default_stages(["fast"]))
    lifecycle = stages.for_resource("v1", "Pod")
    ctx = CELContext(now=NOW)
    (stage,) = [c.stage for c in lifecycle.match(POD, ctx)]
    assert stage.name == "pod-ready"
    funcs = dict(environment_funcs(NOW, NOW, "0.9.0"))
    funcs.update(NodeIPsWith=lambda node: ["10.0.0.1"], PodIPsWith=lambda *args: ["10.0.0.2"])
    template = stage.steps[0].patch.template  # type: ignore[union-attr]
    text = template.render(POD, funcs)

    rows = [
        (
            "stage match (pod-ready, all 3 pod stages tried)",
            rate(lambda: lifecycle.match(POD, ctx), seconds),
            "bare dict checks",
            rate(lambda: bare_match(POD), seconds),
        ),
        (
            "template render (text)",
            rate(lambda: template.render(POD, funcs), seconds),
            "bare str.format",
            rate(lambda: bare_format(POD), seconds),
        ),
        (
            "read the rendered YAML (block reader)",
            rate(lambda: load_rendered(text), seconds),
            "bare yaml.load (C) of the text",
            rate(lambda: yaml.load(text, Loader=yaml.CSafeLoader), seconds),
        ),
        (
            "plan = render + YAML read + patch",
            rate(lambda: stage.plan(POD, funcs, typed=True), seconds),
            "bare str.format",
            rate(lambda: bare_format(POD), seconds),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, ours, base_name, base in rows:
        print(f"{name:<{width}}  {ours:>10,.0f}/s   baseline {base_name}: {base:,.0f}/s")


if __name__ == "__main__":
    main()
