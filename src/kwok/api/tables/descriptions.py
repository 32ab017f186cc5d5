"""Column descriptions: the Go doc of the field each column shows, as upstream fills them."""

from __future__ import annotations

import functools
from typing import Any

import orjson

from kwok.api.tables.printers import PRINTERS

# --- column descriptions ---------------------------------------------------------------------------
# Upstream describes most columns with the Go doc of a field (`SwaggerDoc()`); these name that
# field as "<proto package below k8s.io.api>.<Message>.<field>", read from the shipped
# descriptions (the v1 twin where upstream cites a retired beta type).

_COLUMN_DOCS: dict[tuple[str, str], dict[str, str]] = {
    ("", "pods"): {"IP": "core.v1.PodStatus.podIP", "Node": "core.v1.PodSpec.nodeName",
                   "Nominated Node": "core.v1.PodStatus.nominatedNodeName",
                   "Readiness Gates": "core.v1.PodSpec.readinessGates"},
    ("", "replicationcontrollers"): {"Desired": "core.v1.ReplicationControllerSpec.replicas",
                                     "Current": "core.v1.ReplicationControllerStatus.replicas",
                                     "Ready": "core.v1.ReplicationControllerStatus.readyReplicas",
                                     "Selector": "core.v1.ReplicationControllerSpec.selector"},
    ("apps", "replicasets"): {"Desired": "apps.v1.ReplicaSetSpec.replicas", "Current": "apps.v1.ReplicaSetStatus.replicas",
                              "Ready": "apps.v1.ReplicaSetStatus.readyReplicas",
                              "Selector": "apps.v1.ReplicaSetSpec.selector"},
    ("apps", "daemonsets"): {"Desired": "apps.v1.DaemonSetStatus.desiredNumberScheduled",
                             "Current": "apps.v1.DaemonSetStatus.currentNumberScheduled",
                             "Ready": "apps.v1.DaemonSetStatus.numberReady",
                             "Up-to-date": "apps.v1.DaemonSetStatus.updatedNumberScheduled",
                             "Available": "apps.v1.DaemonSetStatus.numberAvailable",
                             "Node Selector": "core.v1.PodSpec.nodeSelector", "Selector": "apps.v1.DaemonSetSpec.selector"},
    ("apps", "deployments"): {"Up-to-date": "apps.v1.DeploymentStatus.updatedReplicas",
                              "Available": "apps.v1.DeploymentStatus.availableReplicas",
                              "Selector": "apps.v1.DeploymentSpec.selector"},
    ("apps", "controllerrevisions"): {"Revision": "apps.v1.ControllerRevision.revision"},
    ("batch", "jobs"): {"Completions": "batch.v1.JobStatus.succeeded", "Selector": "batch.v1.JobSpec.selector"},
    ("batch", "cronjobs"): {"Schedule": "batch.v1.CronJobSpec.schedule", "Timezone": "batch.v1.CronJobSpec.timeZone",
                            "Suspend": "batch.v1.CronJobSpec.suspend", "Active": "batch.v1.CronJobStatus.active",
                            "Last Schedule": "batch.v1.CronJobStatus.lastScheduleTime",
                            "Selector": "batch.v1.JobSpec.selector"},
    ("", "services"): {"Type": "core.v1.ServiceSpec.type", "Cluster-IP": "core.v1.ServiceSpec.clusterIP",
                       "External-IP": "core.v1.ServiceSpec.externalIPs", "Port(s)": "core.v1.ServiceSpec.ports",
                       "Selector": "core.v1.ServiceSpec.selector"},
    ("", "endpoints"): {"Endpoints": "core.v1.Endpoints.subsets"},
    ("", "nodes"): {"Version": "core.v1.NodeSystemInfo.kubeletVersion", "Internal-IP": "core.v1.NodeStatus.addresses",
                    "External-IP": "core.v1.NodeStatus.addresses", "OS-Image": "core.v1.NodeSystemInfo.osImage",
                    "Kernel-Version": "core.v1.NodeSystemInfo.kernelVersion",
                    "Container-Runtime": "core.v1.NodeSystemInfo.containerRuntimeVersion"},
    ("", "events"): {"Last Seen": "core.v1.Event.lastTimestamp", "Type": "core.v1.Event.type",
                     "Reason": "core.v1.Event.reason", "Object": "core.v1.Event.involvedObject",
                     "Subobject": "core.v1.ObjectReference.fieldPath", "Source": "core.v1.Event.source",
                     "Message": "core.v1.Event.message", "First Seen": "core.v1.Event.firstTimestamp",
                     "Count": "core.v1.Event.count"},
    ("", "secrets"): {"Type": "core.v1.Secret.type", "Data": "core.v1.Secret.data"},
    ("", "configmaps"): {"Data": "core.v1.ConfigMap.data"},
    ("", "persistentvolumes"): {"Capacity": "core.v1.PersistentVolumeSpec.capacity",
                                "Access Modes": "core.v1.PersistentVolumeSpec.accessModes",
                                "Reclaim Policy": "core.v1.PersistentVolumeSpec.persistentVolumeReclaimPolicy",
                                "Status": "core.v1.PersistentVolumeStatus.phase",
                                "Claim": "core.v1.PersistentVolumeSpec.claimRef",
                                "Reason": "core.v1.PersistentVolumeStatus.reason",
                                "VolumeMode": "core.v1.PersistentVolumeSpec.volumeMode"},
    ("", "persistentvolumeclaims"): {"Status": "core.v1.PersistentVolumeClaimStatus.phase",
                                     "Volume": "core.v1.PersistentVolumeClaimSpec.volumeName",
                                     "Capacity": "core.v1.PersistentVolumeClaimStatus.capacity",
                                     "Access Modes": "core.v1.PersistentVolumeClaimStatus.accessModes",
                                     "VolumeMode": "core.v1.PersistentVolumeClaimSpec.volumeMode"},
    ("autoscaling", "horizontalpodautoscalers"): {
        "Reference": "autoscaling.v2.HorizontalPodAutoscalerSpec.scaleTargetRef",
        "Targets": "autoscaling.v2.HorizontalPodAutoscalerSpec.metrics",
        "MinPods": "autoscaling.v2.HorizontalPodAutoscalerSpec.minReplicas",
        "MaxPods": "autoscaling.v2.HorizontalPodAutoscalerSpec.maxReplicas",
        "Replicas": "autoscaling.v2.HorizontalPodAutoscalerStatus.currentReplicas"},
    ("networking.k8s.io", "networkpolicies"): {"Pod-Selector": "networking.v1.NetworkPolicySpec.podSelector"},
    ("rbac.authorization.k8s.io", "rolebindings"): {"Role": "rbac.v1.RoleBinding.roleRef"},
    ("rbac.authorization.k8s.io", "clusterrolebindings"): {"Role": "rbac.v1.ClusterRoleBinding.roleRef"},
    ("certificates.k8s.io", "certificatesigningrequests"): {
        "SignerName": "certificates.v1.CertificateSigningRequestSpec.signerName",
        "Requestor": "certificates.v1.CertificateSigningRequestSpec.request",
        "RequestedDuration": "certificates.v1.CertificateSigningRequestSpec.expirationSeconds",
        "Condition": "certificates.v1.CertificateSigningRequestStatus.conditions"},
    ("coordination.k8s.io", "leases"): {"Holder": "coordination.v1.LeaseSpec.holderIdentity"},
    ("storage.k8s.io", "storageclasses"): {"Provisioner": "storage.v1.StorageClass.provisioner",
                                           "ReclaimPolicy": "storage.v1.StorageClass.reclaimPolicy",
                                           "VolumeBindingMode": "storage.v1.StorageClass.volumeBindingMode",
                                           "AllowVolumeExpansion": "storage.v1.StorageClass.allowVolumeExpansion"},
    ("scheduling.k8s.io", "priorityclasses"): {"Value": "scheduling.v1.PriorityClass.value",
                                               "Global-Default": "scheduling.v1.PriorityClass.globalDefault",
                                               "PreemptionPolicy": "scheduling.v1.PriorityClass.preemptionPolicy"},
    ("discovery.k8s.io", "endpointslices"): {"AddressType": "discovery.v1.EndpointSlice.addressType",
                                             "Ports": "discovery.v1.EndpointSlice.ports",
                                             "Endpoints": "discovery.v1.EndpointSlice.endpoints"},
    ("storage.k8s.io", "volumeattachments"): {"Attacher": "storage.v1.VolumeAttachmentSpec.attacher",
                                              "PV": "storage.v1.VolumeAttachmentSource.persistentVolumeName",
                                              "Node": "storage.v1.VolumeAttachmentSpec.nodeName",
                                              "Attached": "storage.v1.VolumeAttachmentStatus.attached"},
}
_READY_PODS = "=Number of the pod with ready state"
_WEBHOOKS = "=Webhooks indicates the number of webhooks registered in this configuration"
_PARAM_KIND = "=ParamKind specifies the kind of resources used to parameterize this policy"
_BINDING = {"PolicyName": "=PolicyName indicates the policy definition which the policy binding binded to",
            "ParamRef": "=ParamRef indicates the param resource which sets the configration param"}


