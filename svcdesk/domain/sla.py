"""Service levels: which policy a ticket is under, and its clocks on a business calendar.

A ticket has two promises, a first response and a resolution, each a number of working
minutes on the policy's calendar. The clocks are computed from the ticket's events alone:

- the response clock runs from creation until the first customer-facing contact;
- the resolution clock runs while the ticket is open and not waiting on the customer, until
  it is resolved (a reopened ticket's clock goes on from where it stopped);
- a due time is when the counted time reaches the target if it keeps counting; while the
  clock is paused there is none.

What a ticket file keeps under ``sla:`` is this computation as of the ticket's last event, so
lists, the index and ``sla check`` read it without a calendar; ``show`` computes it again
for now.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from svcdesk.base import model

TARGETS = ("response", "resolution")
STATES = ("running", "paused", "met", "breached")
SYSTEM = "svcdesk"  # who the desk's own time rules act as


class Policy(NamedTuple):
    """Targets for the tickets it matches (all conditions; none means every ticket)."""

    name: str
    calendar: object  # worktime.Calendar
    response: int | None  # working minutes
    resolution: int | None
    update: int | None = None
    priorities: tuple = ()
    tiers: tuple = ()
    types: tuple = ()
    regions: tuple = ()
    warranties: tuple = ()  # in, out, extended, unknown (a ticket without one: unknown)

    def matches(self, fields: dict) -> bool:
        """Whether a ticket with ``fields`` falls under this policy."""
        customer = fields.get("customer") or {}
        warranty = (fields.get("product") or {}).get("warranty") or "unknown"
        return ((not self.priorities or fields.get("priority") in self.priorities)
                and (not self.tiers or customer.get("tier") in self.tiers)
                and (not self.types or fields.get("type") in self.types)
                and (not self.regions or customer.get("region") in self.regions)
                and (not self.warranties or warranty in self.warranties))

    def minutes(self, target: str) -> int | None:
        """The target in working minutes (None: no promise)."""
        return getattr(self, target)


class Step(NamedTuple):
    """A rung of the escalation ladder: at ``at`` percent of a target, do these things."""

    name: str
    target: str  # response or resolution
    at: int  # percent of the target used up
    notify: tuple = ()  # assignee, team_lead, manager, customer, or an address
    raise_priority: int = 0
    reassign: str | None = None  # lead, manager, or auto (the assignment strategies)


class Automation(NamedTuple):
    """Time rules: close resolved tickets nobody answered, remind on waiting ones."""

    close_resolved_after: tuple | None = None  # (amount, unit) of working time
    remind_waiting_after: tuple | None = None


@dataclass(frozen=True)
class Service:
    """The sla, escalation and automation sections of rules.yaml."""

    calendars: dict = field(default_factory=dict)  # name -> worktime.Calendar
    calendar: object = None  # the desk's calendar (automation, reports)
    policies: tuple = ()
    warn_at: int = 80
    response_actions: tuple = ("wait", "resolve")
    paused: tuple = ("waiting",)  # statuses whose time does not count (sla.pause, clock)
    counting: tuple = ()  # statuses whose time counts: open, not paused, not resolved
    resolved: tuple = ()  # statuses the resolve action leads to
    ladder: tuple = ()
    automation: Automation = field(default_factory=Automation)
    waiting: tuple = ("waiting",)  # of the paused, those waiting on the customer (sla.pause):
    # reminded by the time rules, resumed by the customer's reply
    closable: tuple | None = None  # resolved statuses the time rules may close (None: all)

    def policy_for(self, fields: dict) -> Policy | None:
        """The first policy matching ``fields``."""
        return next((p for p in self.policies if p.matches(fields)), None)


# ---- the clock ----------------------------------------------------------------------------


class Span(NamedTuple):
    """A stretch of the ticket's life and whether a clock counted it."""

    start: datetime
    end: datetime | None  # None: still going
    status: str
    kind: str  # counted, paused, stopped
    worked: float = 0.0  # working minutes the clock counted in it (by the clock's moment)


