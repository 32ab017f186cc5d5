"""Auditing as kube-apiserver's `--audit-policy-file` and `--audit-log-path` (the log backend).

The policy is an `audit.k8s.io/v1` Policy: the first rule that matches a request sets its level
(`None`, `Metadata`, `Request`, `RequestResponse`); no matching rule means `None`. A rule matches
on users, user groups, verbs, and either resources (group, resources with `*`, `*/sub` and `res/*`
forms, resource names, namespaces) or non-resource URLs (`/healthz`, `/api*`), as the real
policy checker does.

Each audited request writes JSON lines of `audit.k8s.io/v1` Events to the log: `RequestReceived`
before it is handled, `ResponseStarted` when a long-running request (watch, exec, attach,
port-forward, proxy, log) sends its headers, and `ResponseComplete` when it is done; a policy's
`omitStages` drops stages. At level `Request` the event carries the request body, at
`RequestResponse` the response body too (without managedFields under `omitManagedFields`).
Nothing of this runs, not even a check, when no policy is given.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import yaml

LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
_OBJECT_REF_ORDER = ("resource", "namespace", "name", "uid", "apiGroup", "apiVersion", "resourceVersion", "subresource")
_LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})


class PolicyError(ValueError):
    """The policy file cannot be used; the message says what and where."""


@dataclass(frozen=True)
class GroupResources:
    group: str
    resources: tuple[str, ...]
    resource_names: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    level: str
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool | None = None


@dataclass(frozen=True)
class Attributes:
    """What a rule looks at: who, which verb, and which resource or path."""

    user: str
    groups: tuple[str, ...]
    verb: str
    path: str
    resource_request: bool
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class Decision:
    level: str
    omit_stages: frozenset[str]
    omit_managed_fields: bool


class Policy:
    def __init__(self, rules: list[Rule], omit_stages: frozenset[str] = frozenset(),
                 omit_managed_fields: bool = False) -> None:
        self.rules = rules
        self.omit_stages = omit_stages
        self.omit_managed_fields = omit_managed_fields

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PolicyError(f"{path}: {exc.strerror or exc}") from None
        return cls.from_yaml(data, str(path))

    @classmethod
    def from_yaml(cls, data: bytes, where: str) -> Policy:
        try:
            doc = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{where}: not YAML: {exc}") from None
        return cls.parse(doc, where)

    @classmethod
    def parse(cls, doc: Any, where: str = "policy") -> Policy:
        if not isinstance(doc, dict):
            raise PolicyError(f"{where}: an audit.k8s.io/v1 Policy object is expected")
        if doc.get("kind") != "Policy" or doc.get("apiVersion") not in ("audit.k8s.io/v1", "audit.k8s.io/v1beta1"):
            raise PolicyError(f'{where}: kind "{doc.get("kind")}" of apiVersion "{doc.get("apiVersion")}" '
                              'is not an audit policy (kind: Policy, apiVersion: audit.k8s.io/v1)')
        rules_doc = doc.get("rules") or []
        if not isinstance(rules_doc, list):
            raise PolicyError(f"{where}: rules: a list is expected")
        rules = [_rule(r, f"{where}: rules[{i}]") for i, r in enumerate(rules_doc)]
        if not rules:
            raise PolicyError(f"{where}: rules: Required value: at least one rule is needed")
        return cls(rules, _stages(doc.get("omitStages"), f"{where}: omitStages"), bool(doc.get("omitManagedFields")))

    def decide(self, attrs: Attributes) -> Decision:
        for rule in self.rules:
            if _matches(rule, attrs):
                omit_managed = self.omit_managed_fields if rule.omit_managed_fields is None else rule.omit_managed_fields
                return Decision(rule.level, self.omit_stages | rule.omit_stages, omit_managed)
        return Decision("None", self.omit_stages, self.omit_managed_fields)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: a list of strings is expected")
    return tuple(value)


def _stages(value: Any, where: str) -> frozenset[str]:
    stages = _strings(value, where)
    for stage in stages:
        if stage not in STAGES:
            raise PolicyError(f'{where}: Unsupported value: "{stage}": supported values: '
                              + ", ".join(f'"{s}"' for s in STAGES))
    return frozenset(stages)


def _rule(doc: Any, where: str) -> Rule:
    if not isinstance(doc, dict):
        raise PolicyError(f"{where}: an object is expected")
    level = doc.get("level")
    if level not in LEVELS:
        raise PolicyError(f'{where}.level: Unsupported value: "{level}": supported values: '
                          + ", ".join(f'"{v}"' for v in LEVELS))
    resources = []
    for i, gr in enumerate(doc.get("resources") or []):
        if not isinstance(gr, dict):
            raise PolicyError(f"{where}.resources[{i}]: an object is expected")
        resources.append(GroupResources(str(gr.get("group") or ""),
                                        _strings(gr.get("resources"), f"{where}.resources[{i}].resources"),
                                        _strings(gr.get("resourceNames"), f"{where}.resources[{i}].resourceNames")))
    rule = Rule(level, _strings(doc.get("users"), f"{where}.users"),
                _strings(doc.get("userGroups"), f"{where}.userGroups"), _strings(doc.get("verbs"), f"{where}.verbs"),
                tuple(resources), _strings(doc.get("namespaces"), f"{where}.namespaces"),
                _strings(doc.get("nonResourceURLs"), f"{where}.nonResourceURLs"),
                _stages(doc.get("omitStages"), f"{where}.omitStages"),
                None if doc.get("omitManagedFields") is None else bool(doc.get("omitManagedFields")))
    if rule.non_resource_urls and (rule.resources or rule.namespaces):
        raise PolicyError(f"{where}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources "
                          "and non-resource URLs")
    return rule


def _matches(rule: Rule, attrs: Attributes) -> bool:
    if rule.users and attrs.user not in rule.users:
        return False
    if rule.user_groups and not any(g in rule.user_groups for g in attrs.groups):
        return False
    if rule.verbs and attrs.verb not in rule.verbs:
        return False
    if rule.namespaces or rule.resources:
        return _matches_resource(rule, attrs)
    if rule.non_resource_urls:
        return not attrs.resource_request and any(_path_matches(attrs.path, s) for s in rule.non_resource_urls)
    return True


def _path_matches(path: str, spec: str) -> bool:
    return spec in ("*", path) or (spec.endswith("*") and path.startswith(spec.rstrip("*")))


def _matches_resource(rule: Rule, attrs: Attributes) -> bool:
    if not attrs.resource_request:
        return False
    if rule.namespaces and attrs.namespace not in rule.namespaces:   # cluster-scoped: ""
        return False
    if not rule.resources:
        return True
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    for gr in rule.resources:
        if gr.group != attrs.group:
            continue
        if not gr.resources:
            return True
        if gr.resource_names and attrs.name not in gr.resource_names:
            continue
        for res in gr.resources:
            if res in (combined, "*"):
                return True
            if attrs.subresource and res.startswith("*/") and res[2:] == attrs.subresource:
                return True
            if res.endswith("/*") and res[:-2] == attrs.resource:
                return True
    return False


def long_running(verb: str, subresource: str) -> bool:
    """kube-apiserver's BasicLongRunningRequestCheck: watches, proxies and streams."""
    return verb in ("watch", "proxy") or subresource in _LONG_RUNNING_SUBRESOURCES


