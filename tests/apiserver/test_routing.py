"""URL parsing as RequestInfoFactory does it, including the proxy subresource's tail."""

from __future__ import annotations

from kwok.apiserver.routing import Target, parse


def test_resource_urls() -> None:
    assert parse("/api/v1/namespaces/ns/pods/p/status") == Target("", "v1", "pods", "ns", "p", "status")
    assert parse("/apis/apps/v1/deployments") == Target("apps", "v1", "deployments")
    assert parse("/api/v1/namespaces/ns") == Target("", "v1", "namespaces", None, "ns")
    assert parse("/api/v1/namespaces/ns/pods/p/status/extra") is None
    assert parse("/healthz") is None


def test_proxy_keeps_the_path_after_it() -> None:
    assert parse("/api/v1/nodes/n1/proxy/metrics/resource") == Target("", "v1", "nodes", None, "n1", "proxy",
                                                                      proxy_path="metrics/resource")
    assert parse("/api/v1/namespaces/proxy/pods/web:8080/proxy/a/b/") == Target(
        "", "v1", "pods", "proxy", "web:8080", "proxy", proxy_path="a/b/")
    assert parse("/api/v1/nodes/n1/proxy") == Target("", "v1", "nodes", None, "n1", "proxy")
