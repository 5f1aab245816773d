"""Requests and replies by mail: one message becomes a new ticket, a customer's comment on
their ticket (resuming it when it waited on them), or a rating; anything else is kept whole
in the quarantine with the reason, never dropped.

- A reply is matched to its ticket by the Message-IDs it answers (the desk's notices carry
  the ticket's uid in theirs), else by the [SD-…] tag in its subject.
- Machine mail (auto-replies, out-of-office, bounces, lists) and the desk's own notices
  coming back make no ticket and send no notice: no loops.
- A message is taken once: the event it makes records its key (`rule: mail: <Message-ID>`,
  kept in the index), so the same message again changes nothing, in any clone.
"""

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import inbound, store
from svcdesk.adapters.change import trailers_for
from svcdesk.adapters.index import MAIL_RULE
from svcdesk.adapters.repo import Identity
from svcdesk.app import attachments, delivery, intake
from svcdesk.app.desk import Actor, Desk
from svcdesk.base.errors import (SvcdeskError, TicketFileError, UncommittedChangesError,
                                 UsageError)
from svcdesk.base.fields import MAX_LENGTH
from svcdesk.domain import history, links, mailtext


FETCH_MOST = 200  # messages one `mail fetch` takes; cron's next run takes the rest
BATCH = 200  # messages one commit takes (mail import, mail fetch)
# the most `mail ingest` reads: one past inbound.MAX_BYTES (25 MiB) is not read but kept whole
# in the quarantine; one past this is refused, so that the mail server keeps (or bounces) it
MOST_BYTES = 4 * inbound.MAX_BYTES
MOST_PER_HOUR = 10  # new tickets one sender may open by mail in an hour (mail.most_per_hour)


class Taken(NamedTuple):
    """What one message became."""

    kind: str  # new, reply, rating, progress, duplicate, kept
    number: str | None
    said: str
    kept: str | None = None  # the quarantine entry's name, when kept aside
    routine: bool = False  # kept as machine mail or our own: nothing for a person to do
    refused: tuple = ()  # attachments too large to store: (name, why)


def ingest(desk: Desk, raw: bytes, source: str = "stdin") -> Taken:
    """Take one RFC 5322 message into the desk (see the module)."""
    return take_batch(desk, [(source, raw)])[0]


def take(desk: Desk, messages, batch: int = BATCH):
    """Take ``messages`` ([(source, raw bytes)...], read as they are needed), ``batch`` at a
    time in one commit each; yields each batch's list of Taken, in order, once it is
    committed."""
    pending = []
    for item in messages:
        pending.append(item)
        if len(pending) == batch:
            yield take_batch(desk, pending)
            pending = []
    if pending:
        yield take_batch(desk, pending)


class _Work:
    """The tickets one batch has made or answered so far, by path, and what it took."""

    def __init__(self):
        self.tickets: dict = {}  # relpath -> the ticket as the batch left it
        self.before: dict = {}  # relpath -> its event count before the batch (None: new)
        self.made: dict = {}  # uid and number -> relpath, of the tickets the batch made
        self.keys: set = set()  # the messages' keys taken
        self.opened: dict = {}  # sender -> new tickets the batch opened for them
        self.lines: list = []  # what each message became, for the commit message
        self.answered: set = set()  # the tickets replies changed (their files to write)
        self.senders: list = []  # who sent each message taken


