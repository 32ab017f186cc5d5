"""KWOK's own template functions and the stubs of upstream's stage tests."""

from __future__ import annotations

import datetime as dt

from kwok.engine.gotemplate import GoTemplate
from kwok.engine.templatefuncs import (
    environment_funcs,
    function_map_for,
    quote,
    rfc3339nano,
    stub_funcs,
    to_yaml,
)


def render(text: str, data: object, funcs: dict[str, object] | None = None) -> str:
    return GoTemplate(text, "t", function_map_for("v1", "Pod")).render(data, funcs or {})  # type: ignore[arg-type]


def test_quote_json_encodes_and_quotes_non_strings() -> None:
    assert quote("a<b") == '"a\\u003cb"'  # Go's encoding/json escapes HTML characters
    assert quote(3) == '"3"'
    assert quote(None) == '"null"'
    assert quote({"a": 1}) == '"{\\"a\\":1}"'


def test_yaml_with_indent_prefixes_every_line() -> None:
    assert to_yaml({"b": 1, "a": [1, 2]}) == "a:\n- 1\n- 2\nb: 1\n"
    assert to_yaml(["x", "y"], 2) == "\n    - x\n    - y"
    assert render("capacity:{{ YAML .c 1 }}", {"c": {"cpu": "1"}}) == "capacity:\n  cpu: '1'"


def test_node_conditions_are_the_five_kubelet_conditions() -> None:
    out = render("{{ range NodeConditions }}{{ .type }}={{ .status }};{{ end }}", {})
    assert (
        out
        == "Ready=True;MemoryPressure=False;DiskPressure=False;PIDPressure=False;NetworkUnavailable=False;"
    )


def test_now_is_rfc3339nano_of_the_given_clock() -> None:
    now = dt.datetime(2024, 2, 3, 4, 5, 6, 120000, tzinfo=dt.UTC)
    funcs = environment_funcs(now, now - dt.timedelta(hours=1), "0.9.0")
    assert (
        render("{{ Now }} {{ StartTime }} {{ Version }}", {}, funcs)
        == "2024-02-03T04:05:06.12Z 2024-02-03T03:05:06.12Z 0.9.0"
    )
    assert rfc3339nano(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == "2024-01-01T00:00:00Z"


def test_stubs_show_calls_in_go_syntax() -> None:
    out = render(
        '{{ PodIPWith "n" false "" "p" "" }} {{ index (NodeIPsWith "n") 1 }} {{ Now }}', {}, stub_funcs()
    )
    assert out == '<PodIPWith("n", false, "", "p", "")> <1 of NodeIPsWith("n")> <Now>'


def test_sprig_dates_use_the_given_clock_and_dns_is_off() -> None:
    import pytest

    from kwok.engine.gotemplate import TemplateError

    now = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    funcs = environment_funcs(now, now, "0.9.0")
    assert render('{{ now | date "2006-01-02 15:04" }}', {}, funcs) == "2024-01-02 03:04"
    with pytest.raises(TemplateError, match="network"):
        render('{{ getHostByName "example.com" }}', {}, funcs)
