"""The printer table: the columns and the row function of each built-in resource."""

from __future__ import annotations

from typing import Any

from kwok.api.tables.cells import (
    AGE,
    AGE_DOC,
    CONTAINERS,
    IMAGES,
    NAME,
    SELECTOR,
    Obj,
    Row,
    age,
    as_int,
    column,
    format_labels,
    get_path,
    meta_of,
    template_containers,
)
from kwok.api.tables.configuration import (
    binding_row,
    config_map_row,
    created_at_row,
    csr_row,
    ingress_class_row,
    ingress_row,
    network_policy_row,
    pdb_row,
    priority_class_row,
    pv_row,
    pvc_row,
    resource_quota_row,
    secret_row,
    simple_row,
    storage_class_row,
)
from kwok.api.tables.core import (
    endpoint_slice_row,
    event_row,
    events_v1_row,
    format_endpoints,
    node_row,
    service_row,
)
from kwok.api.tables.pods import pod_row
from kwok.api.tables.uncommon import (
    admission_policy_row,
    api_service_row,
    component_status_row,
    csi_driver_row,
    fields_row,
    flow_schema_row,
    ip_address_row,
    policy_binding_row,
    priority_level_row,
    resource_claim_state,
    volume_attachment_row,
)
from kwok.api.tables.workloads import (
    cron_job_row,
    daemon_set_row,
    deployment_row,
    hpa_row,
    job_row,
    replica_set_row,
    replication_controller_row,
    stateful_set_row,
)

# --- the printer table ---------------------------------------------------------------------------

_WIDE = 1
_CREATED_AT_COLUMNS = (NAME, column("Created At", "date", description=AGE_DOC))
# a kind this table does not know: its name and age
DEFAULT_COLUMNS = (NAME, AGE)


