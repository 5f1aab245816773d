"""Faster, consistent answers: ticket templates, canned replies, similar past tickets and
the knowledge base."""

import click

from svcdesk.cli.output import as_json, clip, echo, style, table
from svcdesk.cli.params import TICKET_ID

pass_state = click.pass_obj
_FORMAT = click.option("--format", "fmt", type=click.Choice(("table", "json")),
                       default="table", show_default=True,
                       help="table for people; json for scripts.")


@click.command()
@_FORMAT
@pass_state
def templates(state, fmt):
    """The ticket templates (模板库) `new --template NAME` starts from: templates/tickets/
    NAME.yaml in the desk, over the ones svcdesk ships."""
    from svcdesk.app import intake

    desk = state.desk()
    found = intake.presets(desk)
    if fmt == "json":
        echo(as_json([{"name": p.name, "label": p.label, "label_en": p.label_en,
                       "fields": p.fields, "title": p.title, "description": p.description,
                       "ask": list(p.ask)} for p in found]))
        return
    if not found:
        echo("No ticket templates (templates/tickets/NAME.yaml).")
        return
    rules = desk.rules
    rows = [[p.name, p.label_in(rules.language),
             rules.label("types", p.fields["type"]) if p.fields.get("type") else "",
             p.fields.get("category") or "", ", ".join(p.ask)] for p in found]
    echo(table(rows, ["name", "label", "type", "category", "asks"]))


@click.command()
@click.option("--ticket", type=TICKET_ID, help="Preview each reply rendered for this ticket.")
@_FORMAT
@pass_state
def replies(state, ticket, fmt):
    """The canned replies (常用回复) `comment --reply NAME` and `resolve --reply NAME` send:
    templates/replies/NAME.j2, rendered with the ticket."""
    from svcdesk.app import replies as canned

    desk = state.desk()
    found = canned.listing(desk, desk.load(ticket) if ticket else None)
    if fmt == "json":
        echo(as_json([r._asdict() for r in found]))
        return
    if not found:
        echo("No canned replies (templates/replies/NAME.j2).")
        return
    echo(table([[r.name, clip(r.label, 30), clip(r.preview, 50)] for r in found],
               ["name", "for", "preview"]))


COMMANDS = (templates, replies)
