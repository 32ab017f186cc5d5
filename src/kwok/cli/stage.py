"""`kwok stage test`: see which Stages would fire for an object, and what they would do.

    kwok stage test -s STAGES [-s ...] -f OBJECT [--now RFC3339] [--stub-functions] [-o text|yaml|json]

-s takes a Stage file or a directory (its *.yaml/*.yml files, not recursive, kustomization.yaml
skipped); documents of other kinds are skipped. -f takes a YAML/JSON file or `-` for stdin.
The yaml/json output is the document upstream KWOK's stage conformance cases record.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import sys
from typing import Any

import click


@click.group(help="Work with Stages offline.")
def stage() -> None:
    pass


def _stage_files(path: str) -> list[pathlib.Path]:
    target = pathlib.Path(path)
    if target.is_dir():
        found = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        return [p for p in found if p.name not in ("kustomization.yaml", "kustomization.yml")]
    if not target.exists():
        raise click.BadParameter(f"{path}: no such file or directory", param_hint="'-s' / '--stages'")
    return [target]


def _load_stages(paths: tuple[str, ...]) -> Any:
    from kwok.engine.config import ConfigError, load_documents
    from kwok.engine.lifecycle import StageSet
    from kwok.engine.stage import StageError

    docs: list[dict[str, Any]] = []
    for path in paths:
        for file in _stage_files(path):
            try:
                docs.extend(load_documents(file.read_text(), str(file)).of_kind("Stage"))
            except ConfigError as err:
                raise click.ClickException(str(err)) from None
    try:
        return StageSet.load(docs)
    except StageError as err:
        raise click.ClickException(str(err)) from None


def _load_objects(path: str) -> list[dict[str, Any]]:
    from kwok.engine import yamlcodec

    text = sys.stdin.read() if path == "-" else _read(path)
    try:
        docs = [d for d in yamlcodec.load_all(text) if d is not None]
    except Exception as err:  # yaml.YAMLError and the C loader's errors
        raise click.ClickException(f"{path}: invalid YAML: {' '.join(str(err).split())}") from None
    for i, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise click.ClickException(f"{path}: document {i}: an object needs apiVersion and kind")
    if not docs:
        raise click.ClickException(f"{path}: no object found")
    return docs


def _read(path: str) -> str:
    try:
        return pathlib.Path(path).read_text()
    except OSError as err:
        raise click.BadParameter(f"{path}: {err.strerror}", param_hint="'-f' / '--file'") from None


def _parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    from kwok.engine.durations import parse_rfc3339

    try:
        nanos = parse_rfc3339(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time", param_hint="'--now'") from None
    return dt.datetime.fromtimestamp(nanos // 1_000_000_000, dt.UTC).replace(
        microsecond=(nanos % 1_000_000_000) // 1000
    )


@stage.command("test", help="List the stages that could fire for an object, with delay, weight and actions.")
@click.option(
    "-s",
    "--stages",
    "stage_paths",
    multiple=True,
    required=True,
    help="Stage file or directory (repeatable).",
)
@click.option("-f", "--file", "object_path", required=True, help="Object file, or - for stdin.")
@click.option("--now", default=None, help="The time to evaluate at (RFC 3339); default: the current time.")
@click.option(
    "--stub-functions", is_flag=True, help="Replace environment-dependent template functions by stubs."
)
@click.option(
    "-o", "--output", type=click.Choice(["text", "yaml", "json"]), default="text", show_default=True
)
def test(
    stage_paths: tuple[str, ...], object_path: str, now: str | None, stub_functions: bool, output: str
) -> None:
    from kwok import __version__
    from kwok.engine.stagetest import run_stage_test, stage_test_funcs

    when = _parse_now(now)
    stage_set = _load_stages(stage_paths)
    objects = _load_objects(object_path)
    funcs = stage_test_funcs(when, __version__, stub_functions)
    results = [run_stage_test(stage_set, obj, when, funcs) for obj in objects]
    click.echo(_render(results, output), nl=False)
    if any("error" in r or any("error" in s for s in r["stages"]) for r in results):
        sys.exit(1)


def _render(results: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        import orjson

        value: Any = results[0] if len(results) == 1 else results
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    from kwok.engine import yamlcodec

    if output == "yaml":
        return "---\n".join(yamlcodec.dump(r) for r in results)
    return "".join(_text(r) for r in results)


def _text(result: dict[str, Any]) -> str:
    from kwok.engine import yamlcodec

    name = f"{result['namespace']}/{result['name']}" if result.get("namespace") else result["name"]
    stages = result["stages"]
    lines = [f"{result['kind']} {name} ({result['apiGroup']}): {len(stages)} possible stage(s)"]
    if "error" in result:
        lines.append(f"  error: {result['error']}")
    for entry in stages:
        lines.append(
            f"  stage {entry['stage']}: weight {entry['weight']}, delay {_delay_text(entry.get('delay'))}"
        )
        if "error" in entry:
            lines.append(f"    error: {entry['error']}")
        for i, action in enumerate(entry["next"], start=1):
            lines.append(f"    {i}. {_action_title(action)}")
            if "data" in action:
                body = yamlcodec.dump(action["data"]).rstrip("\n")
                lines.extend("         " + line for line in body.split("\n"))
    return "\n".join(lines) + "\n"


def _delay_text(delay: list[int] | None) -> str:
    if not delay:
        return "none"
    shown = [f"{d / 1e9:g}s" for d in delay]
    return shown[0] if len(shown) == 1 else f"{shown[0]} to {shown[1]} (random)"


def _action_title(action: dict[str, Any]) -> str:
    kind = action["kind"]
    if kind == "event":
        return f"event {action['type']} {action['reason']}: {action['message']}"
    if kind in ("patch", "apply"):
        sub = f" /{action['subresource']}" if action.get("subresource") else ""
        who = f" as {action['impersonation'].get('username')}" if action.get("impersonation") else ""
        return f"{kind}{sub} ({action['type']}){who}:"
    if kind == "immediate":
        return "then re-evaluate immediately (immediateNextStage)"
    return str(kind)


if __name__ == "__main__":
    stage()