class Change(NamedTuple):
    """A change of policy while a clock ran: its target moved, and what was left with it."""

    at: datetime
    policy: str | None  # its name (None: no policy promises anything any more)
    minutes: int | None  # the new target
    left_before: float | None  # working minutes left until due, before and after
    left_after: float | None


class Clock(NamedTuple):
    """One target's clock as of ``at``."""

    target: str
    minutes: int  # the target in force (when the clock stopped, or at ``at``)
    due: datetime | None
    state: str
    elapsed: float  # working minutes counted by ``at``
    stopped: datetime | None  # when it was met (responded, resolved)
    spans: tuple
    at: datetime
    limit: float  # the counted minutes at which it falls due (see carry_over)
    judged: int  # the target its share is counted against: the one in force when it fell due
    changes: tuple = ()  # Change: the policy changes while it ran, after the first

    @property
    def remaining(self) -> float:
        """Working minutes left until it is due (negative: over by that much)."""
        return self.limit - self.elapsed

    @property
    def used_pct(self) -> float:
        """Share of the target used up, in percent (150: half as long again as promised)."""
        return 100.0 - 100.0 * self.remaining / self.judged if self.judged else 100.0


def is_response(event, index: int, actions) -> bool:
    """Whether ``event`` is a customer-facing contact: a public comment, a notice a person
    sent, or a status change rules.yaml counts as one. Internal notes never count."""
    if index == 0:
        return False
    if event.action == "comment":
        return event.visibility != "internal"
    if event.action == "notice":
        return event.by != SYSTEM
    return event.action in actions


def life(events, at: datetime) -> list:
    """[(start, end or None, status)] of a ticket's statuses up to ``at``."""
    out = []
    status, since = None, None
    for event in events:
        if event.at > at:
            break
        new = None
        if event.fields is not None:
            new = event.fields.get("status")
        elif "status" in event.changes:
            new = event.changes["status"][1]
        if new is None or new == status:
            continue
        if status is not None:
            out.append((since, event.at, status))
        status, since = new, event.at
    if status is not None:
        out.append((since, None, status))
    return out


_POLICY_FIELDS = ("priority", "type", "customer.tier", "customer.region",
                  "product.warranty")  # what Policy.matches reads


def policies(events, service: Service) -> list:
    """[(since, policy or None)]: the policy in force from each event that changed it, with
    the desk's rules as they are now (a changed rules.yaml applies to the whole history)."""
    out, state = [], {}
    for event in events:
        if event.fields is not None:
            state = {}
            for path in _POLICY_FIELDS:
                model.set_path(state, path, model.get_path(event.fields, path))
        for path, (_old, new) in event.changes.items():
            if path in ("customer", "product"):
                for field in _POLICY_FIELDS:
                    if field.startswith(path + "."):
                        model.set_path(state, field, (new or {}).get(field.split(".")[1]))
            elif path in _POLICY_FIELDS:
                model.set_path(state, path, new)
        policy = service.policy_for(state)
        if out and out[-1][0] == event.at:  # events of one moment: the last one's policy
            out.pop()
        if not out or out[-1][1] is not policy:
            out.append((event.at, policy))
    return out


def carry_over(limit: float, elapsed: float, old: int, new: int) -> float:
    """The counted minutes at which a clock falls due after its target changes from ``old``
    to ``new`` minutes with ``elapsed`` counted: the share of the promise still left carries
    over (a raise from 3 working days to 1 with two days left leaves two thirds of a day),
    and time already counted is never judged again: a clock already due stays due from the
    same moment."""
    left = limit - elapsed
    if left <= 0 or old == new or not old:
        return limit
    return elapsed + left * new / old


