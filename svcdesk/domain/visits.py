"""On-site visits (上门服务): a visit booked for a time window with an engineer, then the
engineer setting off, arriving and leaving. The ticket's ``visit.*`` fields hold its
current visit; its events hold every visit, which is what the calendar and the report read.
Rules and values in, values out."""

from datetime import datetime, timedelta
from typing import NamedTuple

ACTIONS = ("visit", "depart", "arrive", "leave")
WINDOW = timedelta(hours=2)  # a booking's window when none is given
LONGEST = timedelta(hours=12)  # a window longer than this is a typing slip
CLEARED = {"visit.departed": None, "visit.arrived": None, "visit.left": None}


class VisitError(ValueError):
    """A visit step that does not fit the ticket's visit (arrive before setting off...)."""


def booking(fields: dict, at: datetime, until: datetime | None, engineer: str,
            now: datetime) -> dict:
    """The updates that book (or move) a ticket's visit: ``at`` to ``until`` (default two
    hours), by ``engineer``; a visit under way must end (leave) before another is booked."""
    until = until or at + WINDOW
    if until <= at:
        raise VisitError(f"the visit's window ends ({until:%H:%M}) before it starts "
                         f"({at:%H:%M})")
    if until - at > LONGEST:
        raise VisitError("a visit's window is at most 12 hours: book each day's visit on "
                         "its own")
    if at < now - timedelta(days=1):
        raise VisitError(f"{at:%Y-%m-%d %H:%M} is past: book a visit still to come")
    if under_way(fields):
        raise VisitError("the engineer is already on the way or on site: `svcdesk leave` "
                         "ends that visit first")
    return {"visit.at": at, "visit.until": until, "visit.engineer": engineer, **CLEARED}


def under_way(fields: dict) -> bool:
    """Whether the current visit has started and not ended."""
    return bool(fields.get("visit", {}) and fields["visit"].get("departed")
                and not fields["visit"].get("left"))


def step(fields: dict, action: str, now: datetime) -> dict:
    """The updates of ``depart``, ``arrive`` or ``leave`` on the current visit, in order."""
    visit = fields.get("visit") or {}
    if not visit.get("at"):
        raise VisitError("no visit is booked: `svcdesk visit ID --at TIME` books one")
    before = {"depart": None, "arrive": "departed", "leave": "arrived"}[action]
    done = {"depart": "departed", "arrive": "arrived", "leave": "left"}[action]
    if visit.get(done):
        raise VisitError(f"the engineer already {_said(action)} ({visit[done]:%m-%d %H:%M})")
    if before and not visit.get(before):
        first = {"departed": "depart", "arrived": "arrive"}[before]
        raise VisitError(f"the engineer has not {_said(first)} yet (`svcdesk {first}`)")
    if before and now < visit[before]:
        raise VisitError(f"{now:%H:%M} is before the engineer {_said(first_of(before))} "
                         f"({visit[before]:%H:%M})")
    return {f"visit.{done}": now}


def first_of(done: str) -> str:
    return {"departed": "depart", "arrived": "arrive", "left": "leave"}[done]


def _said(action: str) -> str:
    return {"depart": "set off", "arrive": "arrived", "leave": "left"}[action]


# ---- what the history says: every visit ----------------------------------------------------


class Visit(NamedTuple):
    """One visit as the history has it."""

    number: str
    engineer: str | None
    at: datetime  # booked start
    until: datetime | None
    departed: datetime | None
    arrived: datetime | None
    left: datetime | None

    @property
    def travel_minutes(self) -> float | None:
        if self.departed and self.arrived:
            return (self.arrived - self.departed).total_seconds() / 60
        return None

    @property
    def on_site_minutes(self) -> float | None:
        if self.arrived and self.left:
            return (self.left - self.arrived).total_seconds() / 60
        return None


def visits(number: str, events) -> list:
    """Every visit a ticket's events record, in order (a booking moved before the engineer
    set off is the same visit)."""
    out: list = []
    current = None
    for event in events:
        changed = {path: new for path, (_, new) in event.changes.items()} if \
            event.fields is None else {}
        if "visit.at" in changed and changed["visit.at"] is not None:
            if current is not None and current.departed is None:
                out.pop()  # moved before it started: the same visit, booked again
            current = Visit(number, changed.get("visit.engineer"), changed["visit.at"],
                            changed.get("visit.until"), None, None, None)
            out.append(current)
            continue
        if current is None:
            continue
        for done in ("departed", "arrived", "left"):
            if changed.get(f"visit.{done}") is not None:
                current = current._replace(**{done: changed[f"visit.{done}"]})
                out[-1] = current
    return out


def totals(all_visits, start: datetime, end: datetime) -> dict:
    """Per engineer, the visits of [start, end) (by when they were booked for): how many,
    made, travel and on-site minutes."""
    out: dict = {}
    for visit in all_visits:
        if not start <= visit.at < end:
            continue
        row = out.setdefault(visit.engineer or "—", {"visits": 0, "made": 0, "travel": 0.0,
                                                     "on_site": 0.0})
        row["visits"] += 1
        row["made"] += visit.left is not None
        row["travel"] += visit.travel_minutes or 0.0
        row["on_site"] += visit.on_site_minutes or 0.0
    return out
