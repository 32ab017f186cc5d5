"""Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs: defaults and validation."""

from __future__ import annotations

from typing import Any

from kwok.apiserver.strategies.batch import cron_error

from .helpers import create, messages, strategy, update

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


def deployment(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE, **spec}}


def test_deployment_defaults() -> None:
    obj, causes = create("apps", "deployments", deployment())
    assert causes == []
    spec = obj["spec"]
    assert spec["replicas"] == 1 and spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "enableServiceLinks" not in spec["template"]["spec"]   # a Pod default, not a template one
    assert obj["status"] == {} and obj["metadata"]["generation"] == 1


def test_recreate_strategy_gets_no_rolling_parameters() -> None:
    obj, _ = create("apps", "deployments", deployment(strategy={"type": "Recreate"}))
    assert obj["spec"]["strategy"] == {"type": "Recreate"}


def test_selector_must_match_template_labels() -> None:
    _, causes = create("apps", "deployments", deployment(selector={"matchLabels": {"app": "other"}}))
    assert messages(causes) == ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
                                "`selector` does not match template `labels`"]


def test_selector_and_template_are_required() -> None:
    _, causes = create("apps", "deployments", {"metadata": {"name": "web"}, "spec": {}})
    assert messages(causes) == ["spec.selector: Required value", "spec.template: Required value"]


def test_template_must_restart_always() -> None:
    template = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}
    _, causes = create("apps", "deployments", deployment(template=template))
    assert messages(causes) == ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
                                '"Always"']


def test_generation_counts_spec_changes_and_selector_is_immutable() -> None:
    old, _ = create("apps", "deployments", deployment())
    scaled, causes = update("apps", "deployments", {**old, "spec": {**old["spec"], "replicas": 3}}, old)
    assert causes == [] and scaled["metadata"]["generation"] == 2
    relabeled, _ = update("apps", "deployments", {**old, "metadata": {"labels": {"x": "y"}}}, old)
    assert relabeled["metadata"]["generation"] == 1
    moved = {**old, "spec": {**old["spec"], "selector": {"matchLabels": {"app": "web", "v": "2"}},
                             "template": {**TEMPLATE, "metadata": {"labels": {"app": "web", "v": "2"}}}}}
    _, causes = update("apps", "deployments", moved, old)
    assert [c.field for c in causes] == ["spec.selector"] and causes[0].message.endswith("field is immutable")


def test_statefulset_defaults_and_forbidden_updates() -> None:
    obj, causes = create("apps", "statefulsets", deployment(serviceName="web"))
    assert causes == []
    assert obj["spec"]["podManagementPolicy"] == "OrderedReady"
    assert obj["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}}
    assert obj["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    _, causes = update("apps", "statefulsets", {**obj, "spec": {**obj["spec"], "serviceName": "other"}}, obj)
    assert causes[0].message.startswith("Forbidden: updates to statefulset spec for fields other than 'replicas'")


def test_daemonset_defaults() -> None:
    obj, causes = create("apps", "daemonsets", deployment())
    assert causes == []
    assert obj["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}


def test_replicationcontroller_selector_defaults_from_template() -> None:
    obj, causes = create("", "replicationcontrollers", {"metadata": {"name": "rc"}, "spec": {"template": TEMPLATE}})
    assert causes == []
    assert obj["spec"]["selector"] == {"app": "web"} and obj["metadata"]["labels"] == {"app": "web"}


def job(**spec: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}}
    return {"metadata": {"name": "pi"}, "spec": {"template": template, **spec}}


def test_job_gets_defaults_and_a_selector_from_its_uid() -> None:
    obj, causes = create("batch", "jobs", job())
    assert causes == []
    spec, uid = obj["spec"], obj["metadata"]["uid"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert (spec["completionMode"], spec["suspend"], spec["manualSelector"]) == ("NonIndexed", False, False)
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "pi" and labels["job-name"] == "pi"
    assert labels["controller-uid"] == uid and obj["metadata"]["labels"] == labels


def test_job_parallelism_alone_leaves_completions_unset() -> None:
    obj, _ = create("batch", "jobs", job(parallelism=3))
    assert obj["spec"]["parallelism"] == 3 and "completions" not in obj["spec"]


def test_job_refuses_restart_always_and_template_changes() -> None:
    bad = job()
    bad["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    _, causes = create("batch", "jobs", bad)
    assert messages(causes) == ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
                                '"OnFailure", "Never"']
    old, _ = create("batch", "jobs", job())
    changed = {**old, "spec": {**old["spec"], "template": {**old["spec"]["template"], "spec": {
        **old["spec"]["template"]["spec"], "activeDeadlineSeconds": 5}}}}
    _, causes = update("batch", "jobs", changed, old)
    assert [c.field for c in causes] == ["spec.template"]


def test_jobs_orphan_their_pods_unless_told_otherwise() -> None:
    obj, _ = create("batch", "jobs", job())
    assert strategy("batch", "jobs").delete_decision(obj, {}).add_finalizers == ("orphan",)
    assert strategy("batch", "jobs").delete_decision(obj, {"propagationPolicy": "Background"}).remove_now


def test_cronjob_defaults_and_schedule() -> None:
    cron = {"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": job()["spec"]}}}
    obj, causes = create("batch", "cronjobs", cron)
    assert causes == []
    spec = obj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    assert cron_error("@hourly") is None and cron_error("* * *") is not None
    _, causes = create("batch", "cronjobs", {**cron, "metadata": {"name": "x" * 53}})
    assert messages(causes)[-1].endswith("must be no more than 52 characters")


def test_unknown_strategy_types_are_unsupported() -> None:
    _, causes = create("apps", "deployments", deployment(strategy={"type": "BlueGreen"}))
    assert messages(causes) == ['spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", '
                                '"RollingUpdate"']
    _, causes = create("apps", "statefulsets", deployment(podManagementPolicy="Random"))
    assert messages(causes) == ['spec.podManagementPolicy: Unsupported value: "Random": supported values: '
                                '"OrderedReady", "Parallel"']


def test_statefulset_pods_may_mount_their_claims() -> None:
    template = {**TEMPLATE, "spec": {"containers": [{"name": "db", "image": "pg",
                                                     "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}}
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    obj, causes = create("apps", "statefulsets", deployment(template=template, volumeClaimTemplates=[claim]))
    assert causes == [] and "volumes" not in obj["spec"]["template"]["spec"]
    _, causes = create("apps", "deployments", deployment(template=template))
    assert messages(causes) == ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"']