def measure(events, in_force: list, target: str, service: Service,
            at: datetime) -> Clock | None:
    """The clock of ``target`` as of ``at``, under the policies ``in_force`` over time
    ([(since, policy)], from ``policies``); None when none promises anything for it."""
    stop = None
    if target == "response":
        stop = next((e.at for i, e in enumerate(events)
                     if is_response(e, i, service.response_actions)), None)
    spans = []
    for start, end, status in life(events, at):
        if stop is not None and start >= stop:
            break
        if stop is not None and (end is None or end > stop):
            spans.append(Span(start, stop, status, _kind(status, service)))
            break
        spans.append(Span(start, end, status, _kind(status, service)))
    if target == "resolution" and spans and spans[-1].kind == "stopped":
        first = len(spans) - 1  # resolved (then perhaps closed) and not reopened:
        while first and spans[first - 1].kind == "stopped":  # stopped when it was resolved
            first -= 1
        stop = spans[first].start
    # the policy it began under, and the changes before it stopped: a change at or after
    # that moment does not judge it again
    changes = in_force[:1] + [(t, p) for t, p in in_force[1:]
                              if (t < stop if stop is not None else t <= at)]
    walk, pieces = _Walk(target, at), []
    for span in _split(spans, [t for t, _ in changes]):
        while changes and changes[0][0] <= span.start:
            walk.switch(*changes.pop(0))
        before = walk.elapsed
        if span.kind == "counted":
            walk.count(span.start, span.end)
        pieces.append(span._replace(worked=walk.elapsed - before))
    for moment, policy in changes:  # after the last span began, while it did not count
        walk.switch(moment, policy)
    if walk.limit is None:
        return None
    limit, elapsed, due, judged = walk.limit, walk.elapsed, walk.due, walk.judged
    if due is None and stop is not None:  # met early: when it would have been due
        due = walk.policy.calendar.add(stop, limit - elapsed)
    last = spans[-1] if spans else None
    paused = stop is None and last is not None and last.kind == "paused"
    if paused and elapsed < limit:
        due = None
    if stop is not None:
        state = "met" if elapsed <= limit + 1e-6 else "breached"
    elif elapsed >= limit:
        state = "breached"
    else:
        state = "paused" if paused else "running"
    return Clock(target, walk.minutes, due, state, elapsed, stop, tuple(pieces), at, limit,
                 judged or walk.minutes, tuple(walk.changes))


def _split(spans: list, moments: list) -> list:
    """``spans`` cut at each of ``moments`` that falls inside one."""
    out = []
    for span in spans:
        for moment in moments:
            if span.start < moment and (span.end is None or moment < span.end):
                out.append(span._replace(end=moment))
                span = span._replace(start=moment)
        out.append(span)
    return out


class _Walk:
    """A clock's counted time, walked forwards through the spans it counts and the
    changes of policy between them."""

    def __init__(self, target: str, at: datetime):
        self.target, self.at = target, at
        self.policy = self.minutes = self.limit = self.due = self.judged = None
        self.elapsed = 0.0
        self.changes = []

    def switch(self, moment: datetime, policy) -> None:
        """A new policy from ``moment`` on: the promise carried over, begun or withdrawn."""
        new = policy.minutes(self.target) if policy is not None else None
        left = None if self.limit is None else self.limit - self.elapsed
        if new is None:  # no promise any more
            self.limit = self.due = self.judged = None
        elif self.limit is None:  # a promise begins here
            self.limit, self.due, self.judged = self.elapsed + new, None, None
        else:
            self.limit = carry_over(self.limit, self.elapsed, self.minutes, new)
        if self.policy is not None or left is not None:
            after = None if self.limit is None else self.limit - self.elapsed
            self.changes.append(Change(moment, policy.name if policy else None, new, left,
                                       after))
        self.policy, self.minutes = policy, new

    def count(self, start: datetime, end: datetime | None) -> None:
        """Count the working time from ``start`` to ``end`` (None: still counting), and
        find where it reaches the limit."""
        if self.limit is None or (end is not None and end <= start):
            return
        calendar = self.policy.calendar
        if self.due is None:
            length = None if end is None else calendar.minutes(start, end)
            if length is None or self.elapsed + length >= self.limit:
                self.due = calendar.add(start, self.limit - self.elapsed)
                self.judged = self.minutes
        until = self.at if end is None else min(end, self.at)
        if until > start:
            self.elapsed += calendar.minutes(start, until)


def _kind(status: str, service: Service) -> str:
    if status in service.paused:
        return "paused"
    return "counted" if status in service.counting else "stopped"


