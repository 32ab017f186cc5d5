"""KwokOptions: the controller's settings (flags over KwokConfiguration.options over defaults).

Validation follows KWOK's `Config.validate`: exactly one way of choosing managed nodes, and at
least one, else `no nodes are managed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from kwok.api.selectors import LabelSelector, SelectorError, parse_label_selector

# The kinds --enable-crds accepts (pkg/kwok/cmd/root.go).
CRD_KINDS = (
    "Stage",
    "Attach",
    "ClusterAttach",
    "Exec",
    "ClusterExec",
    "PortForward",
    "ClusterPortForward",
    "Logs",
    "ClusterLogs",
    "ResourceUsage",
    "ClusterResourceUsage",
    "Metric",
)


class OptionsError(ValueError):
    """A configuration error: reported at start and the process exits non-zero."""


@dataclass
class KwokOptions:
    cidr: str = "10.0.0.0/24"
    node_ip: str = ""
    node_name: str = ""
    node_port: int = 0
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    manage_single_node: str = ""
    manage_all_nodes: bool = False
    manage_nodes_with_annotation_selector: str = ""
    manage_nodes_with_label_selector: str = ""
    disregard_status_with_annotation_selector: str = ""
    disregard_status_with_label_selector: str = ""
    server_address: str = ""
    node_lease_duration_seconds: int = 0
    node_lease_parallelism: int = 4
    pod_play_stage_parallelism: int = 4
    node_play_stage_parallelism: int = 4
    enable_crds: list[str] = field(default_factory=list)
    enable_debugging_handlers: bool = True

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> KwokOptions:
        """From KwokConfiguration.options (camelCase keys); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        kwargs = {}
        for key, value in options.items():
            name = _snake(key)
            if name in names and value is not None:
                kwargs[name] = value
        return cls(**kwargs)

    def validate(self) -> None:
        modes = [
            bool(self.manage_single_node),
            self.manage_all_nodes,
            bool(self.manage_nodes_with_annotation_selector or self.manage_nodes_with_label_selector),
        ]
        if self.manage_single_node and (self.manage_all_nodes or modes[2]):
            raise OptionsError(
                "manage-single-node is conflicted with manage-all-nodes, "
                "manage-nodes-with-annotation-selector or manage-nodes-with-label-selector"
            )
        if self.manage_all_nodes and modes[2]:
            raise OptionsError(
                "manage-all-nodes is conflicted with manage-nodes-with-annotation-selector "
                "or manage-nodes-with-label-selector"
            )
        if not any(modes):
            raise OptionsError("no nodes are managed")
        for kind in self.enable_crds:
            if kind not in CRD_KINDS:
                raise OptionsError(f"invalid crd: {kind}")
        for flag, text in (
            ("manage-nodes-with-annotation-selector", self.manage_nodes_with_annotation_selector),
            ("manage-nodes-with-label-selector", self.manage_nodes_with_label_selector),
        ):
            _selector(flag, text)
        if self.node_lease_duration_seconds < 0:
            raise OptionsError("node-lease-duration-seconds must not be negative")
        for name in ("pod_play_stage_parallelism", "node_play_stage_parallelism", "node_lease_parallelism"):
            if getattr(self, name) < 1:
                raise OptionsError(f"{name}: must be at least 1")

    @property
    def annotation_selector(self) -> LabelSelector | None:
        text = self.manage_nodes_with_annotation_selector
        return _selector("manage-nodes-with-annotation-selector", text) if text else None

    @property
    def listen_address(self) -> str:
        """--server-address, else 0.0.0.0:<--node-port> when a node port is set, else no server."""
        if self.server_address:
            return self.server_address
        return f"0.0.0.0:{self.node_port}" if self.node_port else ""


def _selector(flag: str, text: str) -> LabelSelector:
    try:
        return parse_label_selector(text)
    except SelectorError as err:
        raise OptionsError(f"--{flag}: {err}") from None


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)  # nodeIP -> node_ip, enableCRDs -> enable_crds
