"""Notices: queued into the outbox after the change that triggers them, previewed, sent by
hand, and delivered by SMTP under the desk lock, each delivery recorded on its ticket so
that no notice is ever sent twice."""

import os
from datetime import datetime
from typing import NamedTuple

from svcdesk.adapters import mail, store
from svcdesk.adapters.change import trailers_for
from svcdesk.app.desk import SYSTEM
from svcdesk.base import model
from svcdesk.base.errors import (TemplateError, TicketFileError, UncommittedChangesError,
                                 UsageError)
from svcdesk.base.identity import TicketRef, new_ulid
from svcdesk.domain import history, ladder, notices, sla
from svcdesk.domain.worktime import duration_text


class Delivery(NamedTuple):
    """What one delivery run did: notices sent (and recorded), still queued, failed."""

    sent: list  # outbox entries
    queued: int
    failed: list  # (entry, error): templates that do not render
    error: str | None = None  # why delivery stopped (SMTP down, login refused)
    smtp: str | None = None  # where it delivered to (None: no SMTP configured)
    commit: str | None = None
    waiting: int = 0  # customer notices whose ticket number is not final yet (svcdesk sync)
    problems: list = []  # one line per channel that failed this run (kept for a retry)


def renderer(desk):
    """The desk's template renderer, one per command (templates compile once; Jinja is
    imported only by a command that renders)."""
    if "renderer" not in desk.kept:
        from svcdesk.adapters.templating import Renderer

        desk.kept["renderer"] = Renderer(desk.root / "templates", store.DEFAULTS / "templates",
                                         desk.rules.language, desk.rules.tz, duration_text,
                                         desk.state.templates)
    return desk.kept["renderer"]


def outbox(desk):
    """The desk's outbox (one per command; smtplib and ssl are imported only by a command
    that queues or sends)."""
    if "outbox" not in desk.kept:
        from svcdesk.adapters.outbox import Outbox

        desk.kept["outbox"] = Outbox(desk.state.outbox)
    return desk.kept["outbox"]


def queued(desk) -> list:
    """The notices waiting in the outbox."""
    return outbox(desk).entries()


def smtp(desk):
    """Where notices go: SVCDESK_SMTP_URL, else notices.smtp in rules.yaml (None: the
    outbox keeps them)."""
    from svcdesk.adapters.outbox import Smtp

    url = os.environ.get("SVCDESK_SMTP_URL")
    if url:
        return Smtp.from_url(url, "SVCDESK_SMTP_URL")
    configured = desk.rules.notices.smtp if desk.rules.notices else None
    return Smtp.from_url(configured, "rules.yaml: notices.smtp") if configured else None


def notices_for(rules, ticket: model.Ticket, events, names=None) -> list:
    """The notices ``events`` of ``ticket`` send (or, with ``names``, those notice events
    would send for its latest event)."""
    out = []
    routes = rules.notices.routes if rules.notices else {}
    for event in events:
        triggered = names if names is not None else notices.triggers(event, rules.transitions)
        for name in triggered:
            step = ladder.step_of(rules, event)
            for route in routes.get(name, ()):
                if name == "escalated" and step is not None and step.notify:
                    route = route._replace(to=step.notify)
                for person in notices.recipients(route, ticket.fields, rules):
                    out.append(notices.Notice(ticket.number, ticket.fields["uid"], event.id,
                                              name, route.template, person))
    return out


def _render(desk, notice, ticket: model.Ticket, event: model.Event) -> tuple:
    """(message bytes, subject) of a notice; raise TemplateError naming file and line (or
    the channel, for a message longer than it takes)."""
    rules = desk.rules
    at = max(event.at, ticket.events[-1].at)
    levels = desk.kept.setdefault("levels", {})
    key = (ticket.number, len(ticket.events), at)
    if key not in levels:  # one ticket's notices share its clocks
        levels[key] = sla.level(ticket.events, ticket.fields, rules.service, at)
    context = notices.context(rules, ticket, event, notice, levels[key],
                              ladder.step_of(rules, event))
    n = rules.notices
    if notice.recipient.channel != "email":
        return _channel_message(desk, n.channels[notice.recipient.channel], notice, context)
    subject, body = mail.render(renderer(desk), notice.template, context)
    sender = notices.Recipient("sender", n.sender_name, n.sender_email)
    domain = n.sender_email.rpartition("@")[2] or "svcdesk.localhost"
    data = mail.message(notice, subject, body, sender, domain, event.at)
    return data, notices.full_subject(notice, subject)