def take_batch(desk: Desk, items: list) -> list:
    """Take ``items`` ([(source, raw)...]) in one change: what none can take (unreadable,
    machine mail, our own notices, taken before) is answered first; the rest become new
    tickets, comments and ratings, committed together; a message the desk refuses is kept
    whole in the quarantine and the others are taken all the same."""
    out: list = [None] * len(items)
    people = []
    for i, (source, raw) in enumerate(items):
        screened = _screen(desk, raw, source)
        if isinstance(screened, Taken):
            out[i] = screened
        else:
            people.append((i, source, raw, screened))
    before = desk.index.taken_among(MAIL_RULE + msg.key for _, _, _, msg in people)
    for i, _, _, msg in people:
        relpath = before.get(MAIL_RULE + msg.key)
        if relpath is not None:
            out[i] = Taken("duplicate", store.number_of(relpath), f"already taken into "
                                                         f"{store.number_of(relpath)}")
    people = [p for p in people if out[p[0]] is None]
    if not people:
        return out
    now = desk.now()
    lone = len(people) == 1
    work = _Work()
    with desk.change(_sender(desk, people[0][3]).key if lone else "mail",
                     quick=lone) as change:
        batch = intake.Batch(desk, change, now, len(people))
        for i, source, raw, msg in people:
            if msg.key in work.keys:
                out[i] = Taken("duplicate", None, "the same message again in this batch")
                continue
            try:
                out[i] = _take_one(desk, change, batch, work, msg, now)
            except SvcdeskError as exc:  # a value the desk refuses, a broken ticket...
                out[i] = keep(desk, raw, f"{type(exc).__name__}: {exc}", source, msg.key)
                continue
            if out[i].kind == "kept":
                out[i] = keep(desk, raw, out[i].said, source, msg.key)
                continue
            work.keys.add(msg.key)
        for relpath in work.answered:  # a new ticket's file is written as it is made
            work.tickets[relpath] = ticket = history.settle(desk.rules, work.tickets[relpath])
            change.write(relpath, store.encode_ticket(ticket))
        if work.tickets:
            _notify(desk, work)  # queued before the commit: see delivery.queue_notices
            _commit(desk, change, work, now)
    for i, source, raw, msg in people:
        taken = out[i]
        if taken.number is not None and taken.kind != "duplicate":
            renumbered = desk.kept.get("renumbered", {}).get(taken.number)
            if renumbered:
                taken = out[i] = taken._replace(number=renumbered)
        if taken.refused:  # a file the desk would not store: the message is kept for it
            names = "; ".join(f"{name}: {why}" for name, why in taken.refused[:5])
            kept = keep(desk, raw, f"taken into {taken.number}, but not every attachment: "
                        f"{names}", source, msg.key)
            out[i] = taken._replace(said=f"{taken.said}; the message is kept whole as "
                                    f"{kept.kept} for the files not attached", kept=kept.kept)
    return out


def _screen(desk: Desk, raw: bytes, source: str):
    """The message read (inbound.Inbound), or the Taken of one no person's work needs:
    unreadable, machine mail, our own notices."""
    try:
        msg = inbound.parse(raw)
    except inbound.MessageError as exc:
        return keep(desk, raw, f"unreadable: {exc}", source)
    if msg.ours:
        return keep(desk, raw, "one of the desk's own notices came back", source, msg.key,
                    routine=True)
    if msg.machine:
        return keep(desk, raw, f"not a person's mail: {msg.machine}", source, msg.key,
                    routine=True)
    return msg


def _mailbox(desk: Desk) -> Actor:
    """Who commits a batch of messages: the service mailbox (each event is its sender's)."""
    notices = desk.rules.notices
    return Actor("mail", Identity(notices.sender_name, notices.sender_email))


def _take_one(desk: Desk, change, batch, work: _Work, msg: inbound.Inbound, now) -> Taken:
    """One person's message taken into the batch's change (Taken "kept" when it may not
    be: the caller keeps it aside)."""
    sender = _sender(desk, msg)
    relpath, ticket = _ticket_of(desk, msg, work.made), None
    asked = False
    if relpath is None:
        relpath = asked = _asked_about(desk, change, msg)
    if relpath:
        relpath, ticket = _merged_target(desk, change, work, relpath)
    if relpath is None:
        opened = work.opened.get(msg.sender_email, 0)
        if _flooding(desk, msg, opened):
            return Taken("kept", None, f"{msg.sender_email} opened the most tickets an hour "
                         "may have (mail.most_per_hour); kept for a person to look at")
        outcome = batch.add(_request(desk, msg), sender)
        ticket = outcome.ticket
        relpath = store.ticket_relpath(ticket.number)
        work.tickets[relpath], work.before[relpath] = ticket, None
        work.made[ticket.fields["uid"]] = work.made[ticket.number] = relpath
        work.opened[msg.sender_email] = opened + 1
        work.senders.append(sender)
        incomplete = intake.INCOMPLETE in (ticket.get("tags") or [])
        work.lines.append(f"{ticket.number}: new ticket from {msg.sender_email} ({msg.key})")
        return Taken("new", ticket.number, "new ticket" + (
            " (incomplete: details to be asked for)" if incomplete else "")
            + _said_files(ticket), refused=outcome.refused)
    if relpath not in work.tickets:
        ticket = history.absorb_hand_edits(desk.rules, ticket, now)
        work.before[relpath] = len(ticket.events)
    before = len(ticket.events)
    ticket, kind, said = _answer(desk.rules, ticket, msg, sender, now, bool(asked))
    ticket, writes, attached = attachments.add(desk.rules, ticket, list(_files(msg)), now,
                                               sender.key, rule=MAIL_RULE + msg.key)
    for path, data in writes.items():
        change.write(path, data)
    work.tickets[relpath] = ticket
    work.answered.add(relpath)
    work.senders.append(sender)
    work.lines.append(f"{ticket.number}: {history.subject(ticket.events[before])} "
                      f"from {msg.sender_email} ({msg.key})")
    return Taken(kind, ticket.number, said + _said_files(ticket, before),
                 refused=tuple(attached.too_large))


