"""Fixtures of the admission tests."""

from __future__ import annotations

import uuid

import pytest

from tests.apiserver.harness import ApiServer


@pytest.fixture
def namespace(apiserver: ApiServer, kubectl_bin: str) -> str:
    """A namespace of the test's own, labelled so that its webhooks and policies select only it
    (`namespaceSelector: {matchLabels: {admission-test: <name>}}`)."""
    name = f"adm-{uuid.uuid4().hex[:6]}"
    apiserver.kubectl(kubectl_bin, "create", "namespace", name)
    apiserver.kubectl(kubectl_bin, "label", "namespace", name, f"admission-test={name}")
    return name
