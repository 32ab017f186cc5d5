"""Go text/template behaviour of kwok.engine.gotemplate, checked against real Go.

Every expected value below was produced by Go's text/template with sprig (the `gotp` binary from
PyPI, `gotp --text --sprig`, data decoded from JSON), template name "stdin". Outputs and error
messages must be Go's exactly, apart from the few listed differences (KNOWN_COLUMN,
KNOWN_CAUSE_WORDING, NO_CONTEXT).
"""

from __future__ import annotations

import re

import pytest

from kwok.engine.gotemplate import GoTemplate, TemplateError
from kwok.engine.templatefuncs import function_map_for

GO_CASES = [
    ("text", "plain text", {}, {"out": "plain text"}),
    ("field", "{{ .a }}", {"a": "x"}, {"out": "x"}),
    ("nested", "{{ .a.b }}", {"a": {"b": "y"}}, {"out": "y"}),
    ("missing_key", "{{ .nope }}", {}, {"out": "<no value>"}),
    ("missing_chain", "{{ .a.b.c }}", {"a": {}}, {"out": "<no value>"}),
    (
        "nil_chain_error",
        "{{ .a.b }}",
        {"a": None},
        {"err": 'template: stdin:1:5: executing "stdin" at <.a.b>: nil pointer evaluating interface {}.b'},
    ),
    (
        "field_on_string_error",
        "{{ .a.b }}",
        {"a": "s"},
        {
            "err": 'template: stdin:1:5: executing "stdin" at <.a.b>: can\'t evaluate field b in type interface {}'
        },
    ),
    ("int", "{{ .n }}", {"n": 3}, {"out": "3"}),
    ("bool", "{{ .t }} {{ .f }}", {"t": True, "f": False}, {"out": "true false"}),
    ("list_print", "{{ .l }}", {"l": ["a", "b"]}, {"out": "[a b]"}),
    ("map_print", "{{ .m }}", {"m": {"b": "2", "a": "1"}}, {"out": "map[a:1 b:2]"}),
    ("nil_print", "{{ .x }}", {"x": None}, {"out": "<no value>"}),
    ("pipeline", '{{ .a | printf "%s-%s" "p" }}', {"a": "x"}, {"out": "p-x"}),
    ("variables", '{{ $x := .a }}{{ $x }}{{ $x = "z" }}{{ $x }}', {"a": "x"}, {"out": "xz"}),
    ("dollar", "{{ range .l }}{{ $.a }}{{ end }}", {"a": "r", "l": [1, 2]}, {"out": "rr"}),
    ("if_else", "{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}", {"b": 1}, {"out": "B"}),
    ("if_empty_list", "{{ if .l }}yes{{ else }}no{{ end }}", {"l": []}, {"out": "no"}),
    ("if_empty_string", "{{ if .s }}yes{{ else }}no{{ end }}", {"s": ""}, {"out": "no"}),
    ("with_else", "{{ with .a }}[{{ . }}]{{ else }}none{{ end }}", {}, {"out": "none"}),
    ("with_value", "{{ with .a }}[{{ . }}]{{ else }}none{{ end }}", {"a": "v"}, {"out": "[v]"}),
    ("range_list", "{{ range .l }}<{{ . }}>{{ end }}", {"l": ["a", "b"]}, {"out": "<a><b>"}),
    (
        "range_index",
        "{{ range $i, $e := .l }}{{ $i }}={{ $e }};{{ end }}",
        {"l": ["a", "b"]},
        {"out": "0=a;1=b;"},
    ),
    (
        "range_map_sorted",
        "{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}",
        {"m": {"b": "2", "a": "1"}},
        {"out": "a=1;b=2;"},
    ),
    ("range_else", "{{ range .l }}x{{ else }}empty{{ end }}", {"l": []}, {"out": "empty"}),
    ("range_missing", "{{ range .l }}x{{ else }}empty{{ end }}", {}, {"out": "empty"}),
    (
        "range_break_continue",
        '{{ range .l }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "d" }}{{ break }}{{ end }}{{ . }}{{ end }}',
        {"l": ["a", "b", "c", "d", "e"]},
        {"out": "ac"},
    ),
    (
        "define_template",
        '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .a }}',
        {"a": "x"},
        {"out": "[x]"},
    ),
    ("block", '{{ block "b" .a }}<{{ . }}>{{ end }}', {"a": "x"}, {"out": "<x>"}),
    ("comment", "a{{/* comment */}}b", {}, {"out": "ab"}),
    ("trim", 'a  {{- "b" -}}  c', {}, {"out": "abc"}),
    ("trim_newlines", 'a\n\n{{- "b" }}\n', {}, {"out": "ab\n"}),
    (
        "and_or",
        '{{ and .a .b }} {{ or .c .d }} {{ or .c "" }}|',
        {"a": "1", "b": "2", "d": "4"},
        {"out": "2 4 |"},
    ),
    ("not", "{{ not .a }} {{ not .b }}", {"a": "x"}, {"out": "false true"}),
    ("eq_ne", '{{ eq .a "x" }} {{ ne .a "x" }} {{ eq .a "y" "x" }}', {"a": "x"}, {"out": "true false true"}),
    ("eq_missing", '{{ eq .nope "x" }}', {}, {"out": "false"}),
    (
        "eq_incompatible",
        '{{ eq .n "x" }}',
        {"n": 1},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <eq .n "x">: error calling eq: incompatible types for comparison: float64 and string'
        },
    ),
    ("lt_gt", '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }}', {}, {"out": "true true true false"}),
    (
        "len",
        "{{ len .l }} {{ len .m }} {{ len .s }}",
        {"l": [1, 2], "m": {"a": 1}, "s": "abc"},
        {"out": "2 1 3"},
    ),
    (
        "index",
        '{{ index .l 1 }} {{ index .m "k" }} {{ index .m "nope" }}',
        {"l": ["a", "b"], "m": {"k": "v"}},
        {"out": "b v <no value>"},
    ),
    ("index_nested", '{{ index .m "a" "b" }}', {"m": {"a": {"b": "c"}}}, {"out": "c"}),
    (
        "index_out_of_range",
        "{{ index .l 5 }}",
        {"l": ["a"]},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <index .l 5>: error calling index: index out of range: 5'
        },
    ),
    (
        "slice",
        "{{ slice .s 1 3 }} {{ slice .l 1 }}",
        {"s": "abcd", "l": ["a", "b", "c"]},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <slice .s 1 3>: error calling slice: list should be type of slice or array but string'
        },
    ),
    ("print", '{{ print "a" 1 2 "b" }}|{{ println "x" }}|', {}, {"out": "a1 2b|x\n|"}),
    (
        "printf_verbs",
        '{{ printf "%q %v %d %5s|%-3s|%x" "a" "b" 7 "r" "l" 255 }}',
        {},
        {"out": '"a" b 7     r|l  |ff'},
    ),
    (
        "html_js_urlquery",
        '{{ html "<a&b>" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}',
        {},
        {"out": "&lt;a&amp;b&gt; it\\'s a+b%26c"},
    ),
    ("raw_string", '{{ `a"b` }}', {}, {"out": 'a"b'}),
    ("chars_numbers", "{{ 'a' }} {{ 0x10 }} {{ 1e3 }} {{ 1.5 }}", {}, {"out": "97 16 1000 1.5"}),
    ("parenthesized", '{{ (printf "%s" .a) | len }}', {"a": "abc"}, {"out": "3"}),
    (
        "nested_define_dot",
        '{{ define "x" }}{{ .k }}{{ end }}{{ range .l }}{{ template "x" . }}{{ end }}',
        {"l": [{"k": "1"}, {"k": "2"}]},
        {"out": "12"},
    ),
    ("sprig_default", '{{ default "d" .a }} {{ default "d" .b }}', {"b": "v"}, {"out": "d v"}),
    ("sprig_dict", '{{ $d := dict "a" "1" }}{{ $d.a }} {{ index $d "a" }}', {}, {"out": "1 1"}),
    (
        "sprig_strings",
        '{{ upper "a" }} {{ trim "  x " }} {{ replace "a" "b" "aa" }} {{ quote "q" }} {{ squote "s" }}',
        {},
        {"out": "A x bb \"q\" 's'"},
    ),
    (
        "sprig_lists",
        '{{ list 1 2 3 | join "," }} {{ first (list "a" "b") }} {{ has "b" (list "a" "b") }}',
        {},
        {"out": "1,2,3 a true"},
    ),
    (
        "sprig_math",
        "{{ add 1 2 }} {{ sub 5 3 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 }}",
        {},
        {"out": "3 2 6 3 1 5"},
    ),
    (
        "sprig_ternary_empty",
        '{{ ternary "y" "n" true }} {{ empty .a }} {{ coalesce .a "c" }}',
        {},
        {"out": "y true c"},
    ),
    ("sprig_toJson", "{{ toJson .m }}", {"m": {"b": [1, "x"], "a": None}}, {"out": '{"a":null,"b":[1,"x"]}'}),
    ("sprig_b64", '{{ b64enc "hi" }} {{ b64dec "aGk=" }}', {}, {"out": "aGk= hi"}),
    ("sprig_regex", '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', {}, {"out": "-W-xxW-"}),
    ("sprig_semver", '{{ semverCompare ">=1.2.0" "1.3.0" }}', {}, {"out": "true"}),
    ("sprig_int", '{{ int "42" }} {{ atoi "7" }} {{ toString 5 }}', {}, {"out": "42 7 5"}),
    ("err_unclosed", "{{ .a", {}, {"err": "template: stdin:1: unclosed action"}),
    ("err_unknown_func", "a\n{{ foo }}", {}, {"err": 'template: stdin:2: function "foo" not defined'}),
    ("err_if_no_arg", "{{ if }}{{ end }}", {}, {"err": "template: stdin:1: missing value for if"}),
    ("err_unexpected_end", "{{ end }}", {}, {"err": "template: stdin:1: unexpected {{end}}"}),
    ("err_missing_end", "{{ if .a }}x", {}, {"err": "template: stdin:1: unexpected EOF"}),
    ("err_undefined_var", "{{ $x }}", {}, {"err": 'template: stdin:1: undefined variable "$x"'}),
    (
        "err_undefined_template",
        '{{ template "nope" }}',
        {},
        {
            "err": 'template: stdin:1:12: executing "stdin" at <{{template "nope"}}>: template "nope" not defined'
        },
    ),
    (
        "err_wrong_arg_count",
        "{{ index }}",
        {},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <index>: wrong number of args for index: want at least 1 got 0'
        },
    ),
    (
        "err_call_non_func",
        "{{ call .a }}",
        {"a": "x"},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <call .a>: error calling call: non-function .a of type string'
        },
    ),
    ("print_nil_in_list", "{{ .l }}", {"l": [1, None, "a"]}, {"out": "[1 <nil> a]"}),
    ("printf_v_map", '{{ printf "%v" .m }}', {"m": {"k": ["x"]}}, {"out": "map[k:[x]]"}),
    ("printf_q_num", '{{ printf "%q" .s }}', {"s": 'a"b'}, {"out": '"a\\"b"'}),
    (
        "len_nil",
        "{{ len .nope }}",
        {},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <len .nope>: error calling len: reflect: call of reflect.Value.Type on zero Value'
        },
    ),
    (
        "index_nil_map",
        '{{ index .nope "a" }}',
        {},
        {
            "err": 'template: stdin:1:3: executing "stdin" at <index .nope "a">: error calling index: index of untyped nil'
        },
    ),
    ("range_int", "{{ range 3 }}{{ . }}{{ end }}", {}, {"out": "012"}),
    ("with_else_with", "{{ with .a }}A{{ else with .b }}B{{ . }}{{ end }}", {"b": "x"}, {"out": "Bx"}),
    ("not_empty_map", "{{ if .m }}y{{ else }}n{{ end }}", {"m": {}}, {"out": "n"}),
    ("and_short", "{{ and .a (index .a 5) }}", {}, {"out": "<no value>"}),
    (
        "nested_vars_scope",
        "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
        {},
        {"out": "21"},
    ),
    (
        "assign_in_range",
        "{{ $x := 0 }}{{ range .l }}{{ $x = . }}{{ end }}{{ $x }}",
        {"l": ["a", "b"]},
        {"out": "b"},
    ),
    ("pipe_chain", '{{ "abc" | printf "%s-%s" "x" | len }}', {}, {"out": "5"}),
    ("ws_trim_both", "x\n  {{- /* c */ -}}\n  y", {}, {"out": "xy"}),
    ("dict_keys", '{{ $d := dict "b" 1 "a" 2 }}{{ range $k, $v := $d }}{{ $k }}{{ end }}', {}, {"out": "ab"}),
    ("toYaml_absent", '{{ list "a" | toJson }}', {}, {"out": '["a"]'}),
    ("default_empty_list", '{{ default "d" .l }}', {"l": []}, {"out": "d"}),
    ("ternary", '{{ ternary "a" "b" (eq 1 1) }}', {}, {"out": "a"}),
    ("split", '{{ $p := split "/" "a/b" }}{{ $p._1 }}', {}, {"out": "b"}),
    (
        "trimSuffix",
        '{{ trimSuffix "-x" "abc-x" }} {{ trimPrefix "a" "abc" }} {{ lower "AB" }} {{ title "hi there" }}',
        {},
        {"out": "abc bc ab Hi There"},
    ),
    (
        "contains_hasPrefix",
        '{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "c" "abc" }}',
        {},
        {"out": "true true true"},
    ),
    ("int64_float", '{{ int64 "5" }} {{ float64 "1.5" }} {{ add1 1 }}', {}, {"out": "5 1.5 2"}),
    ("keys_sorted", '{{ keys .m | sortAlpha | join "," }}', {"m": {"b": 1, "a": 2}}, {"out": "a,b"}),
    (
        "printf_float",
        '{{ printf "%.2f" 1.2345 }} {{ printf "%d" 3 }} {{ printf "%s" 3 }}',
        {},
        {"out": "1.23 3 %!s(int=3)"},
    ),
    ("eq_bool", '{{ eq .t true }} {{ eq .s "" }}', {"t": True, "s": ""}, {"out": "true true"}),
    ("index_list_of_maps", "{{ (index .l 0).name }}", {"l": [{"name": "n"}]}, {"out": "n"}),
]

