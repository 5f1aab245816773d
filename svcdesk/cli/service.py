"""Service levels from the shell: `sla check` (from cron) and `sla explain`."""

import sys

import click

from svcdesk.cli.output import as_json, echo
from svcdesk.cli.params import BOM, TEXT_OR_JSON, TICKET_ID
from svcdesk.base.errors import ExitCode

pass_state = click.pass_obj


@click.group()
def sla():
    """Service levels: check the clocks, explain one ticket's."""


@sla.command()
@click.option("--dry-run", is_flag=True, help="Say what is due without doing it.")
@TEXT_OR_JSON
@pass_state
def check(state, dry_run, fmt):
    """Take the steps that are due: warnings, breaches, the escalation ladder, progress
    updates, closing resolved tickets and reminders. Run it from cron every few minutes:
    it prints nothing when nothing is due, and each step happens once."""
    desk = state.desk()
    from svcdesk.app import clocks

    run = clocks.sla_check(desk, dry_run=dry_run)
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

    from svcdesk.app import clocks

    desk = state.desk()
    found = desk.load(ticket)
    echo(render_clock_timeline(found, clocks.service_level(desk, found), desk.rules))


COMMANDS = [sla]


@click.group()
def notify():
    """Notices by email, SMS, group robots and webhooks: what is queued, what a notice
    would say, send them."""


@notify.command("list")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="table for people; json for scripts.")
@pass_state
def notify_list(state, fmt):
    """The notices in the outbox: pending, failed (with why) and sent but not yet recorded."""
    from svcdesk.cli.output import clip, table

    from svcdesk.app import delivery

    entries = delivery.queued(state.desk())
    rows = [{"ticket": e.meta["number"], "event": e.meta["event"],
             "template": e.meta["template"], "to": e.address, "channel": e.channel,
             "state": e.state, "subject": e.meta.get("subject") or "",
             "error": e.meta.get("error") or "", "attempts": e.meta.get("attempts", 0),
             "retry_at": e.meta.get("retry_at"),
             "file": str(e.path.with_suffix(".eml" if e.channel == "email" else ".msg"))}
            for e in entries]
    if fmt == "json":
        echo(as_json(rows))
        return
    if not rows:
        echo("The outbox is empty.")
        return
    echo(table([[r["ticket"], r["event"], r["to"] if r["channel"] == "email" else
                 f"{r['to']} ({r['channel']})", r["state"],
                 clip(r["error"] or r["subject"], 60)] for r in rows],
               ["ticket", "event", "to", "state", "subject / error"]))


@notify.command("preview")
@click.argument("ticket", type=TICKET_ID)
@click.argument("event")
@pass_state
def notify_preview(state, ticket, event):
    """Show the messages notice EVENT (created, assigned, resolved...) would send now."""
    import json
    from email import message_from_bytes, policy

    from svcdesk.app import delivery

    for notice, data in delivery.preview_notice(state.desk(), ticket, event):
        to = notice.recipient
        if to.channel != "email":  # a robot, an SMS or a webhook: its title and text
            said = json.loads(data)
            echo(f"Via: {to.channel}" + (f" to {to.name} {to.address}" if to.role != "channel"
                                         else ""))
            echo(f"Title: {said['title']}")
            echo("")
            echo(said["text"].rstrip("\n"))
            echo("")
            continue
        msg = message_from_bytes(data, policy=policy.default)
        raw = message_from_bytes(data, policy=policy.compat32)
        for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To"):
            try:
                shown = str(msg[name])
            except ValueError:  # a header that decodes to what no header may hold: as sent
                shown = str(raw[name])
            echo(f"{name}: {shown}")
        echo("")
        echo(msg.get_content().rstrip("\n"))
        echo("")


