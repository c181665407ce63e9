"""The README's command-line tour runs as written: its files, roles, keys and order of steps all work."""

import pathlib
import re
import shutil

README = pathlib.Path(__file__).parent.parent / "README.md"


def tour_commands() -> list[str]:
    """The shell block under "A trial from the command line", one command per line, comments dropped."""
    text = README.read_text()
    section = text[text.index("### A trial from the command line") :]
    block = section[section.index("```sh\n") + 6 : section.index("```\n", section.index("```sh\n") + 6)]
    return [re.split(r"\s#\s", line)[0].strip() for line in block.splitlines() if line.strip()]


def words(line: str) -> list[str]:
    return [w.strip('"') for w in re.findall(r'"[^"]*"|\S+', line)]


def test_the_tour_runs_as_written(run, tmp_path, monkeypatch):
    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    trial = head = None
    commands = tour_commands()
    assert len(commands) > 15
    for line in commands:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            monkeypatch.setenv(name, value)
            continue
        if line.startswith("TRIAL="):
            continue
        args = words(line.replace("$TRIAL", trial or "$TRIAL"))
        assert args[0] == "magtrial", line
        if "--expect-head" in args:
            args[args.index("--expect-head") + 1] = head
        out = run(*args[1:]).output
        if args[1:3] == ["trial", "create"]:
            trial = re.search(r"Created trial (mt-[0-9a-f]+)", out).group(1)
        if args[1:3] == ["audit", "head"]:
            head = out.strip()
        if "unblind" in args:
            assert "Commitment verifies" in out
    assert trial and head
    assert "Commitment verifies." in run("trial", "verify", trial).output
