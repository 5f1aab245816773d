"""Desk commands: init, index."""

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


COMMANDS = (init, index)