def update_due(events, policy: Policy, service: Service,
               at: datetime) -> datetime | None:
    """When the customer is next owed word of progress (None: not while the ticket is closed,
    resolved or waiting on them, or when the policy sets no interval)."""
    if not policy.update:
        return None
    status_spans = life(events, at)
    if not status_spans:
        return None
    start, _, status = status_spans[-1]
    if status not in service.counting:
        return None
    contact = max([e.at for i, e in enumerate(events)
                   if is_response(e, i, service.response_actions)] + [events[0].at, start])
    return policy.calendar.add(contact, policy.update)


class Level(NamedTuple):
    """A ticket's service level as of a moment: its policy, clocks and next update."""

    policy: Policy
    clocks: dict  # target -> Clock
    update_due: datetime | None
    at: datetime

    def stored(self) -> dict:
        """What the ticket file keeps under ``sla:``."""
        out = {"policy": self.policy.name, "calendar": self.policy.calendar.name}
        for target, clock in self.clocks.items():
            out[f"{target}_minutes"] = clock.minutes
            if clock.judged != clock.minutes:  # missed under another target than today's
                out[f"{target}_promised_minutes"] = clock.judged
            if clock.due is not None:
                out[f"{target}_due"] = clock.due
            if clock.state in ("met", "breached"):
                out[f"{target}_state"] = clock.state
        if self.policy.update:
            out["update_minutes"] = self.policy.update
            if self.update_due is not None:
                out["update_due"] = self.update_due
        return out

    def plain(self) -> dict:
        """The clocks as JSON-ready data (``clocks`` in show --format json)."""
        out = {"at": self.at.isoformat(), "policy": self.policy.name,
               "calendar": self.policy.calendar.name}
        for target, clock in self.clocks.items():
            out[target] = {
                "target_minutes": clock.minutes,
                "promised_minutes": clock.judged,
                "due": clock.due.isoformat() if clock.due else None,
                "state": clock.state,
                "elapsed_minutes": round(clock.elapsed, 1),
                "remaining_minutes": round(clock.remaining, 1),
                "used_pct": round(clock.used_pct, 1),
                "met_at": clock.stopped.isoformat() if clock.stopped else None,
            }
        if self.policy.update:
            out["update"] = {"interval_minutes": self.policy.update,
                             "due": self.update_due.isoformat() if self.update_due else None}
        return out


def level(events, fields: dict, service: Service, at: datetime) -> Level | None:
    """The service level of a ticket with ``events`` and ``fields`` as of ``at`` (None: no
    policy applies)."""
    policy = service.policy_for(fields)
    if policy is None:
        return None
    in_force = policies(events, service)
    if not in_force or in_force[-1][1] is not policy:  # fields not (yet) in the events
        in_force.append((events[-1].at, policy))
    clocks = {}
    for target in TARGETS:
        clock = measure(events, in_force, target, service, at)
        if clock is not None:
            clocks[target] = clock
    return Level(policy, clocks, update_due(events, policy, service, at), at)


def summary(events, fields: dict, service: Service, at: datetime) -> dict | None:
    """What a ticket file keeps under ``sla:`` as of ``at`` (None: no policy applies)."""
    found = level(events, fields, service, at)
    return found.stored() if found else None


# ---- what `sla check` does ----------------------------------------------------------------


class Facts(NamedTuple):
    """What the time rules decide on for one ticket (from the index or from its file)."""

    number: str
    relpath: str
    fields: dict  # the snapshot; times may be datetimes or ISO 8601 text
    responded: bool
    resolved_at: datetime | None
    paused_since: datetime | None
    done: frozenset  # the rules of steps the desk already took on it


class Due(NamedTuple):
    """One thing the time rules say to do to a ticket now."""

    kind: str  # policy, warn, breach, step, update, close, remind
    key: str  # the rule recorded on its event: what makes it happen once
    note: str
    target: str | None = None
    step: Step | None = None


