"""Who is calling: a verified client certificate (CN user, O groups), a bearer token, or anonymous.

Authorization allows everything for now; the identity is kept on the request for admission and
for the reviews (SelfSubjectAccessReview / SelfSubjectReview) to report.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from aiohttp import web

from kwok.api import errors

Identity = tuple[str, tuple[str, ...]]
ANONYMOUS: Identity = ("system:anonymous", ("system:unauthenticated",))
IDENTITY = web.RequestKey("identity", tuple)   # who made the request, set for every request


class Authenticator:
    def __init__(self, tokens: dict[str, Identity] | None = None) -> None:
        self.tokens = tokens or {}

    @classmethod
    def from_token_file(cls, path: str | Path | None) -> Authenticator:
        """The kube-apiserver --token-auth-file format: token,user,uid[,"group1,group2"]."""
        tokens: dict[str, Identity] = {}
        if path:
            with open(path, newline="") as fh:
                for row in csv.reader(fh):
                    if len(row) < 3 or row[0].startswith("#"):
                        continue
                    groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
                    tokens[row[0].strip()] = (row[1].strip(), groups + ("system:authenticated",))
        return cls(tokens)

    def identify(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            identity = self.tokens.get(token)
            if identity is not None:
                return identity
            if self.tokens:
                raise errors.unauthorized()
        cert = _peer_cert(request)
        if cert:
            return _cert_identity(cert)
        return ANONYMOUS


def _peer_cert(request: web.Request) -> Any:
    transport = request.transport
    if transport is None:
        return None
    return transport.get_extra_info("peercert")


def _cert_identity(cert: dict[str, Any]) -> Identity:
    user = ""
    groups: list[str] = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return user or "system:anonymous", tuple(groups) + ("system:authenticated",)
