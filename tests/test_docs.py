"""Docs that cannot drift: every CLI command and setting is named in the README."""

import pathlib
import re

import click
import typer

from magtrial.cli.main import app
from magtrial.settings import Settings

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
# "magtrial --user P-017 diary add" names the command "magtrial diary add": drop global options first.
COMMANDS = re.sub(r"magtrial (--(user|db) \S+ )+", "magtrial ", README)


def command_paths(group: click.Group, prefix: str = "magtrial") -> list[str]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # not ``group.commands``: the root loads its commands lazily (issue 13)
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_in_the_readme():
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) > 15
    missing = [p for p in paths if p not in COMMANDS]
    assert missing == []


def test_every_setting_is_in_the_readme():
    for name in Settings.model_fields:
        assert f"MAGTRIAL_{name.upper()}" in README


def test_every_make_target_is_in_the_readme():
    makefile = (pathlib.Path(__file__).parent.parent / "Makefile").read_text()
    targets = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE).group(1).split()
    assert "test-fast" in targets
    assert [t for t in targets if f"make {t}" not in README] == []