def _commit(desk: Desk, change, work: _Work, now) -> None:
    """One message taken is committed as its sender's change, said as what it did; a batch
    as the service mailbox's, each message a line."""
    if len(work.lines) == 1:
        runner = work.senders[0]
        number, text = work.lines[0].split(": ", 1)
        relpath = next(iter(work.tickets))
        ticket = work.tickets[relpath]
        first = ticket.events[work.before[relpath] or 0]
        if work.before[relpath] is None:
            kind = ticket.fields["type"]
            subject = f"{number}: new {kind} ticket by mail: {ticket.fields.get('title', '')}"
        else:
            subject = f"{number}: {history.subject(first)}"
        change.commit(subject, text, trailers_for(number, "mail"), runner.identity, now)
        return
    change.commit(f"mail: {len(work.lines)} messages taken", "\n".join(work.lines),
                  trailers_for(None, "mail"), _mailbox(desk).identity, now)


def _notify(desk: Desk, work: _Work) -> None:
    """The notices of what the batch did; the customer is not told of their own words (a
    comment, a file), only of what followed (a resume, a rating, a new ticket)."""
    for relpath, ticket in work.tickets.items():
        before = work.before[relpath]
        events = ticket.events if before is None else [
            e for e in ticket.events[before:] if e.action not in ("comment", "attach")]
        delivery.queue_notices(desk, ticket, events, sync=False)
    delivery.outbox(desk).sync()  # once for the batch


def _ticket_of(desk: Desk, msg: inbound.Inbound, made: dict) -> str | None:
    """The ticket a reply answers: by the uid in a Message-ID it answers, else by the
    number tagged in its subject (a ticket made earlier in the same batch as well)."""
    for uid in mailtext.named_uids(msg.replies_to):
        found = made.get(uid) or desk.index.by_uid(uid)
        if found is not None:
            return found
    for number in mailtext.named_numbers(msg.subject, desk.rules.prefix):
        number = number.upper()
        path = made.get(number) or store.ticket_relpath(number)
        if number in made or (desk.root / path).exists():
            return path
    return None


def _merged_target(desk: Desk, change, work: _Work, relpath: str) -> tuple:
    """(path, ticket) a reply to ``relpath`` goes to: a ticket merged into another (closed as
    its duplicate) hands its replies on to that one, along the chain. The ticket is as this
    batch has it, else as committed."""
    open_statuses = desk.rules.open_statuses()

    def load(path):
        return work.tickets.get(path) or store.ticket_from_bytes(
            desk.rules.schema, change.read_committed(path), path)

    for _ in range(links.MAX_CHAIN):
        ticket = load(relpath)
        target = links.merged_into(ticket.fields)
        found = target and ticket.fields["status"] not in open_statuses and (
            work.made.get(target) or desk.index.by_uid(target))
        if not found:
            return relpath, ticket
        relpath = found
    return relpath, load(relpath)


def _sender(desk: Desk, msg: inbound.Inbound) -> Actor:
    """Who the message acts as: the agent with that address, else the address itself."""
    agent = next((k for k, a in desk.rules.agents.items()
                  if (a.email or "").lower() == msg.sender_email), None)
    return Actor(agent or msg.sender_email,
                 Identity(msg.sender_name or msg.sender_email, msg.sender_email))


def _flooding(desk: Desk, msg: inbound.Inbound, opened: int = 0) -> bool:
    """Whether the sender opened as many tickets in the last hour as one may (a loop with
    another robot, a flood), ``opened`` of them in this batch: the next is kept aside for a
    person to look at."""
    most = (desk.rules.mail or {}).get("most_per_hour", MOST_PER_HOUR)
    return opened >= most or desk.index.opened_by(
        msg.sender_email, desk.now() - timedelta(hours=1)) + opened >= most


def _request(desk: Desk, msg: inbound.Inbound) -> intake.Request:
    """A new request from a message: the sender its customer, the subject its title."""
    text = mailtext.new_text(msg.text) or msg.text
    title = mailtext.plain_subject(msg.subject) or (text.splitlines() or ["(no subject)"])[0]
    values = {"title": _cut(title, MAX_LENGTH["string"]), "channel": "email",
              "customer.name": _cut(msg.sender_name or msg.sender_email.split("@")[0],
                                    MAX_LENGTH["string"]),
              "customer.email": msg.sender_email,
              "description": _cut(text or "(empty message)", MAX_LENGTH["text"])}
    return intake.prepare(desk, values, incomplete_ok=True, rule=MAIL_RULE + msg.key,
                          files=_files(msg))


