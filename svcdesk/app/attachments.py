"""Files attached to tickets: photos of the fault, logs, invoices, videos.

Each is stored once beside its ticket (adapters.store.attachment_relpath), committed with the
event that lists it, and never changed: a file's place is named by its content, so clones
that attach files to one ticket at once never write the same path, and their sync adds both.
"""

from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.base import model
from svcdesk.base.errors import TicketFileError, TicketNotFoundError, ValidationError
from svcdesk.base.identity import TicketRef
from svcdesk.domain import files, history

File = files.File  # a file given to attach: (name, data)
name_of = files.name_of  # the file name in an entry <digest>/<name>
size_text = files.size_text  # 1.5 MB, 320 KB: for the command line
LFS_POINTER = b"version https://git-lfs.github.com/spec/"


class Listed(NamedTuple):
    """One of a ticket's files as `show` lists it; size None when the file is not here."""

    entry: str
    name: str
    size: int | None

    @property
    def digest(self) -> str:
        return files.digest_of(self.entry)


def max_bytes(rules) -> int:
    return (rules.attachments or {}).get("max_bytes", files.MAX_BYTES)


def add(rules, ticket: model.Ticket, given: list, now, by: str, note: str | None = None,
        rule: str | None = None) -> tuple:
    """(ticket, {relpath: bytes} to write, files.Outcome): ``given`` (files.File) attached by
    one event; a file past the limit or already attached is left out and named in the
    outcome (``too_large``, ``again``)."""
    if len(given) > files.MOST_FILES:
        raise ValidationError(f"{len(given)} files at once; at most {files.MOST_FILES}")
    outcome = files.attach(ticket.fields.get("attachments") or [], given, max_bytes(rules))
    if not outcome.stored:
        return ticket, {}, outcome
    names = ", ".join(files.name_of(s.entry) for s in outcome.stored)
    ticket = history.record(rules, ticket, now, by, "attach",
                            {"attachments": outcome.entries}, rule=rule,
                            note=note or names, visibility="public")
    uid = ticket.fields["uid"]
    writes = {store.attachment_relpath(ticket.number, uid, s.entry): s.data
              for s in outcome.stored}
    return ticket, writes, outcome


def attach(desk, ref: TicketRef, given: list, note: str | None = None) -> tuple:
    """Attach ``given`` (files.File) to a ticket in one commit; (ticket, outcome). A file
    past the size limit refuses the whole command, changing nothing; files the ticket has
    already are skipped (attaching again is harmless)."""
    limit = max_bytes(desk.rules)
    for file in given:
        if len(file.data) > limit:
            raise ValidationError(f"{file.name}: {files.size_text(len(file.data))}, over the "
                                  f"limit of {files.size_text(limit)} (rules.yaml "
                                  "attachments.max_bytes); see docs/attachments.md for large "
                                  "files")
    from svcdesk.app import work  # only a change needs it, not `show`'s listing

    found: dict = {}

    def build(ticket, now, actor):
        after, writes, outcome = add(desk.rules, ticket, given, now, actor.key, note)
        found["outcome"], found["writes"] = outcome, writes
        return after if writes else None

    ticket = work.update(desk, ref, "attach", build, files=found)
    return ticket, found["outcome"]


def listing(desk, ticket: model.Ticket) -> list:
    """The ticket's files with their sizes as stored in this clone."""
    out = []
    for entry in ticket.fields.get("attachments") or []:
        path = desk.root / store.attachment_relpath(ticket.number, ticket.fields["uid"], entry)
        try:
            size = path.stat().st_size
        except OSError:
            size = None
        out.append(Listed(entry, files.name_of(entry), size))
    return out


def read(desk, ref: TicketRef, wanted: str) -> tuple:
    """(file name, bytes) of the ticket's attachment ``wanted`` (its name or digest)."""
    ticket = desk.load(ref)
    try:
        entry = files.find(ticket.fields.get("attachments") or [], wanted)
    except LookupError as exc:
        raise TicketNotFoundError(f"{ticket.number}: {exc}") from None
    relpath = store.attachment_relpath(ticket.number, ticket.fields["uid"], entry)
    try:
        data = (desk.root / relpath).read_bytes()
    except OSError:
        raise TicketFileError(relpath, f"missing from this clone; `git checkout -- {relpath}` "
                                       "or `svcdesk sync` brings it back") from None
    if files.digest(data)[:files.DIGEST_LENGTH] != files.digest_of(entry):
        if data.startswith(LFS_POINTER):
            raise TicketFileError(relpath, "a Git LFS pointer in this clone: install git-lfs "
                                           "and run `git lfs pull`")
        raise TicketFileError(relpath, "not the file that was attached (changed on disk); "
                                       f"`git checkout -- {relpath}` puts it back")
    return files.name_of(entry), data
