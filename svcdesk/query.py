"""Which tickets a listing shows, and in what order."""

from dataclasses import dataclass
from datetime import date, datetime

SORT_KEYS = ("created", "updated", "priority", "status", "id", "assignee", "type")


@dataclass(frozen=True)
class Filter:
    """The filters of `svcdesk list`; empty means no restriction."""

    statuses: tuple = ()
    types: tuple = ()
    priorities: tuple = ()
    assignees: tuple = ()
    teams: tuple = ()
    customer: str | None = None
    product: str | None = None
    since: date | None = None
    until: date | None = None
    text: str | None = None

    def matches(self, fields: dict, tz) -> bool:
        """True when a ticket snapshot passes every filter."""
        if self.statuses and fields.get("status") not in self.statuses:
            return False
        if self.types and fields.get("type") not in self.types:
            return False
        if self.priorities and fields.get("priority") not in self.priorities:
            return False
        if self.assignees and (fields.get("assignee") or "") not in self.assignees:
            return False
        if self.teams and fields.get("team") not in self.teams:
            return False
        created = fields.get("created")
        if isinstance(created, datetime):
            day = created.astimezone(tz).date()
            if self.since and day < self.since:
                return False
            if self.until and day > self.until:
                return False
        if self.customer and not _contains(self.customer, fields.get("customer", {}).values()):
            return False
        if self.product and not _contains(self.product, fields.get("product", {}).values()):
            return False
        if self.text and not _contains(self.text, (fields.get("title"), fields.get("description"),
                                                   fields.get("id"), fields.get("category"))):
            return False
        return True


def _contains(needle: str, haystack) -> bool:
    folded = needle.casefold()
    return any(isinstance(v, str) and folded in v.casefold() for v in haystack)


def sort_key(name: str, priority_order: list):
    """A key function for sorting ticket snapshots by ``name``."""
    if name == "priority":
        rank = {p: i for i, p in enumerate(priority_order)}
        return lambda f: (rank.get(f.get("priority"), len(rank)), f.get("id", ""))
    if name in ("created", "updated"):
        return lambda f: (f[name].timestamp() if f.get(name) else 0.0, f.get("id", ""))
    return lambda f: (str(f.get(name) or ""), f.get("id", ""))
