"""The clocks: a ticket's service level now, and `sla check`, which takes every time-rule
step that is due (warnings, breaches, the escalation ladder, progress updates, closing,
reminders), each once per ticket, in one commit."""

import json
from datetime import datetime
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.app.desk import SYSTEM
from svcdesk.base import model
from svcdesk.base.errors import TicketFileError, UncommittedChangesError, WorkflowError
from svcdesk.domain import history, ladder, metrics, sla, worktime

duration_text = worktime.duration_text  # "2小时30分" / "2 h 30 min", for show and sla explain
MAX_STEPS = 24  # time-rule steps one ticket may take in one run (a guard, never reached)


class Taken(NamedTuple):
    """One step `sla check` took (or, in a dry run, would take) on a ticket."""

    number: str
    due: object  # sla.Due
    did: str  # what it did, said plainly


class CheckRun(NamedTuple):
    """What one `sla check` did: the steps, the commit, and tickets it had to leave."""

    taken: list
    commit: str | None = None
    skipped: tuple | list = ()  # (number, why)


def service_level(desk, ticket: model.Ticket):
    """The ticket's policy and clocks as of now (None: no policy applies to it)."""
    return sla.level(ticket.events, ticket.fields, desk.rules.service, desk.now())


def sla_check(desk, dry_run: bool = False) -> CheckRun:
    """Take every time-rule step that is due, each once per ticket, in one commit."""
    from svcdesk.app import delivery, intake  # not for show, which reads a ticket's clocks

    rules = desk.rules
    service, now, tz = rules.service, desk.now(), rules.tz
    statuses = sorted(set(service.counting) | set(service.paused) | set(service.resolved))
    planned = []
    for row in desk.index.service_rows(statuses):
        facts = sla.Facts(
            row["id"], row["path"], json.loads(row["doc"]), row["first_response"] is not None,
            _moment(row["resolved"], tz), _moment(row["paused_since"], tz),
            frozenset(row["sla_done"].split("\x1f")) if row["sla_done"] else frozenset())
        dues = sla.due_now(facts, service, now)
        if dues:
            planned.append((facts, dues))
    if not planned:
        return CheckRun([])

    def someone_else(ticket):
        others = {k: a for k, a in rules.agents.items() if k != ticket.get("assignee")}
        return intake.choose_agent(desk, ticket.fields, others).agent

    if dry_run:  # the same steps on each ticket as the run takes, on its file as it is
        taken, skipped = [], []
        for facts, _ in planned:
            try:
                ticket, _ = store.read_ticket(desk.root, rules.schema, facts.relpath)
            except (OSError, TicketFileError) as exc:
                skipped.append((facts.number, str(exc)))
                continue
            _steps(rules, ticket, facts.relpath, now, someone_else, taken, skipped)
        return CheckRun(taken, None, skipped)
    taken, skipped, touched, changed = [], [], [], []
    with desk.change(sla.SYSTEM) as change:
        for facts, _ in planned:
            try:
                raw = change.read_committed(facts.relpath)
                ticket = store.ticket_from_bytes(rules.schema, raw, facts.relpath)
            except (UncommittedChangesError, TicketFileError) as exc:
                skipped.append((facts.number, str(exc)))
                continue
            before = len(ticket.events)
            ticket = _steps(rules, ticket, facts.relpath, now, someone_else, taken, skipped)
            if len(ticket.events) > before:
                change.write(facts.relpath, store.encode_ticket(ticket))
                touched.append(ticket.number)
                changed.append((ticket, ticket.events[before:]))
        if not taken:
            return CheckRun([], None, skipped)
        body = "\n".join(f"{t.number}: {t.due.key}: {t.did}" for t in taken)
        for ticket, events in changed:  # queued before the commit: see queue_notices
            delivery.queue_notices(desk, ticket, events, sync=False)
        delivery.outbox(desk).sync()
        sha = change.commit(f"sla check: {len(taken)} step(s) on {len(touched)} ticket(s)",
                            body, trailers_for(", ".join(touched), "sla-check"), SYSTEM, now)
    return CheckRun(taken, sha, skipped)


def _steps(rules, ticket: model.Ticket, relpath: str, now: datetime, someone_else,
           taken: list, skipped: list) -> model.Ticket:
    """The ticket with every time-rule step due on it taken, one after the other (a step
    can make the next one due: a raised priority shortens the target); each appended to
    ``taken``, or to ``skipped`` when the workflow refuses it."""
    ticket = history.absorb_hand_edits(rules, ticket, now)
    keys = set()
    for _ in range(MAX_STEPS):
        dues = [d for d in sla.due_now(_facts(rules, ticket, relpath), rules.service, now)
                if d.key not in keys]
        if not dues:
            break
        due = dues[0]
        keys.add(due.key)
        try:
            ticket, did = ladder.take(rules, ticket, due, now, someone_else)
        except WorkflowError as exc:
            skipped.append((ticket.number, str(exc)))
            continue
        ticket = history.settle(rules, ticket)
        taken.append(Taken(ticket.number, due, did))
    return ticket


def _facts(rules, ticket: model.Ticket, relpath: str):
    figures = metrics.ticket_figures(ticket.events,
                                     response_actions=rules.service.response_actions)
    return sla.Facts(ticket.number, relpath, ticket.fields,
                     figures["first_response_at"] is not None, figures["resolved_at"],
                     figures["paused_since"], frozenset(figures["done"]))


def _moment(stamp, tz) -> datetime | None:
    return datetime.fromtimestamp(stamp, tz) if stamp is not None else None
