"""Links between tickets: link, unlink, merge."""

import click

from svcdesk.cli.output import echo, style
from svcdesk.cli.params import TICKET_ID

pass_state = click.pass_obj
KINDS = ("duplicate", "related", "parent", "caused-by")


@click.command()
@click.argument("a", type=TICKET_ID)
@click.argument("b", type=TICKET_ID)
@click.option("--as", "kind", type=click.Choice(KINDS), default="related", show_default=True,
              help="What A is of B: a duplicate of it, related to it, its parent, or caused "
                   "by it.")
@click.option("-m", "--message", help="Why (kept on both tickets, internal).")
@pass_state
def link(state, a, b, kind, message):
    """Link ticket A to ticket B; both show the link.

    \b
    Examples:
      svcdesk link 20261205-7 20261205-3 --as duplicate   # 7 is a duplicate of 3
      svcdesk link 20261201-2 20261205-7 --as parent      # 2 is the parent of 7
    """
    from svcdesk.app import links

    first, second = links.link(state.desk(), a, b, kind, message)
    echo(f"{style(first.number, bold=True)} → {second.number}: linked as {kind}")


@click.command()
@click.argument("a", type=TICKET_ID)
@click.argument("b", type=TICKET_ID)
@pass_state
def unlink(state, a, b):
    """Take the links between tickets A and B away, on both."""
    from svcdesk.app import links

    first, second = links.unlink(state.desk(), a, b)
    echo(f"{style(first.number, bold=True)} – {second.number}: unlinked")


@click.command()
@click.argument("duplicate", type=TICKET_ID)
@click.option("--into", "original", type=TICKET_ID, required=True,
              help="The ticket the duplicate is merged into (the one worked on).")
@click.option("-m", "--message", help="What the customer is told (default: 与 ORIGINAL 重复，已合并).")
@pass_state
def merge(state, duplicate, original, message):
    """Merge a duplicate ticket into its original (合并重复工单): the duplicate is closed
    as a duplicate, its contact and a pointer go into the original, and the customer's
    replies to it reach the original."""
    from svcdesk.app import links

    dup, orig = links.merge(state.desk(), duplicate, original, message)
    echo(f"{style(dup.number, bold=True)}: merged into {orig.number}")


COMMANDS = (link, unlink, merge)
