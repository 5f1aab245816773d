"""The service review: figures of a period, computed from each ticket's history as of the
period's end, so a past period's report never changes when later tickets come in.

Every figure is defined in docs/metrics.md. Times are in minutes, in calendar time and in
working time (the desk's calendar, time waiting on the customer left out).
"""

import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from svcdesk.base.fields import dump
from svcdesk.domain.metrics import BRIEF_SIZE, brief
from svcdesk.domain.words import distinct

AGES = (("<1d", 1), ("1-3d", 3), ("3-7d", 7), ("7-30d", 30), (">30d", None))
BUCKETS = (("≤1h", 60), ("1-4h", 240), ("4-8h", 480), ("8-16h", 960), ("16-40h", 2400),
           (">40h", None))  # working time
HEADLINE = ("created", "resolved", "closed", "reopened", "duplicates", "escalations")
TOP = 5  # products, categories and title terms listed as recurring


@dataclass(frozen=True)
class Period:
    """[start, end) in the desk's zone, with how people name it."""

    kind: str  # week, month, range
    label: str
    start: datetime
    end: datetime

    def previous(self) -> "Period":
        """The period of the same length just before."""
        if self.kind == "month":
            end = self.start
            first = (end - timedelta(days=1)).replace(day=1)
            return Period("month", f"{first:%Y-%m}", first, end)
        length = self.end - self.start
        start = self.start - length
        label = (f"{start.isocalendar().year}-W{start.isocalendar().week:02d}"
                 if self.kind == "week" else
                 f"{start:%Y-%m-%d}..{(self.start - timedelta(days=1)):%Y-%m-%d}")
        return Period(self.kind, label, start, self.start)


def week(text: str, today: date, tz) -> Period:
    """``2026-W47``, ``last`` (the last whole week) or ``this``."""
    if text in ("last", "this"):
        monday = today - timedelta(days=today.weekday())
        if text == "last":
            monday -= timedelta(days=7)
    else:
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.I)
        if not match:
            raise ValueError(f"{text!r} is not a week like 2026-W47, last or this")
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise ValueError(f"{text!r}: there is no such week") from None
    start = datetime.combine(monday, time(), tz)
    iso = monday.isocalendar()
    return Period("week", f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=7))


def month(text: str, today: date, tz) -> Period:
    """``2026-11``, ``last`` or ``this``."""
    if text in ("last", "this"):
        first = today.replace(day=1)
        if text == "last":
            first = (first - timedelta(days=1)).replace(day=1)
    else:
        try:
            first = datetime.strptime(text.strip(), "%Y-%m").date()
        except ValueError:
            raise ValueError(f"{text!r} is not a month like 2026-11, last or this") from None
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", f"{first:%Y-%m}", datetime.combine(first, time(), tz),
                  datetime.combine(following, time(), tz))