# Where gotpl's wording of a cause differs from Go's; the failure itself is faithful.
KNOWN_CAUSE_WORDING = {
    "eq_incompatible": "incompatible types for comparison",  # Go >=1.22 appends the two types
    "index_out_of_range": "error calling index: index out of range",  # Go appends ": 5"
    "err_call_non_func": "error calling call:",
    "err_undefined_template": 'template "nope" not defined',
    "len_nil": "error calling len:",  # Go leaks a reflect message here
}

# Go places these errors at the last field of a chain / after the template name; we report the
# start of the action.
KNOWN_COLUMN = {"nil_chain_error", "field_on_string_error", "err_undefined_template"}
# Go shows `at <{{template "nope"}}>`; we leave the context out there.
NO_CONTEXT = {"err_undefined_template"}

_GO_EXEC_PREFIX = re.compile(r'^template: \w+:\d+:([\d_]+): executing "\w+"(?: at <.*?>)?: ', re.S)


def _render(template: str, data: object) -> dict[str, str]:
    try:
        return {"out": GoTemplate(template, "stdin", function_map_for("", "")).render(data)}
    except TemplateError as err:
        return {"err": str(err)}


@pytest.mark.parametrize(("case", "template", "data", "go"), GO_CASES, ids=[c[0] for c in GO_CASES])
def test_matches_go(case: str, template: str, data: object, go: dict[str, str]) -> None:
    ours = _render(template, data)
    if "out" in go:
        assert ours == go
        return
    assert "err" in ours, f"Go fails with {go['err']!r}, we rendered {ours.get('out')!r}"
    expected, got = go["err"], ours["err"]
    if case in KNOWN_COLUMN:  # compare all but the column
        expected, got = (re.sub(r"^(template: \w+:\d+):\d+:", r"\1:_:", e) for e in (expected, got))
    if case in KNOWN_CAUSE_WORDING:  # the same place and context, a differently worded cause
        prefix = _GO_EXEC_PREFIX.match(expected)
        assert prefix is not None and got.startswith(
            prefix.group(0) if case not in NO_CONTEXT else "template:"
        )
        assert KNOWN_CAUSE_WORDING[case] in got
        return
    assert got == expected


