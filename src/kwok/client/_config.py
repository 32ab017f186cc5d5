"""ClientConfig: where the API server is and how to authenticate to it.

Choosing the server (kubeconfig files, `$KUBECONFIG`, in-cluster, `--master`) is done here,
synchronously and cheaply. Credentials (client certificates, bearer tokens, token files, exec
plugins, in-cluster service-account tokens) are delegated to kubernetes_asyncio's loaders, which
are imported only when a kubeconfig actually needs them: that import costs ~0.5 s and ~40 MB,
and the components of a kwokctl cluster talk to a Unix socket without any credentials at all.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
DEFAULT_KUBECONFIG = "~/.kube/config"
USER_AGENT = "kwok-python/0.1.0"

# Keys of a kubeconfig `user` that carry credentials kubernetes_asyncio must resolve.
_CREDENTIAL_KEYS = frozenset(
    {
        "exec",
        "auth-provider",
        "token",
        "tokenFile",
        "username",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
    }
)


class ConfigError(Exception):
    """The client cannot be configured (no kubeconfig, unknown context, malformed file, ...)."""


@dataclass
class Credentials:
    """What a request needs: TLS settings and an Authorization header (resolved, possibly stale)."""

    ssl_context: ssl.SSLContext | None = None
    authorization: str | None = None
    server_hostname: str | None = None


@dataclass
class ClientConfig:
    """The API server address plus a (lazy) credential source.

    `server` is `https://host:port`, `http://host:port` or `unix:///path/to.sock` (HTTP over a
    Unix socket, no TLS: what kwokctl gives its own components).
    """

    server: str
    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_tls_verify: bool = False
    user_agent: str = USER_AGENT
    source: str = ""  # where the config came from, for error messages
    _loader: _CredentialLoader | None = field(default=None, repr=False)

    @classmethod
    def load(cls, kubeconfig: str | None = None, context: str | None = None, master: str | None = None) -> ClientConfig:
        """Resolve like client-go's BuildConfigFromFlags: kubeconfig, else in-cluster, else `master`."""
        paths = _kubeconfig_paths(kubeconfig)
        if paths and master and not context and not _merge(paths)["current-context"]:
            # client-go: with --master, a kubeconfig without a current context (e.g. after
            # `kwokctl delete cluster` removed the last one) adds nothing; the server is master.
            paths = []
        if paths:
            cfg = _from_kubeconfig(paths, context)
        elif _in_cluster():
            cfg = cls(server=_in_cluster_server(), source="in-cluster", _loader=_InClusterLoader())
        elif master:
            cfg = cls(server=master, source="--master")
        else:
            wanted = kubeconfig or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
            raise ConfigError(f"no kubeconfig found at {wanted} and not running in a cluster; pass --kubeconfig or --master")
        if master:
            cfg.server = master
        cfg.server = cfg.server.rstrip("/")
        return cfg

    @property
    def unix_socket(self) -> str | None:
        return self.server[len("unix://") :] if self.server.startswith("unix://") else None

    async def credentials(self, refresh: bool = False) -> Credentials:
        """TLS context and Authorization header; `refresh` re-runs exec plugins / re-reads tokens."""
        if self._loader is not None:
            creds = await self._loader.load(refresh)
            return Credentials(
                ssl_context=self._tls(creds.get("ca"), creds.get("cert"), creds.get("key"), creds.get("verify", True)),
                authorization=creds.get("authorization"),
                server_hostname=creds.get("server_hostname"),
            )
        authorization = f"Bearer {self.token}" if self.token else None
        ssl_ctx = self._tls(self.ca_file, self.cert_file, self.key_file, not self.insecure_skip_tls_verify)
        return Credentials(ssl_context=ssl_ctx, authorization=authorization)

    def _tls(self, ca: str | None, cert: str | None, key: str | None, verify: bool) -> ssl.SSLContext | None:
        if not self.server.startswith("https://"):
            return None
        ctx = ssl.create_default_context(cafile=ca) if verify else ssl._create_unverified_context()
        if cert and key:
            ctx.load_cert_chain(cert, key)
        return ctx