def _micro_time(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _without_managed_fields(obj: Any) -> Any:
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        if isinstance(meta, dict) and "managedFields" in meta:
            obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
        items = obj.get("items")
        if isinstance(items, list):
            obj = {**obj, "items": [_without_managed_fields(i) for i in items]}
    return obj


class AuditLog:
    """The policy and the file events are appended to (`-`: standard output)."""

    def __init__(self, policy: Policy, path: str) -> None:
        self.policy = policy
        self.path = path
        self._out: IO[bytes]
        if path == "-":
            self._out = sys.stdout.buffer
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._out = open(path, "ab")  # noqa: SIM115 - open for the life of the server
        self.events = 0

    def begin(self, attrs: Attributes, audit_id: str, request_uri: str, source_ip: str, user_agent: str,
              object_ref: dict[str, str] | None,
              requester: tuple[str, tuple[str, ...]] | None = None) -> Record | None:
        """The request's record, its RequestReceived written; None when the policy says `None`.
        `requester`: who authenticated, when `attrs` names the user they impersonate."""
        decision = self.policy.decide(attrs)
        if decision.level == "None":
            return None
        acting = {"username": attrs.user, "groups": list(attrs.groups)}
        base: dict[str, Any] = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": decision.level, "auditID": audit_id,
            "stage": "", "requestURI": request_uri, "verb": attrs.verb,
            "user": {"username": requester[0], "groups": list(requester[1])} if requester else acting,
        }
        if requester:
            base["impersonatedUser"] = acting
        base.update({"sourceIPs": [source_ip] if source_ip else [], "userAgent": user_agent})
        record = Record(self, decision, base, object_ref, dt.datetime.now(dt.UTC))
        record.write("RequestReceived")
        return record

    def emit(self, event: dict[str, Any]) -> None:
        self._out.write(orjson.dumps(event) + b"\n")
        self._out.flush()
        self.events += 1

    def close(self) -> None:
        if self._out is not sys.stdout.buffer:
            self._out.close()