def span(first: date, last: date, tz) -> Period:
    """From ``first`` to ``last``, both days included."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return Period("range", f"{first}..{last}", datetime.combine(first, time(), tz),
                  datetime.combine(last + timedelta(days=1), time(), tz))


# ---- one ticket as of a moment ----------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """A ticket's history in brief (from the index), and its fields as they are now."""

    number: str
    fields: dict
    created: datetime
    first_response: datetime | None
    steps: tuple  # (at, action, status, assignee, csat, response state, resolution state,
    # visiting engineer)

    @staticmethod
    def from_row(row: dict, tz) -> "Story":
        steps = tuple((datetime.fromtimestamp(step[0], tz), *step[1:],
                       *(None,) * (BRIEF_SIZE - len(step)))  # the index leaves trailing nulls out
                      for step in json.loads(row["timeline"]))
        first = row["first_response"]
        return Story(row["id"], json.loads(row["doc"]), datetime.fromtimestamp(row["created"], tz),
                     datetime.fromtimestamp(first, tz) if first is not None else None, steps)

    @staticmethod
    def from_ticket(ticket, first_response: datetime | None, tz) -> "Story":
        """A story from a ticket read from its file (e.g. one whose history is partly
        broken and so is not in the index)."""
        steps = tuple((datetime.fromtimestamp(step[0], tz), *step[1:])
                      for step in brief(ticket.events))
        return Story(ticket.number, dump(ticket.fields), ticket.events[0].at, first_response,
                     steps)

    def until(self, end: datetime) -> tuple:
        return tuple(s for s in self.steps if s[0] < end)

    def status_at(self, end: datetime) -> str | None:
        status = None
        for step in self.until(end):
            status = step[2] or status
        return status

    def assignee_at(self, end: datetime) -> str | None:
        who = None
        for step in self.until(end):
            who = step[3] or who
        return who

    def sla_state(self, target: str, end: datetime) -> str | None:
        """Met or breached, as recorded by ``end`` (the event that stopped the clock records
        it, so a later reopening does not change a past period)."""
        column = 5 if target == "response" else 6
        state = None
        for step in self.until(end):
            if step[1] == "reopen" and target == "resolution":
                state = None
            state = step[column] or state
        return state

    def ratings(self) -> list:
        """[(when, rating)] the customer gave: at a close, or later by `svcdesk rate`, which
        replaces the rating of the same closing (one not followed by a reopen since); a
        rating given before a reopen stays given."""
        out, replaceable = [], False
        for at, action, _, _, csat, *_ in self.steps:
            if action == "reopen":
                replaceable = False
            elif action in ("close", "rate") and csat is not None:
                if action == "rate" and replaceable and out:
                    out[-1] = (at, int(csat))
                else:
                    out.append((at, int(csat)))
                replaceable = True
        return out

    def rated_within(self, period: "Period") -> list:
        """The ratings given in ``period``."""
        return [r for at, r in self.ratings() if period.start <= at < period.end]

    def within(self, period: Period, action: str) -> list:
        return [s for s in self.steps if s[1] == action and period.start <= s[0] < period.end]

    def visits(self) -> list:
        """Its on-site visits as the history has them: [(engineer, set off, arrived, left)],
        each time unset until it happened (a visit booked again before the engineer set off
        is the same visit)."""
        out: list = []
        for at, action, *rest in self.steps:
            engineer = rest[5] if len(rest) > 5 else None
            if action == "visit":
                if out and out[-1][1] is None:
                    out.pop()
                out.append([engineer, None, None, None])
            elif action in ("depart", "arrive", "leave") and out:
                out[-1][("depart", "arrive", "leave").index(action) + 1] = at
        return [tuple(v) for v in out]

    def merged(self, end: datetime, start: datetime | None = None) -> bool:
        """Whether it was merged into another ticket (closed as its duplicate) before
        ``end`` (and from ``start``): the merge that changed its status, not the one its
        original records."""
        return any(s[1] == "merge" and s[2] and (start is None or start <= s[0])
                   for s in self.until(end))

    def done_before(self, end: datetime, action: str) -> int:
        """How many times ``action`` happened before ``end``."""
        return sum(1 for s in self.until(end) if s[1] == action)

    def reassigned_by(self, end: datetime) -> bool:
        """Whether it went from one agent to another before ``end``."""
        owners = [s[3] for s in self.until(end) if s[3]]
        return any(a != b for a, b in zip(owners, owners[1:]))

    def working_minutes(self, calendar, end: datetime, counting) -> float:
        """Working minutes from creation to ``end`` spent in a ``counting`` status (as the
        SLA clock counts: not waiting on the customer, not resolved)."""
        total, since, status = 0.0, None, None
        for at, _, new, *_ in self.until(end + timedelta(seconds=1)):
            if new is None or new == status:
                continue
            if since is not None and status in counting:
                total += calendar.minutes(since, min(at, end))
            since, status = at, new
        if since is not None and since < end and status in counting:
            total += calendar.minutes(since, end)
        return total


# ---- the figures ------------------------------------------------------------------------------