def _channel_message(desk, channel, notice, context: dict) -> tuple:
    """(JSON bytes, title) of a notice by a channel: its title and text from the template's
    NAME.sms.j2 (the whole text) or NAME.md.j2 (the first line the title, as for mail),
    else from the email's: its subject (SMS) or subject and body; MessageTooLongError (a
    TemplateError) when the platform would not take it."""
    import json

    from svcdesk.domain import channels

    kind = "sms" if channel.kind == "sms" else "md"
    render = renderer(desk)
    if render.has("notices", notice.template, kind):
        text = render.text("notices", notice.template, kind, context).strip()
        head, _, rest = text.partition("\n")
        title = notices.full_subject(notice, head.lstrip("#").strip())
        if kind == "md":
            text = rest.strip()
    else:
        subject, body = mail.render(render, notice.template, context)
        title = notices.full_subject(notice, subject)
        text = title if kind == "sms" else body.strip()
    channels.check_length(channel, title, text)
    facts = {"ticket": notice.number, "event": notice.event,
             "status": context["ticket"]["status"], "at": context["event"]["at"].isoformat()}
    return json.dumps({"title": title, "text": text, "facts": facts},
                      ensure_ascii=False).encode(), title


def queue_notices(desk, ticket: model.Ticket, events, by: str = sla.SYSTEM, names=None,
                  sync: bool = True, hand: bool = False) -> list:
    """Render the notices of ``events`` into the outbox; a template that fails is kept as
    a failed notice (retried by `notify send`) and said as a warning.

    Under the desk lock, before the commit of the change that makes ``events``: a process
    killed after the commit has queued them already, and one killed before it leaves
    notices of events that never landed, which delivery drops (``hand``: a notice sent by
    hand, whose event is made when it is delivered)."""
    todo = notices_for(desk.rules, ticket, events, names)
    if not todo:
        return []
    box = outbox(desk)
    by_id = {e.id: e for e in ticket.events}
    for notice in todo:
        meta = {"key": notice.key, "number": notice.number, "uid": notice.uid,
                "relpath": store.ticket_relpath(notice.number), "event_id": notice.event_id,
                "event": notice.event, "template": notice.template, "by": by,
                "to": _to(notice.recipient), **({"hand": True} if hand else {})}
        if notice.recipient.channel != "email":
            meta["kind"] = desk.rules.notices.channels[notice.recipient.channel].kind
        event = by_id.get(notice.event_id, ticket.events[-1])
        try:
            data, subject = _render(desk, notice, ticket, event)
        except (TemplateError, ValueError) as exc:
            failures = desk.kept.setdefault("failures", {})
            failures.setdefault((notice.template, str(exc)), []).append(notice.number)
            box.put(notice.file_stem, {**meta, "state": "failed", "error": str(exc)}, None)
            continue
        box.put(notice.file_stem, {**meta, "state": "pending", "subject": subject}, data)
    if sync:
        box.sync()
    return todo


def _to(person: notices.Recipient) -> dict:
    """Whom an outbox entry goes to (an email's as ever: role, name, email)."""
    if person.channel == "email":
        return {"role": person.role, "name": person.name, "email": person.address}
    return {"role": person.role, "name": person.name, "address": person.address,
            "channel": person.channel}


def _recipient(to: dict) -> notices.Recipient:
    return notices.Recipient(to["role"], to["name"], to.get("address") or to["email"],
                             to.get("channel", "email"))


def preview_notice(desk, ref: TicketRef, name: str) -> list:
    """[(notice, message bytes)] of what notice event ``name`` would send now."""
    ticket = desk.load(ref)
    found = _hand_notices(desk, ticket, ticket.events[-1], name)
    return [(n, _render(desk, n, ticket, ticket.events[-1])[0]) for n in found]


def send_notice(desk, ref: TicketRef, name: str) -> Delivery:
    """Send notice event ``name`` for a ticket by hand (it counts as a contact with the
    customer once delivered), then deliver the outbox."""
    ticket = desk.load(ref)
    now, actor = desk.now(), desk.actor()
    event = model.Event(new_ulid(now), now, actor.key, "notice")
    _hand_notices(desk, ticket, event, name)
    with desk.change(actor.key):  # every notice is queued under the lock
        queue_notices(desk, model.Ticket(ticket.fields, ticket.events + (event,)), [event],
                      by=actor.key, names=[name], hand=True)
    return deliver(desk)


def _hand_notices(desk, ticket: model.Ticket, event: model.Event, name: str) -> list:
    if name not in notices.EVENTS:
        raise UsageError(f"{name!r} is not a notice event; events: "
                         + ", ".join(notices.EVENTS))
    found = notices_for(desk.rules, ticket, [event], names=[name])
    if not found:
        raise UsageError(f"notice event {name} sends nothing for {ticket.number} (no "
                         "route under notices.events, or no address for its recipients)")
    return found


