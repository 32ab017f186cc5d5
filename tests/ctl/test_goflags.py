import click

from kwok.cli.goflags import main_args


@click.group()
@click.option("--all-nodes", is_flag=True)
@click.option("--secure/--no-secure", default=True)
def root(all_nodes: bool, secure: bool) -> None:
    pass


@root.command()
@click.option("--wait", is_flag=True)
@click.option("--name")
def sub(wait: bool, name: str) -> None:
    pass


def test_go_style_booleans_become_click_flags() -> None:
    argv = ["--all-nodes=true", "--secure=false", "sub", "--wait=True", "--name=false"]
    assert main_args(root, argv) == ["--all-nodes", "--no-secure", "sub", "--wait", "--name=false"]


def test_false_without_negative_form_is_dropped_and_after_dashdash_untouched() -> None:
    assert main_args(root, ["--all-nodes=false", "sub", "--", "--wait=true"]) == ["sub", "--", "--wait=true"]


def test_short_options_with_equals_sign_like_pflag() -> None:
    assert main_args(root, ["-v=4", "sub"]) == ["-v", "4", "sub"]


def _persistent_root() -> click.Group:
    from kwok.cli.goflags import PersistentOption, make_persistent

    seen: dict[str, object] = {}

    def remember(ctx: click.Context, param: click.Parameter, value: object) -> None:
        if isinstance(value, tuple):
            seen["config"] = [*seen.get("config", []), *value]  # type: ignore[misc]
        else:
            seen[str(param.opts[0])] = value

    @click.group()
    @click.option("--name", cls=PersistentOption, default="kwok", expose_value=False, callback=remember)
    @click.option("-c", "--config", cls=PersistentOption, multiple=True, expose_value=False, callback=remember)
    def root() -> None:
        pass

    @root.group()
    def create() -> None:
        pass

    @create.command("cluster")
    @click.argument("name", required=False)   # a parameter called `name` must not clash
    def cluster(name: str | None) -> None:
        seen["argument"] = name

    make_persistent(root)
    root.seen = seen  # type: ignore[attr-defined]
    return root


def test_persistent_flags_anywhere_last_wins_and_lists_accumulate() -> None:
    from click.testing import CliRunner

    root = _persistent_root()
    argv = ["--name", "a", "-c", "1.yaml", "create", "--name=b", "cluster", "arg", "-c", "2.yaml", "--name", "c"]
    result = CliRunner().invoke(root, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert root.seen == {"--name": "c", "config": ["1.yaml", "2.yaml"], "argument": "arg"}  # type: ignore[attr-defined]


def test_persistent_flag_defaults_come_from_the_root_only() -> None:
    from click.testing import CliRunner

    root = _persistent_root()
    assert CliRunner().invoke(root, ["create", "cluster"]).exit_code == 0
    assert root.seen == {"--name": "kwok", "config": [], "argument": None}  # type: ignore[attr-defined]
