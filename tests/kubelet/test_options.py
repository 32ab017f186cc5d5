"""KwokOptions: config keys, and KWOK's start-up validation."""

from __future__ import annotations

import pytest

from kwok.kubelet.options import KwokOptions, OptionsError


def test_kwok_configuration_options_map_to_fields() -> None:
    opts = KwokOptions.from_config({"nodeIP": "1.2.3.4", "manageAllNodes": True, "enableCRDs": ["Stage"],
                                    "podPlayStageParallelism": 8, "unknownOption": 1})
    assert (opts.node_ip, opts.manage_all_nodes, opts.enable_crds, opts.pod_play_stage_parallelism) == (
        "1.2.3.4", True, ["Stage"], 8)
    opts.validate()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "no nodes are managed"),
    ({"manage_all_nodes": True, "manage_nodes_with_label_selector": "a=b"}, "manage-all-nodes is conflicted"),
    ({"manage_single_node": "n", "manage_nodes_with_annotation_selector": "a=b"}, "manage-single-node is conflicted"),
    ({"manage_all_nodes": True, "enable_crds": ["Node"]}, "invalid crd: Node"),
    ({"manage_nodes_with_annotation_selector": "a in ("}, "manage-nodes-with-annotation-selector"),
    ({"manage_all_nodes": True, "node_play_stage_parallelism": 0}, "at least 1"),
])
def test_invalid_combinations(kwargs: dict, message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        KwokOptions(**kwargs).validate()


def test_listen_address_follows_kwok() -> None:
    assert KwokOptions().listen_address == ""
    assert KwokOptions(node_port=10250).listen_address == "0.0.0.0:10250"
    assert KwokOptions(node_port=10250, server_address="127.0.0.1:1").listen_address == "127.0.0.1:1"
