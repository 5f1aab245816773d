"""Assignment: choose the agent for a ticket by skill, region and load, in the rules' order.

Agents who are off that day or at capacity are never chosen. ``skill`` keeps the agents with a
skill matching the ticket's type, category, product or tags, most matches first; ``region`` keeps those who
cover the customer's region (an agent with no regions covers all); ``least_loaded`` prefers
fewer open tickets; ``round_robin`` takes turns after the agent who got the team's latest
ticket. Filters keep their order's preference too: among agents left after ``region``, more
matching skills come first. When nobody fits, the ticket stays in its team's queue.
"""

import re
from datetime import date
from typing import NamedTuple

from svcdesk.base.model import get_path

STRATEGIES = ("skill", "region", "least_loaded", "round_robin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


class DaysOff(NamedTuple):
    """When an agent is away: weekdays, and inclusive ranges of dates."""

    weekdays: frozenset = frozenset()
    spans: tuple = ()  # (first, last) dates

    @classmethod
    def parse(cls, entries) -> "DaysOff":
        """Read ``off:`` entries; raise ValueError naming the one that is not a day."""
        weekdays, spans = set(), []
        for entry in entries:
            text = str(entry).strip().casefold()
            if text in WEEKDAYS or text in _FULL:
                weekdays.add(WEEKDAYS.index(text[:3]))
                continue
            span = _RANGE.match(text)
            try:
                first, last = ((date.fromisoformat(span[1]), date.fromisoformat(span[2]))
                               if span else (date.fromisoformat(text),) * 2)
            except ValueError:
                raise ValueError(f"{entry!r} is not a date (2026-12-24), a range "
                                 "(2026-12-28..2027-01-02) or a weekday (sat)") from None
            if last < first:
                raise ValueError(f"{entry!r} ends before it starts")
            spans.append((first, last))
        return cls(frozenset(weekdays), tuple(spans))

    def covers(self, day: date) -> bool:
        """Whether the agent is off on ``day``."""
        return day.weekday() in self.weekdays or any(a <= day <= b for a, b in self.spans)


class Choice(NamedTuple):
    """Who gets a ticket (None: its team's queue), and why, step by step."""

    agent: str | None
    team: str | None
    trail: tuple


def needs(values: dict) -> set:
    """What a ticket asks of an agent's skills: type, category, product words, tags."""
    out = {values.get("type"), values.get("category")}
    out.update(values.get("tags") or ())
    model = get_path(values, "product.model")
    if model:
        out.update(w.casefold() for w in re.split(r"[\s/_-]+", str(model)) if w)
    return {str(n).casefold() for n in out if n}


def choose(agents: dict, strategies: tuple, values: dict, load: dict, last: str | None,
           today: date) -> Choice:
    """Choose among ``agents`` (key -> Agent, in rules order) for the ticket ``values``.

    ``load`` is each agent's open tickets, ``last`` the agent who got the team's latest
    ticket (for round robin), ``today`` the day in the desk's time zone.
    """
    team = values.get("team")
    trail = []
    pool = [a for a in agents.values() if team is None or a.team == team]
    trail.append(f"team {team}: " + (", ".join(a.key for a in pool) or "no agents")
                 if team else "no team: every agent")
    candidates = []
    for agent in pool:
        if agent.off.covers(today):
            trail.append(f"  {agent.key}: off on {today}")
        elif agent.capacity is not None and load.get(agent.key, 0) >= agent.capacity:
            trail.append(f"  {agent.key}: at capacity ({load.get(agent.key, 0)}/"
                         f"{agent.capacity})")
        else:
            candidates.append(agent)
    orders = []
    for strategy in strategies:
        if not candidates:
            break
        if strategy == "skill":
            wanted = needs(values)
            scores = {a.key: len(wanted & {s.casefold() for s in a.skills}) for a in candidates}
            candidates = [a for a in candidates if scores[a.key]]
            if not candidates:
                trail.append(f"skill: nobody has a skill in {', '.join(sorted(wanted))}")
                break
            orders.append(("skill", lambda a, scores=scores: -scores[a.key],
                           lambda a, scores=scores: f"most skill matches ({scores[a.key]})"))
            trail.append(f"skill: most matches of {', '.join(sorted(wanted))} first: "
                         + ", ".join(f"{a.key} {scores[a.key]}" for a in candidates))
        elif strategy == "region":
            region = get_path(values, "customer.region")
            if not region:
                trail.append("region: the customer has no region; skipped")
                continue
            candidates = [a for a in candidates if not a.regions or region in a.regions]
            trail.append(f"region {region}: " + (", ".join(a.key for a in candidates)
                                                  or "nobody covers it"))
        elif strategy == "least_loaded":
            orders.append(("least_loaded", lambda a: load.get(a.key, 0),
                           lambda a: f"fewest open tickets ({load.get(a.key, 0)})"))
            trail.append("least_loaded: " + ", ".join(
                f"{a.key} {load.get(a.key, 0)}" for a in candidates))
        elif strategy == "round_robin":
            ring = [a.key for a in pool]
            after = ring.index(last) if last in ring else -1
            orders.append(("round_robin", lambda a, ring=ring, after=after:
                           (ring.index(a.key) - after - 1) % len(ring),
                           lambda a: f"next in turn after {last or 'nobody yet'}"))
            trail.append(f"round_robin: after {last or 'nobody yet'}")
    if not candidates:
        trail.append(f"nobody fits: the ticket waits in the {team or 'desk'} queue")
        return Choice(None, team, tuple(trail))
    chosen = min(candidates, key=lambda a: tuple(order(a) for _, order, _ in orders)) \
        if orders else candidates[0]
    trail.append(f"chosen: {chosen.key} ({_why(chosen, candidates, orders)})")
    return Choice(chosen.key, chosen.team, tuple(trail))


def _why(chosen, candidates: list, orders: list) -> str:
    """Which strategy decided: the strategies rank in turn, each breaking the ties the ones
    before it left; the one that settled the last tie decided."""
    others = [a for a in candidates if a is not chosen]
    if not others:
        return "the only one who fits"
    deciding = -1
    for other in others:
        first = next((i for i, (_, order, _) in enumerate(orders)
                      if order(other) != order(chosen)), None)
        if first is None:  # tied on every strategy: the earlier in rules.yaml wins
            return f"tied with {other.key} on every strategy; first in rules.yaml"
        deciding = max(deciding, first)
    name, _, said = orders[deciding]
    return f"decided by {name}: {said(chosen)}"
