"""Paginated lists (limit/continue) read one snapshot: the state as of the first page's resourceVersion."""

from __future__ import annotations

import uuid

from kubernetes import client

from tests.apiserver.harness import ApiServer

CM = "/api/v1/namespaces/default/configmaps"


def _make(server: ApiServer, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}-{i}" for i in range(count)]
    for name in names:
        code, body, _ = server.request("POST", CM, {"metadata": {"name": name, "labels": {"p": prefix}},
                                                    "data": {"v": "before"}})
        assert code == 201, body
    return names


def _page(server: ApiServer, query: str) -> dict:
    code, body, _ = server.request("GET", f"{CM}?{query}")
    assert code == 200, body
    return body


def test_continue_pages_show_the_first_pages_state(apiserver: ApiServer) -> None:
    prefix = f"snap-{uuid.uuid4().hex[:5]}"
    names = _make(apiserver, prefix, 5)
    first = _page(apiserver, f"labelSelector=p%3D{prefix}&limit=2")
    rv = first["metadata"]["resourceVersion"]
    assert [c["metadata"]["name"] for c in first["items"]] == names[:2]
    # writes between the pages: the rest of the list must not see them
    assert apiserver.request("DELETE", f"{CM}/{names[3]}")[0] == 200
    assert apiserver.request("PATCH", f"{CM}/{names[2]}", {"data": {"v": "after"}},
                             "application/merge-patch+json")[0] == 200
    code, late, _ = apiserver.request("POST", CM, {"metadata": {"name": f"{prefix}-9", "labels": {"p": prefix}}})
    assert code == 201, late

    second = _page(apiserver, f"labelSelector=p%3D{prefix}&limit=2&continue={first['metadata']['continue']}")
    assert second["metadata"]["resourceVersion"] == rv
    assert [(c["metadata"]["name"], c["data"]["v"]) for c in second["items"]] == [
        (names[2], "before"), (names[3], "before")]
    third = _page(apiserver, f"labelSelector=p%3D{prefix}&limit=2&continue={second['metadata']['continue']}")
    assert [c["metadata"]["name"] for c in third["items"]] == [names[4]]
    assert third["metadata"]["resourceVersion"] == rv and not third["metadata"].get("continue")

    now = _page(apiserver, f"labelSelector=p%3D{prefix}")
    assert [c["metadata"]["name"] for c in now["items"]] == [names[0], names[1], names[2], names[4], f"{prefix}-9"]
    assert int(now["metadata"]["resourceVersion"]) > int(rv)


def test_remaining_item_count_counts_the_snapshot(apiserver: ApiServer) -> None:
    ns = f"rem-{uuid.uuid4().hex[:5]}"
    assert apiserver.request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    for i in range(4):
        assert apiserver.request("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"c{i}"}})[0] == 201
    code, first, _ = apiserver.request("GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1")
    assert code == 200 and first["metadata"]["remainingItemCount"] == 3
    assert apiserver.request("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c9"}})[0] == 201
    code, second, _ = apiserver.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1&continue={first['metadata']['continue']}")
    assert code == 200 and second["metadata"]["remainingItemCount"] == 2


def test_kubectl_chunk_size_pages_through_every_item(apiserver: ApiServer, kubectl_bin: str) -> None:
    prefix = f"chunk-{uuid.uuid4().hex[:5]}"
    names = _make(apiserver, prefix, 7)
    result = apiserver.kubectl(kubectl_bin, "get", "configmaps", "-l", f"p={prefix}", "--chunk-size=3",
                               "-o", "name", "-v=6")
    assert result.stdout.split() == [f"configmap/{n}" for n in names]
    requests = [line for line in result.stderr.splitlines() if "/configmaps?" in line and "limit=3" in line]
    assert len(requests) == 3 and sum("continue=" in line for line in requests) == 2
    table = apiserver.kubectl(kubectl_bin, "get", "configmaps", "-l", f"p={prefix}", "--chunk-size=2").stdout
    assert [row.split()[0] for row in table.splitlines()[1:]] == names


def test_python_client_pages_read_one_snapshot(apiserver: ApiServer, core: client.CoreV1Api) -> None:
    prefix = f"py-{uuid.uuid4().hex[:5]}"
    names = _make(apiserver, prefix, 4)
    first = core.list_namespaced_config_map("default", limit=2, label_selector=f"p={prefix}")
    core.delete_namespaced_config_map(names[3], "default")
    rest = core.list_namespaced_config_map("default", limit=2, label_selector=f"p={prefix}",
                                           _continue=first.metadata._continue)
    assert [c.metadata.name for c in first.items + rest.items] == names
    assert rest.metadata.resource_version == first.metadata.resource_version
    assert rest.metadata._continue is None


def test_a_big_list_arrives_whole_and_in_order(apiserver: ApiServer, core: client.CoreV1Api) -> None:
    """Lists of 256 items and more are written to the socket item by item (no joined body)."""
    ns = f"big-{uuid.uuid4().hex[:5]}"
    assert apiserver.request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    names = [f"cm-{i:04d}" for i in range(600)]
    for name in names:
        code, body, _ = apiserver.request("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                          {"metadata": {"name": name}, "data": {"n": name * 20}})
        assert code == 201, body
    code, listed, headers = apiserver.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert code == 200 and listed["kind"] == "ConfigMapList"
    assert [c["metadata"]["name"] for c in listed["items"]] == names
    assert all(c["data"]["n"] == c["metadata"]["name"] * 20 for c in listed["items"])
    assert int(headers["Content-Length"]) > 600 * 200
    code, page, _ = apiserver.request("GET", f"/api/v1/namespaces/{ns}/configmaps?limit=400")
    assert [c["metadata"]["name"] for c in page["items"]] == names[:400] and page["metadata"]["continue"]
    # the official client keeps its connection: the requests after a big list are still understood
    for _ in range(2):
        assert [c.metadata.name for c in core.list_namespaced_config_map(ns).items] == names
        assert core.read_namespaced_config_map(names[7], ns).data == {"n": names[7] * 20}
