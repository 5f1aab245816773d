"""Files attached to tickets: attach, and attachment to get one back."""

import sys
from pathlib import Path

import click

from svcdesk.app import attachments
from svcdesk.base.errors import UsageError
from svcdesk.cli.output import echo, style, table
from svcdesk.cli.params import TICKET_ID

pass_state = click.pass_obj


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("paths", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-m", "--message", help="A note on the files (default: their names).")
@click.option("--name", help="The name of the file read from standard input (FILE -).")
@pass_state
def attach(state, ticket, paths, message, name):
    """Attach files to a ticket (photos of the fault, logs, invoices, videos): stored once in
    the desk beside it, in one commit, and synced with it.

    \b
    Examples:
      svcdesk attach SD-20261205-0003 故障照片.jpg 日志.txt
      dmesg | svcdesk attach 0003 - --name dmesg.txt
    """
    desk = state.desk()
    most = attachments.max_bytes(desk.rules) + 1  # enough to say a file is too large
    given = [_given(path, name, most) for path in paths]
    result, outcome = attachments.attach(desk, ticket, given, message)
    for stored in outcome.stored:
        echo(f"{style(result.number, bold=True)}: attached {attachments.name_of(stored.entry)} "
             f"({attachments.size_text(len(stored.data))})")
    for file_name, why in outcome.again:
        echo(f"{result.number}: {file_name} not attached again: {why}")


def _given(path: str, name: str | None, most: int):
    if path == "-":
        if not name:
            raise UsageError("a file read from standard input needs --name NAME")
        data = sys.stdin.buffer.read(most)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(most)
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror or exc}") from None
    return attachments.File(name if path == "-" else Path(path).name, data)


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("name", required=False)
@click.option("-o", "--output", type=click.Path(allow_dash=True),
              help="Write it to this file or folder (- for standard output).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_state
def attachment(state, ticket, name, output, force):
    """Get a ticket's attached file by its name (or digest); without NAME, list them.

    The file goes to standard output when that is a pipe or a file, else to a file of its
    name in the current folder.

    \b
    Examples:
      svcdesk attachment SD-20261205-0003
      svcdesk attachment SD-20261205-0003 故障照片.jpg -o /tmp/
      svcdesk attachment 0003 日志.txt | less
    """
    desk = state.desk()
    if name is None:
        found = desk.load(ticket)
        rows = [(item.name, "—" if item.size is None else attachments.size_text(item.size),
                 item.digest) for item in attachments.listing(desk, found)]
        echo(table(rows, ("name", "size", "digest")) if rows else
             f"{found.number} has no attachments")
        return
    file_name, data = attachments.read(desk, ticket, name)
    if output == "-" or (output is None and not sys.stdout.isatty()):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(output or ".")
    if target.is_dir() or (output or "").endswith("/"):
        target = target / file_name
    if target.exists() and not force:
        raise UsageError(f"{target} exists; give another -o or --force")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"{target}: {exc.strerror or exc}") from None
    echo(f"{target} ({attachments.size_text(len(data))})")


COMMANDS = (attach, attachment)
