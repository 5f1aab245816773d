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
from svcdesk.base.errors import SvcdeskError, UsageError
from svcdesk.base.fields import MAX_LENGTH
from svcdesk.domain import history, mailtext


FETCH_MOST = 200  # messages one `mail fetch` takes; cron's next run takes the rest
MOST_PER_HOUR = 10  # new tickets one sender may open by mail in an hour (mail.most_per_hour)


class Taken(NamedTuple):
    """What one message became."""

    kind: str  # new, reply, rating, duplicate, kept
    number: str | None
    said: str
    kept: str | None = None  # the quarantine entry's name, when kept aside
    routine: bool = False  # kept as machine mail or our own: nothing for a person to do
    refused: tuple = ()  # attachments too large to store: (name, why)


def ingest(desk: Desk, raw: bytes, source: str = "stdin") -> Taken:
    """Take one RFC 5322 message into the desk (see the module)."""
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
    taken = desk.index.taken(MAIL_RULE + msg.key)
    if taken is not None:
        return Taken("duplicate", _number(taken), f"already taken into {_number(taken)}")
    relpath = _ticket_of(desk, msg)
    desk.act_as(_sender(desk, msg))  # the message acts as its sender, whoever runs svcdesk
    try:
        if relpath is not None:
            taken = _reply(desk, msg, relpath)
        elif _flooding(desk, msg):
            return keep(desk, raw, f"{msg.sender_email} opened the most tickets an hour may "
                        "have (mail.most_per_hour); kept for a person to look at", source,
                        msg.key)
        else:
            taken = _new(desk, msg)
    except SvcdeskError as exc:  # a value the desk refuses, a locked or broken ticket...
        return keep(desk, raw, f"{type(exc).__name__}: {exc}", source, msg.key)
    if taken.refused:  # a file the desk would not store: the message is kept whole for it
        names = "; ".join(f"{name}: {why}" for name, why in taken.refused[:5])
        kept = keep(desk, raw, f"taken into {taken.number}, but not every attachment: {names}",
                    source, msg.key)
        taken = taken._replace(said=f"{taken.said}; the message is kept whole as {kept.kept} "
                               "for the files not attached", kept=kept.kept)
    return taken


def _ticket_of(desk: Desk, msg: inbound.Inbound) -> str | None:
    """The ticket a reply answers: by the uid in a Message-ID it answers, else by the
    number tagged in its subject."""
    for uid in mailtext.named_uids(msg.replies_to):
        found = desk.index.by_uid(uid)
        if found is not None:
            return found
    for number in mailtext.named_numbers(msg.subject, desk.rules.prefix):
        path = store.ticket_relpath(number.upper())
        if (desk.root / path).exists():
            return path
    return None


def _sender(desk: Desk, msg: inbound.Inbound) -> Actor:
    """Who the message acts as: the agent with that address, else the address itself."""
    agent = next((k for k, a in desk.rules.agents.items()
                  if (a.email or "").lower() == msg.sender_email), None)
    return Actor(agent or msg.sender_email,
                 Identity(msg.sender_name or msg.sender_email, msg.sender_email))


def _flooding(desk: Desk, msg: inbound.Inbound) -> bool:
    """Whether the sender opened as many tickets in the last hour as one may (a loop with
    another robot, a flood): the next is kept aside for a person to look at."""
    most = (desk.rules.mail or {}).get("most_per_hour", MOST_PER_HOUR)
    return desk.index.opened_by(msg.sender_email, desk.now() - timedelta(hours=1)) >= most


def _new(desk: Desk, msg: inbound.Inbound) -> Taken:
    text = mailtext.new_text(msg.text) or msg.text
    title = mailtext.plain_subject(msg.subject) or (text.splitlines() or ["(no subject)"])[0]
    values = {"title": _cut(title, MAX_LENGTH["string"]), "channel": "email",
              "customer.name": _cut(msg.sender_name or msg.sender_email.split("@")[0],
                                    MAX_LENGTH["string"]),
              "customer.email": msg.sender_email,
              "description": _cut(text or "(empty message)", MAX_LENGTH["text"])}
    outcome = intake.create_ticket(desk, values, rule=MAIL_RULE + msg.key,
                                   incomplete_ok=True, files=_files(msg))
    ticket = outcome.ticket
    incomplete = intake.INCOMPLETE in (ticket.get("tags") or [])
    return Taken("new", ticket.number, "new ticket" + (
        " (incomplete: details to be asked for)" if incomplete else "") + _said_files(ticket),
        refused=_too_large(outcome.refused))


def _files(msg: inbound.Inbound) -> tuple:
    return tuple(attachments.File(name, data) for name, data in msg.attachments)


def _too_large(refused) -> tuple:
    """The files not stored for want of room (a file sent twice is no loss)."""
    return tuple((name, why) for name, why in refused if "max_bytes" in why)


