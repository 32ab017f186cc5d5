"""Label and field selectors: syntax, matching and error texts as apimachinery gives them."""

from __future__ import annotations

import pytest

from kwok.api.selectors import (
    EVERYTHING,
    NOTHING,
    SelectorError,
    label_selector_from_object,
    label_selector_from_set,
    parse_field_selector,
    parse_label_selector,
    validate_label_selector,
)

KEY_REGEX_ERROR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX_ERROR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        (" a = b ", "a=b"),
        ("a=", "a="),
        ("b=1,a=2", "a=2,b=1"),                           # sorted by key
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("a in (z, y,x)", "a in (x,y,z)"),
        ("!a", "!a"),
        ("!a,b", "!a,b"),
        ("a>1,b<3", "a>1,b<3"),
        ("in in (notin)", "in in (notin)"),            # keywords are identifiers in value positions
        ("example.com/app=web", "example.com/app=web"),
        ("a\tin\n(b)", "a in (b)"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_label_selector_parses_to_its_canonical_string(text: str, canonical: str) -> None:
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a in", "unable to parse requirement: found '' expected: '('"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
                "the value must be an integer"),
        ("-a", f"unable to parse requirement: <nil>: Invalid value: \"-a\": {KEY_REGEX_ERROR}"),
        ("a=-x", f"unable to parse requirement: values[0][a]: Invalid value: \"-x\": {VALUE_REGEX_ERROR}"),
        ("Bad_/a", "unable to parse requirement: <nil>: Invalid value: \"Bad_/a\": prefix part a lowercase RFC "
                   "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
                   "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
        ("a=" + "x" * 64, "unable to parse requirement: values[0][a]: Invalid value: \"" + "x" * 64
                          + "\": must be no more than 63 characters"),
        ("a<=1", "unable to parse requirement: found '=', expected: identifier"),  # lexed as '<' then '='
    ],
)
def test_bad_label_selector_reports_the_apimachinery_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_label_selector(text)
    assert str(err.value) == message


LABELS = {"app": "web", "tier": "front", "n": "7", "empty": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=web", True),
        ("app==db", False),
        ("app!=db", True),
        ("missing!=x", True),                 # != and notin match a missing key
        ("missing notin (x)", True),
        ("missing in (x)", False),
        ("app in (db,web)", True),
        ("app notin (db,web)", False),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("empty=", True),
        ("empty", True),
        ("missing=", False),                  # = needs the key present, even for ""
        ("n>6,n<8", True),
        ("n>7", False),
        ("app>1", False),                     # a non-integer label never compares
        ("missing<1", False),
        ("app=web,tier=back", False),
        ("", True),
    ],
)
def test_label_selector_matching(text: str, expected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is expected


def test_nil_labels_match_like_empty_labels() -> None:
    assert parse_label_selector("!a,b!=c").matches(None)
    assert not parse_label_selector("a").matches(None)


def test_label_selector_object_converts_to_the_same_matcher_and_string() -> None:
    sel = label_selector_from_object({
        "matchLabels": {"tier": "front", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["prod", "dev"]},
            {"key": "gpu", "operator": "DoesNotExist"},
            {"key": "app", "operator": "Exists"},
        ],
    })
    assert str(sel) == "app=web,app,env notin (dev,prod),!gpu,tier=front"
    assert sel.matches(LABELS)
    assert not sel.matches({**LABELS, "env": "prod"})
    assert sel == parse_label_selector(str(sel))


def test_nil_and_empty_label_selector_objects() -> None:
    assert label_selector_from_object(None) is NOTHING
    assert not NOTHING.matches({}) and not NOTHING.empty
    assert label_selector_from_object({}) is EVERYTHING and EVERYTHING.empty
    assert EVERYTHING.matches({"a": "b"})


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "In"}]},
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
         "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"),
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         "\"Gt\" is not a valid label selector operator"),
        ({"matchLabels": {"a": "b c"}}, f"values[0][a]: Invalid value: \"b c\": {VALUE_REGEX_ERROR}"),
        ({"matchLabels": {"": "b"}},
         f"key: Invalid value: \"\": name part must be non-empty; {KEY_REGEX_ERROR}"),
    ],
)
def test_bad_label_selector_object(selector: dict[str, object], message: str) -> None:
    with pytest.raises(SelectorError) as err:
        label_selector_from_object(selector)
    assert str(err.value) == message


