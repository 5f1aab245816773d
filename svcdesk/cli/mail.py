"""Mail in: ingest one message, import a Maildir or mbox, the quarantine."""

import sys
from pathlib import Path

import click

from svcdesk.cli.output import as_json, echo, table
from svcdesk.cli.params import TEXT_OR_JSON


@click.group()
def mail():
    """Requests and replies by mail: each message becomes a ticket, a comment or a rating;
    machine mail and what cannot be taken is kept aside (mail quarantine), never dropped."""


@mail.command()
@click.argument("file", required=False, default="-", metavar="[FILE|-]")
@click.pass_obj
def ingest(state, file):
    """Take one RFC 5322 message from FILE or standard input (a mail server's pipe, as
    procmail or an alias `|svcdesk --desk /srv/desk mail ingest` gives it).

    \b
    Examples:
      svcdesk mail ingest message.eml
      svcdesk --desk /srv/desk mail ingest < message.eml
    """
    from svcdesk.app import mailin

    raw = _read(file)
    taken = mailin.ingest(state.desk(), raw, "stdin" if file == "-" else file)
    echo(_line(taken))


@mail.command()
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="Take at most this many messages (the next run takes the rest).")
@click.pass_obj
def fetch(state, limit):
    """Take the new messages of the service mailbox (rules.yaml mail.imap; the password in
    SVCDESK_IMAP_PASSWORD), each marked taken on the server once the desk holds it. Run it
    from cron beside sla check: it says nothing unless a message needs a person.

    \b
    Examples:
      */5 * * * * cd /srv/desk && svcdesk mail fetch && svcdesk notify send
    """
    from svcdesk.app import mailin

    for taken in mailin.fetch(state.desk(), limit):
        if sys.stdout.isatty():
            echo(_line(taken))
        if taken.kind == "kept" and not taken.routine:
            echo(f"Warning: {_line(taken)} (svcdesk mail quarantine)", err=True)


@mail.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def import_(state, path):
    """Take every message of a Maildir, an mbox file or an .eml file, in order, 200 to a
    commit; the ones already taken change nothing.

    \b
    Examples:
      svcdesk mail import ~/Maildir/.service
      svcdesk mail import export.mbox
    """
    from svcdesk.app import mailin

    desk = state.desk()
    counts: dict = {}
    for batch in mailin.take(desk, mailin.messages(path)):
        for taken in batch:
            counts[taken.kind] = counts.get(taken.kind, 0) + 1
            if taken.kind != "duplicate":
                echo(_line(taken))
    echo(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no messages", err=True)


@mail.command()
@TEXT_OR_JSON
@click.pass_obj
def quarantine(state, fmt):
    """The messages kept aside (unreadable, machine mail, refused), with why."""
    from svcdesk.app import mailin

    kept = mailin.quarantined(state.desk())
    if fmt == "json":
        echo(as_json([{"name": k.name, "reason": k.reason, "source": k.source, "at": k.at,
                       "file": str(k.path)} for k in kept]))
        return
    if not kept:
        echo("No message is kept aside.")
        return
    echo(table([[k.name, k.at, k.reason] for k in kept], ["name", "kept at", "why"]))


@mail.command()
@click.argument("name")
@click.pass_obj
def retry(state, name):
    """Take a kept message again (once the desk or the message was mended)."""
    from svcdesk.app import mailin

    echo(_line(mailin.retry(state.desk(), name)))


def _read(file: str) -> bytes:
    from svcdesk.app.mailin import MOST_BYTES
    from svcdesk.base.errors import UsageError

    most = MOST_BYTES
    try:
        if file == "-":
            raw = sys.stdin.buffer.read(most + 1) if sys.stdin else b""
        else:
            with open(file, "rb") as handle:
                raw = handle.read(most + 1)
        if len(raw) > most:
            raise UsageError(f"{file}: a message of more than {most >> 20} MB; not taken "
                             "(it stays where it came from)")
        return raw
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{file}: {exc.strerror}") from None


def _line(taken) -> str:
    return f"{taken.number or '-'}  {taken.kind}: {taken.said}"


COMMANDS = [mail]