def _cols(*specs: tuple[Any, ...] | dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple(spec if isinstance(spec, dict) else column(*spec) for spec in specs)


PRINTERS: dict[tuple[str, str], tuple[tuple[dict[str, Any], ...], Row]] = {
    ("", "pods"): (_cols(NAME, ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
                         ("Status", "string", 0, "The aggregate status of the containers in this pod."),
                         ("Restarts", "string", 0, "The number of times the containers in this pod have been "
                          "restarted and when the last container in this pod has restarted."),
                         AGE, ("IP", "string", _WIDE, "podIP"), ("Node", "string", _WIDE, "nodeName"),
                         ("Nominated Node", "string", _WIDE, "nominatedNodeName"),
                         ("Readiness Gates", "string", _WIDE, "readinessGates")), pod_row),
    ("", "nodes"): (_cols(NAME, ("Status", "string", 0, "The status of the node"),
                          ("Roles", "string", 0, "The roles of the node"), AGE, ("Version",),
                          ("Internal-IP", "string", _WIDE), ("External-IP", "string", _WIDE),
                          ("OS-Image", "string", _WIDE), ("Kernel-Version", "string", _WIDE),
                          ("Container-Runtime", "string", _WIDE)), node_row),
    ("", "namespaces"): (_cols(NAME, ("Status", "string", 0, "The status of the namespace"), AGE),
                         simple_row(("status", "phase"))),
    ("", "services"): (_cols(NAME, ("Type",), ("Cluster-IP",), ("External-IP",), ("Port(s)",), AGE,
                             ("Selector", "string", _WIDE)), service_row),
    ("", "endpoints"): (_cols(NAME, ("Endpoints",), AGE),
                        lambda o, now: [meta_of(o).get("name", ""), format_endpoints(o.get("subsets")), age(o, now)]),
    ("discovery.k8s.io", "endpointslices"): (_cols(NAME, ("AddressType",), ("Ports",), ("Endpoints",), AGE),
                                             endpoint_slice_row),
    ("", "configmaps"): (_cols(NAME, ("Data",), AGE), config_map_row),
    ("", "secrets"): (_cols(NAME, ("Type",), ("Data",), AGE), secret_row),
    # since 1.35 (kubernetes#117160) the unused `secrets` count is no longer printed
    ("", "serviceaccounts"): (_cols(NAME, AGE), simple_row()),
    ("", "events"): (_cols(("Last Seen",), ("Type",), ("Reason",), ("Object",), ("Subobject", "string", _WIDE),
                           ("Source", "string", _WIDE), ("Message",), ("First Seen", "string", _WIDE),
                           ("Count", "string", _WIDE), {**NAME, "priority": _WIDE}), event_row),
    ("", "replicationcontrollers"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"),
                                           AGE, CONTAINERS, IMAGES, SELECTOR), replication_controller_row),
    ("", "persistentvolumes"): (_cols(NAME, ("Capacity",), ("Access Modes",), ("Reclaim Policy",), ("Status",),
                                      ("Claim",), ("StorageClass",), ("VolumeAttributesClass",), ("Reason",), AGE,
                                      ("VolumeMode", "string", _WIDE)), pv_row),
    ("", "persistentvolumeclaims"): (_cols(NAME, ("Status",), ("Volume",), ("Capacity",), ("Access Modes",),
                                           ("StorageClass",), ("VolumeAttributesClass",), AGE,
                                           ("VolumeMode", "string", _WIDE)), pvc_row),
    ("", "resourcequotas"): (_cols(NAME, ("Request",), ("Limit",), AGE), resource_quota_row),
    ("", "podtemplates"): (_cols(NAME, ("Containers",), ("Images",), ("Pod Labels",)),
                           lambda o, now: [meta_of(o).get("name", ""), *template_containers(get_path(o, "template", "spec")),
                                           format_labels(get_path(o, "template", "metadata", "labels"))]),
    ("apps", "deployments"): (_cols(NAME, ("Ready",), ("Up-to-date",), ("Available",), AGE, CONTAINERS, IMAGES,
                                    SELECTOR), deployment_row),
    ("apps", "replicasets"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"), AGE,
                                    CONTAINERS, IMAGES, SELECTOR), replica_set_row),
    ("apps", "statefulsets"): (_cols(NAME, ("Ready",), AGE, CONTAINERS, IMAGES), stateful_set_row),
    ("apps", "daemonsets"): (_cols(NAME, ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"),
                                   ("Up-to-date", "integer"), ("Available", "integer"), ("Node Selector",), AGE,
                                   CONTAINERS, IMAGES, SELECTOR), daemon_set_row),
    ("apps", "controllerrevisions"): (_cols(NAME, ("Controller",), ("Revision",), AGE),
                                      lambda o, now: [meta_of(o).get("name", ""), _controller_of(o),
                                                      as_int(o.get("revision")), age(o, now)]),
    ("batch", "jobs"): (_cols(NAME, ("Status", "string", 0, "Status of the job."), ("Completions",),
                              ("Duration", "string", 0, "Time required to complete the job."), AGE,
                              CONTAINERS, IMAGES, SELECTOR), job_row),
    ("batch", "cronjobs"): (_cols(NAME, ("Schedule",), ("Timezone",), ("Suspend", "boolean"), ("Active", "integer"),
                                  ("Last Schedule",), AGE, CONTAINERS, IMAGES, SELECTOR), cron_job_row),
    ("autoscaling", "horizontalpodautoscalers"): (_cols(NAME, ("Reference",), ("Targets",), ("MinPods",),
                                                        ("MaxPods",), ("Replicas",), AGE), hpa_row),
    ("coordination.k8s.io", "leases"): (_cols(NAME, ("Holder",), AGE), simple_row(("spec", "holderIdentity"))),
    ("storage.k8s.io", "storageclasses"): (_cols(NAME, ("Provisioner",), ("ReclaimPolicy",), ("VolumeBindingMode",),
                                                 ("AllowVolumeExpansion",), AGE), storage_class_row),
    ("storage.k8s.io", "csinodes"): (_cols(NAME, ("Drivers", "integer"), AGE), simple_row(("spec", "drivers"), count=True)),
    ("networking.k8s.io", "ingresses"): (_cols(NAME, ("Class",), ("Hosts",), ("Address",), ("Ports",), AGE),
                                         ingress_row),
    ("networking.k8s.io", "ingressclasses"): (_cols(NAME, ("Controller",), ("Parameters",), AGE), ingress_class_row),
    ("networking.k8s.io", "networkpolicies"): (_cols(NAME, ("Pod-Selector",), AGE), network_policy_row),
    ("policy", "poddisruptionbudgets"): (_cols(NAME, ("Min Available",), ("Max Unavailable",),
                                               ("Allowed Disruptions", "integer"), AGE), pdb_row),
    ("scheduling.k8s.io", "priorityclasses"): (_cols(NAME, ("Value", "integer"), ("Global-Default", "boolean"), AGE,
                                                     ("PreemptionPolicy",)), priority_class_row),
    ("node.k8s.io", "runtimeclasses"): (_cols(NAME, ("Handler",), AGE), simple_row(("handler",))),
    ("rbac.authorization.k8s.io", "rolebindings"): (_cols(NAME, ("Role",), AGE, ("Users", "string", _WIDE),
                                                          ("Groups", "string", _WIDE),
                                                          ("ServiceAccounts", "string", _WIDE)), binding_row),
    ("certificates.k8s.io", "certificatesigningrequests"): (_cols(NAME, AGE, ("SignerName",), ("Requestor",),
                                                                  ("RequestedDuration",), ("Condition",)), csr_row),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): (
        _cols(NAME, ("Webhooks", "integer"), AGE), simple_row(("webhooks",), count=True)),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): (
        _cols(NAME, ("Webhooks", "integer"), AGE), simple_row(("webhooks",), count=True)),
}
PRINTERS.update({
    ("", "componentstatuses"): (_cols(NAME, ("Status",), ("Message",), ("Error",)), component_status_row),
    ("storage.k8s.io", "volumeattachments"): (_cols(NAME, ("Attacher", "string", 0, "", "name"), ("PV",), ("Node",),
                                                    ("Attached", "boolean"), AGE), volume_attachment_row),
    ("storage.k8s.io", "csidrivers"): (_cols(NAME, ("AttachRequired", "boolean"), ("PodInfoOnMount", "boolean"),
                                             ("StorageCapacity", "boolean"), ("TokenRequests",),
                                             ("RequiresRepublish", "boolean"), ("Modes",), AGE), csi_driver_row),
    ("storage.k8s.io", "csistoragecapacities"): (
        _cols(NAME, ("StorageClassName",), ("Capacity",)),
        lambda o, now: [meta_of(o).get("name", ""), o.get("storageClassName", ""), o.get("capacity") or "<unset>"]),
    ("storage.k8s.io", "volumeattributesclasses"): (_cols(NAME, ("DriverName",), AGE), fields_row("driverName")),
    ("networking.k8s.io", "servicecidrs"): (
        _cols(NAME, ("CIDRs",), AGE),
        lambda o, now: [meta_of(o).get("name", ""), ",".join(get_path(o, "spec", "cidrs") or []), age(o, now)]),
    ("networking.k8s.io", "ipaddresses"): (_cols(NAME, ("ParentRef",)), ip_address_row),
    ("coordination.k8s.io", "leasecandidates"): (_cols(NAME, ("LeaseName",), ("BinaryVersion",),
                                                       ("EmulationVersion",), AGE),
                                                 fields_row("spec.leaseName", "spec.binaryVersion",
                                                         "spec.emulationVersion")),
    ("certificates.k8s.io", "clustertrustbundles"): (
        _cols(NAME, ("SignerName",)),
        lambda o, now: [meta_of(o).get("name", ""), get_path(o, "spec", "signerName") or "<none>"]),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): (
        _cols(NAME, ("Validations", "integer"), ("ParamKind",), AGE), admission_policy_row("validations")),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"): (
        _cols(NAME, ("Mutations", "integer"), ("ParamKind",), AGE), admission_policy_row("mutations")),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): (
        _cols(NAME, ("PolicyName",), ("ParamRef",), AGE), policy_binding_row),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"): (
        _cols(NAME, ("PolicyName",), ("ParamRef",), AGE), policy_binding_row),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): (
        _cols(NAME, ("PriorityLevel",), ("MatchingPrecedence",), ("DistinguisherMethod",), AGE, ("MissingPL",)),
        flow_schema_row),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): (
        _cols(NAME, ("Type",), ("NominalConcurrencyShares",), ("Queues",), ("HandSize",), ("QueueLengthLimit",), AGE),
        priority_level_row),
    ("resource.k8s.io", "deviceclasses"): (_cols(NAME, AGE), fields_row()),
    ("resource.k8s.io", "resourceclaimtemplates"): (_cols(NAME, AGE), fields_row()),
    ("resource.k8s.io", "resourceclaims"): (
        _cols(NAME, ("State", "string", 0, "A summary of the current state (allocated, pending, reserved, etc.)."),
              AGE),
        lambda o, now: [meta_of(o).get("name", ""), resource_claim_state(o), age(o, now)]),
    ("resource.k8s.io", "resourceslices"): (_cols(NAME, ("Node",), ("Driver",), ("Pool",), AGE),
                                            fields_row("spec.nodeName", "spec.driver", "spec.pool.name")),
    ("apiregistration.k8s.io", "apiservices"): (_cols(NAME, ("Service",), ("Available",), AGE), api_service_row),
})
# Served through apiserver's default convertor (no printer upstream): Name and "Created At".
for _resource in (("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"),
                  ("", "limitranges"), ("apiextensions.k8s.io", "customresourcedefinitions")):
    PRINTERS[_resource] = (_CREATED_AT_COLUMNS, created_at_row)
PRINTERS[("rbac.authorization.k8s.io", "clusterrolebindings")] = PRINTERS[
    ("rbac.authorization.k8s.io", "rolebindings")]
PRINTERS[("extensions", "ingresses")] = PRINTERS[("networking.k8s.io", "ingresses")]
PRINTERS[("events.k8s.io", "events")] = (PRINTERS[("", "events")][0], events_v1_row)


def _controller_of(obj: Obj) -> str:
    for ref in meta_of(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else str(ref.get("kind", ""))
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"