def _subjects_docs(kind: str) -> dict[str, str]:
    return {column: f"={column} in the {kind}" for column in ("Users", "Groups", "ServiceAccounts")}


# Columns upstream describes with a fixed sentence ("=" prefix), or with a doc it cannot find ("").
_COLUMN_DOCS.update({
    ("apps", "statefulsets"): {"Ready": _READY_PODS},
    ("networking.k8s.io", "ingresses"): {
        "Class": "=The name of the IngressClass resource that should be used for additional configuration",
        "Hosts": "=Hosts that incoming requests are matched against before the ingress rule",
        "Address": "=Address is a list containing ingress points for the load-balancer",
        "Ports": "=Ports of TLS configurations that open"},
    ("networking.k8s.io", "ingressclasses"): {
        "Controller": "=Controller that is responsible for handling this class",
        "Parameters": "=A reference to a resource with additional parameters"},
    ("policy", "poddisruptionbudgets"): {
        "Min Available": "=The minimum number of pods that must be available.",
        "Max Unavailable": "=The maximum number of pods that may be unavailable.",
        "Allowed Disruptions": "=Calculated number of pods that may be disrupted at this time."},
    ("", "resourcequotas"): {
        "Request": "=Request represents a minimum amount of cpu/memory that a container may consume.",
        "Limit": "=Limits control the maximum amount of cpu/memory that a container may use independent of "
                 "contention on the node."},
    ("", "componentstatuses"): {name: f"={name} of the component conditions" for name in ("Status", "Message", "Error")},
    ("", "podtemplates"): {"Pod Labels": "=The labels for the pod template."},
    ("storage.k8s.io", "csinodes"): {"Drivers": "=Drivers indicates the number of CSI drivers registered on the node"},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"Webhooks": _WEBHOOKS},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"Webhooks": _WEBHOOKS},
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): {
        "Validations": "=Validations indicates the number of validation rules defined in this configuration",
        "ParamKind": _PARAM_KIND},
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"): {
        "Mutations": "=Mutation indicates the number of mutations rules defined in this configuration",
        "ParamKind": _PARAM_KIND},
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): _BINDING,
    ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"): _BINDING,
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): {
        "MissingPL": "=references a broken or non-existent PriorityLevelConfiguration"},
    ("node.k8s.io", "runtimeclasses"): {"Handler": "="},
    ("coordination.k8s.io", "leasecandidates"): {"BinaryVersion": "=", "EmulationVersion": "="},
})
_COLUMN_DOCS[("apps", "deployments")]["Ready"] = _READY_PODS
_COLUMN_DOCS[("apps", "controllerrevisions")]["Controller"] = "=Controller of the object"
_COLUMN_DOCS[("rbac.authorization.k8s.io", "rolebindings")].update(_subjects_docs("roleBinding"))
_COLUMN_DOCS[("rbac.authorization.k8s.io", "clusterrolebindings")].update(_subjects_docs("clusterRoleBinding"))
for _kind, _short in (("persistentvolumes", "pv"), ("persistentvolumeclaims", "pvc")):
    _COLUMN_DOCS[("", _kind)].update({"StorageClass": f"=StorageClass of the {_short}",
                                      "VolumeAttributesClass": f"=VolumeAttributesClass of the {_short}"})
