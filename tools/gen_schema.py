"""Generate `src/kwok/api/data/schema.json` (and `descriptions.json`) from the upstream protos.

    python tools/gen_schema.py            # (re)write the data files
    python tools/gen_schema.py --check    # exit 1 if the committed files are out of date

Input: every `generated.proto` under the upstream `k8s-api` and `k8s-apimachinery` folders
(Kubernetes 1.36). A small proto2 parser reads messages, fields, maps, field numbers and the
comment markers that matter to the API machinery (`+optional`, `+required`, `+patchMergeKey`,
`+patchStrategy`, `+listType`, `+listMapKey`). Protos do not carry the REST facts (plural, scope,
short names, categories, verbs, subresources), so those live in the `RESOURCES` table below,
written as `kubectl api-resources -o wide` prints them on a real 1.36 cluster.

Output `schema.json` (compact, loaded by `kwok.api.schema` on first use):

    {"messages": {"<full name>": [[json name, number, type, ref|null, {flags}?], ...]},
     "resources": [[group, version, kind, plural, scope, list kind, verbs, short names,
                    categories, [[subresource, group, version, kind, verbs], ...], message|null]],
     "atomic": [messages marked +structType=atomic]}

flags: "r" repeated, "m" map value kind, "ps" patch strategy, "pk" patch merge key, "lt" list
type, "lk" list map keys, "mt" map type, "req" required (not `+optional`), "i" inline (a Go
embedded struct), "k" keeps its zero in JSON, "z" omitzero.

What the protos get wrong about JSON is corrected by small tables below, each checked against the
protos when the tool runs: INLINE (embedded structs), JSON_NAMES (proto names that are not the
JSON names), POINTERS and NO_OMITEMPTY (optional scalars whose zero JSON keeps), OMITEMPTY (fields
without `+optional` that are optional all the same) and OMIT_ZERO.

Output `descriptions.json` (loaded only to serve OpenAPI for `kubectl explain`):
    {"<full name>": ["message description", {"field": "description", ...}]}
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # also runs from a checkout that is not installed
from kwok.api.schema import proto_package  # noqa: E402

DATA = ROOT / "src" / "kwok" / "api" / "data"
# ../shared/upstream beside the checkout, as sessions and CI lay it out.
DEFAULT_UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream"

# ------------------------------------------------------------------------------------------------
# Proto types whose JSON form is not their protobuf shape.
# ------------------------------------------------------------------------------------------------
META = "k8s.io.apimachinery.pkg.apis.meta.v1"
SPECIAL_MESSAGES = {
    f"{META}.Time": "time",
    f"{META}.MicroTime": "microtime",
    f"{META}.Duration": "duration",
    f"{META}.FieldsV1": "fieldsv1",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intstr",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawextension",
}
# Go named slices (`type ExtraValue []string`) are boxed in a message on the wire
# (`+protobuf.nullable=true`, one `repeated string items = 1`); in JSON they are a plain list.
STRING_LIST = "stringlist"

SCALARS = {"string": "string", "bool": "bool", "int32": "int32", "int64": "int64", "bytes": "bytes",
           "double": "double", "float": "double", "uint32": "int64", "uint64": "int64",
           "sint32": "int32", "sint64": "int64", "fixed32": "int64", "fixed64": "int64"}

# ------------------------------------------------------------------------------------------------
# REST facts of the resources a Kubernetes 1.36 API server serves by default.
# ------------------------------------------------------------------------------------------------
FULL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
CREATE = ("create",)
READ = ("get", "list")
RW = ("get", "patch", "update")
PROXY = ("create", "delete", "get", "patch", "update")
CONNECT = ("create", "get")

# Subresources: name -> (group, version, kind or "" for the resource's own kind, verbs).
STATUS = ("status", None, None, "", RW)
SCALE = ("scale", "autoscaling", "v1", "Scale", RW)
POD_SUBRESOURCES = (
    ("attach", "", "v1", "PodAttachOptions", CONNECT),
    ("binding", "", "v1", "Binding", CREATE),
    ("ephemeralcontainers", None, None, "", RW),
    ("eviction", "policy", "v1", "Eviction", CREATE),
    ("exec", "", "v1", "PodExecOptions", CONNECT),
    ("log", None, None, "", ("get",)),
    ("portforward", "", "v1", "PodPortForwardOptions", CONNECT),
    ("proxy", "", "v1", "PodProxyOptions", PROXY),
    ("resize", None, None, "", RW),
    STATUS,
)


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...] = FULL
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[tuple[str, str | None, str | None, str, tuple[str, ...]], ...] = ()
    proto: str | None = ""   # proto package; "" = derived from the group; None = not in upstream protos


NS, CLUSTER = True, False
ALL = ("all",)
EXT = ("api-extensions",)
ADM = "admissionregistration.k8s.io"
RESOURCES: tuple[Resource, ...] = (
    # core/v1, in `kubectl api-resources` order
    Resource("", "v1", "Binding", "bindings", NS, CREATE),
    Resource("", "v1", "ComponentStatus", "componentstatuses", CLUSTER, READ, ("cs",)),
    Resource("", "v1", "ConfigMap", "configmaps", NS, short_names=("cm",)),
    Resource("", "v1", "Endpoints", "endpoints", NS, short_names=("ep",)),
    Resource("", "v1", "Event", "events", NS, short_names=("ev",)),
    Resource("", "v1", "LimitRange", "limitranges", NS, short_names=("limits",)),
    Resource("", "v1", "Namespace", "namespaces", CLUSTER, NO_COLLECTION, ("ns",),
             subresources=(("finalize", None, None, "", ("update",)), STATUS)),
    Resource("", "v1", "Node", "nodes", CLUSTER, short_names=("no",),
             subresources=(("proxy", "", "v1", "NodeProxyOptions", PROXY), STATUS)),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", NS, short_names=("pvc",),
             subresources=(STATUS,)),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", CLUSTER, short_names=("pv",),
             subresources=(STATUS,)),
    Resource("", "v1", "Pod", "pods", NS, short_names=("po",), categories=ALL,
             subresources=POD_SUBRESOURCES),
    Resource("", "v1", "PodTemplate", "podtemplates", NS),
    Resource("", "v1", "ReplicationController", "replicationcontrollers", NS, short_names=("rc",),
             categories=ALL, subresources=(SCALE, STATUS)),
    Resource("", "v1", "ResourceQuota", "resourcequotas", NS, short_names=("quota",),
             subresources=(STATUS,)),
    Resource("", "v1", "Secret", "secrets", NS),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", NS, short_names=("sa",),
             subresources=(("token", "authentication.k8s.io", "v1", "TokenRequest", CREATE),)),
    Resource("", "v1", "Service", "services", NS, short_names=("svc",), categories=ALL,
             subresources=(("proxy", "", "v1", "ServiceProxyOptions", PROXY), STATUS)),
    # admissionregistration.k8s.io/v1
    Resource(ADM, "v1", "MutatingAdmissionPolicy", "mutatingadmissionpolicies", CLUSTER,
             categories=EXT),
    Resource(ADM, "v1", "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings", CLUSTER,
             categories=EXT),
    Resource(ADM, "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", CLUSTER,
             categories=EXT),
    Resource(ADM, "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", CLUSTER,
             categories=EXT, subresources=(STATUS,)),
    Resource(ADM, "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings",
             CLUSTER, categories=EXT),
    Resource(ADM, "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", CLUSTER,
             categories=EXT),
    # apiextensions.k8s.io/v1: its proto lives in k8s.io/apiextensions-apiserver, not upstream/
    Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
             CLUSTER, short_names=("crd", "crds"), categories=EXT, subresources=(STATUS,), proto=None),
    # apps/v1
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", NS),
    Resource("apps", "v1", "DaemonSet", "daemonsets", NS, short_names=("ds",), categories=ALL,
             subresources=(STATUS,)),
    Resource("apps", "v1", "Deployment", "deployments", NS, short_names=("deploy",), categories=ALL,
             subresources=(SCALE, STATUS)),
    Resource("apps", "v1", "ReplicaSet", "replicasets", NS, short_names=("rs",), categories=ALL,
             subresources=(SCALE, STATUS)),
    Resource("apps", "v1", "StatefulSet", "statefulsets", NS, short_names=("sts",), categories=ALL,
             subresources=(SCALE, STATUS)),
    # authentication.k8s.io/v1, authorization.k8s.io/v1: create-only reviews
    Resource("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", CLUSTER, CREATE),
    Resource("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", CLUSTER, CREATE),
    Resource("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews",
             NS, CREATE),
    Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
             CLUSTER, CREATE),
    Resource("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
             CLUSTER, CREATE),
    Resource("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", CLUSTER,
             CREATE),
    # autoscaling: v2 is the preferred version, so it comes first
    Resource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", NS,
             short_names=("hpa",), categories=ALL, subresources=(STATUS,)),
    Resource("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", NS,
             short_names=("hpa",), categories=ALL, subresources=(STATUS,)),
    # batch/v1
    Resource("batch", "v1", "CronJob", "cronjobs", NS, short_names=("cj",), categories=ALL,
             subresources=(STATUS,)),
    Resource("batch", "v1", "Job", "jobs", NS, categories=ALL, subresources=(STATUS,)),
    # certificates.k8s.io/v1
    Resource("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests",
             CLUSTER, short_names=("csr",),
             subresources=(("approval", None, None, "", RW), STATUS)),
    # coordination.k8s.io/v1
    Resource("coordination.k8s.io", "v1", "Lease", "leases", NS),
    # discovery.k8s.io/v1
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", NS),
    # events.k8s.io/v1
    Resource("events.k8s.io", "v1", "Event", "events", NS, short_names=("ev",)),
    # flowcontrol.apiserver.k8s.io/v1
    Resource("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", CLUSTER,
             subresources=(STATUS,)),
    Resource("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration",
             "prioritylevelconfigurations", CLUSTER, subresources=(STATUS,)),
    # networking.k8s.io/v1
    Resource("networking.k8s.io", "v1", "IngressClass", "ingressclasses", CLUSTER),
    Resource("networking.k8s.io", "v1", "Ingress", "ingresses", NS, short_names=("ing",),
             subresources=(STATUS,)),
    Resource("networking.k8s.io", "v1", "IPAddress", "ipaddresses", CLUSTER, short_names=("ip",)),
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", NS,
             short_names=("netpol",)),
    Resource("networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", CLUSTER,
             subresources=(STATUS,)),
    # node.k8s.io/v1
    Resource("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", CLUSTER),
    # policy/v1
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", NS, short_names=("pdb",),
             subresources=(STATUS,)),
    # rbac.authorization.k8s.io/v1
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", CLUSTER),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", CLUSTER),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", NS),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", NS),
    # resource.k8s.io/v1 (dynamic resource allocation)
    Resource("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", CLUSTER),
    Resource("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", NS, subresources=(STATUS,)),
    Resource("resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", NS),
    Resource("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", CLUSTER),
    # scheduling.k8s.io/v1
    Resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", CLUSTER,
             short_names=("pc",)),
    # storage.k8s.io/v1
    Resource("storage.k8s.io", "v1", "CSIDriver", "csidrivers", CLUSTER),
    Resource("storage.k8s.io", "v1", "CSINode", "csinodes", CLUSTER),
    Resource("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", NS),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", CLUSTER, short_names=("sc",)),
    Resource("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", CLUSTER,
             subresources=(STATUS,)),
    Resource("storage.k8s.io", "v1", "VolumeAttributesClass", "volumeattributesclasses", CLUSTER,
             short_names=("vac",)),
)

# Group order of a real API server's discovery: it decides which group wins a short name that two
# groups share (`ev` is core's events, not events.k8s.io's).
DISCOVERY_ORDER = ("", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
                   "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy",
                   "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
                   "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
                   "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io")


def discovery_rank(r: Resource) -> int:
    return DISCOVERY_ORDER.index(r.group)  # stable sort keeps the table's order inside a group


# ------------------------------------------------------------------------------------------------
# Where the JSON form of a type differs from its proto field names.
# ------------------------------------------------------------------------------------------------
# Go embedded structs (`json:",inline"`): their fields appear in the parent's JSON object. The
# proto names them after the embedded type; found by decoding every upstream fixture.
INLINE = {  # (field name, message short name)
    ("volumeSource", "VolumeSource"),
    ("persistentVolumeSource", "PersistentVolumeSource"),
    ("handler", "ProbeHandler"),
    ("ephemeralContainerCommon", "EphemeralContainerCommon"),
    ("localObjectReference", "LocalObjectReference"),
    ("ingressRuleValue", "IngressRuleValue"),
    ("rule", "Rule"),
    ("ruleWithOperations", "RuleWithOperations"),
    ("deviceConfiguration", "DeviceConfiguration"),
}
# Go pointer scalars (`*int32`, `*bool`, `*string`) of optional fields: gogo writes them only when
# set, and Go's JSON keeps their zero (`replicas: 0`, `automountServiceAccountToken: false`). A
# non-pointer optional scalar is always on the wire and its zero is dropped by `omitempty`; the
# protos cannot tell the two apart, so the pointers are listed here, by "<api dir>.<Message>"
# (every version of the group) -- the fields whose zero differs from unset.
POINTERS = {
    "core.PodSpec": "terminationGracePeriodSeconds activeDeadlineSeconds automountServiceAccountToken "
                    "shareProcessNamespace priority enableServiceLinks preemptionPolicy runtimeClassName "
                    "setHostnameAsFQDN hostUsers hostnameOverride",
    "core.PodSecurityContext": "runAsUser runAsGroup runAsNonRoot fsGroup fsGroupChangePolicy "
                               "supplementalGroupsPolicy seLinuxChangePolicy",
    "core.SecurityContext": "privileged runAsUser runAsGroup runAsNonRoot readOnlyRootFilesystem "
                            "allowPrivilegeEscalation procMount",
    "core.Probe": "terminationGracePeriodSeconds",
    "core.Container": "restartPolicy",
    "core.EphemeralContainerCommon": "restartPolicy",
    "core.SecretVolumeSource": "defaultMode optional",
    "core.ConfigMapVolumeSource": "defaultMode optional",
    "core.ProjectedVolumeSource": "defaultMode",
    "core.DownwardAPIVolumeSource": "defaultMode",
    "core.KeyToPath": "mode",
    "core.DownwardAPIVolumeFile": "mode",
    "core.ConfigMapKeySelector": "optional",
    "core.SecretKeySelector": "optional",
    "core.ConfigMapEnvSource": "optional",
    "core.SecretEnvSource": "optional",
    "core.ConfigMapProjection": "optional",
    "core.SecretProjection": "optional",
    "core.ServiceAccountTokenProjection": "expirationSeconds",
    "core.CSIVolumeSource": "readOnly fsType",
    "core.PersistentVolumeClaimSpec": "storageClassName volumeMode volumeAttributesClassName",
    "core.ServiceSpec": "allocateLoadBalancerNodePorts ipFamilyPolicy loadBalancerClass "
                        "internalTrafficPolicy trafficDistribution",
    "core.ServicePort": "appProtocol",
    "core.EndpointPort": "appProtocol",
    "core.ClientIPConfig": "timeoutSeconds",
    "core.ServiceAccount": "automountServiceAccountToken",
    "core.Secret": "immutable",
    "core.ConfigMap": "immutable",
    "core.ReplicationControllerSpec": "replicas",
    "core.Toleration": "tolerationSeconds",
    "core.TopologySpreadConstraint": "minDomains nodeAffinityPolicy nodeTaintsPolicy",
    "core.ContainerStatus": "started",
    "core.VolumeMount": "mountPropagation recursiveReadOnly",
    "core.PodDNSConfigOption": "value",
    "core.GRPCAction": "service",
    "apps.DeploymentSpec": "replicas revisionHistoryLimit progressDeadlineSeconds",
    "apps.DeploymentStatus": "collisionCount terminatingReplicas",
    "apps.ReplicaSetSpec": "replicas",
    "apps.ReplicaSetStatus": "terminatingReplicas",
    "apps.StatefulSetSpec": "replicas revisionHistoryLimit",
    "apps.StatefulSetStatus": "collisionCount",
    "apps.RollingUpdateStatefulSetStrategy": "partition",
    "apps.DaemonSetSpec": "revisionHistoryLimit",
    "apps.DaemonSetStatus": "collisionCount",
    "batch.JobSpec": "parallelism completions activeDeadlineSeconds backoffLimit backoffLimitPerIndex "
                     "maxFailedIndexes manualSelector ttlSecondsAfterFinished completionMode suspend "
                     "podReplacementPolicy managedBy",
    "batch.JobStatus": "ready terminating failedIndexes",
    "batch.CronJobSpec": "startingDeadlineSeconds suspend successfulJobsHistoryLimit failedJobsHistoryLimit "
                         "timeZone",
    "autoscaling.HorizontalPodAutoscalerSpec": "minReplicas targetCPUUtilizationPercentage",
    "autoscaling.HorizontalPodAutoscalerStatus": "observedGeneration currentCPUUtilizationPercentage",
    "autoscaling.MetricTarget": "averageUtilization",
    "autoscaling.MetricValueStatus": "averageUtilization",
    "autoscaling.HPAScalingRules": "stabilizationWindowSeconds selectPolicy",
    "policy.PodDisruptionBudgetSpec": "unhealthyPodEvictionPolicy",
    "networking.IngressSpec": "ingressClassName",
    "networking.HTTPIngressPath": "pathType",
    "networking.NetworkPolicyPort": "protocol endPort",
    "scheduling.PriorityClass": "preemptionPolicy",
    "storage.StorageClass": "reclaimPolicy allowVolumeExpansion volumeBindingMode",
    "storage.CSIDriverSpec": "attachRequired podInfoOnMount storageCapacity fsGroupPolicy requiresRepublish "
                             "seLinuxMount nodeAllocatableUpdatePeriodSeconds",
    "coordination.LeaseSpec": "holderIdentity leaseDurationSeconds leaseTransitions strategy preferredHolder",
    "discovery.Endpoint": "hostname nodeName zone",
    "discovery.EndpointConditions": "ready serving terminating",
    "discovery.EndpointPort": "name protocol port appProtocol",
    "authentication.TokenRequestSpec": "expirationSeconds",
    "certificates.CertificateSigningRequestSpec": "expirationSeconds",
    "admissionregistration.ValidatingWebhook": "timeoutSeconds failurePolicy matchPolicy sideEffects",
    "admissionregistration.MutatingWebhook": "timeoutSeconds failurePolicy matchPolicy sideEffects "
                                             "reinvocationPolicy",
    "admissionregistration.ServiceReference": "path port",
    "admissionregistration.WebhookClientConfig": "url",
    "flowcontrol.LimitedPriorityLevelConfiguration": "nominalConcurrencyShares lendablePercent "
                                                     "borrowingLimitPercent",
    "flowcontrol.ExemptPriorityLevelConfiguration": "nominalConcurrencyShares lendablePercent",
    "meta.ObjectMeta": "deletionGracePeriodSeconds",
    "meta.OwnerReference": "controller blockOwnerDeletion",
    "meta.ListMeta": "remainingItemCount",
    "meta.DeleteOptions": "gracePeriodSeconds orphanDependents propagationPolicy "
                          "ignoreStoreReadErrorWithClusterBreakingPotential",
}
# Optional fields whose Go JSON tag has no `omitempty`: their zero is printed too.
NO_OMITEMPTY = {
    "scheduling.PriorityClass": "value",
    "policy.PodDisruptionBudgetStatus": "disruptionsAllowed currentHealthy desiredHealthy expectedPods",
    "authentication.TokenRequestStatus": "token",
}
# Fields without `+optional` whose Go JSON tag has `omitempty` all the same: kube-openapi counts them
# optional, so they are not `required` (PodSpec requires containers, not initContainers).
OMITEMPTY = {
    "core.PodSpec": "initContainers",
    "core.PodStatus": "initContainerStatuses",
    "core.ServiceSpec": "ports",
    "core.VolumeSource": "projected photonPersistentDisk",
    "core.PersistentVolumeSource": "photonPersistentDisk",
    "core.HostAlias": "hostnames",
    "core.NodeSystemInfo": "swap",
    "apps.DeploymentStatus": "conditions",
    "apps.StatefulSetSpec": "updateStrategy",
    "batch.CronJob": "spec",
    "autoscaling.HorizontalPodAutoscaler": "spec",
    "discovery.Endpoint": "conditions",
    "discovery.EndpointHints": "forZones forNodes",
    "storage.VolumeAttributesClass": "parameters",
    "admissionregistration.ValidatingAdmissionPolicy": "spec",
    "admissionregistration.ValidatingAdmissionPolicyBinding": "spec",
    "admissionregistration.MutatingAdmissionPolicy": "spec",
    "admissionregistration.MutatingAdmissionPolicyBinding": "spec",
}
# Fields tagged `omitzero` (Go 1.24): their zero is dropped even though it is a struct. Since
# Kubernetes 1.34 an unset creationTimestamp is absent rather than `null`.
OMIT_ZERO = {f"{META}.ObjectMeta.creationTimestamp"}


def table_fields(known: dict[str, ProtoMessage], *tables: dict[str, str]) -> set[str]:
    """Full field names ("<message>.<field>") a table lists; each entry must exist."""
    found: set[str] = set()
    for key, names in [item for table in tables for item in table.items()]:
        directory, _, short = key.partition(".")
        prefix = META if directory == "meta" else f"k8s.io.api.{directory}."
        messages = [m for name, m in known.items()
                    if name.rpartition(".")[2] == short and name.startswith(prefix)]
        for name in names.split():
            hits = [f"{m.name}.{name}" for m in messages if any(f.name == name for f in m.fields)]
            if not hits:
                raise SystemExit(f"no field {name} in any {key}")
            found.update(hits)
    return found


# Proto names taken from a Go field name where the JSON tag says otherwise. (DaemonEndpoint's
# `Port` really is "Port" in JSON.)
JSON_NAMES = {"Expression": "expression", "Name": "name", "Webhooks": "webhooks", "aPIGroup": "apiGroup",
              "uID": "uid"}


# ------------------------------------------------------------------------------------------------
# A proto2 parser, just large enough for go-to-protobuf's output.
# ------------------------------------------------------------------------------------------------
FIELD_RE = re.compile(r"^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$")
MAP_RE = re.compile(r"^map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$")
MESSAGE_RE = re.compile(r"^message\s+(\w+)\s*\{$")
IGNORED_RE = re.compile(r"^(syntax|package|import|option)\b.*;$")


@dataclass
class ProtoField:
    name: str
    number: int
    label: str               # "optional" | "repeated" | "map"
    type: str                # proto type name as written (value type for maps)
    markers: dict[str, list[str]]
    doc: str


@dataclass
class ProtoMessage:
    name: str                # full name, without a leading dot
    package: str
    markers: dict[str, list[str]]
    doc: str
    fields: list[ProtoField] = field(default_factory=list)


class ProtoSyntaxError(ValueError):
    pass


def split_comment(lines: list[str]) -> tuple[str, dict[str, list[str]]]:
    """Separate a comment block into its prose and its `+marker=value` lines."""
    prose: list[str] = []
    markers: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("+"):
            key, _, value = line[1:].partition("=")
            markers.setdefault(key.strip(), []).append(value.strip())
        else:
            prose.append(line)
    return "\n".join(prose).strip(), markers


def parse_proto(text: str, source: str) -> list[ProtoMessage]:
    package = ""
    stack: list[ProtoMessage] = []
    messages: list[ProtoMessage] = []
    comment: list[str] = []
    in_block = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_block:
            in_block = "*/" not in line
            continue
        if line.startswith("/*"):
            in_block = "*/" not in line
            continue
        if line.startswith("//"):
            body = line[2:]
            comment.append(body[1:] if body.startswith(" ") else body)
            continue
        if not line:
            comment = []
            continue
        doc, markers = split_comment(comment)
        comment = []
        try:
            package = parse_statement(line, package, stack, messages, doc, markers)
        except ProtoSyntaxError as err:
            raise ProtoSyntaxError(f"{source}:{lineno}: {err}") from None
    if stack:
        raise ProtoSyntaxError(f"{source}: message {stack[-1].name} is not closed")
    return messages


def parse_statement(line: str, package: str, stack: list[ProtoMessage], messages: list[ProtoMessage],
                    doc: str, markers: dict[str, list[str]]) -> str:
    if line.startswith("package "):
        return line[len("package "):].rstrip(";").strip()
    if m := MESSAGE_RE.match(line):
        scope = stack[-1].name if stack else package
        message = ProtoMessage(f"{scope}.{m[1]}", package, markers, doc)
        stack.append(message)
        messages.append(message)
    elif line == "}":
        if not stack:
            raise ProtoSyntaxError("unbalanced '}'")
        stack.pop()
    elif stack and (m := FIELD_RE.match(line)):
        label = "repeated" if m[1] == "repeated" else "optional"
        stack[-1].fields.append(ProtoField(m[3], int(m[4]), label, m[2], markers, doc))
    elif stack and (m := MAP_RE.match(line)):
        if m[1] != "string":
            raise ProtoSyntaxError(f"map key type {m[1]!r} is not supported")
        stack[-1].fields.append(ProtoField(m[3], int(m[4]), "map", m[2], markers, doc))
    elif not stack and IGNORED_RE.match(line):
        pass
    else:
        raise ProtoSyntaxError(f"cannot parse {line!r}")
    return package


# ------------------------------------------------------------------------------------------------
# From parsed protos to the compact schema.
# ------------------------------------------------------------------------------------------------
def resolve(type_name: str, message: ProtoMessage, known: dict[str, ProtoMessage]) -> str:
    """Resolve a proto type reference the way protoc does: innermost scope outwards."""
    if type_name.startswith("."):
        full = type_name[1:]
        if full not in known:
            raise ProtoSyntaxError(f"{message.name}: unknown type {type_name}")
        return full
    scope = message.name
    while scope:
        candidate = f"{scope}.{type_name}"
        if candidate in known:
            return candidate
        scope = scope.rpartition(".")[0]
    raise ProtoSyntaxError(f"{message.name}: unknown type {type_name}")


def is_string_list(message: ProtoMessage) -> bool:
    return ("protobuf.nullable" in message.markers and len(message.fields) == 1
            and message.fields[0].label == "repeated" and message.fields[0].type == "string")


def type_of(type_name: str, message: ProtoMessage, known: dict[str, ProtoMessage]) -> tuple[str, str | None]:
    """The schema type kind of a proto type, and the referenced message for plain messages."""
    if type_name in SCALARS:
        return SCALARS[type_name], None
    full = resolve(type_name, message, known)
    if full in SPECIAL_MESSAGES:
        return SPECIAL_MESSAGES[full], None
    if is_string_list(known[full]):
        return STRING_LIST, None
    return "message", full


def first(markers: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        if markers.get(key):
            return markers[key][0]
    return None


def is_optional(markers: dict[str, list[str]]) -> bool:
    if "required" in markers or "k8s:required" in markers:
        return False
    return "optional" in markers or "k8s:optional" in markers


def compact_field(f: ProtoField, message: ProtoMessage, known: dict[str, ProtoMessage],
                  keep_zero: set[str], omitempty: set[str]) -> list[object]:
    kind, ref = type_of(f.type, message, known)
    flags: dict[str, object] = {}
    if f.label == "repeated":
        flags["r"] = 1
    if f.label == "map":
        flags["m"] = kind
        kind = "message" if ref else kind
    strategy = first(f.markers, "patchStrategy")
    merge_key = first(f.markers, "patchMergeKey")
    list_type = first(f.markers, "listType", "k8s:listType")
    map_type = first(f.markers, "mapType")
    map_keys = f.markers.get("listMapKey") or f.markers.get("k8s:listMapKey") or []
    for key, value in (("ps", strategy), ("pk", merge_key), ("lt", list_type), ("lk", map_keys),
                       ("mt", map_type)):
        if value:
            flags[key] = value
    if not is_optional(f.markers) and f"{message.name}.{f.name}" not in omitempty:
        flags["req"] = 1
    if (f.name, f.type.rpartition(".")[2]) in INLINE:
        flags["i"] = 1
    if f"{message.name}.{f.name}" in keep_zero:
        flags["k"] = 1
    if f"{message.name}.{f.name}" in OMIT_ZERO:
        flags["z"] = 1
    row: list[object] = [JSON_NAMES.get(f.name, f.name), f.number, kind, ref]
    if flags:
        row.append(flags)
    return row


def compact_resource(r: Resource, known: dict[str, ProtoMessage]) -> list[object]:
    package = proto_package(r.group, r.version) if r.proto is not None else None
    message = f"{package}.{r.kind}" if package else None
    if message is not None and message not in known:
        raise ProtoSyntaxError(f"no proto message {message} for {r.plural}")
    list_message = f"{package}.{r.kind}List" if package else None
    list_kind = f"{r.kind}List" if list_message is None or list_message in known else ""
    subresources = [[name, r.group if group is None else group, r.version if version is None else version,
                     kind or r.kind, list(verbs)] for name, group, version, kind, verbs in r.subresources]
    return [r.group, r.version, r.kind, r.plural, "Namespaced" if r.namespaced else "Cluster", list_kind,
            list(r.verbs), list(r.short_names), list(r.categories), subresources, message]


def load_messages(upstream: Path) -> dict[str, ProtoMessage]:
    known: dict[str, ProtoMessage] = {}
    for root in ("k8s-api", "k8s-apimachinery"):
        for path in sorted((upstream / root).rglob("generated.proto")):
            for message in parse_proto(path.read_text(), str(path.relative_to(upstream))):
                known[message.name] = message
    if not known:
        raise SystemExit(f"no generated.proto found under {upstream}")
    return known


def reachable(roots: list[str], known: dict[str, ProtoMessage]) -> set[str]:
    """Messages reachable from the served kinds (whose descriptions `kubectl explain` may show)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        message = known[name]
        for f in message.fields:
            if f.type not in SCALARS:
                todo.append(resolve(f.type, message, known))
    return seen


