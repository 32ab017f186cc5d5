"""The parts of a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) that apply here:
profile scheduler names and percentageOfNodesToScore. Plugin configuration is not supported;
such a file is rejected with a clear error rather than silently scheduling differently."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class SchedulerSettings:
    scheduler_names: tuple[str, ...] = ("default-scheduler",)
    percentage_of_nodes_to_score: int = 0


class SchedulerConfigError(ValueError):
    pass


def parse_scheduler_config(text: str) -> SchedulerSettings:
    doc = yaml.load(text, Loader=yaml.CSafeLoader) or {}
    if doc.get("kind") not in (None, "KubeSchedulerConfiguration"):
        raise SchedulerConfigError(f"no kind \"{doc.get('kind')}\" is registered for the scheduler configuration")
    profiles = doc.get("profiles") or [{}]
    names = []
    for profile in profiles:
        if profile.get("plugins") or profile.get("pluginConfig"):
            raise SchedulerConfigError(
                f"profile {profile.get('schedulerName', 'default-scheduler')!r}: custom plugins are not supported")
        names.append(profile.get("schedulerName") or "default-scheduler")
    if len(set(names)) != len(names):
        raise SchedulerConfigError("profiles[1].schedulerName: Duplicate value")
    return SchedulerSettings(tuple(names), int(doc.get("percentageOfNodesToScore") or 0))


def load_scheduler_config(path: str | None) -> SchedulerSettings:
    if not path:
        return SchedulerSettings()
    with open(path, encoding="utf-8") as f:
        return parse_scheduler_config(f.read())
