"""The public surface of kwok.controlplane."""

from __future__ import annotations

import kwok.controlplane as cp


def test_exported_members() -> None:
    assert sorted(cp.__all__) == ["ControllerManager", "ManagerOptions", "ProcessOptions", "Scheduler", "run",
                                  "select_controllers"]
    for name in cp.__all__:
        assert getattr(cp, name) is not None
    assert cp.select_controllers("*,-job,-cronjob").count("job") == 0