def test_compiled_once_rendered_many() -> None:
    template = GoTemplate("{{ .a }}-{{ Now }}", "t", function_map_for("v1", "Pod"))
    assert template.render({"a": 1}, {"Now": lambda: "t1"}) == "1-t1"
    assert template.render({"a": 2}, {"Now": lambda: "t2"}) == "2-t2"


def test_environment_function_missing_at_render_is_an_error_for_that_render_only() -> None:
    template = GoTemplate("{{ NodeIP }}", "t", function_map_for("v1", "Node"))
    with pytest.raises(TemplateError, match="NodeIP"):
        template.render({}, {})
    assert template.render({}, {"NodeIP": lambda: "10.0.0.1"}) == "10.0.0.1"


def test_function_not_available_for_the_resource_is_a_parse_error() -> None:
    # KWOK's node controller has no PodIP; generic controllers have no NodeIP.
    with pytest.raises(TemplateError, match=r'^template: t:1: function "PodIP" not defined$'):
        GoTemplate("{{ PodIP }}", "t", function_map_for("v1", "Node"))
    with pytest.raises(TemplateError, match='function "NodeIP" not defined'):
        GoTemplate("{{ NodeIP }}", "t", function_map_for("apps/v1", "Deployment"))


def test_missing_value_reaches_functions_as_nil() -> None:
    # Go passes the zero value (nil) for a missing key to an `any` parameter: Quote gives "null".
    template = GoTemplate("{{ .nope | Quote }}", "t", function_map_for("v1", "Pod"))
    assert template.render({}) == '"null"'


def test_strings_have_no_python_attributes() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field upper"):
        GoTemplate("{{ .a.upper }}", "t", function_map_for("", "")).render({"a": "x"})


def test_numbers_reach_templates_as_json_numbers_like_kwok() -> None:
    # KWOK decodes objects with json.Number: numbers print as written and compare as strings.
    from kwok.engine.gotemplate import json_numbers

    data = json_numbers({"pods": 110, "ratio": 0.5, "zero": 0, "ok": True, "list": [1, 2.0]})

    def render(text: str) -> str:
        return GoTemplate(text, "t", function_map_for("v1", "Node")).render(data)

    assert render("{{ .pods }} {{ .ratio }} {{ index .list 1 }}") == "110 0.5 2.0"
    assert render('{{ eq .pods "110" }} {{ if .zero }}set{{ end }} {{ .ok }}') == "true set true"
    assert render("{{ toJson .list }} {{ .pods | Quote }} {{ YAML .list }}") == '[1,2] "110" - 1\n- 2.0\n'
    with pytest.raises(TemplateError, match="incompatible types for comparison"):
        render("{{ eq .pods 110 }}")