def test_selector_from_set_and_exact_match() -> None:
    sel = label_selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.requires_exact_match("b") == "2"
    assert parse_label_selector("a in (x)").requires_exact_match("a") == "x"
    assert parse_label_selector("a in (x,y)").requires_exact_match("a") is None
    assert label_selector_from_set({}) is EVERYTHING


# --- field selectors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("metadata.name=x", "metadata.name=x"),
        ("spec.nodeName==n1", "spec.nodeName=n1"),
        ("status.phase!=Failed,spec.nodeName=node1,status.phase!=Succeeded",
         "spec.nodeName=node1,status.phase!=Failed,status.phase!=Succeeded"),
        ("involvedObject.namespace=", "involvedObject.namespace="),
        ("a=x\\,y\\=z\\\\", "a=x\\,y\\=z\\\\"),
        ("a=1,,b=2", "a=1,b=2"),
        ("", ""),
    ],
)
def test_field_selector_canonical_string(text: str, canonical: str) -> None:
    assert str(parse_field_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec.nodeName", "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a=\\q", "invalid field selector: invalid escape sequence: \\q"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_bad_field_selector(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


def test_field_selector_matching_treats_missing_as_empty() -> None:
    pod = {"metadata.name": "p", "spec.nodeName": "node1", "status.phase": "Running"}
    describe_node = parse_field_selector("spec.nodeName=node1,status.phase!=Succeeded,status.phase!=Failed")
    assert describe_node.matches(pod)
    assert not describe_node.matches({**pod, "status.phase": "Failed"})
    assert parse_field_selector("involvedObject.namespace=").matches({})
    assert not parse_field_selector("involvedObject.namespace=").matches({"involvedObject.namespace": "x"})
    assert parse_field_selector("a=x\\,y").matches({"a": "x,y"})


def test_field_selector_reports_the_first_unsupported_field() -> None:
    sel = parse_field_selector("spec.foo=1,metadata.name=x,a.b!=2")
    assert sel.fields == ("a.b", "metadata.name", "spec.foo")
    with pytest.raises(SelectorError, match="^field label not supported: spec.foo$"):
        sel.check_supported({"metadata.name", "a.b"})
    sel.check_supported({"metadata.name", "a.b", "spec.foo"})
    assert sel.requires_exact_match("metadata.name") == "x"
    assert sel.requires_exact_match("a.b") is None


def test_label_selector_object_validation_messages() -> None:
    causes = validate_label_selector({
        "matchLabels": {"app": "-web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In"},
            {"key": "gpu", "operator": "Exists", "values": ["x"]},
            {"key": "a/b/c", "operator": "Gt", "values": ["1"]},
        ],
    }, "spec.selector")
    assert [(c["field"], c["reason"]) for c in causes] == [
        ("spec.selector.matchLabels", "FieldValueInvalid"),
        ("spec.selector.matchExpressions[0].values", "FieldValueRequired"),
        ("spec.selector.matchExpressions[1].values", "FieldValueForbidden"),
        ("spec.selector.matchExpressions[2].operator", "FieldValueInvalid"),
        ("spec.selector.matchExpressions[2].key", "FieldValueInvalid"),
    ]
    assert causes[0]["message"] == f'Invalid value: "-web": {VALUE_REGEX_ERROR}'
    assert causes[1]["message"] == "Required value: must be specified when `operator` is 'In' or 'NotIn'"
    assert causes[2]["message"] == "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
    assert causes[3]["message"] == 'Invalid value: "Gt": not a valid selector operator'
    assert validate_label_selector({"matchLabels": {"app": "web"}}, "spec.selector") == []


def test_field_selector_transform_renames_and_rejects() -> None:
    def pod_fields(name: str, value: str) -> tuple[str, str]:
        if name == "spec.host":
            return "spec.nodeName", value
        if name not in ("spec.nodeName", "metadata.name"):
            raise SelectorError(f"field label not supported: {name}")
        return name, value

    sel = parse_field_selector("spec.host=n1,metadata.name!=x").transform(pod_fields)
    assert str(sel) == "metadata.name!=x,spec.nodeName=n1"
    assert sel.matches({"spec.nodeName": "n1", "metadata.name": "y"})
    with pytest.raises(SelectorError, match="^field label not supported: status.foo$"):
        parse_field_selector("status.foo=1").transform(pod_fields)
