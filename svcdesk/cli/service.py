"""Service levels from the shell: `sla check` (from cron) and `sla explain`."""

import click

from svcdesk.cli.output import as_json, echo
from svcdesk.cli.params import TICKET_ID
from svcdesk.errors import ExitCode

pass_state = click.pass_obj


@click.group()
def sla():
    """Service levels: check the clocks, explain one ticket's."""


@sla.command()
@click.option("--dry-run", is_flag=True, help="Say what is due without doing it.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text for people; json for scripts.")
@pass_state
def check(state, dry_run, fmt):
    """Take the steps that are due: warnings, breaches, the escalation ladder, progress
    updates, closing resolved tickets and reminders. Run it from cron every few minutes:
    it prints nothing when nothing is due, and each step happens once."""
    desk = state.desk()
    run = desk.sla_check(dry_run=dry_run)
    for year in _uncovered(desk):
        echo(f"Warning: {year}", err=True)
    for number, why in run.skipped:
        echo(f"Warning: {number} left as it is: {why}", err=True)
    if fmt == "json":
        echo(as_json({"dry_run": dry_run, "commit": run.commit,
                      "steps": [{"ticket": t.number, "kind": t.due.kind, "rule": t.due.key,
                                 "did": t.did} for t in run.taken],
                      "skipped": [{"ticket": n, "why": w} for n, w in run.skipped]}))
    else:
        verb = "would take" if dry_run else "took"
        for t in run.taken:
            echo(f"{t.number}  {t.due.key}: {t.did}")
        if run.taken:
            echo(f"{verb} {len(run.taken)} step(s)"
                 + (f" in commit {run.commit[:10]}" if run.commit else ""), err=True)
    return ExitCode.CONFLICT if run.skipped else ExitCode.OK


@sla.command()
@click.argument("ticket", type=TICKET_ID)
@pass_state
def explain(state, ticket):
    """Show a ticket's clocks: the policy, each target, and the spans counted or paused."""
    from svcdesk.cli.view import render_clock_timeline

    desk = state.desk()
    found = desk.load(ticket)
    echo(render_clock_timeline(found, desk.service_level(found), desk.rules))
    for year in _uncovered(desk):
        echo(f"Warning: {year}", err=True)


def _uncovered(desk) -> list:
    """Warnings for years a calendar counted without official holiday data."""
    out = []
    for calendar in desk.rules.service.calendars.values():
        for year in sorted(calendar.uncovered):
            out.append(f"calendar {calendar.name} ({calendar.base_name}) has no official "
                       f"holiday data for {year}; it counted plain weekdays. List {year}'s "
                       f"holidays and make-up days under calendars.{calendar.name} in "
                       "rules.yaml")
    return out


COMMANDS = [sla]
