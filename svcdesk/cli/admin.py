"""Desk commands: init, index, doctor."""

from pathlib import Path

import click

from svcdesk.cli.output import as_json, echo
from svcdesk.cli.params import TEXT_OR_JSON


@click.command()
@click.argument("folder", required=False, default=".", metavar="[DIR]")
@click.option("--sample", is_flag=True,
              help="Fill the desk with about 40 realistic tickets from the last six weeks.")
@click.pass_obj
def init(state, folder, sample):
    """Make a desk in DIR (default: here): rules.yaml, templates/, tickets/ and git."""
    from svcdesk.app import admin

    desk = admin.init(Path(folder), sample=sample, agent=state.agent)
    count = sum(1 for _ in desk.root.glob("tickets/*/*/*.yaml"))
    echo(f"Made the desk {desk.rules.name} in {desk.root}"
         + (f" with {count} sample tickets" if sample else ""))


@click.group()
def index():
    """The ticket index (.git/svcdesk/index.sqlite): a cache every read keeps up to date;
    and the trail (trail.sqlite): which commits touched each ticket, for log."""


@index.command()
@TEXT_OR_JSON
@click.pass_obj
def status(state, fmt):
    """Bring the index up to date and say what it holds."""
    from svcdesk.app import admin

    data = admin.index_status(state.desk())
    if fmt == "json":
        echo(as_json(data))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        echo(f"{key:<{width}}  {value if value is not None else '—'}")


@index.command()
@click.pass_obj
def rebuild(state):
    """Throw the index away and build it again from every ticket file (and the trail)."""
    from svcdesk.app import admin

    count = admin.rebuild_index(state.desk())
    echo(f"Indexed {count} ticket(s)")


@click.command()
@click.option("--fix", is_flag=True, help="Do the fixes that lose nothing (an interrupted "
              "change finished, hand edits recorded, the index rebuilt, the merge driver "
              "set up, broken outbox files moved aside).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text for people; json for scripts.")
@click.pass_obj
def doctor(state, fix, fmt):
    """Check the desk as a careful admin would: every file parses, histories explain their
    tickets, numbers are unique, links hold, the merge driver is set up, no change was left
    half done, the index is in step, the outbox is sane, no secret is committed."""
    from svcdesk.app import doctor as checks
    from svcdesk.base.errors import ExitCode

    desk = state.desk()
    findings = checks.examine(desk, fix)
    left, fixed, fixable = checks.summary(findings)
    if fmt == "json":
        echo(as_json({"problems": left, "fixed": fixed, "findings": [
            {"check": f.check, "where": f.where, "problem": f.problem, "fix": f.fix,
             "fixed": f.fixed} for f in findings]}))
    else:
        for f in findings:
            said = f"  {f.check}: {f.where}: {f.problem}"
            if f.fixed:
                said += f" — fixed: {f.fix}"
            elif f.fix:
                said += f" — --fix would {f.fix}"
            echo(said)
        if not findings:
            echo("The desk is healthy: nothing to fix.")
        else:
            echo(f"{left} problem(s) left, {fixed} fixed"
                 + (f"; `svcdesk doctor --fix` would fix {fixable}" if fixable and not fix
                    else ""))
    return ExitCode.UNHEALTHY if left else ExitCode.OK


COMMANDS = (init, index, doctor)