_COLUMN_DOCS.update({
    ("storage.k8s.io", "csidrivers"): {
        column: f"storage.v1.CSIDriverSpec.{field}" for column, field in (
            ("AttachRequired", "attachRequired"), ("PodInfoOnMount", "podInfoOnMount"),
            ("StorageCapacity", "storageCapacity"), ("TokenRequests", "tokenRequests"),
            ("RequiresRepublish", "requiresRepublish"), ("Modes", "volumeLifecycleModes"))},
    ("storage.k8s.io", "csistoragecapacities"): {"StorageClassName": "storage.v1.CSIStorageCapacity.storageClassName",
                                                 "Capacity": "storage.v1.CSIStorageCapacity.capacity"},
    ("storage.k8s.io", "volumeattributesclasses"): {"DriverName": "storage.v1.VolumeAttributesClass.driverName"},
    ("networking.k8s.io", "servicecidrs"): {"CIDRs": "networking.v1.ServiceCIDRSpec.cidrs"},
    ("networking.k8s.io", "ipaddresses"): {"ParentRef": "networking.v1.IPAddressSpec.parentRef"},
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): {
        "Type": "flowcontrol.v1.PriorityLevelConfigurationSpec.type",
        "NominalConcurrencyShares": "flowcontrol.v1.LimitedPriorityLevelConfiguration.nominalConcurrencyShares",
        "Queues": "flowcontrol.v1.QueuingConfiguration.queues",
        "HandSize": "flowcontrol.v1.QueuingConfiguration.handSize",
        "QueueLengthLimit": "flowcontrol.v1.QueuingConfiguration.queueLengthLimit"},
    ("resource.k8s.io", "resourceslices"): {"Node": "resource.v1.ResourceSliceSpec.nodeName",
                                            "Driver": "resource.v1.ResourceSliceSpec.driver",
                                            "Pool": "resource.v1.ResourcePool.name"},
    ("apiregistration.k8s.io", "apiservices"): {
        "Service": "=The reference to the service that hosts this API endpoint.",
        "Available": "=Whether this service is available."},
})
_COLUMN_DOCS[("flowcontrol.apiserver.k8s.io", "flowschemas")].update({
    "PriorityLevel": "flowcontrol.v1.PriorityLevelConfigurationReference.name",
    "MatchingPrecedence": "flowcontrol.v1.FlowSchemaSpec.matchingPrecedence",
    "DistinguisherMethod": "flowcontrol.v1.FlowSchemaSpec.distinguisherMethod"})
