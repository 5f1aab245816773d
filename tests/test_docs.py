"""The docs keep up with the code: every command has help, every exit code is documented."""

from pathlib import Path

import click
import pytest

from svcdesk.cli import MODULES, cli
from svcdesk.base.errors import ExitCode, SvcdeskError

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands():
    with click.Context(cli) as ctx:
        return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}


def test_every_command_has_help():
    for name, command in _commands().items():
        assert command.help and command.help.strip(), f"`svcdesk {name}` has no help"
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and param.name != "help":
                assert param.help, f"`svcdesk {name} {param.opts[0]}` has no help"


def test_every_command_module_is_mapped_so_its_commands_load():
    from importlib import import_module

    for module, names in MODULES.items():
        defined = {command.name for command in import_module(f"svcdesk.cli.{module}").COMMANDS}
        assert defined == set(names), module
    assert all(command is not None for command in _commands().values())


def test_every_exit_code_is_in_the_readme():
    for code in ExitCode:
        assert f"\n| {int(code)} | " in README, f"exit code {int(code)} ({code.name}) undocumented"


def test_every_error_class_has_a_docstring_and_a_documented_code():
    def walk(cls):
        yield cls
        for sub in cls.__subclasses__():
            yield from walk(sub)

    for cls in walk(SvcdeskError):
        assert cls.__doc__, cls
        assert cls.__name__.endswith("Error")
        assert isinstance(cls.exit_code, ExitCode)


def test_the_readme_starts_with_the_two_set_up_commands():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "docs/demo.sh" in commands[0] and "pytest" in commands[1]
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_every_rules_yaml_key_is_documented_in_docs_rules_md():
    from svcdesk.domain.ruleschema import SCHEMA, Record, Seq, Table

    doc = (Path(__file__).parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")

    def keys(node):
        if isinstance(node, Record):
            for key, child in node.keys.items():
                yield key
                yield from keys(child)
        elif isinstance(node, Table):
            yield from keys(node.value)
        elif isinstance(node, Seq):
            yield from keys(node.item)

    missing = sorted({k for k in keys(SCHEMA) if f"`{k}`" not in doc})
    assert not missing, f"docs/rules.md does not describe: {', '.join(missing)}"


def test_every_report_figure_is_defined_in_docs_metrics_md(desk, run):
    import json

    doc = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    result = run("report", "weekly", "--week", "2026-W47", "--format", "json")
    assert result.exit_code == 0, result.stderr
    keys = set(json.loads(result.stdout)) - {"desk", "filters", "period"}
    missing = sorted(k for k in keys if f"`{k}" not in doc)
    assert not missing, f"docs/metrics.md does not define: {', '.join(missing)}"


@pytest.mark.slow
def test_the_readme_tour_runs_as_written_on_any_day(tmp_path):
    """The tour, line by line, in a shell: on the machine's own date (no SVCDESK_NOW), with
    no server and no editor (those two lines are for a person at a terminal)."""
    import os
    import subprocess
    import sys

    tour = README.split("## A five-minute tour", 1)[1].split("```sh", 1)[1].split("```")[0]
    lines = [line for line in tour.replace("\\\n", " ").splitlines()
             if line.strip() and not line.startswith("#")
             and not line.startswith(("svcdesk server", "svcdesk edit"))]
    assert len(lines) > 25 and any(line.startswith("ID=$(svcdesk new") for line in lines)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVCDESK_")}
    env.update(PATH=f"{Path(sys.executable).parent}:{env['PATH']}", SVCDESK_SERVER="0")
    script = "set -e\n" + "\n".join(lines) + "\n"
    done = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the desk's zone
    number = f"SD-{today:%Y%m%d}-0001"  # the day's first, by the machine's clock
    assert f"{number}\n" in done.stdout and f"Svcdesk-Ticket: {number}" in done.stdout
    assert "reopen: 问题再次出现" in done.stdout
