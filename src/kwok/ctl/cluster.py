"""Cluster lifecycle: create, start, stop, delete, status (the binary runtime, our processes)."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kwok.ctl import components as comps
from kwok.ctl import config as cfgmod
from kwok.ctl import kubeconfig, ports, probe
from kwok.ctl.paths import ClusterPaths
from kwok.ctl.runtime import process

Say = Callable[[str], None]
log = logging.getLogger("kwokctl")

_PORT_OPTIONS = {
    comps.APISERVER: "kubeApiserverPort",
    comps.CONTROLLER_MANAGER: "kubeControllerManagerPort",
    comps.SCHEDULER: "kubeSchedulerPort",
    comps.KWOK_CONTROLLER: "kwokControllerPort",
    comps.ETCD: "etcdPort",             # these two only for the user's own etcd
    comps.ETCD_PEER: "etcdPeerPort",
}
_ETCD_PORTS = (comps.ETCD, comps.ETCD_PEER)
SUPPORTED_RUNTIMES = ("binary",)


class ClusterError(Exception):
    """A user-facing failure: one line saying what and where."""


@dataclass
class ComponentStatus:
    name: str
    status: str   # Ready, NotReady, Stopped


class Cluster:
    def __init__(self, name: str, say: Say = print, dry_run: bool = False) -> None:
        self.paths = ClusterPaths.of(name)
        self.name = name
        self.say = say
        self.dry_run = dry_run

    # -- queries ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.paths.config.exists()

    def load(self) -> cfgmod.ClusterConfig:
        if not self.exists():
            if self.paths.root.is_dir():   # a create cut short, or the file removed by hand
                raise ClusterError(f"cluster {self.name!r} is corrupt: {self.paths.config} is missing; "
                                   f"delete it with kwokctl delete cluster --name {self.name}")
            raise ClusterError(f"cluster {self.name!r} does not exist ({self.paths.root})")
        try:
            return cfgmod.load_saved(self.paths.config)
        except cfgmod.ConfigError as e:
            raise ClusterError(f"cluster {self.name!r} is corrupt: {e}") from None

    def components(self, cfg: cfgmod.ClusterConfig | None = None) -> list[comps.Component]:
        cfg = cfg or self.load()
        allocated = {c: int(cfg.options[o]) for c, o in _PORT_OPTIONS.items()}
        return comps.build_all(self.paths, cfg.options, allocated, cfg.components_patches)

    def component_statuses(self) -> list[ComponentStatus]:
        out = []
        for c in self.components():
            state = process.status(self.paths, c.name)
            if state == "Running":
                state = "Ready" if self._healthy(c) else "NotReady"
            out.append(ComponentStatus(c.name, state))
        return out

    def _healthy(self, c: comps.Component) -> bool:
        if c.name == comps.APISERVER and not c.health_url:
            return probe.apiserver_ready(self.paths.socket)   # ours: over its Unix socket
        return probe.http_healthy(c.health_url) if c.health_url else True

    # -- create ----------------------------------------------------------------------------------
    def create(self, cfg: cfgmod.ClusterConfig, user_kubeconfig: Path, wait: float, timeout: float) -> None:
        if self.exists() or any(process.status(self.paths, n) == "Running" for n in comps.ALL):
            raise ClusterError(
                f"cluster {self.name!r} already exists ({self.paths.root}); "
                f"delete it first (kwokctl delete cluster --name {self.name})"
            )
        runtime = cfg.options["runtime"]
        if runtime not in SUPPORTED_RUNTIMES:
            raise ClusterError(
                f"runtime {runtime!r} is not available: this kwokctl runs clusters as local "
                f"processes (--runtime binary) and needs no container engine"
            )
        _check_components(cfg.options)
        self._allocate_ports(cfg.options)
        policy = _audit_policy(cfg.options)
        log.info("Creating cluster %s", self.name)
        if self.dry_run:
            self._print_plan(cfg)
            return
        _check_binaries(cfg.options)
        merged = False
        try:
            self._prepare()
            if policy is not None:
                self.paths.audit_policy.write_bytes(policy)   # before the API server reads it
            if cfg.options["kubeApiserverBinary"]:
                self._write_pki(cfg)   # a real kube-apiserver reads its certificates at once

            def install() -> None:
                # Runs while the API server imports; it waits for the PKI before it serves.
                nonlocal merged
                self._write_pki(cfg)
                self._write_files(cfg)
                kubeconfig.merge_context(user_kubeconfig, self._user_kubeconfig(cfg))
                merged = True

            self._start_all(self.components(cfg), timeout, install)
        except BaseException:
            self._teardown()
            if merged:
                kubeconfig.remove_context(user_kubeconfig, self.paths.context)
            raise
        if wait > 0:
            self.wait_ready(wait)

    def _allocate_ports(self, opts: dict[str, Any]) -> None:
        dry = ports.dry_run_ports()
        for component, option in _PORT_OPTIONS.items():
            if component in _ETCD_PORTS and not opts.get("etcdBinary"):
                continue
            given = int(opts.get(option) or 0)
            if given:
                if not self.dry_run and ports.port_in_use(given, "127.0.0.1"):
                    raise ClusterError(f"port {given} ({option} for {component}) is already in use")
                continue
            opts[option] = next(dry) if self.dry_run else ports.free_port()

    def _prepare(self) -> None:
        """What the API server needs before it starts: its folders."""
        for folder in (self.paths.root, self.paths.data, self.paths.logs, self.paths.pids):
            folder.mkdir(parents=True, exist_ok=True)

    def _write_pki(self, cfg: cfgmod.ClusterConfig) -> None:
        if cfg.options["securePort"]:
            from kwok.ctl import pki  # cryptography costs ~50 ms of import; only create needs it

            pki.write_pki(self.paths.pki, tuple(cfg.options["kubeApiserverCertSANs"]))

    def _write_files(self, cfg: cfgmod.ClusterConfig) -> None:
        cfgmod.save(self.paths.config, cfg)
        kubeconfig.write(self.paths.kubeconfig, self._user_kubeconfig(cfg))
        internal = kubeconfig.cluster_kubeconfig(self.paths.context, f"unix://{self.paths.socket}", None)
        kubeconfig.write(self.paths.internal_kubeconfig, internal)

    def _user_kubeconfig(self, cfg: cfgmod.ClusterConfig) -> dict[str, Any]:
        port = cfg.options["kubeApiserverPort"]
        secure = cfg.options["securePort"]
        server = f"{'https' if secure else 'http'}://127.0.0.1:{port}"
        return kubeconfig.cluster_kubeconfig(self.paths.context, server, self.paths.pki if secure else None)

    def _print_plan(self, cfg: cfgmod.ClusterConfig, install: bool = True) -> None:
        p = self.paths
        if install:
            self.say(f"mkdir -p {p.root} {p.data} {p.logs} {p.pids}")
            if cfg.options.get("kubeAuditPolicy"):
                self.say(f"cp {cfg.options['kubeAuditPolicy']} {p.audit_policy}")
            if cfg.options["securePort"]:
                self.say(f"# generate the CA and admin certificate in {p.pki.dir}")
            self.say(f"# write {p.config} (KwokctlConfiguration, KwokConfiguration, Stages)")
            self.say(f"# write {p.kubeconfig} and {p.internal_kubeconfig}")
        for c in self.components(cfg):
            log = self.paths.log_file(c.name)
            self.say(f"{c.shell()} >{log} 2>&1 &")
            self.say(f"echo $! >{self.paths.pid_file(c.name)}")

    # -- start / stop ----------------------------------------------------------------------------
    def _start_all(self, components: list[comps.Component], timeout: float,
                   meanwhile: Callable[[], None] | None = None) -> None:
        """Start the API server first, then `meanwhile()`, then the rest, and wait for the API.

        The other components start at once too, but wait for the API server's socket before
        their real work (kwok.cli.kwok), so that on two cores its start-up, which is what
        `create` waits for, is not slowed by theirs. A component that dies before the API is
        ready (a bad flag, say) fails the start with its log tail."""
        first = [c for c in components if c.name in (comps.ETCD, comps.APISERVER)]
        if any(c.name == comps.APISERVER for c in first):
            self.paths.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.paths.socket.unlink(missing_ok=True)   # a stale socket would release them early
        pids = {c.name: self._spawn(c) for c in first}
        if meanwhile is not None:
            meanwhile()
        pids.update({c.name: self._spawn(c) for c in components if c not in first})
        api = pids.get(comps.APISERVER)
        if api is not None:
            apiserver = next(c for c in components if c.name == comps.APISERVER)
            ok = probe.wait_until(
                lambda: self._healthy(apiserver), timeout,
                alive=lambda: process.is_running(api),
            )
            if not ok:
                self._fail(comps.APISERVER, api, timeout)
        for name, pid in pids.items():
            if not process.is_running(pid):
                raise process.ComponentFailed(name, self.paths.log_file(name), process.log_tail(self.paths, name))

    def _spawn(self, c: comps.Component) -> int:
        try:
            return process.start(self.paths, c)
        except OSError as e:
            raise ClusterError(f"cannot run {c.name} ({c.command[0]}): {e.strerror}") from None

    def _fail(self, name: str, pid: int, timeout: float) -> None:
        if not process.is_running(pid):
            raise process.ComponentFailed(name, self.paths.log_file(name), process.log_tail(self.paths, name))
        raise ClusterError(f"{name} did not become ready within {timeout:g}s (log: {self.paths.log_file(name)})")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.component_statuses()
            if all(s.status == "Ready" for s in statuses):
                return
            time.sleep(0.05)
        pending = [s.name for s in self.component_statuses() if s.status != "Ready"]
        raise ClusterError(f"cluster {self.name!r} not ready within {timeout:g}s: {', '.join(pending)}")

    def start(self, wait: float, timeout: float) -> None:
        cfg = self.load()
        components = self.components(cfg)
        if self.dry_run:
            self._print_plan(cfg, install=False)
            return
        _check_binaries(cfg.options)
        stale = [c for c in components if process.status(self.paths, c.name) == "Running"]
        todo = [c for c in components if c not in stale]
        if todo:
            try:
                self._start_all(todo, timeout)
            except BaseException:
                process.stop(self.paths, [c.name for c in todo])
                raise
        if wait > 0:
            self.wait_ready(wait)

    def stop(self) -> None:
        names = [c.name for c in self.components()]
        if self.dry_run:
            for n in names:
                self.say(f"kill $(cat {self.paths.pid_file(n)})")
            return
        process.stop(self.paths, names)

    def delete(self, user_kubeconfig: Path) -> None:
        if not self.paths.root.exists():
            raise ClusterError(f"cluster {self.name!r} does not exist ({self.paths.root})")
        if self.dry_run:   # as KWOK: the components are stopped, then the folder goes
            self.stop()
            if not self.paths.socket.is_relative_to(self.paths.root):
                self.say(f"rm -f {self.paths.socket}")
            self.say(f"rm -rf {self.paths.root}")
            return
        self._teardown()
        kubeconfig.remove_context(user_kubeconfig, self.paths.context)

    def _teardown(self) -> None:
        process.kill(self.paths, list(comps.ALL))
        self.paths.socket.unlink(missing_ok=True)    # it may live outside the folder
        remove_folder(self.paths.root)


def remove_folder(path: Path) -> None:
    """Take the folder away at once (a rename) and delete what was in it in the background.

    Unlinking the store of a cluster that held thousands of objects takes a good part of
    `delete cluster`'s half second; nothing needs to wait for it once the processes are gone
    and the name is free. A double fork leaves no child behind to reap."""
    trash = path.with_name(f".{path.name}.deleted-{os.getpid()}")
    try:
        os.rename(path, trash)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        return
    child = os.fork()
    if child == 0:
        try:
            if os.fork() == 0:
                os.setsid()
                shutil.rmtree(trash, ignore_errors=True)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _check_binaries(opts: dict[str, Any]) -> None:
    if not any(opts.get(o) for o in comps.BINARY_OPTIONS):
        return
    from kwok.ctl.binaries import BinaryError, check_binaries

    try:
        check_binaries(opts)
    except BinaryError as e:
        raise ClusterError(str(e)) from None


# What `--enable`/`--components` may name: the cluster's own components, and metrics-server (its
# metrics.k8s.io is served by the built-in API server).
_RUNNABLE = (*comps.ALL, "metrics-server")


def _check_components(opts: dict[str, Any]) -> None:
    """Refuse the add-ons KWOK downloads or runs in containers (a port for one enables it, as in
    KWOK); say which options only a user's own Kubernetes binary takes."""
    wanted = [*opts["enable"], *opts["components"]]
    wanted += [name for name, option in (("prometheus", "prometheusPort"), ("jaeger", "jaegerPort"))
               if int(opts.get(option) or 0)]
    for name in wanted:
        if name not in _RUNNABLE:
            raise ClusterError(
                f"component {name!r} is not available: this kwokctl runs {', '.join(_RUNNABLE)} as local "
                "processes and downloads nothing (KWOK's add-ons come from its downloads or containers)")
    for option, flag, binary, binary_flag in (
            ("kubeFeatureGates", "--kube-feature-gates", "kubeApiserverBinary", "--kube-apiserver-binary"),
            ("kubeRuntimeConfig", "--kube-runtime-config", "kubeApiserverBinary", "--kube-apiserver-binary"),
            ("kubeSchedulerConfig", "--kube-scheduler-config", "kubeSchedulerBinary", "--kube-scheduler-binary")):
        if opts.get(option) and not opts.get(binary):
            log.warning("%s is passed only to your own binary (%s); the built-in component ignores it",
                        flag, binary_flag)


def _audit_policy(opts: dict[str, Any]) -> bytes | None:
    """The --kube-audit-policy file's bytes, checked before anything starts (None without one)."""
    given = opts.get("kubeAuditPolicy")
    if not given:
        return None
    from kwok.apiserver.audit import Policy, PolicyError

    path = Path(given).expanduser()
    try:
        data = path.read_bytes()
        Policy.from_yaml(data, str(path))
    except OSError as e:
        raise ClusterError(f"--kube-audit-policy {given}: {e.strerror or e}") from None
    except PolicyError as e:
        raise ClusterError(f"--kube-audit-policy {e}") from None
    return data


def list_clusters() -> list[str]:
    from kwok.ctl.paths import clusters_dir

    root = clusters_dir()
    if not root.is_dir():
        return []
    # every folder, as KWOK lists them: a cluster whose kwok.yaml is gone still shows (as an error
    # with -o wide) and `delete cluster --all` still stops its processes and removes it
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and p.is_dir())
