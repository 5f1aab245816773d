"""Which tickets a listing shows."""

from datetime import date
from typing import NamedTuple


class Filter(NamedTuple):
    """The filters of `svcdesk list` and `svcdesk search`; empty means no restriction.

    Text filters match a part of any value, ignoring case; ``since`` and ``until`` are days
    in the desk's time zone, both included; an empty string in ``assignees`` means unassigned.
    """

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
