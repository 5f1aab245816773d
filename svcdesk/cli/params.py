"""Command-line value types, checked before anything touches a path."""

from datetime import date

import click

from svcdesk.base.identity import TicketRef, parse_ref


def _completion_desk(ctx):
    """The desk a command line being completed names (None: none, or it is broken)."""
    from svcdesk.app.desk import open_desk
    from svcdesk.base.errors import SvcdeskError

    root = ctx.find_root()
    try:
        return open_desk(root.params.get("desk_path"), root.params.get("agent"), "complete")
    except SvcdeskError:
        return None


def completes(vocabulary: str):
    """A shell_complete for an option taking a key of the desk's ``vocabulary`` (statuses,
    types, agents...): the keys starting with what was typed, each with its label."""

    def complete(ctx, param, incomplete):
        desk = _completion_desk(ctx)
        if desk is None:
            return []
        extra = {"statuses": {"all": "every status"}, "agents": {"me": "yourself"}}
        choices = {**extra.get(vocabulary, {}), **desk.rules.vocabularies.get(vocabulary, {})}
        if vocabulary == "actions":  # `do` takes the desk's own; svcdesk's have commands
            from svcdesk.app.work import declared_action

            choices = {k: v for k, v in choices.items() if declared_action(desk, k)}
        return [click.shell_completion.CompletionItem(key, help=str(label))
                for key, label in choices.items() if key.startswith(incomplete)]

    return complete


class TicketIdType(click.ParamType):
    """A ticket ID (SD-20261122-0003) or a unique end of one (20261122-3)."""

    name = "ID"

    def shell_complete(self, ctx, param, incomplete):
        """The open tickets whose number holds what was typed, newest first."""
        from svcdesk.app import lookup

        desk = _completion_desk(ctx)
        if desk is None:
            return []
        found = lookup.listing(desk, lookup.choose(desk, open_by_default=True), limit=200,
                               brief=True)
        typed = incomplete.upper()
        return [click.shell_completion.CompletionItem(t["id"], help=t.get("title") or "")
                for t in found.tickets if typed in t["id"]]

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
