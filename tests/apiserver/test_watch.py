"""Watch semantics over raw HTTP: replay, compaction, bookmarks, initial events, selectors, Tables."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver.harness import ApiServer, stream_lines

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture(scope="module")
def small_window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A server that keeps only 5 events of history, so compaction is easy to reach."""
    server = ApiServer(tmp_path_factory.mktemp("window"), "--watch-cache-window", "5").start()
    yield server
    server.stop()


def _cm(server: ApiServer, name: str, labels: dict[str, str] | None = None) -> dict:
    code, body, _ = server.request("POST", CM, {"metadata": {"name": name, "labels": labels or {}}})
    assert code == 201, body
    return body


def test_too_old_resource_version_is_a_410_error_event(small_window: ApiServer) -> None:
    first = _cm(small_window, f"old-{uuid.uuid4().hex[:5]}")
    for i in range(8):
        _cm(small_window, f"fill-{uuid.uuid4().hex[:5]}-{i}")
    rv = first["metadata"]["resourceVersion"]
    events = stream_lines(small_window, f"{CM}?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {rv} (")


def test_expired_continue_token_is_410(small_window: ApiServer) -> None:
    for i in range(3):
        _cm(small_window, f"page-{uuid.uuid4().hex[:5]}-{i}")
    code, first, _ = small_window.request("GET", f"{CM}?limit=1")
    assert code == 200 and first["metadata"]["continue"]
    for i in range(8):
        _cm(small_window, f"more-{uuid.uuid4().hex[:5]}-{i}")
    code, body, _ = small_window.request("GET", f"{CM}?limit=1&continue={first['metadata']['continue']}")
    assert code == 410 and body["reason"] == "Expired"


def test_synthetic_added_then_live_events(apiserver: ApiServer) -> None:
    label = uuid.uuid4().hex[:6]
    _cm(apiserver, f"pre-{label}", {"w": label})

    def later() -> None:
        time.sleep(0.3)
        _cm(apiserver, f"post-{label}", {"w": label})

    threading.Thread(target=later).start()
    events = stream_lines(apiserver, f"{CM}?watch=true&labelSelector=w%3D{label}&timeoutSeconds=3", until=2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", f"pre-{label}"), ("ADDED", f"post-{label}")]


def test_selector_transitions_become_added_and_deleted(apiserver: ApiServer) -> None:
    name = f"tr-{uuid.uuid4().hex[:6]}"
    created = _cm(apiserver, name, {"sel": "no"})
    path = f"{CM}/{name}"
    apiserver.request("PATCH", path, {"metadata": {"labels": {"sel": "yes"}}}, "application/merge-patch+json")
    apiserver.request("PATCH", path, {"data": {"a": "1"}}, "application/merge-patch+json")
    apiserver.request("PATCH", path, {"metadata": {"labels": {"sel": "no"}}}, "application/merge-patch+json")
    rv = created["metadata"]["resourceVersion"]
    events = stream_lines(apiserver, f"{CM}?watch=true&resourceVersion={rv}&labelSelector=sel%3Dyes"
                                     f"&fieldSelector=metadata.name%3D{name}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_send_initial_events_ends_with_annotated_bookmark(apiserver: ApiServer) -> None:
    name = f"ie-{uuid.uuid4().hex[:6]}"
    _cm(apiserver, name)
    events = stream_lines(apiserver, f"{CM}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
                                     f"&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3D{name}"
                                     "&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["object"]
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert bookmark["kind"] == "ConfigMap"


def test_table_watch_rows(apiserver: ApiServer) -> None:
    name = f"tw-{uuid.uuid4().hex[:6]}"
    _cm(apiserver, name)
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    events = stream_lines(apiserver, f"{CM}?watch=true&fieldSelector=metadata.name%3D{name}&timeoutSeconds=1",
                          headers={"Accept": accept})
    table = events[0]["object"]
    assert table["kind"] == "Table" and table["rows"][0]["cells"][0] == name
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["columnDefinitions"][0]["name"] == "Name"


def test_table_watch_sends_column_definitions_once(apiserver: ApiServer) -> None:
    name = f"tw-{uuid.uuid4().hex[:6]}"
    before = int(_cm(apiserver, name)["metadata"]["resourceVersion"]) - 1
    apiserver.request("PATCH", f"{CM}/{name}", {"data": {"a": "1"}}, "application/merge-patch+json")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    events = stream_lines(apiserver, f"{CM}?watch=true&resourceVersion={before}&fieldSelector=metadata.name%3D"
                                     f"{name}&timeoutSeconds=1", headers={"Accept": accept})
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    first, later = (e["object"] for e in events)
    assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert later["columnDefinitions"] is None and later["rows"][0]["cells"][:2] == [name, 1]


def test_legacy_watch_path(apiserver: ApiServer) -> None:
    name = f"lw-{uuid.uuid4().hex[:6]}"
    _cm(apiserver, name)
    events = stream_lines(apiserver, f"/api/v1/watch/namespaces/default/configmaps?fieldSelector=metadata.name%3D"
                                     f"{name}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED"]


def test_unsupported_field_selector_is_rejected(apiserver: ApiServer) -> None:
    code, body, _ = apiserver.request("GET", f"{CM}?fieldSelector=spec.foo%3Dx")
    assert code == 400 and body["reason"] == "BadRequest"
    assert body["message"] == 'field label not supported: spec.foo'


_ = Path