def deliver(desk) -> Delivery:
    """Re-render failed notices, deliver pending ones by SMTP (when configured) and record
    each delivery on its ticket, in one commit. Under the desk lock, so two runs at once
    never send a notice twice; one already recorded on its ticket is dropped unsent."""
    box, server, now, schema = outbox(desk), smtp(desk), desk.now(), desk.rules.schema
    if not box.entries():  # the usual cron run: nothing to lock the desk for
        return Delivery([], 0, [], None, server.describe() if server else None)
    # under the lock, the outbox is read again: another run may have sent some
    failed, tickets = [], {}
    with desk.change(sla.SYSTEM) as change:
        def ticket_of(entry):
            relpath = entry.meta["relpath"]
            if relpath not in tickets:
                raw = change.read_committed(relpath)
                tickets[relpath] = store.ticket_from_bytes(schema, raw, relpath)
            return tickets[relpath]

        box.sweep()  # the messages of notices a killed change never finished queueing
        ready = []
        for entry in box.entries():
            try:
                entry = _followed(desk, box, entry)
                if _never_landed(desk, change, entry):
                    box.remove(entry)
                    continue
                ticket = ticket_of(entry)
            except (UncommittedChangesError, TicketFileError, OSError) as exc:
                failed.append((entry, str(exc)))
                continue
            if any(e.rule == f"notice: {entry.meta['key']}" for e in ticket.events):
                box.remove(entry)  # delivered and recorded before: never twice
                continue
            if not entry.meta.get("hand") and all(e.id != entry.meta["event_id"]
                                                  for e in ticket.events):
                box.remove(entry)  # its change was killed before its commit
                continue
            if entry.state in ("failed", "renumbered"):
                entry = _rerender(desk, box, entry, ticket, failed)
                if entry is None:
                    continue
            ready.append(entry)
        sent_now, error = [], None
        pending = [e for e in ready if e.state == "pending"]
        final = _finality(desk)
        held = [e for e in pending if final is not None and e.meta["to"]["role"] ==
                "customer" and not final(e.meta["relpath"], e.meta.get("uid"))]
        pending = [e for e in pending if e not in held]
        by_mail = [e for e in pending if e.channel == "email"]
        if server is not None and by_mail:
            sender = desk.rules.notices.sender_email
            sent_now, error = server.send([
                (e, e.message_bytes(), mail.wire_address(sender),
                 [mail.wire_address(e.meta["to"]["email"])])
                for e in by_mail if e.message_bytes() is not None],
                on_sent=lambda e: box.mark(e, state="sent", sent=now.isoformat()))
        by_channel, problems = _send_by_channels(
            desk, box, [e for e in pending if e.channel != "email"], now)
        sent_now += by_channel
        done = [e for e in ready if e.state == "sent"] + sent_now
        sha = _record_deliveries(desk, change, done, ticket_of, now) if done else None
    for entry in done:
        box.remove(entry)
    return Delivery(done, len(pending) - len(sent_now) + len(held), failed, error,
                    server.describe() if server else None, sha, len(held), problems)


BACKOFF_MINUTES = (1, 2, 5, 10, 30, 60)  # after the 1st, 2nd... failure; then every hour


def _send_by_channels(desk, box, entries: list, now: datetime) -> tuple:
    """Send the channels' notices (group robots, SMS, webhooks), oldest first. A failure
    is kept on its notice with the time to try again (backing off to hourly), and holds
    back the later notices of its channel so they never arrive out of order. Returns (the
    entries sent, marked so; one line per channel that failed)."""
    if not entries:
        return [], []
    import json
    from datetime import timedelta

    from svcdesk.adapters.webhooks import Sender

    channels = desk.rules.notices.channels
    render = renderer(desk)
    timeout = os.environ.get("SVCDESK_HTTP_TIMEOUT")  # seconds; tests wait less
    sender = Sender(lambda source, context, where: render.string(source, context, where),
                    **({"timeout": float(timeout)} if timeout else {}))
    sent, problems, stopped = [], [], set()
    try:
        for entry in entries:
            name = entry.channel
            if name in stopped:
                continue
            channel = channels.get(name)
            retry = entry.meta.get("retry_at")
            if retry and datetime.fromisoformat(retry) > now:
                stopped.add(name)
                continue
            if channel is None:
                why = f"channel {name} is no longer under notices.channels in rules.yaml"
            else:
                message = json.loads(entry.message_bytes() or b"{}")
                why = sender.send(channel, entry.address, message) if message else \
                    f"{channel.describe()}: the rendered message is missing"
            if why is None:
                sent.append(box.mark(entry, state="sent", sent=now.isoformat(), error=None))
                continue
            attempts = entry.meta.get("attempts", 0) + 1
            wait = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
            box.mark(entry, error=why, attempts=attempts,
                     retry_at=(now + timedelta(minutes=wait)).isoformat())
            problems.append(f"{why} (attempt {attempts}; tried again after {wait} min)")
            stopped.add(name)
    finally:
        sender.close()
    return sent, problems


