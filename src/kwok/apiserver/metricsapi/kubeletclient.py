"""HTTP GETs to kubelet endpoints with short timeouts over one pooled session.

Kubelets (and kwok, which multiplexes TLS and plain HTTP on its port) serve HTTPS with a
certificate the API server cannot verify; like metrics-server with `--kubelet-insecure-tls`, the
certificate is not checked.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT = 2.0
TOTAL_TIMEOUT = 5.0


class KubeletClient:
    def __init__(self) -> None:
        self._session: Any = None

    async def get(self, url: str) -> tuple[int, str]:
        import aiohttp

        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=TOTAL_TIMEOUT, sock_connect=CONNECT_TIMEOUT)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(ssl=False))
        async with self._session.get(url, headers={"Accept": "text/plain"}) as response:
            return response.status, (await response.read()).decode(errors="replace")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
