"""Where kwokctl keeps its clusters: `$KWOK_WORKDIR` (default `~/.kwok`)/clusters/<name>/."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

_SOCKET_PATH_MAX = 100     # sun_path holds 108 bytes with the final NUL; some margin


@dataclass(frozen=True)
class PKIPaths:
    dir: Path

    @property
    def ca_crt(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def admin_crt(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"


def workdir() -> Path:
    return Path(os.environ.get("KWOK_WORKDIR") or Path.home() / ".kwok").expanduser()


def clusters_dir() -> Path:
    return workdir() / "clusters"


def default_kubeconfig() -> Path:
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0]).expanduser()
    return Path.home() / ".kube" / "config"


@dataclass(frozen=True)
class ClusterPaths:
    """The files of one cluster, named as KWOK names them where KWOK has them."""

    name: str
    root: Path

    @classmethod
    def of(cls, name: str) -> ClusterPaths:
        return cls(name, clusters_dir() / name)

    @property
    def config(self) -> Path:
        return self.root / "kwok.yaml"

    @property
    def audit_policy(self) -> Path:
        """The --kube-audit-policy file, copied into the cluster (as KWOK's audit.yaml)."""
        return self.root / "audit.yaml"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.log"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig.yaml"

    @property
    def internal_kubeconfig(self) -> Path:
        """For the cluster's own components: HTTP over the API server's Unix socket (no TLS cost)."""
        return self.root / "kubeconfig"

    @property
    def socket(self) -> Path:
        """The API server's Unix socket: in the cluster folder, unless that path is too long for
        one (108 bytes on Linux, with a deep $KWOK_WORKDIR); then in a private folder of the
        temporary directory, named after the cluster folder."""
        path = self.root / "apiserver.sock"
        if len(os.fsencode(path)) <= _SOCKET_PATH_MAX:
            return path
        digest = hashlib.sha256(os.fsencode(self.root.resolve())).hexdigest()[:20]
        return Path(tempfile.gettempdir()) / f"kwok-{os.getuid()}" / f"{digest}.sock"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def pki(self) -> PKIPaths:
        return PKIPaths(self.root / "pki")

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def pid_file(self, component: str) -> Path:
        return self.pids / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def context(self) -> str:
        return f"kwok-{self.name}"