def _files(msg: inbound.Inbound) -> tuple:
    return tuple(attachments.File(name, data) for name, data in msg.attachments)


def _said_files(ticket, before: int = 0) -> str:
    added = [e for e in ticket.events[before:] if e.action == "attach"]
    count = sum(len(e.changes["attachments"][1] or []) - len(e.changes["attachments"][0] or [])
                for e in added)
    return f"; {count} attachment{'s' if count != 1 else ''} stored" if count else ""


PROGRESS_EVERY = timedelta(hours=1)  # one progress answer a ticket an hour; more asks
# in that hour are replies a person reads (a mail loop or a flood gets one answer, not one each)


def _asked_about(desk: Desk, change, msg: inbound.Inbound) -> str | None:
    """The ticket a new message (no reply, no [tag]) asks the progress of: one whose number
    it names, when the sender is that ticket's customer and the message says no more than
    the number and a progress word. Anyone else naming a number asks nothing: a ticket's
    progress is its customer's to know."""
    rules = desk.rules
    if "progress" not in (rules.notices.routes if rules.notices else {}):
        return None
    text = f"{msg.subject}\n{msg.text or ''}"
    words = (rules.mail or {}).get("progress_when") or mailtext.PROGRESS
    for number in mailtext.mentioned_numbers(text, rules.prefix)[:3]:
        relpath = store.ticket_relpath(number)
        try:
            raw = change.read_committed(relpath)
        except (OSError, UncommittedChangesError):
            continue
        try:
            ticket = store.ticket_from_bytes(rules.schema, raw, relpath)
        except TicketFileError:
            continue
        email = (ticket.get("customer.email") or "").casefold()
        asks = mailtext.asks_progress(f"{mailtext.plain_subject(msg.subject)}\n"
                                      f"{msg.text or ''}", rules.prefix, words, True)
        if email and email == msg.sender_email.casefold() and asks:
            return relpath
    return None


def _answer(rules, ticket, msg: inbound.Inbound, sender: Actor, now,
            asked: bool = False) -> tuple:
    """(ticket, kind, said): a customer's reply recorded on their ticket, as a progress
    query (the customer is sent where it stands) when it asks no more than that, as a rating when
    it answers the survey of a closed one, else a comment that resumes a ticket waiting on
    them or reopens a resolved one it says is not fixed."""
    rule = MAIL_RULE + msg.key
    status = ticket.fields["status"]
    customer = (ticket.get("customer.email") or "").casefold()
    if sender.key not in rules.agents and msg.sender_email.casefold() != customer:
        # anyone can name a ticket (its number, a forged In-Reply-To): only its customer's
        # mail may move it, rate it or ask its progress; the rest is a note for a person
        text = mailtext.new_text(msg.text) or msg.text or "(empty message)"
        note = (f"邮件来自 {msg.sender_email}，不是本工单客户的邮箱，未改变工单：\n{text}")
        ticket = history.record(rules, ticket, now, sender.key, "comment", {}, rule=rule,
                                note=_cut(note, MAX_LENGTH["text"]), visibility="internal")
        return ticket, "reply", ("kept as an internal note: not the ticket's customer's "
                                 "address, so it changes nothing")
    words = (rules.mail or {}).get("progress_when") or mailtext.PROGRESS
    answered_lately = any(e.action == "progress" and e.at > now - PROGRESS_EVERY
                          for e in ticket.events[-20:])
    if not answered_lately and (asked or (
            "progress" in (rules.notices.routes if rules.notices else {}) and msg.text
            and mailtext.asks_progress(msg.text, rules.prefix, words))):
        said = _cut(mailtext.new_text(msg.text or "") or msg.subject, 200)
        ticket = history.record(rules, ticket, now, sender.key, "progress", {}, rule=rule,
                                note=said or None, visibility="public")
        return ticket, "progress", "asked for its progress: the customer is sent where it stands"
    score = mailtext.rating(msg.text) if status not in rules.open_statuses() else None
    if score is not None:
        ticket = history.record(rules, ticket, now, sender.key, "rate", {"csat": score},
                                rule=rule, note=_cut(mailtext.new_text(msg.text), 200),
                                visibility="public")
        return ticket, "rating", f"rated {score}"
    text = mailtext.new_text(msg.text) or msg.text or "(empty reply)"
    ticket = history.record(rules, ticket, now, sender.key, "comment", {}, rule=rule,
                            note=_cut(text, MAX_LENGTH["text"]), visibility="public")
    said = "the customer's reply recorded"
    words = (rules.mail or {}).get("reopen_when") or mailtext.NOT_FIXED
    if status in rules.service.waiting and rules.allows("resume", status, sender.key):
        ticket = history.transition(rules, ticket, now, sender.key, "resume", {},
                                    note="the customer replied by mail")
        said += "; resumed"
    elif status in rules.service.resolved and rules.allows("reopen", status, sender.key) and \
            mailtext.says_not_fixed(msg.text, words):
        ticket = history.transition(rules, ticket, now, sender.key, "reopen", {},
                                    rule="mail.reopen_when",
                                    note="the customer wrote that it is not fixed")
        said += "; reopened (not fixed)"
    return ticket, "reply", said