def _said_files(ticket, before: int = 0) -> str:
    added = [e for e in ticket.events[before:] if e.action == "attach"]
    count = sum(len(e.changes["attachments"][1] or []) - len(e.changes["attachments"][0] or [])
                for e in added)
    return f"; {count} attachment{'s' if count != 1 else ''} stored" if count else ""


def _reply(desk: Desk, msg: inbound.Inbound, relpath: str) -> Taken:
    rules, now, actor = desk.rules, desk.now(), desk.actor()
    rule = MAIL_RULE + msg.key
    with desk.change(actor.key) as change:
        ticket = store.ticket_from_bytes(rules.schema, change.read_committed(relpath), relpath)
        ticket = history.absorb_hand_edits(rules, ticket, now)
        before = len(ticket.events)
        status = ticket.fields["status"]
        score = mailtext.rating(msg.text) if status not in rules.open_statuses() else None
        if score is not None:
            ticket = history.record(rules, ticket, now, actor.key, "rate", {"csat": score},
                                    rule=rule, note=_cut(mailtext.new_text(msg.text), 200),
                                    visibility="public")
            kind, said = "rating", f"rated {score}"
        else:
            text = mailtext.new_text(msg.text) or msg.text or "(empty reply)"
            ticket = history.record(rules, ticket, now, actor.key, "comment", {}, rule=rule,
                                    note=_cut(text, MAX_LENGTH["text"]), visibility="public")
            kind, said = "reply", "the customer's reply recorded"
            words = (rules.mail or {}).get("reopen_when") or mailtext.NOT_FIXED
            if status in rules.service.paused and "resume" in rules.transitions:
                ticket = history.transition(rules, ticket, now, actor.key, "resume", {},
                                            note="the customer replied by mail")
                said += "; resumed"
            elif status in rules.service.resolved and "reopen" in rules.transitions and \
                    mailtext.says_not_fixed(msg.text, words):
                ticket = history.transition(rules, ticket, now, actor.key, "reopen", {},
                                            rule="mail.reopen_when",
                                            note="the customer wrote that it is not fixed")
                said += "; reopened (not fixed)"
        ticket, writes, attached = attachments.add(rules, ticket, list(_files(msg)), now,
                                                   actor.key, rule=rule)
        for path, data in writes.items():
            change.write(path, data)
        said += _said_files(ticket, before)
        ticket = history.settle(rules, ticket)
        change.write(relpath, store.encode_ticket(ticket))
        change.commit(f"{ticket.number}: {history.subject(ticket.events[before])}",
                      f"From {msg.sender_email}, message {msg.key}",
                      trailers_for(ticket.number, "mail"), actor.identity, now)
    # the customer is not told of their own words; the rest (a resume, a rating) is noticed
    told = [e for e in ticket.events[before:] if e.action not in ("comment", "attach")]
    delivery.queue_notices(desk, ticket, told)
    return Taken(kind, ticket.number, said, refused=_too_large(attached.refused))


def fetch(desk: Desk, limit: int = FETCH_MOST) -> list:
    """Take the messages waiting in the service mailbox (rules.yaml mail.imap), at most
    ``limit`` a run; each is marked taken on the server only once the desk holds it (as a
    ticket, a comment, or kept aside), so a run cut short takes nothing twice."""
    from svcdesk.adapters.imap import Mailbox

    settings = (desk.rules.mail or {}).get("imap")
    if not settings:
        raise UsageError("no mailbox to read: set mail.imap (host, user) in rules.yaml and "
                         "the password in SVCDESK_IMAP_PASSWORD")
    out = []
    with Mailbox(settings) as box:
        for uid, raw in box.waiting(limit):
            out.append(ingest(desk, raw, f"imap://{settings['host']}/"
                                         f"{settings.get('folder', 'INBOX')}#{uid}"))
            box.taken(uid)
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


def messages(path: Path) -> list:
    """The messages of a Maildir (its cur/ and new/), an mbox file, or one .eml file, as
    [(where, bytes)] in their order."""
    import mailbox

    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise UsageError(f"{path} is a folder but not a Maildir (no cur/ or new/)")
        box = mailbox.Maildir(path, factory=None, create=False)
        return [(f"{path}/{key}", box.get_bytes(key)) for key in sorted(box.keys())]
    if not path.is_file():
        raise UsageError(f"{path}: no such file or folder")
    with open(path, "rb") as f:
        head = f.read(5)
    if head != b"From ":
        return [(str(path), path.read_bytes())]
    box = mailbox.mbox(path, factory=None, create=False)
    return [(f"{path}#{i + 1}", box.get_bytes(key)) for i, key in enumerate(box.keys())]


def _number(relpath: str) -> str:
    return relpath.rsplit("/", 1)[-1][:-len(".yaml")]


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"

