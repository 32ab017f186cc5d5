"""Admission webhooks against the API server application in-process and a real HTTPS webhook.

The webhook (webhook_server.py) answers by path: /deny refuses objects named `bad`, /label adds a
label, /slow never answers in time, /count reports what it saw in a label, /warn allows with a
warning. Each test builds a fresh server, creates its configurations and then writes through HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kwok.apiserver.admission import webhook_client
from kwok.apiserver.app import Server, build_app
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.registry import admission_chain
from kwok.apiserver.storage import Store
from tests.apiserver.admission.webhook_server import WebhookServer, json_patch

Obj = dict[str, Any]
ADM = "/apis/admissionregistration.k8s.io/v1"
CM = "/api/v1/namespaces/default/configmaps"
CONFIGMAPS = [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
               "resources": ["configmaps"]}]


def _respond(path: str, review: Obj) -> Obj | None:
    request = review["request"]
    obj = request["object"] or request["oldObject"]
    name = obj["metadata"]["name"]
    if path == "/deny" and name == "bad":
        return {"allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": "bad is not a good name"}}
    if path == "/label":
        labels = dict(obj["metadata"].get("labels") or {}, mutated="by-webhook")
        return {"allowed": True, **json_patch({"op": "add", "path": "/metadata/labels", "value": labels})}
    if path == "/second":
        labels = dict(obj["metadata"].get("labels") or {}, second="yes")
        return {"allowed": True, **json_patch({"op": "add", "path": "/metadata/labels", "value": labels})}
    if path == "/slow":
        return None
    if path == "/warn":
        return {"allowed": True, "warnings": [f"{name} looks odd"]}
    if path.startswith("/callback/"):
        # as many webhooks do: read from the API server while admitting a request to it
        with urllib.request.urlopen(f"http://127.0.0.1:{path.split('/')[2]}/api/v1/namespaces/default",
                                    timeout=5) as resp:
            return {"allowed": resp.status == 200, "status": {"message": "no default namespace"}}
    return {"allowed": True}


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with WebhookServer(tmp_path_factory.mktemp("webhook"), _respond) as server:
        yield server


Scenario = Callable[[TestClient[Any, Any]], Awaitable[Any]]


def run(scenario: Scenario) -> Any:
    async def main() -> Any:
        client = TestClient(TestServer(build_app(Server(Store(), Catalog.builtin(), admission_chain()))))
        await client.start_server()
        try:
            for name, labels in (("default", {}), ("team-a", {"team": "a"})):
                await client.post("/api/v1/namespaces", json={"metadata": {"name": name, "labels": labels}})
            return await scenario(client)
        finally:
            await client.close()
            await webhook_client.close()

    return asyncio.run(main())


def webhook(hook: WebhookServer, path: str, name: str = "check.example.com", **fields: Any) -> Obj:
    spec: Obj = {"name": name, "rules": CONFIGMAPS, "sideEffects": "None", "admissionReviewVersions": ["v1"],
                 "clientConfig": {"url": hook.url(path), "caBundle": hook.ca_bundle}}
    spec.update(fields)
    return spec


async def configure(client: TestClient[Any, Any], kind: str, name: str, *hooks: Obj) -> None:
    resp = await client.post(f"{ADM}/{kind}", json={"metadata": {"name": name}, "webhooks": list(hooks)})
    assert resp.status == 201, await resp.text()


async def create_cm(client: TestClient[Any, Any], name: str, path: str = CM, **extra: Any) -> tuple[int, Obj, Any]:
    resp = await client.post(path, json={"metadata": {"name": name, **extra}})
    return resp.status, await resp.json(), resp.headers.getall("Warning", [])


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_denial_answers_with_the_webhooks_status(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "deny", webhook(hook, "/deny"))
        return await create_cm(client, "bad"), await create_cm(client, "good")

    (code, status, _), (ok, created, _) = run(scenario)
    assert code == 403
    assert status["message"] == 'admission webhook "check.example.com" denied the request: bad is not a good name'
    assert status["reason"] == "Forbidden"
    assert ok == 201 and created["metadata"]["name"] == "good"


def test_the_review_describes_the_request(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "v", webhook(hook, "/review-me"))
        await create_cm(client, "seen")

    before = len(hook.reviews)
    run(scenario)
    review = hook.reviews[before]
    request = review["request"]
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    assert request["operation"] == "CREATE" and request["namespace"] == "default" and request["name"] == "seen"
    assert request["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert request["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
    assert request["object"]["kind"] == "ConfigMap" and request["oldObject"] is None
    assert request["options"]["kind"] == "CreateOptions"
    assert request["userInfo"]["username"] == "system:anonymous"


def test_a_mutating_webhook_patches_the_stored_object(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "mutatingwebhookconfigurations", "m", webhook(hook, "/label"))
        await create_cm(client, "patched")
        resp = await client.get(f"{CM}/patched")
        return await resp.json()

    assert run(scenario)["metadata"]["labels"] == {"mutated": "by-webhook"}


def test_if_needed_webhooks_see_what_later_webhooks_changed(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "mutatingwebhookconfigurations", "a",
                        webhook(hook, "/label", "first.example.com", reinvocationPolicy="IfNeeded"))
        await configure(client, "mutatingwebhookconfigurations", "b", webhook(hook, "/second", "second.example.com"))
        await create_cm(client, "twice")
        return (await (await client.get(f"{CM}/twice")).json())

    before = len(hook.reviews)
    stored = run(scenario)
    assert stored["metadata"]["labels"] == {"mutated": "by-webhook", "second": "yes"}
    # first, second, then first again: it saw the label the second webhook added
    paths = [r["request"]["object"]["metadata"].get("labels") for r in hook.reviews[before:]]
    assert paths == [None, {"mutated": "by-webhook"}, {"mutated": "by-webhook", "second": "yes"}]


def test_a_dead_webhook_fails_closed_or_is_ignored(hook: WebhookServer) -> None:
    dead = f"https://127.0.0.1:{dead_port()}/"

    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "ignored",
                        webhook(hook, "/", "ignore.example.com", failurePolicy="Ignore",
                                clientConfig={"url": dead, "caBundle": hook.ca_bundle}))
        ignored = await create_cm(client, "through")
        await configure(client, "validatingwebhookconfigurations", "failing",
                        webhook(hook, "/", "fail.example.com", failurePolicy="Fail",
                                clientConfig={"url": dead, "caBundle": hook.ca_bundle}))
        return ignored, await create_cm(client, "blocked")

    (ok, _, _), (code, status, _) = run(scenario)
    assert ok == 201
    assert code == 500 and status["reason"] == "InternalError"
    assert status["message"] == (f'Internal error occurred: failed calling webhook "fail.example.com": '
                                 f'failed to call webhook: Post "{dead}?timeout=10s": '
                                 f'dial tcp 127.0.0.1:{dead.split(":")[2].rstrip("/")}: connect: connection refused')


def test_a_slow_webhook_times_out_without_holding_other_requests(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "slow",
                        webhook(hook, "/slow", "slow.example.com", timeoutSeconds=1))
        slow = asyncio.ensure_future(create_cm(client, "waits"))
        await asyncio.sleep(0.2)
        started = asyncio.get_running_loop().time()
        other = await client.get("/api/v1/namespaces/default")        # not held by the webhook call
        served_in = asyncio.get_running_loop().time() - started
        return await slow, other.status, served_in

    (code, status, _), other, served_in = run(scenario)
    assert other == 200 and served_in < 0.5
    assert code == 500
    assert status["message"].endswith('?timeout=1s": context deadline exceeded')


def test_an_untrusted_certificate_is_a_call_failure(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "tls",
                        webhook(hook, "/", "tls.example.com", clientConfig={"url": hook.url("/")}))
        return await create_cm(client, "x")

    code, status, _ = run(scenario)
    assert code == 500
    assert "tls: failed to verify certificate: x509: certificate signed by unknown authority" in status["message"]


def test_a_bad_ca_bundle_is_a_call_failure_not_a_server_error(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "ca",
                        webhook(hook, "/", "ca.example.com",
                                clientConfig={"url": hook.url("/"), "caBundle": "bm90IGEgY2VydA=="}))
        return await create_cm(client, "x")

    code, status, _ = run(scenario)
    assert code == 500
    assert status["message"] == ('Internal error occurred: failed calling webhook "ca.example.com": could not get '
                                 "REST client: unable to load root certificates: unable to parse bytes as PEM block")


def test_selectors_and_match_conditions_pick_the_requests(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "sel",
                        webhook(hook, "/deny", "team.example.com", namespaceSelector={"matchLabels": {"team": "a"}}),
                        webhook(hook, "/deny", "labelled.example.com", objectSelector={"matchLabels": {"check": "yes"}}),
                        webhook(hook, "/deny", "cel.example.com",
                                matchConditions=[{"name": "annotated", "expression":
                                                  "has(object.metadata.annotations) && "
                                                  "'check' in object.metadata.annotations"}]))
        return [(await create_cm(client, "bad", path))[1].get("message", "created") for path, extra in (
            (CM, {}), ("/api/v1/namespaces/team-a/configmaps", {}))] + [
            (await create_cm(client, "bad", CM, labels={"check": "yes"}))[1].get("message"),
            (await create_cm(client, "bad", CM, annotations={"check": "1"}))[1].get("message")]

    plain, team, labelled, annotated = run(scenario)
    assert plain == "created"
    assert '"team.example.com" denied' in team
    assert '"labelled.example.com" denied' in labelled
    assert '"cel.example.com" denied' in annotated


def test_warnings_reach_the_client_and_a_config_change_takes_effect_at_once(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "w", webhook(hook, "/warn"))
        first = await create_cm(client, "one")
        await client.delete(f"{ADM}/validatingwebhookconfigurations/w")
        return first, await create_cm(client, "two")

    (ok, _, warnings), (ok2, _, none) = run(scenario)
    assert ok == ok2 == 201
    assert warnings == ['299 - "one looks odd"'] and none == []


def test_dry_run_skips_nothing_but_refuses_webhooks_with_side_effects(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "se",
                        webhook(hook, "/", "effects.example.com", sideEffects="Some"))
        return await create_cm(client, "x", f"{CM}?dryRun=All")

    code, status, _ = run(scenario)
    assert code == 400
    assert status["message"] == 'admission webhook "effects.example.com" does not support dry run'


def test_v1beta1_reviews_for_webhooks_that_ask_only_for_it(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "old",
                        webhook(hook, "/deny", admissionReviewVersions=["v1beta1"]))
        return await create_cm(client, "bad")

    before = len(hook.reviews)
    code, _, _ = run(scenario)
    assert code == 403
    assert hook.reviews[before]["apiVersion"] == "admission.k8s.io/v1beta1"


def test_a_service_reference_reaches_the_endpoint_of_its_endpointslice(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await client.post("/api/v1/namespaces/default/services", json={
            "metadata": {"name": "hook"}, "spec": {"ports": [{"name": "https", "port": 443,
                                                              "targetPort": hook.port}]}})
        await client.post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", json={
            "metadata": {"name": "hook-1", "labels": {"kubernetes.io/service-name": "hook"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"]}],
            "ports": [{"name": "https", "port": hook.port}]})
        await configure(client, "validatingwebhookconfigurations", "svc", webhook(
            hook, "/", clientConfig={"service": {"namespace": "default", "name": "hook", "path": "/deny"},
                                     "caBundle": hook.ca_bundle}))
        return await create_cm(client, "bad")

    code, status, _ = run(scenario)
    assert code == 403, status          # reached, with its certificate verified as hook.default.svc
    assert status["message"].startswith('admission webhook "check.example.com" denied the request')


def test_webhook_configurations_themselves_are_never_sent_to_webhooks(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        everything = [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]
        dead = f"https://127.0.0.1:{dead_port()}/"
        await configure(client, "validatingwebhookconfigurations", "all", webhook(
            hook, "/", rules=everything, clientConfig={"url": dead, "caBundle": hook.ca_bundle}))
        resp = await client.delete(f"{ADM}/validatingwebhookconfigurations/all")
        return resp.status

    assert run(scenario) == 200


def test_a_delete_is_reviewed_with_the_old_object(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await create_cm(client, "bad")
        await configure(client, "validatingwebhookconfigurations", "del", webhook(
            hook, "/deny", rules=[{"operations": ["DELETE"], "apiGroups": [""], "apiVersions": ["v1"],
                                   "resources": ["configmaps"]}]))
        resp = await client.delete(f"{CM}/bad")
        return resp.status, (await client.get(f"{CM}/bad")).status

    before = len(hook.reviews)
    refused, still_there = run(scenario)
    assert (refused, still_there) == (403, 200)
    request = hook.reviews[before]["request"]
    assert request["operation"] == "DELETE" and request["object"] is None
    assert request["oldObject"]["metadata"]["name"] == "bad" and request["options"]["kind"] == "DeleteOptions"


def test_equivalent_match_policy_sends_the_version_the_rule_names(hook: WebhookServer) -> None:
    hpa = {"metadata": {"name": "web"}, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 50}}}]}}

    async def scenario(client: TestClient[Any, Any]) -> Any:
        v1_rule = [{"operations": ["CREATE"], "apiGroups": ["autoscaling"], "apiVersions": ["v1"],
                    "resources": ["horizontalpodautoscalers"]}]
        await configure(client, "validatingwebhookconfigurations", "eq",
                        webhook(hook, "/", "equivalent.example.com", rules=v1_rule),
                        webhook(hook, "/", "exact.example.com", rules=v1_rule, matchPolicy="Exact"))
        resp = await client.post("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", json=hpa)
        return resp.status

    before = len(hook.reviews)
    assert run(scenario) == 201
    reviews = hook.reviews[before:]
    assert len(reviews) == 1                    # the Exact webhook was not called
    request = reviews[0]["request"]
    assert request["kind"] == {"group": "autoscaling", "version": "v1", "kind": "HorizontalPodAutoscaler"}
    assert request["requestKind"]["version"] == "v2"
    assert request["object"]["apiVersion"] == "autoscaling/v1"
    assert request["object"]["spec"]["targetCPUUtilizationPercentage"] == 50


def test_a_webhook_that_reads_from_the_api_server_while_admitting_does_not_deadlock(hook: WebhookServer) -> None:
    async def scenario(client: TestClient[Any, Any]) -> Any:
        await configure(client, "validatingwebhookconfigurations", "cb",
                        webhook(hook, f"/callback/{client.port}", timeoutSeconds=5))
        return await create_cm(client, "fine")

    code, _, _ = run(scenario)
    assert code == 201


def test_equivalent_versions_of_a_custom_resource_come_from_its_definition(hook: WebhookServer) -> None:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema},
                                 {"name": "v2", "served": True, "storage": False, "schema": schema}]}}

    async def scenario(client: TestClient[Any, Any]) -> Any:
        created = await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
        assert created.status == 201, await created.text()
        await configure(client, "validatingwebhookconfigurations", "cr", webhook(hook, "/deny", rules=[
            {"operations": ["CREATE"], "apiGroups": ["example.com"], "apiVersions": ["v1"], "resources": ["widgets"]}]))
        for _ in range(50):                 # the CRD is served once its create is published
            resp = await client.post("/apis/example.com/v2/namespaces/default/widgets",
                                     json={"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "bad"}})
            if resp.status != 404:
                return resp.status
            await asyncio.sleep(0.05)
        return 404

    before = len(hook.reviews)
    assert run(scenario) == 403
    request = hook.reviews[before]["request"]
    assert request["kind"] == {"group": "example.com", "version": "v1", "kind": "Widget"}
    assert request["requestKind"]["version"] == "v2" and request["object"]["apiVersion"] == "example.com/v1"