@notify.command("send")
@click.argument("ticket", type=TICKET_ID, required=False)
@click.argument("event", required=False)
@pass_state
def notify_send(state, ticket, event):
    """Deliver the outbox (run it from cron after `sla check`); with TICKET and EVENT, send
    that notice by hand first. Each delivery is recorded on its ticket, never sent twice."""
    from svcdesk.app import delivery
    from svcdesk.base.errors import DeliveryError, TemplateError, UsageError

    desk = state.desk()
    if (ticket is None) != (event is None):
        raise UsageError("give both TICKET and EVENT, or neither (to deliver the outbox)")
    run = delivery.send_notice(desk, ticket, event) if ticket else delivery.deliver(desk)
    for entry in run.sent:
        to = entry.address if entry.channel == "email" else f"{entry.address} ({entry.channel})"
        echo(f"{entry.meta['number']}  {entry.meta['template']} → {to}")
    if run.smtp is None and run.queued and sys.stderr.isatty():
        # on a terminal only: a desk with no SMTP keeps its notices by choice, and cron
        # mails whatever a job writes, every five minutes
        echo(f"{run.queued} notice(s) kept in the outbox (no SMTP: set notices.smtp in "
             "rules.yaml or SVCDESK_SMTP_URL)", err=True)
    if run.waiting and sys.stderr.isatty():
        echo(f"{run.waiting} customer notice(s) wait until `svcdesk sync` makes their ticket "
             "numbers final", err=True)
    for entry, why in run.failed:
        echo(f"Warning: {entry.meta['number']} {entry.meta['template']}: {why}", err=True)
    for problem in run.problems[1:] if not run.error else run.problems:
        echo(f"Error: {problem}", err=True)
    if run.error:
        raise DeliveryError(f"{run.error}; {run.queued} notice(s) stay queued for the next run")
    if run.problems:
        raise DeliveryError(f"{run.problems[0]}; {run.queued} notice(s) stay queued for the "
                            "next run")
    if run.failed:
        raise TemplateError(f"{len(run.failed)} notice(s) could not be rendered (or their "
                            "ticket read); they stay queued (see the warnings)")


COMMANDS.append(notify)


REPORT_FORMATS = ("md", "html", "json", "csv")


def _report_options(command):
    for option in reversed((
            click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="md",
                         show_default=True, help="md for chat and wiki, html for a browser or "
                                                 "print (A4), json and csv for tools."),
            BOM,
            click.option("--force", is_flag=True,
                         help="With --out: overwrite a file svcdesk's report did not write."),
            click.option("--out", type=click.Path(dir_okay=False, writable=True),
                         help="Write to this file instead of standard output."),
            click.option("--team", help="Only this team's tickets."),
            click.option("--type", "kind", help="Only tickets of this type."),
            click.option("--customer", help="Only customers whose name, company... hold this."),
            click.option("--product", help="Only products whose model, serial... hold this."),
            click.option("--commit", "commit", is_flag=True,
                         help="Commit the report under reports/ (one commit)."),
            click.option("--mail", "mail", multiple=True, metavar="ADDRESS",
                         help="Mail it (repeat for more; 'manager' for desk.manager) through "
                              "the notices' SMTP, with the HTML page alongside."),
    )):
        command = option(command)
    return command


@click.group()
def report():
    """The service review of a week, a month or any days: figures from ticket histories."""


def _period_report(name: str, option: str, example: str, maker: str, doc: str):
    """A report command for a named period (a week, a month)."""

    @report.command(name, help=doc)
    @click.option(option, "which", default="last", show_default=True,
                  help=f"{example}, last (the last whole one) or this.")
    @_report_options
    @pass_state
    def command(state, which, **options):
        from svcdesk.app import reports

        make = getattr(reports, maker)
        _emit_report(state, lambda today, tz: make(which, today, tz), option, **options)

    return command


weekly = _period_report("weekly", "--week", "2026-W47", "week",
                        "The weekly review (Monday to Sunday in the desk's time zone).")
monthly = _period_report("monthly", "--month", "2026-11", "month", "The monthly review.")


@report.command("range")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The first day.")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The last day (included).")
@_report_options
@pass_state
def range_(state, first, last, **options):
    """A review of any days, --from and --to included."""
    from svcdesk.app import reports

    _emit_report(state, lambda today, tz: reports.span(first.date(), last.date(), tz), "--from/--to",
                 **options)


def _emit_report(state, make_period, option, fmt, bom, force, out, team, kind, customer,
                 product, commit, mail):
    from svcdesk.app import reports
    from svcdesk.base.errors import UsageError

    desk = state.desk()
    try:
        period = make_period(desk.now().date(), desk.rules.tz)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    data = reports.review(desk, period, team, kind, customer, product)
    if fmt == "json":
        text = as_json(data) + "\n"
    elif fmt == "csv":
        from svcdesk.cli.output import as_csv

        text = as_csv(reports.flat(data), ["section", "dimension", "figure", "value"], bom)
    else:
        text = reports.render_report(desk, data, fmt)
    for warning in data["warnings"]:
        echo(f"Warning: {warning}", err=True)
    if out:
        reports.write_out(desk, out, text, force)
    elif not (commit or mail):
        echo(text, nl=False)
    if commit:
        relpath, sha = reports.commit_report(desk, data, fmt, text)
        echo(f"{relpath}: " + (f"committed ({sha[:10]})" if sha else "unchanged"), err=True)
    if mail:
        to = list(mail)
        body = text if fmt == "md" else reports.render_report(desk, data, "md")
        html = text if fmt == "html" else reports.render_report(desk, data, "html")
        echo(reports.mail_report(desk, data, to, body, html), err=True)


COMMANDS.append(report)