def due_now(facts: Facts, service: Service, now: datetime) -> list:
    """What is due on one ticket at ``now``, in the order to do it."""
    fields = facts.fields
    status = fields.get("status")
    stored = fields.get("sla") or {}
    policy = service.policy_for(fields)
    if _stale(stored, policy, facts, service):
        name = policy.name if policy else "none"
        return [Due("policy", f"policy: {name}",
                    f"service level now {name} (priority {fields.get('priority')})")]
    out = []
    if policy is not None and status in service.counting:
        for target in TARGETS:
            if target == "response" and facts.responded:
                continue
            used = _used(stored, target, policy.calendar, now)
            if used is None:
                continue
            due = _time(stored[f"{target}_due"])
            judged = stored.get(f"{target}_promised_minutes") or stored[f"{target}_minutes"]
            said = (f"{target} target {_whole(judged)} working minutes, due "
                    f"{due:%Y-%m-%d %H:%M}, {used:.0f}% used")
            if service.warn_at <= used < 100 and f"warn: {target}" not in facts.done:
                out.append(Due("warn", f"warn: {target}", said, target))
            if used >= 100 and f"breach: {target}" not in facts.done:
                out.append(Due("breach", f"breach: {target}", said, target))
            for step in sorted(service.ladder, key=lambda s: s.at):
                if step.target == target and used >= step.at and \
                        f"escalation: {step.name}" not in facts.done:
                    out.append(Due("step", f"escalation: {step.name}", said, target, step))
        update = _time(stored.get("update_due"))
        if update is not None and update <= now:
            key = f"update: {update:%Y-%m-%dT%H:%M}"
            if key not in facts.done:
                out.append(Due("update", key, f"the customer is owed word of progress since "
                                              f"{update:%Y-%m-%d %H:%M}"))
    automation, calendar = service.automation, service.calendar
    if automation.close_resolved_after and status in service.resolved and facts.resolved_at \
            and (service.closable is None or status in service.closable):
        limit = calendar.to_minutes(*automation.close_resolved_after)
        if calendar.minutes(facts.resolved_at, now) >= limit:
            out.append(Due("close", "automation: close_resolved_after",
                           f"no reply in {_amount(automation.close_resolved_after)} of working "
                           f"time since it was resolved; closed automatically"))
    if automation.remind_waiting_after and status in service.waiting and facts.paused_since:
        every = calendar.to_minutes(*automation.remind_waiting_after)
        times = int(calendar.minutes(facts.paused_since, now) // every) if every else 0
        key = f"remind: {facts.paused_since:%Y-%m-%dT%H:%M} #{times}"
        if times >= 1 and key not in facts.done:
            out.append(Due("remind", key, f"waiting on the customer since "
                                          f"{facts.paused_since:%Y-%m-%d %H:%M} (reminder "
                                          f"{times})"))
    return out


def _stale(stored: dict, policy: Policy | None, facts: Facts, service: Service) -> bool:
    """Whether the kept ``sla:`` block is not that of ``policy`` (rules or fields changed);
    a target already met or missed keeps the minutes it was judged by."""
    if policy is None:
        return bool(stored)
    status = facts.fields.get("status")
    running = {"response": not facts.responded,
               "resolution": status in service.counting or status in service.paused}
    return (stored.get("policy") != policy.name
            or stored.get("calendar") != policy.calendar.name
            or any(running[t] and _whole(stored.get(f"{t}_minutes")) != policy.minutes(t)
                   for t in TARGETS)
            or _whole(stored.get("update_minutes")) != policy.update)


def _used(stored: dict, target: str, calendar, now: datetime) -> float | None:
    """Percent of ``target`` used up at ``now``, from the kept due time: before it, the
    share of today's target; after it, the time over counted against the target that was
    missed (a priority raised at the breach does not make the ladder's later steps come
    sooner)."""
    minutes = _whole(stored.get(f"{target}_minutes"))
    due = _time(stored.get(f"{target}_due"))
    if not minutes or due is None:
        return None
    if now >= due:
        judged = _whole(stored.get(f"{target}_promised_minutes")) or minutes
        return 100.0 + 100.0 * calendar.minutes(due, now) / judged
    return 100.0 - 100.0 * calendar.minutes(now, due) / minutes


def _whole(value) -> int | None:
    """A whole number kept as a number or as text (the index keeps text)."""
    return int(value) if value is not None else None


def _time(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _amount(duration: tuple) -> str:
    amount, unit = duration
    return f"{amount:g}{unit}"