def figures(stories: list, period: Period, rules, labels) -> dict:
    """Every figure of ``period`` for ``stories`` (tickets made before its end)."""
    service = rules.service
    calendar, counting = service.calendar, set(service.counting)
    open_statuses = set(rules.open_statuses())
    end = period.end
    duplicates = [s for s in stories if s.merged(end, period.start)]
    # a duplicate merged by the period's end is its original's request, counted there once
    merged = {s.number for s in stories if s.merged(end)}
    stories = [s for s in stories if s.number not in merged]
    created = [s for s in stories if period.start <= s.created < end]
    resolved = [s for s in stories if s.within(period, "resolve")]
    closed = [s for s in stories if s.within(period, "close")]
    reopened = [s for s in stories if s.within(period, "reopen")]
    backlog = [s for s in stories if s.created < end and s.status_at(end) in open_statuses]

    responded = [s for s in stories
                 if s.first_response is not None and period.start <= s.first_response < end]
    response_times = [((s.first_response - s.created).total_seconds() / 60,
                       s.working_minutes(calendar, s.first_response, counting | set(
                           service.paused))) for s in responded]
    resolution_times = {}
    for s in resolved:
        at = s.within(period, "resolve")[-1][0]
        resolution_times[s.number] = ((at - s.created).total_seconds() / 60,
                                      s.working_minutes(calendar, at, counting))

    def sla_counts(group, target):
        states = [s.sla_state(target, _stopped(s, target, period)) for s in group]
        met, breached = states.count("met"), states.count("breached")
        return met, breached, _pct(met, met + breached)

    r_met, r_breached, r_pct = sla_counts(responded, "response")
    s_met, s_breached, s_pct = sla_counts(resolved, "resolution")
    first_time = [s for s in resolved if not s.done_before(end, "reopen")
                  and not s.reassigned_by(end)]
    ratings = [r for s in stories for r in s.rated_within(period)]
    escalations = sum(len(s.within(period, "escalate")) for s in stories)

    def per(key, group_of):
        rows = {}
        for s in resolved:
            rows.setdefault(group_of(s, True), []).append(s)
        load = Counter(group_of(s, False) for s in backlog)
        out = []
        for name in sorted(set(rows) | set(load), key=lambda n: (n is None, n or "")):
            done = rows.get(name, [])
            rated = [r for s in done for r in s.rated_within(period)]
            met, breached, share = sla_counts(done, "resolution")
            out.append({key: name, "name": labels(key, name), "handled": len(done),
                        "open": load.get(name, 0),
                        "median_resolution_minutes": _round(_median(
                            [resolution_times[s.number][1] for s in done])),
                        "sla_met_pct": share,
                        "csat_avg": _round(statistics.fmean(rated)) if rated else None})
        return out

    def agent_of(s, at_resolution):
        if at_resolution:  # who had it when it was resolved
            return s.assignee_at(s.within(period, "resolve")[-1][0] + timedelta(seconds=1))
        return s.assignee_at(end)

    def team_of(s, _):
        return s.fields.get("team")

    def split(field):
        counts = Counter(s.fields.get(field) for s in created)
        done = Counter(s.fields.get(field) for s in resolved)
        return [{field: k, "label": labels(field, k), "created": counts.get(k, 0),
                 "resolved": done.get(k, 0)}
                for k in sorted(set(counts) | set(done), key=lambda n: (n is None, n or ""))]

    days = []
    day = period.start
    while day < end:
        following = min(day + timedelta(days=1), end)
        days.append({"day": day.date().isoformat(),
                     "created": sum(1 for s in created if day <= s.created < following),
                     "resolved": sum(1 for s in resolved if day <= s.within(
                         period, "resolve")[-1][0] < following)})
        day = following
    on_site = {}  # engineer -> [travel minutes, on-site minutes] of visits arrived in period
    for s in stories:
        for engineer, departed, arrived, left in s.visits():
            if arrived is None or not period.start <= arrived < end:
                continue
            row = on_site.setdefault(engineer, {"visits": 0, "travel": [], "on_site": []})
            row["visits"] += 1
            if departed is not None:
                row["travel"].append((arrived - departed).total_seconds() / 60)
            if left is not None:
                row["on_site"].append((left - arrived).total_seconds() / 60)
    visits = [{"engineer": k, "name": labels("agent", k), "visits": v["visits"],
               "travel_minutes": _round(sum(v["travel"])),
               "mean_travel_minutes": _round(statistics.fmean(v["travel"]))
               if v["travel"] else None,
               "on_site_minutes": _round(sum(v["on_site"])),
               "mean_on_site_minutes": _round(statistics.fmean(v["on_site"]))
               if v["on_site"] else None}
              for k, v in sorted(on_site.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
    products = Counter((s.fields.get("product") or {}).get("model") for s in created)
    products.pop(None, None)
    categories = Counter(s.fields.get("category") for s in created)
    categories.pop(None, None)
    return {
        "created": len(created), "resolved": len(resolved), "closed": len(closed),
        "reopened": len(reopened), "duplicates": len(duplicates),
        "backlog": {"open": len(backlog), "ages": _ages(backlog, end)},
        "first_response": _spread(response_times),
        "resolution": _spread(list(resolution_times.values())),
        "per_day": days,
        "sla": {"response_met": r_met, "response_breached": r_breached,
                "response_met_pct": r_pct, "resolution_met": s_met,
                "resolution_breached": s_breached, "resolution_met_pct": s_pct},
        "fcr_pct": _pct(len(first_time), len(resolved)),
        "reopen_pct": _pct(len(reopened), len(resolved)),
        "csat": {"avg": _round(statistics.fmean(ratings)) if ratings else None,
                 "responses": len(ratings),
                 "response_rate_pct": _pct(len(ratings), len(closed)),
                 "distribution": {str(n): ratings.count(n) for n in range(1, 6)}},
        "escalations": escalations,
        "by_agent": per("agent", agent_of),
        "by_team": per("team", team_of),
        "by_type": split("type"),
        "by_category": split("category"),
        "by_channel": split("channel"),
        "visits": visits,
        "recurring": {"products": _top(products), "categories": _top(categories),
                      "terms": _top(_terms((s.fields.get("title") or "" for s in created),
                                            rules.words))},
    }


def money(stories: list, period: Period, moves: list, costs: dict, low: list, labels,
          filtered: bool = False) -> dict:
    """Fees charged and parts used in ``period`` (保外收入 and 备件成本): in total, per
    product and per agent (who had the ticket); each part used with its cost; the parts now below their minimum
    (``low``). ``moves`` are the period's stock movements (adapters.records), ``costs``
    {part: (name, unit cost)}. Amounts are Decimal yuan, written as text with two decimals.
    With ``filtered``, only the parts used on the ``stories`` count."""
    zero = Decimal("0.00")
    by_uid = {s.fields.get("uid"): s for s in stories}
    revenue, parts_cost, charged = zero, zero, 0
    products, agents, used = {}, {}, {}

    def add(table, key, field, amount):
        row = table.setdefault(key, {"revenue": zero, "parts_cost": zero})
        row[field] += amount

    for s in stories:
        charges = s.within(period, "charge")
        amount = (s.fields.get("fee") or {}).get("charged")
        if not charges or amount is None:
            continue
        amount, charged = Decimal(amount), charged + 1
        revenue += amount
        add(products, (s.fields.get("product") or {}).get("model"), "revenue", amount)
        add(agents, s.assignee_at(charges[-1][0] + timedelta(seconds=1)), "revenue", amount)
    for move in moves:
        if move["action"] not in ("use", "return"):
            continue
        story = by_uid.get((move["ref"] or "").removeprefix("ticket:"))
        if story is None and filtered:
            continue
        name, unit_cost = costs.get(move["part"], (None, zero))
        units = -move["qty"]  # a use takes units out
        cost = unit_cost * units
        parts_cost += cost
        entry = used.setdefault(move["part"], {"part": move["part"], "name": name,
                                               "units": 0, "cost": zero})
        entry["units"] += units
        entry["cost"] += cost
        add(products, (story.fields.get("product") or {}).get("model") if story else None,
            "parts_cost", cost)
        at = datetime.fromtimestamp(move["at"], period.start.tzinfo) + timedelta(seconds=1)
        add(agents, story.assignee_at(at) if story else move["by"], "parts_cost", cost)

    def rows(table, key):
        return [{key: k, "name": labels(key, k) if key == "agent" else (k or "—"),
                 "revenue": f"{v['revenue']:.2f}", "parts_cost": f"{v['parts_cost']:.2f}"}
                for k, v in sorted(table.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]

    return {"revenue": f"{revenue:.2f}", "charged_tickets": charged,
            "parts_cost": f"{parts_cost:.2f}",
            "by_product": rows(products, "product"), "by_agent": rows(agents, "agent"),
            "parts_used": [{**e, "cost": f"{e['cost']:.2f}"}
                           for _, e in sorted(used.items())],
            "below_minimum": low}


def review(stories: list, period: Period, rules, labels, filters: dict) -> dict:
    """The whole report: this period's figures, the previous period's headline, the change."""
    this = figures(stories, period, rules, labels)
    before = figures(stories, period.previous(), rules, labels)
    previous = _headline(before)
    now = _headline(this)
    change = {k: (_round(now[k] - previous[k]) if now[k] is not None
                  and previous[k] is not None else None) for k in now}
    return {"period": {"kind": period.kind, "label": period.label,
                       "start": period.start.isoformat(), "end": period.end.isoformat(),
                       "timezone": str(rules.tz)},
            "desk": rules.name, "filters": filters, **this,
            "previous": {"label": period.previous().label, **previous}, "change": change}


def _stopped(story: Story, target: str, period: Period) -> datetime:
    """Just after the moment a target's clock stopped within ``period``."""
    if target == "response":
        return story.first_response + timedelta(seconds=1)
    return story.within(period, "resolve")[-1][0] + timedelta(seconds=1)


def _headline(data: dict) -> dict:
    out = {k: data[k] for k in HEADLINE}
    out["backlog"] = data["backlog"]["open"]
    out["first_response_median_minutes"] = data["first_response"]["median_minutes"]
    out["resolution_median_minutes"] = data["resolution"]["median_minutes"]
    out["response_met_pct"] = data["sla"]["response_met_pct"]
    out["resolution_met_pct"] = data["sla"]["resolution_met_pct"]
    out["fcr_pct"] = data["fcr_pct"]
    out["reopen_pct"] = data["reopen_pct"]
    out["csat_avg"] = data["csat"]["avg"]
    return out


def _spread(times: list) -> dict:
    """Median, mean and 90th percentile, in calendar and in working minutes."""
    calendar = [t[0] for t in times]
    working = [t[1] for t in times]
    return {"count": len(times), **_stats(calendar),
            "working": {**_stats(working), "buckets": _buckets(working)}}


def _buckets(minutes: list) -> dict:
    """How many took up to 1, 4, 8, 16 and 40 working hours, and more."""
    out = {name: 0 for name, _ in BUCKETS}
    for value in minutes:
        out[next(n for n, limit in BUCKETS if limit is None or value <= limit)] += 1
    return out


def _stats(values: list) -> dict:
    return {"median_minutes": _round(_median(values)),
            "mean_minutes": _round(statistics.fmean(values)) if values else None,
            "p90_minutes": _round(_percentile(values, 90))}


def _median(values: list):
    return statistics.median(values) if values else None


def _percentile(values: list, share: int):
    """The nearest-rank percentile: the smallest value with ``share``% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-share * len(ordered) // 100))
    return ordered[rank - 1]


def _pct(part: int, whole: int):
    return round(100.0 * part / whole, 1) if whole else None


def _round(value):
    return round(value, 1) if value is not None else None


def _ages(backlog: list, end: datetime) -> dict:
    out = {name: 0 for name, _ in AGES}
    for s in backlog:
        days = (end - s.created).total_seconds() / 86400
        name = next(n for n, limit in AGES if limit is None or days < limit)
        out[name] += 1
    return out


def _top(counts: Counter) -> list:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [{"name": k, "count": n} for k, n in ranked]


def _terms(titles, extra: tuple = ()) -> Counter:
    """The words of the titles (打印机, 卡纸, not 印机), each counted once per title."""
    counts = Counter()
    for title in titles:
        counts.update(distinct(title, extra))
    return counts


def flat(data: dict) -> list:
    """One row per figure and dimension (section, dimension, figure, value), for CSV."""
    rows = []

    def add(section, dimension, figure, value):
        rows.append({"section": section, "dimension": dimension, "figure": figure,
                     "value": value})

    for key in ("created", "resolved", "closed", "reopened", "duplicates", "escalations",
                "fcr_pct", "reopen_pct"):
        add("summary", "", key, data[key])
    add("backlog", "", "open", data["backlog"]["open"])
    for bucket, count in data["backlog"]["ages"].items():
        add("backlog_age", bucket, "open", count)
    for section in ("first_response", "resolution"):
        add(section, "", "count", data[section]["count"])
        for clock, figures_ in (("calendar", data[section]), ("working",
                                                               data[section]["working"])):
            for key in ("median_minutes", "mean_minutes", "p90_minutes"):
                add(section, clock, key, figures_[key])
    for key, value in data["sla"].items():
        add("sla", "", key, value)
    for key in ("avg", "responses", "response_rate_pct"):
        add("csat", "", key, data["csat"][key])
    for rating, count in data["csat"]["distribution"].items():
        add("csat_distribution", rating, "responses", count)
    for section, key in (("by_agent", "agent"), ("by_team", "team"), ("by_type", "type"),
                         ("by_category", "category"), ("by_channel", "channel")):
        for entry in data[section]:
            for figure, value in entry.items():
                if figure not in (key, "name", "label"):
                    add(section, entry[key] or "", figure, value)
    for entry in data["visits"]:
        for figure in ("visits", "travel_minutes", "mean_travel_minutes", "on_site_minutes",
                       "mean_on_site_minutes"):
            add("visits", entry["engineer"] or "", figure, entry[figure])
    for kind, entries in data["recurring"].items():
        for entry in entries:
            add(f"recurring_{kind}", entry["name"], "count", entry["count"])
    money_ = data.get("money")
    if money_:
        for key in ("revenue", "charged_tickets", "parts_cost"):
            add("money", "", key, money_[key])
        for section, key in (("by_product", "product"), ("by_agent", "agent")):
            for entry in money_[section]:
                for figure in ("revenue", "parts_cost"):
                    add(f"money_{section}", entry[key] or "", figure, entry[figure])
        for entry in money_["parts_used"]:
            add("parts_used", entry["part"], "units", entry["units"])
            add("parts_used", entry["part"], "cost", entry["cost"])
        for entry in money_["below_minimum"]:
            add("parts_below_minimum", entry["part"], "stock", entry["stock"])
    for key, value in data["change"].items():
        add("change", data["previous"]["label"], key, value)
    return rows
