"""Built-in resources served when the generated schema (kwok.api.schema) is not available.

The schema file is the source of truth; this table is the fallback that keeps the server usable
while the schema is being generated, and lists the REST facts in the same shape (ResourceInfo).
"""

from __future__ import annotations

from kwok.api.schema import ResourceInfo

_ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_CREATE = ("create",)

# group/version, Kind, plural, namespaced, shortNames, categories, subresources
_TABLE: list[tuple[str, str, str, bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("v1", "Namespace", "namespaces", False, ("ns",), (), ("status", "finalize")),
    ("v1", "Node", "nodes", False, ("no",), (), ("status", "proxy")),
    ("v1", "Pod", "pods", True, ("po",), ("all",),
     ("status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers", "resize")),
    ("v1", "ConfigMap", "configmaps", True, ("cm",), (), ()),
    ("v1", "Secret", "secrets", True, (), (), ()),
    ("v1", "Service", "services", True, ("svc",), ("all",), ("status", "proxy")),
    ("v1", "ServiceAccount", "serviceaccounts", True, ("sa",), (), ("token",)),
    ("v1", "Endpoints", "endpoints", True, ("ep",), (), ()),
    ("v1", "Event", "events", True, ("ev",), (), ()),
    ("v1", "PersistentVolume", "persistentvolumes", False, ("pv",), (), ("status",)),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), (), ("status",)),
    ("v1", "ReplicationController", "replicationcontrollers", True, ("rc",), ("all",), ("status", "scale")),
    ("v1", "ResourceQuota", "resourcequotas", True, ("quota",), (), ("status",)),
    ("v1", "LimitRange", "limitranges", True, ("limits",), (), ()),
    ("v1", "PodTemplate", "podtemplates", True, (), (), ()),
    ("apps/v1", "Deployment", "deployments", True, ("deploy",), ("all",), ("status", "scale")),
    ("apps/v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",), ("status", "scale")),
    ("apps/v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), ("status",)),
    ("apps/v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",), ("status", "scale")),
    ("apps/v1", "ControllerRevision", "controllerrevisions", True, (), (), ()),
    ("batch/v1", "Job", "jobs", True, (), ("all",), ("status",)),
    ("batch/v1", "CronJob", "cronjobs", True, ("cj",), ("all",), ("status",)),
    ("coordination.k8s.io/v1", "Lease", "leases", True, (), (), ()),
    ("events.k8s.io/v1", "Event", "events", True, ("ev",), (), ()),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), (), ("status",)),
    ("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False, ("pc",), (), ()),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", False, ("sc",), (), ()),
    ("storage.k8s.io/v1", "CSINode", "csinodes", False, (), (), ()),
    ("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True, (), (), ()),
    ("networking.k8s.io/v1", "Ingress", "ingresses", True, ("ing",), (), ("status",)),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, ("netpol",), (), ()),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", True, (), (), ()),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True, (), (), ()),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False, (), (), ()),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False, (), (), ()),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False, ("crd", "crds"), (),
     ("status",)),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), ("all",), ("status",)),
]

# Virtual, create-only resources (reviews): nothing is stored.
_CREATE_ONLY = [
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False),
    ("authorization.k8s.io/v1", "SubjectAccessReview", "subjectaccessreviews", False),
    ("authentication.k8s.io/v1", "TokenReview", "tokenreviews", False),
    ("authentication.k8s.io/v1", "SelfSubjectReview", "selfsubjectreviews", False),
]


def _info(gv: str, kind: str, plural: str, namespaced: bool, verbs: tuple[str, ...], **kw: object) -> ResourceInfo:
    group, _, version = gv.rpartition("/")
    return ResourceInfo(group=group, version=version, kind=kind, plural=plural, singular=kind.lower(),
                        namespaced=namespaced, list_kind=kind + "List", verbs=verbs, **kw)  # type: ignore[arg-type]


def builtin_resources() -> list[ResourceInfo]:
    out = [_info(gv, kind, plural, ns, _ALL, short_names=short,
                 categories=cats, subresources=subs)
           for gv, kind, plural, ns, short, cats, subs in _TABLE]
    out += [_info(gv, kind, plural, ns, _CREATE) for gv, kind, plural, ns in _CREATE_ONLY]
    return out
