"""Business calendars: which minutes are working time, and arithmetic in working minutes.

A calendar is a week of working hours (with breaks), optionally on top of a base of
statutory holidays and make-up working days (``cn``: China's 法定节假日 and 调休, from the
maintained ``chinesecalendar`` package), plus the desk's own holidays and extra working days.
Where a day is decided, in order: the desk's extra working days, the desk's holidays, the
base's make-up working days, the base's holidays, and last the weekday's hours.

All arithmetic is on epoch seconds, so a zone with daylight saving still counts real minutes.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BASES = ("cn",)
SEARCH_DAYS = 3700  # how far add() looks for working time before giving up (about 10 years)
_SPAN_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|h|d)")


def parse_spans(items) -> tuple:
    """Return ((start minute, end minute), ...) of a day's hours like ["09:00-12:00", ...];
    raise ValueError saying what is wrong."""
    spans = []
    for item in items:
        match = _SPAN_RE.fullmatch(str(item).strip())
        if not match:
            raise ValueError(f"{item!r} is not a span of hours like 09:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or h1 > 23 or end > 24 * 60 or end <= start:
            raise ValueError(f"{item!r} is not a span within one day (end after start, "
                             "at most 24:00)")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"the spans {items} overlap")
    return tuple(spans)


def parse_week(hours: dict) -> tuple:
    """Return seven days of spans from a mapping like {"mon-fri": [...], "sat": [...]};
    raise ValueError naming the bad key."""
    week = [()] * 7
    for key, items in hours.items():
        days = _weekdays(key)
        spans = parse_spans(items)
        for day in days:
            week[day] = spans
    return tuple(week)


def _weekdays(key: str) -> list:
    text = str(key).strip().lower()
    if "-" in text:
        first, _, last = text.partition("-")
        if first in WEEKDAYS and last in WEEKDAYS:
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last)
            if a <= b:
                return list(range(a, b + 1))
    elif text in WEEKDAYS:
        return [WEEKDAYS.index(text)]
    raise ValueError(f"{key!r} is not a weekday or a range of them (mon, mon-fri)")


def parse_duration(text) -> tuple:
    """Return (amount, unit) of "30m", "2h", "1.5d"; unit is m, h or d (working days)."""
    match = _DURATION_RE.fullmatch(str(text).strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h or 1d")
    unit = match[2][0]
    return float(match[1]), unit


def parse_days(items) -> frozenset:
    """Return the dates of a list of days and ranges (2026-10-01..2026-10-07)."""
    days = set()
    for item in items:
        text = str(item).strip()
        first, sep, last = text.partition("..")
        try:
            a = date.fromisoformat(first.strip())
            b = date.fromisoformat(last.strip()) if sep else a
        except ValueError:
            raise ValueError(f"{item!r} is not a date (2026-10-01) or a range of dates "
                             "(2026-10-01..2026-10-07)") from None
        if b < a:
            raise ValueError(f"{item!r} ends before it starts")
        days.update(a + timedelta(days=n) for n in range((b - a).days + 1))
    return frozenset(days)


@dataclass(frozen=True)
class Base:
    """Statutory holidays and make-up working days, with the years they have data for."""

    name: str
    holidays: frozenset
    workdays: frozenset
    years: range

    @staticmethod
    def load(name: str) -> "Base":
        """The built-in base ``name`` (only ``cn``)."""
        if name != "cn":
            raise ValueError(f"unknown base calendar {name!r}; built in: {', '.join(BASES)}")
        import chinese_calendar  # only once a clock is computed

        holidays = frozenset(chinese_calendar.holidays)
        return Base(name, holidays, frozenset(chinese_calendar.workdays),
                    range(min(holidays).year, max(holidays).year + 1))


@dataclass(frozen=True, eq=False)
class Calendar:
    """Working time: the week's hours, a base, and the desk's own holidays and workdays."""

    name: str
    tz: tzinfo
    week: tuple  # seven tuples of (start minute, end minute), Monday first
    base_name: str | None = None
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()
    label: str = ""
    uncovered: set = field(default_factory=set)  # years met that the base has no data for
    _days: dict = field(default_factory=dict)
    _base: list = field(default_factory=list)

    @property
    def makeup_spans(self) -> tuple:
        """The hours of an extra working day on a weekend: those of the first working
        weekday."""
        return next((spans for spans in self.week if spans), ())

    @property
    def day_minutes(self) -> int:
        """The working minutes of a full working day (its longest weekday): what 1d means."""
        return max(sum(e - s for s, e in spans) for spans in self.week)

    @property
    def base(self) -> Base | None:
        if self.base_name is None:
            return None
        if not self._base:
            self._base.append(Base.load(self.base_name))
        return self._base[0]

    @cached_property
    def local_years(self) -> frozenset:
        """Years whose holidays the desk lists itself (trusted over a missing base)."""
        return frozenset(d.year for d in self.holidays)

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` has working hours."""
        return bool(self.spans(day))

    def spans(self, day: date) -> tuple:
        """The working spans of ``day`` in minutes from its midnight."""
        if day in self.workdays:
            return self.week[day.weekday()] or self.makeup_spans
        if day in self.holidays:
            return ()
        base = self.base
        if base is not None:
            if day.year not in base.years:
                if day.year not in self.local_years:
                    self.uncovered.add(day.year)
            elif day in base.workdays:
                return self.week[day.weekday()] or self.makeup_spans
            elif day in base.holidays:
                return ()
        return self.week[day.weekday()]

    def _seconds(self, day: date) -> tuple:
        """The working spans of ``day`` as (start, end) epoch seconds."""
        found = self._days.get(day)
        if found is None:
            midnight = datetime(day.year, day.month, day.day)
            found = tuple((_epoch(midnight + timedelta(minutes=s), self.tz),
                           _epoch(midnight + timedelta(minutes=e), self.tz))
                          for s, e in self.spans(day))
            self._days[day] = found
        return found

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of working time after ``start``."""
        at = start.timestamp()
        need = minutes * 60
        day = start.astimezone(self.tz).date()
        for _ in range(SEARCH_DAYS):
            for s, e in self._seconds(day):
                if e <= at:
                    continue
                s = max(s, at)
                if e - s >= need:  # a due time is a whole second, never before the moment
                    return datetime.fromtimestamp(math.ceil(s + need - 1e-6), self.tz)
                need -= e - s
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name} has no working time within "
                         f"{SEARCH_DAYS} days of {start:%Y-%m-%d}")

    def minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes between ``start`` and ``end`` (0 when end is not after start)."""
        a, b = start.timestamp(), end.timestamp()
        if b <= a:
            return 0.0
        total = 0.0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for s, e in self._seconds(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total / 60

    def to_minutes(self, amount: float, unit: str) -> int:
        """Working minutes of a duration in m, h or d (working days of this calendar)."""
        scale = {"m": 1, "h": 60, "d": self.day_minutes}[unit]
        return round(amount * scale)


def duration_text(minutes: float, language: str = "zh") -> str:
    """Minutes as people say them: 2小时30分 / 2h 30m (hours, never days: a working day's
    length depends on the calendar)."""
    total = int(round(abs(minutes)))
    hours, mins = divmod(total, 60)
    units = ("小时", "分") if language == "zh" else ("h", "m")
    parts = [f"{n}{u}" for n, u in zip((hours, mins), units) if n]
    text = ("" if language == "zh" else " ").join(parts) or f"0{units[1]}"
    return ("-" if minutes < 0 and total else "") + text


def _epoch(wall: datetime, tz: tzinfo) -> float:
    return wall.replace(tzinfo=tz).timestamp()


def always(tz: tzinfo) -> Calendar:
    """Every minute counts (24x7)."""
    return Calendar("24x7", tz, (((0, 24 * 60),),) * 7, label="7x24")
