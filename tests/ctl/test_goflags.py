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