def build(upstream: Path) -> tuple[bytes, bytes]:
    """The contents of schema.json and descriptions.json."""
    known = load_messages(upstream)
    schema: dict[str, dict[str, object] | list[object]] = {
        "messages": compact_messages(known),
        "resources": [compact_resource(r, known) for r in sorted(RESOURCES, key=discovery_rank)],
        "atomic": [name for name, m in sorted(known.items()) if first(m.markers, "structType") == "atomic"],
    }
    return dump(schema), dump({"messages": descriptions(known)})


def compact_messages(known: dict[str, ProtoMessage]) -> dict[str, object]:
    fields = [(f.name, f.type.rpartition(".")[2]) for m in known.values() for f in m.fields]
    unused = (INLINE - set(fields)) | (JSON_NAMES.keys() - {name for name, _ in fields})
    if unused:
        raise SystemExit(f"table entries match no proto field: {sorted(map(str, unused))}")
    keep_zero = table_fields(known, POINTERS, NO_OMITEMPTY)
    omitempty = table_fields(known, OMITEMPTY)
    return {name: [compact_field(f, m, known, keep_zero, omitempty) for f in m.fields]
            for name, m in sorted(known.items())}


def descriptions(known: dict[str, ProtoMessage]) -> dict[str, object]:
    """Doc comments of the messages a served group-version's OpenAPI document can show."""
    roots = [f"{proto_package(r.group, r.version)}.{r.kind}" for r in RESOURCES if r.proto is not None]
    roots += [f"{proto_package(group or r.group, version or r.version)}.{kind}"
              for r in RESOURCES for _, group, version, kind, _ in r.subresources if kind]
    roots += [f"{META}.{name}" for name in ("Status", "APIResourceList", "DeleteOptions", "WatchEvent")]
    return {name: [known[name].doc, {f.name: f.doc for f in known[name].fields if f.doc}]
            for name in sorted(reachable([r for r in roots if r in known], known))}