class Record:
    """One audited request: its fixed fields, and what later stages add."""

    def __init__(self, log: AuditLog, decision: Decision, base: dict[str, Any], object_ref: dict[str, str] | None,
                 received: dt.datetime) -> None:
        self.log = log
        self.decision = decision
        self.base = base
        self.object_ref = object_ref
        self.received = received
        self.long_running = False      # a watch or stream: ResponseStarted when its headers go out
        self.response_status: dict[str, Any] | None = None
        self.request_object: Any = None
        self.response_object: Any = None

    @property
    def level(self) -> str:
        return self.decision.level

    def write(self, stage: str) -> None:
        if stage in self.decision.omit_stages:
            return
        event = dict(self.base, stage=stage)
        if self.object_ref:
            event["objectRef"] = self.object_ref
        if self.response_status is not None and stage != "RequestReceived":
            event["responseStatus"] = self.response_status
        if stage == "ResponseComplete":
            if self.request_object is not None:
                event["requestObject"] = self.request_object
            if self.response_object is not None:
                event["responseObject"] = self.response_object
        event["requestReceivedTimestamp"] = _micro_time(self.received)
        event["stageTimestamp"] = _micro_time(dt.datetime.now(dt.UTC))
        event["annotations"] = {"authorization.k8s.io/decision": "allow",
                                "authorization.k8s.io/reason": ""}
        self.log.emit(event)

    def started(self, code: int) -> None:
        self.response_status = {"metadata": {}, "code": code}
        self.write("ResponseStarted")

    def complete(self, code: int, status: dict[str, Any] | None, request_object: Any, response_object: Any) -> None:
        """ResponseComplete; `status` is the Status the request failed (or succeeded) with, if any;
        the objects are the decoded request and response bodies (None: none, or not logged)."""
        if status is not None:
            self.response_status = {"metadata": {}, **{k: status[k] for k in
                                                       ("status", "message", "reason", "details", "code")
                                                       if status.get(k) not in (None, "", {})}}
            self.response_status.setdefault("code", code)
        else:
            self.response_status = {"metadata": {}, "code": code}
        if self.object_ref is not None and not self.object_ref.get("name"):
            name = _object_name(request_object)    # a create names its object in the body
            if name:
                ref = {**self.object_ref, "name": name}
                self.object_ref = {k: ref[k] for k in _OBJECT_REF_ORDER if k in ref}
        if self.level in ("Request", "RequestResponse") and request_object is not None:
            self.request_object = self._shown(request_object)
        if self.level == "RequestResponse" and response_object is not None:
            self.response_object = self._shown(response_object)
        self.write("ResponseComplete")

    def _shown(self, obj: Any) -> Any:
        return _without_managed_fields(obj) if self.decision.omit_managed_fields else obj


def _object_name(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""
