"""Fixtures of the API server tests: one server process per test module, torn down at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.apiserver.harness import ApiServer


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("apiserver")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def core(apiserver: ApiServer) -> Iterator[client.CoreV1Api]:
    """The official Python client's CoreV1Api, talking to the module's server."""
    config = client.Configuration()
    config.host = apiserver.url
    with client.ApiClient(config) as api:
        yield client.CoreV1Api(api)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