def renumbered(desk, numbers: dict) -> None:
    """The notices of tickets sync renumbered ({old: new}) follow them: rendered again
    with the new number at the next delivery."""
    box = outbox(desk)
    for entry in box.entries():
        new = numbers.get(entry.meta.get("number"))
        if new is not None:
            _move(box, entry, new)


def _move(box, entry, number: str):
    moved = {"number": number, "relpath": store.ticket_relpath(number)}
    if entry.state != "sent":  # a sent one is only recorded, on the ticket's new path
        moved["state"] = "renumbered"
    return box.mark(entry, **moved)


def _never_landed(desk, change, entry) -> bool:
    """Whether the entry's ticket is neither committed nor on disk, nor elsewhere by its
    uid (see _followed): the new ticket it was queued for was never committed."""
    relpath = entry.meta["relpath"]
    folder, name = relpath.rsplit("/", 1)
    return name not in change.head_names(folder) and not (desk.root / relpath).exists()


def _followed(desk, box, entry):
    """The entry, moved to where its ticket is now when the ticket is no longer at its
    path: a sync renumbered it and was killed before the outbox followed (the old path may
    hold another clone's ticket by then), or the sync was undone (a merge refused) after it
    had. Found by the ticket's uid in the index, never by the path alone."""
    uid = entry.meta.get("uid")
    if uid is None:
        return entry
    relpath = desk.index.by_uid(uid)
    if relpath is None or relpath == entry.meta["relpath"]:
        return entry
    return _move(box, entry, store.number_of(relpath))


def _finality(desk):
    """sync.finality (None for a desk that is not shared)."""
    from svcdesk.app import sync

    return sync.finality(desk)


def _rerender(desk, box, entry, ticket, failed):
    meta = entry.meta
    event = next((e for e in ticket.events if e.id == meta["event_id"]), None)
    if event is None:  # a hand-sent notice: its event is made when it is recorded
        event = model.Event(meta["event_id"], ticket.events[-1].at, meta["by"], "notice")
        ticket = model.Ticket(ticket.fields, ticket.events + (event,))
    notice = notices.Notice(meta["number"], ticket.fields["uid"], meta["event_id"],
                            meta["event"], meta["template"], _recipient(meta["to"]))
    try:
        data, subject = _render(desk, notice, ticket, event)
    except (TemplateError, ValueError) as exc:
        box.mark(entry, error=str(exc))
        failed.append((entry, str(exc)))
        return None
    return box.put(entry.stem, {**meta, "state": "pending", "subject": subject,
                                "error": None}, data)


def _record_deliveries(desk, change, done: list, ticket_of, now: datetime) -> str | None:
    """One notice event per delivery on its ticket, all in one commit."""
    touched = {}
    for entry in done:
        meta = entry.meta
        ticket = touched.get(meta["relpath"]) or ticket_of(entry)
        to = meta["to"]
        event = model.Event(
            meta["event_id"] if meta["by"] != sla.SYSTEM else new_ulid(now), now,
            meta["by"], "notice", rule=f"notice: {meta['key']}",
            note=f"{meta['template']} → {_said(entry)}: {meta.get('subject', '')}".strip(),
            visibility="public" if to["role"] == "customer" else "internal")
        touched[meta["relpath"]] = history.settle(
            desk.rules, model.append(desk.rules.schema, ticket, event))
    for relpath, ticket in touched.items():
        change.write(relpath, store.encode_ticket(ticket))
    numbers = ", ".join(t.number for t in touched.values())
    body = "\n".join(f"{e.meta['number']}: {e.meta['template']} to {_said(e)}" for e in done)
    return change.commit(f"notify: {len(done)} notice(s) delivered", body,
                         trailers_for(numbers, "notify"), SYSTEM, now)


def _said(entry) -> str:
    """Whom a delivered notice went to, as its ticket records it."""
    to = entry.meta["to"]
    if entry.channel == "email":
        return f"{to['name']} <{to['email']}>"
    if to["role"] == "channel":
        return f"{entry.channel} ({entry.meta.get('kind', 'channel')})"
    return f"{to['name']} {_masked(entry.address)} ({entry.channel})"


def _masked(phone: str) -> str:
    """A phone as a ticket's history shows it: 138****0000."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone
