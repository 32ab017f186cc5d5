from pathlib import Path

import pytest

from kwok.ctl import config as cfgmod
from kwok.ctl.durations import parse_duration


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "kwok.yaml"
    p.write_text(text)
    return p


def test_options_merge_in_file_order_and_other_kinds_pass_through(tmp_path: Path) -> None:
    a = write(tmp_path, """
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  kubeApiserverPort: 6443
  nodeLeaseDurationSeconds: 10
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: s}
spec: {resourceRef: {kind: Pod}}
""")
    b = tmp_path / "b.yaml"
    b.write_text("kind: KwokctlConfiguration\noptions: {nodeLeaseDurationSeconds: 20}\n")
    cfg = cfgmod.load_config([a, b])
    assert cfg.options["kubeApiserverPort"] == 6443
    assert cfg.options["nodeLeaseDurationSeconds"] == 20
    assert cfg.options["heartbeatFactor"] == 5   # default kept
    assert [d["kind"] for d in cfg.documents] == ["Stage"]


def test_unknown_option_names_file_document_and_field(tmp_path: Path) -> None:
    p = write(tmp_path, "kind: KwokctlConfiguration\noptions:\n  kubeApiserverPrt: 1\n")
    with pytest.raises(cfgmod.ConfigError) as e:
        cfgmod.load_config([p])
    assert str(p) in str(e.value)
    assert "document 1" in str(e.value)
    assert 'unknown field "options.kubeApiserverPrt"' in str(e.value)


def test_image_options_of_container_runtimes_are_accepted(tmp_path: Path) -> None:
    p = write(tmp_path, "kind: KwokctlConfiguration\noptions:\n  kubeApiserverImage: x\n  prometheusPort: 9090\n")
    assert cfgmod.load_config([p]).options["kubeApiserverImage"] == "x"


def test_invalid_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "kind: [unclosed\n")
    with pytest.raises(cfgmod.ConfigError, match="invalid YAML"):
        cfgmod.load_config([p])


def test_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = dict(cfgmod.DEFAULT_OPTIONS)
    monkeypatch.setenv("KWOK_KUBE_APISERVER_PORT", "7000")
    monkeypatch.setenv("KWOK_SECURE_PORT", "false")
    cfgmod.env_overrides(opts)
    assert opts["kubeApiserverPort"] == 7000
    assert opts["securePort"] is False


def test_saved_config_round_trips(tmp_path: Path) -> None:
    cfg = cfgmod.ClusterConfig()
    cfg.options["kubeApiserverPort"] = 1234
    cfg.documents.append({"kind": "Stage", "metadata": {"name": "x"}})
    cfgmod.save(tmp_path / "k.yaml", cfg)
    back = cfgmod.load_saved(tmp_path / "k.yaml")
    assert back.options["kubeApiserverPort"] == 1234
    assert back.documents == cfg.documents


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30.0), ("1m30s", 90.0), ("300ms", 0.3), ("1.5h", 5400.0), ("0", 0.0), ("2", 2.0),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_bad_duration_uses_go_wording() -> None:
    with pytest.raises(ValueError, match='time: invalid duration "5x"'):
        parse_duration("5x")
