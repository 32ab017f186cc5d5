"""`kwok apiserver`: the embedded Kubernetes API server (also `python -m kwok.cli.apiserver`)."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import click

# Set by kwokctl (kwok.ctl.components.START_AFTER_FILES_ENV): it starts the API server before it
# has written the cluster's certificates, so that generating them overlaps the imports above.
START_AFTER_FILES = "KWOK_START_AFTER_FILES"
START_AFTER_TIMEOUT = 30.0


def _wait_for_files(paths: str) -> None:
    """Until every ":"-separated path exists; past the timeout, start anyway (and fail on them)."""
    deadline = time.monotonic() + START_AFTER_TIMEOUT
    for path in filter(None, paths.split(":")):
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.005)


# kube-apiserver's flags that users pass through kwokctl's --extra-args or componentsPatches. They
# are accepted, so those configurations work unchanged, and the log says once which ones have no
# effect here: one built-in store instead of etcd, an authorizer that allows every request, no
# request limits, no cloud, the serving and client settings taken from this server's own flags.
KUBE_APISERVER_FLAGS = (
    "admission-control", "admission-control-config-file", "advertise-address", "allow-metric-labels",
    "api-audiences", "apiserver-count", "audit-log-format", "audit-log-maxage", "audit-log-maxbackup",
    "audit-log-maxsize", "audit-log-mode", "audit-log-version", "audit-webhook-config-file",
    "audit-webhook-mode", "authentication-config", "authentication-token-webhook-config-file",
    "authorization-config", "authorization-mode", "authorization-policy-file",
    "authorization-webhook-config-file", "cert-dir", "cloud-provider", "cors-allowed-origins",
    "default-watch-cache-size", "delete-collection-workers", "disable-admission-plugins",
    "egress-selector-config-file", "enable-admission-plugins", "encryption-provider-config",
    "endpoint-reconciler-type", "etcd-cafile", "etcd-certfile", "etcd-compaction-interval", "etcd-keyfile",
    "etcd-prefix", "etcd-servers", "etcd-servers-overrides", "event-ttl", "external-hostname", "feature-gates",
    "goaway-chance", "http2-max-streams-per-connection", "kubelet-certificate-authority",
    "kubelet-client-certificate", "kubelet-client-key", "kubelet-preferred-address-types", "kubelet-timeout",
    "lease-reuse-duration-seconds", "livez-grace-period", "log-flush-frequency", "logging-format",
    "max-connection-bytes-per-sec", "max-mutating-requests-inflight", "max-requests-inflight",
    "min-request-timeout", "proxy-client-cert-file", "proxy-client-key-file", "request-timeout",
    "requestheader-allowed-names", "requestheader-client-ca-file", "requestheader-extra-headers-prefix",
    "requestheader-group-headers", "requestheader-username-headers", "runtime-config", "service-account-issuer",
    "service-account-jwks-uri", "service-account-key-file", "service-account-max-token-expiration",
    "service-account-signing-key-file", "shutdown-delay-duration", "storage-backend", "storage-media-type",
    "tls-cipher-suites", "tls-min-version", "tls-sni-cert-key", "tracing-config-file", "vmodule", "watch-cache-sizes",
)
KUBE_APISERVER_BOOL_FLAGS = (
    "allow-privileged", "anonymous-auth", "enable-aggregator-routing", "enable-bootstrap-token-auth",
    "enable-garbage-collector", "enable-priority-and-fairness", "permit-address-sharing", "permit-port-sharing",
    "profiling", "service-account-extend-token-expiration", "service-account-lookup", "shutdown-send-retry-after",
    "watch-cache",
)


def _param(flag: str) -> str:
    """The keyword a kube-apiserver flag arrives under (apart from this server's own parameters)."""
    return f"kube_{flag.replace('-', '_')}"


def _kube_apiserver_flags(command: Any) -> Any:
    for name in KUBE_APISERVER_FLAGS:
        command = click.option(f"--{name}", _param(name), hidden=True, multiple=True)(command)
    for name in KUBE_APISERVER_BOOL_FLAGS:
        command = click.option(f"--{name}", _param(name), hidden=True, is_flag=True, default=None)(command)
    return command


def _without_effect(given: dict[str, Any]) -> list[str]:
    """`--flag=value` of each kube-apiserver flag given (in the order of the tables)."""
    out = []
    for name in (*KUBE_APISERVER_FLAGS, *KUBE_APISERVER_BOOL_FLAGS):
        value = given.get(_param(name))
        if value is True:
            out.append(f"--{name}")
        elif value:
            out += [f"--{name}={v}" for v in value]
    return out


@click.command("apiserver", context_settings={"show_default": True})
@click.option("--bind-address", default="127.0.0.1", help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Plain HTTP port (0: any free port).")
@click.option("--secure-port", type=int, default=None, help="HTTPS port (0: any free port).")
@click.option("--unix-socket", default=None, help="Also listen on this Unix domain socket (mode 0600, no TLS).")
@click.option("--unix-socket-user", default=None,
              help="User the Unix socket's clients are (default: anonymous, as a request without credentials).")
@click.option("--unix-socket-group", "unix_socket_groups", multiple=True, help="A group of --unix-socket-user.")
@click.option("--data-dir", default=None, help="Directory of the durable store (SQLite); memory only if unset.")
@click.option("--tls-cert-file", default=None, help="Serving certificate (PEM).")
@click.option("--tls-private-key-file", default=None, help="Key of the serving certificate (PEM).")
@click.option("--client-ca-file", default=None, help="CA that client certificates are verified against.")
@click.option("--generate-certs/--no-generate-certs", default=True,
              help="Without --tls-cert-file, create a CA and serving certificate under <data-dir>/pki.")
@click.option("--token-auth-file", default=None, help="Bearer tokens: token,user,uid[,\"group1,group2\"] per line.")
@click.option("--watch-cache-window", type=int, default=10_000,
              help="Events kept for watches to resume from; older resourceVersions get 410 Expired.")
@click.option("--ready-file", default=None, help="Write the bound ports here once serving.")
@click.option("--audit-policy-file", default=None,
              help="audit.k8s.io/v1 Policy deciding which requests are audited, and how much of them.")
@click.option("--audit-log-path", default=None,
              help="Append audit events here as JSON lines ('-': standard output); auditing is on only "
                   "with both this and --audit-policy-file.")
@click.option("--service-cluster-ip-range", default=None,
              help="CIDR ClusterIPs are allocated from (default 10.96.0.0/12; the kubernetes Service takes the first).")
@click.option("--service-node-port-range", default=None, help="Node ports of NodePort Services (default 30000-32767).")
@click.option("--default-not-ready-toleration-seconds", type=int, default=300,
              help="tolerationSeconds of the not-ready toleration added to every pod.")
@click.option("--default-unreachable-toleration-seconds", type=int, default=300,
              help="tolerationSeconds of the unreachable toleration added to every pod.")
@click.option("-v", "--v", "verbosity", type=int, default=0, help="Log level: 1+ logs every request.")
@_kube_apiserver_flags
def apiserver(bind_address: str, port: int | None, secure_port: int | None, unix_socket: str | None,
              unix_socket_user: str | None, unix_socket_groups: tuple[str, ...],
              data_dir: str | None, tls_cert_file: str | None, tls_private_key_file: str | None,
              client_ca_file: str | None, generate_certs: bool, token_auth_file: str | None,
              watch_cache_window: int, ready_file: str | None, audit_policy_file: str | None,
              audit_log_path: str | None, service_cluster_ip_range: str | None,
              service_node_port_range: str | None, default_not_ready_toleration_seconds: int,
              default_unreachable_toleration_seconds: int, verbosity: int, **kube_flags: Any) -> None:
    """Run the Kubernetes-compatible API server.

    kube-apiserver's other flags are accepted, and the log names those that have no effect here."""
    from kwok.apiserver.server import Options, run
    from kwok.cli.gctune import tune

    tune()
    _wait_for_files(os.environ.pop(START_AFTER_FILES, ""))

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
    from kwok.apiserver import servicenetwork

    try:
        servicenetwork.configure(service_cluster_ip_range, service_node_port_range)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    ignored = _without_effect(kube_flags)
    if ignored:
        logging.getLogger("kwok.apiserver").info("kube-apiserver flags without effect here: %s", " ".join(ignored))
    if port is None and secure_port is None and unix_socket is None:
        port = 6443 if not generate_certs else None
        secure_port = None if port is not None else 6443
    if secure_port is not None and not tls_cert_file and not generate_certs:
        raise click.UsageError("--secure-port needs --tls-cert-file and --tls-private-key-file")
    run(Options(bind_address=bind_address, port=port, secure_port=secure_port, unix_socket=unix_socket,
                data_dir=data_dir, tls_cert_file=tls_cert_file, tls_private_key_file=tls_private_key_file,
                client_ca_file=client_ca_file, generate_certs=generate_certs, token_auth_file=token_auth_file,
                watch_cache_window=watch_cache_window, log_requests=verbosity >= 1, ready_file=ready_file,
                audit_policy_file=audit_policy_file, audit_log_path=audit_log_path,
                unix_socket_user=unix_socket_user, unix_socket_groups=unix_socket_groups,
                toleration_seconds=(default_not_ready_toleration_seconds, default_unreachable_toleration_seconds)))


if __name__ == "__main__":
    apiserver()
