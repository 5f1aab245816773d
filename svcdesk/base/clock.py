"""The one source of "now": honours SVCDESK_NOW so tests, backfills and demos pick the time."""

import os
from datetime import datetime, tzinfo

from svcdesk.base.errors import UsageError


def now(tz: tzinfo) -> datetime:
    """Return the current time in ``tz``, or SVCDESK_NOW (ISO 8601) when it is set."""
    pinned = os.environ.get("SVCDESK_NOW")
    if not pinned:
        return datetime.now(tz).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(pinned.strip())
    except ValueError:
        raise UsageError(
            f"SVCDESK_NOW={pinned!r} is not an ISO 8601 time (e.g. 2026-11-22T09:30:00+08:00)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)
