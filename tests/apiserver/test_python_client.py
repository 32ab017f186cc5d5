"""The official Python `kubernetes` client: list, watch resuming from a resourceVersion, CRUD."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


def _pod(name: str, labels: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def test_create_list_patch_delete(core: client.CoreV1Api) -> None:
    name = f"py-{uuid.uuid4().hex[:6]}"
    created = core.create_namespaced_pod("default", _pod(name, {"app": "py"}))
    assert created.metadata.uid and created.metadata.resource_version
    listed = core.list_namespaced_pod("default", label_selector="app=py")
    assert name in [p.metadata.name for p in listed.items]
    patched = core.patch_namespaced_pod(name, "default", {"metadata": {"labels": {"tier": "x"}}})
    assert patched.metadata.labels == {"app": "py", "tier": "x"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    deleted = core.delete_namespaced_pod(name, "default", grace_period_seconds=0)
    assert deleted.metadata.name == name            # pods answer DELETE with the Pod itself
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod(name, "default")
    assert err.value.status == 404


def test_pagination_with_continue(core: client.CoreV1Api) -> None:
    prefix = f"pg-{uuid.uuid4().hex[:4]}"
    for i in range(5):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"{prefix}-{i}", "labels": {"p": prefix}}})
    first = core.list_namespaced_config_map("default", limit=2, label_selector=f"p={prefix}")
    assert len(first.items) == 2 and first.metadata._continue
    names = [c.metadata.name for c in first.items]
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_config_map("default", limit=2, label_selector=f"p={prefix}", _continue=token)
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
    assert names == [f"{prefix}-{i}" for i in range(5)]


def test_watch_resumes_from_resource_version(core: client.CoreV1Api) -> None:
    name = f"wr-{uuid.uuid4().hex[:6]}"
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    core.patch_namespaced_config_map(name, "default", {"data": {"a": "1"}})
    core.delete_namespaced_config_map(name, "default")
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=2,
                          field_selector=f"metadata.name={name}"):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", name), ("MODIFIED", name), ("DELETED", name)]


def test_watch_delivers_live_events_and_times_out(core: client.CoreV1Api) -> None:
    name = f"wl-{uuid.uuid4().hex[:6]}"
    rv = core.list_namespaced_config_map("default").metadata.resource_version

    def later() -> None:
        time.sleep(0.5)
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"live": "y"}}})

    threading.Thread(target=later).start()
    started = time.monotonic()
    events = [e for e in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=rv,
                                              label_selector="live=y", timeout_seconds=2)]
    assert [e["type"] for e in events] == ["ADDED"]
    assert 1.5 < time.monotonic() - started < 6


def test_delete_collection_by_label(core: client.CoreV1Api) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(3):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"dc-{tag}-{i}", "labels": {"dc": tag}}})
    core.create_namespaced_config_map("default", {"metadata": {"name": f"dc-{tag}-keep"}})
    core.delete_collection_namespaced_config_map("default", label_selector=f"dc={tag}")
    left = [c.metadata.name for c in core.list_namespaced_config_map("default").items if tag in c.metadata.name]
    assert left == [f"dc-{tag}-keep"]
