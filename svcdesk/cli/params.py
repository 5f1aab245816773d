"""Command-line value types, checked before anything touches a path."""

from datetime import date

import click

from svcdesk.base.identity import TicketRef, parse_ref


class TicketIdType(click.ParamType):
    """A ticket ID (SD-20261122-0003) or a unique end of one (20261122-3)."""

    name = "ID"

    def convert(self, value, param, ctx) -> TicketRef:
        if isinstance(value, TicketRef):
            return value
        try:
            return parse_ref(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DayType(click.ParamType):
    """A calendar day, YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class AssignmentType(click.ParamType):
    """FIELD=VALUE, for --set."""

    name = "FIELD=VALUE"

    def convert(self, value, param, ctx) -> tuple:
        if isinstance(value, tuple):
            return value
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            self.fail(f"{value!r} is not FIELD=VALUE (e.g. customer.phone=13800000000)",
                      param, ctx)
        return name.strip(), text


TICKET_ID = TicketIdType()
DAY = DayType()
ASSIGNMENT = AssignmentType()

# --format of the commands that print either a text for people or JSON for scripts
TEXT_OR_JSON = click.option("--format", "fmt", type=click.Choice(("text", "json")),
                            default="text", show_default=True,
                            help="text for people; json for scripts.")

BOM = click.option("--bom/--no-bom", default=True, show_default=True,
                   help="CSV: begin with a byte-order mark, so that Excel on Windows reads "
                        "the Chinese right.")
