"""Desk commands: init."""

from pathlib import Path

import click

from svcdesk.cli.output import echo


@click.command()
@click.argument("folder", required=False, default=".", metavar="[DIR]")
@click.option("--sample", is_flag=True,
              help="Fill the desk with about 40 realistic tickets from the last six weeks.")
@click.pass_obj
def init(state, folder, sample):
    """Make a desk in DIR (default: here): rules.yaml, templates/, tickets/ and git."""
    from svcdesk.desk import Desk

    desk = Desk.init(Path(folder), sample=sample, agent=state.agent)
    count = sum(1 for _ in desk.root.glob("tickets/*/*/*.yaml"))
    echo(f"Made the desk {desk.rules.name} in {desk.root}"
         + (f" with {count} sample tickets" if sample else ""))


COMMANDS = (init,)
