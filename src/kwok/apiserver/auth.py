"""Who is calling: a verified client certificate (CN user, O groups), a bearer token, or anonymous.

Authorization allows everything for now (impersonation too); the identity is kept on the request
for admission, the audit log and the reviews (SelfSubjectAccessReview / SelfSubjectReview).
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
REQUESTER = web.RequestKey("requester", tuple)  # who authenticated, when IDENTITY is impersonated


class Authenticator:
    def __init__(self, tokens: dict[str, Identity] | None = None, socket_identity: Identity | None = None) -> None:
        self.tokens = tokens or {}
        # who the clients of the Unix socket are (its mode, 0600, admits only its owner): kwokctl
        # names the cluster's admin, the identity KWOK's components have through the admin certificate
        self.socket_identity = socket_identity

    @classmethod
    def from_token_file(cls, path: str | Path | None, socket_identity: Identity | None = None) -> Authenticator:
        """The kube-apiserver --token-auth-file format: token,user,uid[,"group1,group2"]."""
        tokens: dict[str, Identity] = {}
        if path:
            with open(path, newline="") as fh:
                for row in csv.reader(fh):
                    if len(row) < 3 or row[0].startswith("#"):
                        continue
                    groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
                    tokens[row[0].strip()] = (row[1].strip(), groups + ("system:authenticated",))
        return cls(tokens, socket_identity)

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
        if self.socket_identity is not None and _over_unix_socket(request):
            return self.socket_identity
        return ANONYMOUS


def _peer_cert(request: web.Request) -> Any:
    transport = request.transport
    if transport is None:
        return None
    return transport.get_extra_info("peercert")


def _over_unix_socket(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and isinstance(transport.get_extra_info("sockname"), str)


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


def impersonated(request: web.Request) -> Identity | None:
    """The identity named by the Impersonate-* headers (`kubectl --as/--as-group`), if any.

    As kube-apiserver: a service account user gets its service-account groups, and every
    impersonated user but the anonymous one is in system:authenticated. Authorization allows
    every request, so the requester may impersonate anyone."""
    headers = request.headers
    user = headers.get("Impersonate-User")
    if not user:    # every request comes here: two lookups, no scan of the headers
        others = [h for h in ("Impersonate-Group", "Impersonate-Uid") if h in headers]
        if others:
            raise errors.internal_error(f"requested {others} without impersonating a user")
        return None
    groups = headers.getall("Impersonate-Group", [])
    named: list[str] = []
    if user.startswith("system:serviceaccount:") and not groups:
        namespace = user.split(":")[2]
        named = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    named += [g for g in groups if g not in named]
    always = "system:unauthenticated" if user == ANONYMOUS[0] else "system:authenticated"
    if always not in named:
        named.append(always)
    return user, tuple(named)