def _kubeconfig_paths(kubeconfig: str | None) -> list[str]:
    if kubeconfig:
        candidates = [kubeconfig]
    elif os.environ.get("KUBECONFIG"):
        candidates = os.environ["KUBECONFIG"].split(os.pathsep)
    else:
        candidates = [DEFAULT_KUBECONFIG]
    paths = [os.path.expanduser(p) for p in candidates if p]
    return [p for p in paths if os.path.isfile(p)]


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        data = yaml.load(Path(path).read_text(), Loader=yaml.CSafeLoader) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read kubeconfig {path}: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a mapping")
    return data


def _merge(paths: list[str]) -> dict[str, Any]:
    """Merge like kubectl: the first file to define a name or current-context wins."""
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for path in paths:
        data = _read_yaml(path)
        for section, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for item in data.get(section) or []:
                if isinstance(item, dict) and item.get("name") not in merged[section]:
                    merged[section][item.get("name")] = item.get(key) or {}
        if not merged["current-context"] and data.get("current-context"):
            merged["current-context"] = data["current-context"]
    return merged


def _from_kubeconfig(paths: list[str], context: str | None) -> ClientConfig:
    merged = _merge(paths)
    name = context or merged["current-context"]
    source = os.pathsep.join(paths)
    if not name:
        raise ConfigError(f"kubeconfig {source}: no current-context set and no --context given")
    ctx = merged["contexts"].get(name)
    if ctx is None:
        raise ConfigError(f'kubeconfig {source}: context "{name}" does not exist')
    cluster = merged["clusters"].get(ctx.get("cluster"))
    if not cluster or not cluster.get("server"):
        raise ConfigError(f'kubeconfig {source}: cluster "{ctx.get("cluster")}" has no server')
    user = merged["users"].get(ctx.get("user")) or {}
    server = str(cluster["server"])
    needs_loader = server.startswith("https://") or bool(_CREDENTIAL_KEYS & set(user))
    loader = _KubeconfigLoader(paths, name) if needs_loader else None
    return ClientConfig(server=server, source=source, _loader=loader)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT"))


def _in_cluster_server() -> str:
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


class _CredentialLoader:
    async def load(self, refresh: bool) -> dict[str, Any]:
        raise NotImplementedError


class _KubeconfigLoader(_CredentialLoader):
    """kubernetes_asyncio's KubeConfigLoader, kept alive so exec-plugin tokens are cached until expiry."""

    def __init__(self, paths: list[str], context: str) -> None:
        self._paths = paths
        self._context = context
        self._loader: Any = None
        self._cached: dict[str, Any] | None = None

    async def load(self, refresh: bool) -> dict[str, Any]:
        if self._cached is not None and not refresh:
            return self._cached
        from kubernetes_asyncio.client import Configuration
        from kubernetes_asyncio.config import kube_config
        from kubernetes_asyncio.config.config_exception import ConfigException

        try:
            if self._loader is None:
                merger = kube_config.KubeConfigMerger(os.pathsep.join(self._paths))
                self._loader = kube_config.KubeConfigLoader(
                    config_dict=merger.config, config_base_path=None, active_context=self._context
                )
            elif refresh and hasattr(self._loader, "exec_plugin_expiry"):
                del self._loader.exec_plugin_expiry  # force the exec plugin to run again
            conf = Configuration()
            await self._loader.load_and_set(conf)
        except (ConfigException, OSError, ValueError, KeyError) as err:
            raise ConfigError(f"kubeconfig {os.pathsep.join(self._paths)}: {err}") from err
        self._cached = _from_configuration(conf)
        return self._cached


class _InClusterLoader(_CredentialLoader):
    """The pod's service-account token (re-read on refresh: kubelet rotates it) and cluster CA."""

    async def load(self, refresh: bool) -> dict[str, Any]:
        try:
            token = Path(IN_CLUSTER_TOKEN).read_text().strip()
        except OSError as err:
            raise ConfigError(f"in-cluster: cannot read service account token: {err}") from err
        return {"authorization": f"Bearer {token}", "ca": IN_CLUSTER_CA, "verify": True}


def _from_configuration(conf: Any) -> dict[str, Any]:
    authorization = conf.api_key.get("BearerToken") or conf.api_key.get("authorization")
    if authorization is None and conf.username and conf.password:
        authorization = conf.get_basic_auth_token()
    return {
        "authorization": authorization,
        "ca": conf.ssl_ca_cert,
        "cert": conf.cert_file,
        "key": conf.key_file,
        "verify": conf.verify_ssl,
        "server_hostname": getattr(conf, "tls_server_name", None),
    }