_COLUMN_DOCS[("events.k8s.io", "events")] = _COLUMN_DOCS[("", "events")]
_COLUMN_DOCS[("extensions", "ingresses")] = _COLUMN_DOCS[("networking.k8s.io", "ingresses")]
_LITERAL_DOCS = {
    "Containers": "Names of each container in the template.",
    "Images": "Images referenced by each container in the template.",
}


@functools.cache
def _descriptions() -> dict[str, Any]:
    from importlib import resources

    data = resources.files("kwok.api").joinpath("data/descriptions.json").read_bytes()
    messages: dict[str, Any] = orjson.loads(data)["messages"]
    return messages


def swagger_doc(reference: str) -> str:
    """apimachinery's fmtRawDoc of a field's doc comment: lines joined, paragraphs kept."""
    message, _, name = reference.rpartition(".")
    full = message if message.startswith("k8s.io.") else f"k8s.io.api.{message}"
    raw = (_descriptions().get(full) or ["", {}])[1].get(name, "")
    text = ""
    # a Go doc comment ends with a newline, which closes the last paragraph
    for line in (raw.split("---")[0] + "\n").split("\n"):
        line = line.rstrip(" ")
        if not line:
            text = text[:-1] + "\n\n"
        elif line.lstrip(" ").startswith(("TODO", "+")):
            continue
        elif line.startswith((" ", "\t")):
            text = text[:-1] + f"\n{line}\n"
        else:
            text += line + " "
    return text.rstrip("\n")


@functools.cache
def documented_columns(group: str, resource: str) -> tuple[dict[str, Any], ...]:
    docs = _COLUMN_DOCS.get((group, resource), {})
    columns = []
    for column in PRINTERS[(group, resource)][0]:
        reference = docs.get(column["name"])
        if reference is None:
            text = _LITERAL_DOCS.get(column["name"])
        else:
            text = reference[1:] if reference.startswith("=") else swagger_doc(reference)
        columns.append({**column, "description": text} if text is not None else column)
    return tuple(columns)

