"""On-site visits (上门服务): book one, record the engineer setting off, arriving and leaving,
and the week's calendar. Each step is one change; where the desk's workflow declares an
action of the step's name (visit, depart, arrive, leave), the step is that action: it moves
the status and queues the notices the declaration lists."""

import re
from datetime import date, datetime, time, timedelta

from svcdesk.app import work
from svcdesk.base import model
from svcdesk.base.errors import UsageError, ValidationError, WorkflowError
from svcdesk.base.identity import TicketRef
from svcdesk.domain import history
from svcdesk.domain import visits as V


_DAYS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_RELATIVE = re.compile(r"(今天|明天|后天|today|tomorrow)\s*(\d{1,2}:\d{2})", re.IGNORECASE)


def when(desk, text: str, day: date | None = None) -> datetime:
    """A time the person typed, in the desk's zone: 2026-12-08 14:00, 明天 14:00 (今天,
    后天, today, tomorrow), or 16:00 on ``day``."""
    text = text.strip()
    tz = desk.rules.tz
    relative = _RELATIVE.fullmatch(text)
    try:
        if relative:
            base = desk.now().astimezone(tz).date() + timedelta(
                days=_DAYS[relative[1].lower()])
            moment = datetime.combine(base, time.fromisoformat(relative[2].zfill(5)))
        elif day is not None and len(text) <= 5:
            moment = datetime.combine(day, time.fromisoformat(text.zfill(5)))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a time (2026-12-08 14:00, 明天 14:00, or "
                              "16:00 for the end of the window)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _take(rules, ticket, now, actor, action, updates, note):
    """The step as the workflow's action of that name, or recorded where it declares none."""
    public = "public" if note else None
    if action in rules.transitions:
        return history.transition(rules, ticket, now, actor, action, updates, note=note,
                                  visibility=public)
    return history.record(rules, ticket, now, actor, action, updates, note=note,
                          visibility=public)


def book(desk, ref: TicketRef, at: str, until: str | None = None,
         engineer: str | None = None, note: str | None = None) -> model.Ticket:
    """Book the ticket's visit (or move it) for ``at`` to ``until`` with ``engineer`` (the
    assignee when none is named); the customer is told the window."""
    rules = desk.rules
    start = when(desk, at)
    end = when(desk, until, start.date()) if until else None
    if engineer is not None and engineer not in rules.agents:
        found = rules.agent_by_email(engineer)
        if found is None:
            raise UsageError(f"unknown agent {engineer!r} (agents: {', '.join(rules.agents)})")
        engineer = found.key

    def build(ticket, now, actor):
        who = engineer or ticket.get("assignee")
        if who is None:
            raise WorkflowError(f"{ticket.number} has no assignee: name the engineer "
                                "(--engineer AGENT)")
        try:
            updates = V.booking(ticket.fields, start, end, who, now)
        except V.VisitError as exc:
            raise WorkflowError(f"{ticket.number}: {exc}") from None
        if not ticket.get("assignee"):
            updates.update(assignee=who, team=rules.agents[who].team)
        return _take(rules, ticket, now, actor.key, "visit", updates, note)

    return work.update(desk, ref, "visit", build, note_body=note or "")


def record(desk, ref: TicketRef, action: str, note: str | None = None) -> model.Ticket:
    """The engineer sets off (depart), arrives or leaves, now."""
    if action not in ("depart", "arrive", "leave"):
        raise UsageError(f"{action} is not a step of a visit")
    rules = desk.rules

    def build(ticket, now, actor):
        try:
            updates = V.step(ticket.fields, action, now)
        except V.VisitError as exc:
            raise WorkflowError(f"{ticket.number}: {exc}") from None
        return _take(rules, ticket, now, actor.key, action, updates, note)

    return work.update(desk, ref, action, build, note_body=note or "")


def week(desk, day: date, engineer: str | None = None) -> tuple:
    """(Monday, the visits booked in the week holding ``day`` as [fields], by time), for
    one engineer or all."""
    monday = day - timedelta(days=day.weekday())
    tz = desk.rules.tz
    start = datetime.combine(monday, time(), tz)
    found = desk.index.visits_between(start, start + timedelta(days=7))
    if engineer is not None:
        if engineer not in desk.rules.agents:
            raise UsageError(f"unknown agent {engineer!r} (agents: "
                             f"{', '.join(desk.rules.agents)})")
        found = [f for f in found if (f.get("visit") or {}).get("engineer") == engineer]
    return monday, found
