"""The engine's public surface (kwok.engine.__all__) is what the controller and kwokctl import."""

from __future__ import annotations

import kwok.engine


def test_exported_members() -> None:
    assert sorted(kwok.engine.__all__) == sorted(
        [
            "PATCH_TYPES",
            "STAGE_SET_NAMES",
            "Action",
            "CELContext",
            "CELError",
            "CELProgram",
            "Candidate",
            "ConfigError",
            "Documents",
            "GoTemplate",
            "IPPool",
            "IPPoolExhausted",
            "Lifecycle",
            "PodNetwork",
            "Stage",
            "StageError",
            "StageSet",
            "StepError",
            "TemplateError",
            "add_cidr",
            "add_ip",
            "default_stages",
            "environment_funcs",
            "load_documents",
            "scale_funcs",
            "stub_funcs",
        ]
    )
    for name in kwok.engine.__all__:
        assert getattr(kwok.engine, name) is not None