def dump(sections: dict[str, dict[str, object] | list[object]]) -> bytes:
    """JSON with one entry of each top-level section per line: compact, yet diffable in review."""
    parts = []
    for section, content in sorted(sections.items()):
        if isinstance(content, dict):
            rows = [f"{orjson.dumps(k).decode()}:{orjson.dumps(v).decode()}" for k, v in content.items()]
            parts.append(f"{orjson.dumps(section).decode()}:{{\n" + ",\n".join(rows) + "\n}")
        else:
            rows = [orjson.dumps(v).decode() for v in content]
            parts.append(f"{orjson.dumps(section).decode()}:[\n" + ",\n".join(rows) + "\n]")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", type=Path, default=DEFAULT_UPSTREAM,
                        help="folder holding k8s-api/ and k8s-apimachinery/ (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DATA, help="data folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only report whether the files are up to date")
    args = parser.parse_args(argv)
    data_dir: Path = args.output
    outputs = dict(zip(("schema.json", "descriptions.json"), build(args.upstream), strict=True))
    if args.check:
        stale = [name for name, data in outputs.items()
                 if not (data_dir / name).exists() or (data_dir / name).read_bytes() != data]
        print(f"out of date: {', '.join(stale)}" if stale else "up to date")
        return 1 if stale else 0
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (data_dir / name).write_bytes(data)
        print(f"wrote {data_dir / name} ({len(data) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