def fetch(desk: Desk, limit: int = FETCH_MOST) -> list:
    """Take the messages waiting in the service mailbox (rules.yaml mail.imap), at most
    ``limit`` a run; each is marked taken on the server only once the desk holds it (as a
    ticket, a comment, or kept aside), so a run cut short takes nothing twice."""
    from svcdesk.adapters.imap import Mailbox

    settings = (desk.rules.mail or {}).get("imap")
    if not settings:
        raise UsageError("no mailbox to read: set mail.imap (host, user) in rules.yaml and "
                         "the password in SVCDESK_IMAP_PASSWORD")
    where = f"imap://{settings['host']}/{settings.get('folder', 'INBOX')}#"
    out = []
    with Mailbox(settings) as box:
        uids = []

        def waiting():
            for uid, raw in box.waiting(limit):
                uids.append(uid)
                yield where + str(uid), raw

        for taken in take(desk, waiting()):
            for uid in uids[len(out):len(out) + len(taken)]:
                box.taken(uid)  # only now that the commit holds them
            out += taken
    return out


# ---- the quarantine ----------------------------------------------------------------------------

class Kept(NamedTuple):
    """A message kept aside: its name, why, where it came from, when."""

    name: str
    reason: str
    source: str
    at: str
    path: Path


def keep(desk: Desk, raw: bytes, reason: str, source: str, key: str | None = None,
         routine: bool = False) -> Taken:
    """Keep ``raw`` whole in the quarantine with ``reason``; the same message kept twice is
    one entry."""
    folder = desk.state.quarantine
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(raw).hexdigest()[:16]
    now = desk.now()
    store.write_atomic(folder / f"{name}.eml", raw)
    store.write_atomic(folder / f"{name}.json", json.dumps(
        {"reason": reason, "source": source, "at": now.isoformat(timespec="seconds"),
         "key": key}, ensure_ascii=False, indent=1).encode("utf-8"))
    return Taken("kept", None, f"kept aside as {name}: {reason}", name, routine)


def quarantined(desk: Desk) -> list:
    """The messages kept aside, oldest first."""
    folder = desk.state.quarantine
    out = []
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        out.append(Kept(meta.stem, data.get("reason", "?"), data.get("source", "?"),
                        data.get("at", ""), meta.with_suffix(".eml")))
    return sorted(out, key=lambda k: (k.at, k.name))


def retry(desk: Desk, name: str) -> Taken:
    """Take a kept message again (after the desk was mended); it leaves the quarantine when
    it becomes a ticket or a comment (or was taken meanwhile)."""
    folder = desk.state.quarantine
    if not name.isalnum() or not (folder / f"{name}.eml").is_file():
        raise UsageError(f"no message {name!r} is kept aside (svcdesk mail quarantine lists "
                         "them)")
    raw = (folder / f"{name}.eml").read_bytes()
    meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    (folder / f"{name}.json").unlink()  # taken back out: kept again only if it fails again
    taken = ingest(desk, raw, meta.get("source", "retry"))
    if taken.kind != "kept":
        (folder / f"{name}.eml").unlink(missing_ok=True)
    return taken


def messages(path: Path):
    """The messages of a Maildir (its cur/ and new/), an mbox file, or one .eml file, as
    (where, bytes), in their order, each read when it is wanted."""
    import mailbox

    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise UsageError(f"{path} is a folder but not a Maildir (no cur/ or new/)")
        box = mailbox.Maildir(path, factory=None, create=False)
        return ((f"{path}/{key}", box.get_bytes(key)) for key in sorted(box.keys()))
    if not path.is_file():
        raise UsageError(f"{path}: no such file or folder")
    with open(path, "rb") as f:
        head = f.read(5)
    if head != b"From ":
        return iter([(str(path), path.read_bytes())])
    box = mailbox.mbox(path, factory=None, create=False)
    return ((f"{path}#{i + 1}", box.get_bytes(key)) for i, key in enumerate(box.keys()))


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"

