"""Finding tickets: listings and search, from the index."""

from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.base import query
from svcdesk.base.errors import UsageError

MAX_QUERY, MAX_TERMS = 200, 16  # what one search may ask for (every word must occur)
to_yaml = store.dump_yaml  # tickets as the desk writes YAML (list --format yaml)


class Listing(NamedTuple):
    """What `list` shows: ticket snapshots, the files that could not be read, and what the
    command made of them (see listing)."""

    tickets: list
    problems: list
    shown: object = None
    total: int | None = None  # how many passed the filter, when the limit was reached


def choose(desk, statuses=(), types=(), priorities=(), assignees=(), teams=(),
           open_by_default: bool = False, **rest) -> query.Filter:
    """The filter of a listing from what a person typed: each value a key of the desk's
    rules or its label (any case), ``all`` for every status, ``me`` for the acting agent;
    without statuses, the open ones when ``open_by_default``. A value the desk does not know
    is refused, naming the ones it does (UsageError)."""
    rules = desk.rules
    if "all" in statuses:
        statuses = ()
    elif not statuses and open_by_default:
        statuses = tuple(rules.open_statuses())
    else:
        statuses = _known(rules, "status", statuses, "statuses", ("all",))
    others = _known(rules, "assignee", [a for a in assignees if a != "me"], "agents", ("me",))
    agents = ((desk.actor().key,) if "me" in assignees else ()) + others
    return query.Filter(statuses, _known(rules, "type", types, "types"),
                        _known(rules, "priority", priorities, "priorities"), agents,
                        _known(rules, "team", teams, "teams"), **rest)


def _known(rules, option: str, given, vocabulary: str, extra=()) -> tuple:
    """``given`` as the desk's keys (a label stands for its key); UsageError for one the
    desk does not have."""
    keys = list(rules.vocabularies.get(vocabulary, {}))
    by_name = {k.casefold(): k for k in keys}
    for key, label in rules.vocabularies.get(vocabulary, {}).items():
        by_name.setdefault(str(label).casefold(), key)
    out = []
    for value in given:
        key = by_name.get(value.casefold())
        if key is None:
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise UsageError(f"--{option} {shown!r}: not one of " + ", ".join(
                list(extra) + keys))
        out.append(key)
    return tuple(out)


def listing(desk, flt: query.Filter, sort: str = "created", reverse: bool = True,
            limit: int | None = None, present=None, brief: bool = False) -> Listing:
    """Tickets passing ``flt``, sorted; unreadable files are reported, not dropped.

    ``present(listing)``, if given, makes what the command prints (the table, the JSON)
    while git checks that the index is current; it lands in ``Listing.shown``. With
    ``brief``, each ticket has only the fields of the list table."""
    tz, priorities, index = desk.rules.tz, list(desk.rules.priorities), desk.index

    def rows(con):
        found = index.listing_in(con, flt, tz, sort, reverse, limit, priorities, brief)
        cut = limit is not None and len(found) == limit
        return found, index.count_in(con, flt, tz) if cut else None

    return _listed(index, rows, present)


def search(desk, text: str, flt: query.Filter, limit: int = 20, present=None) -> Listing:
    """Tickets whose title, text, comments, customer or product hold every word of
    ``text``, best first (``present`` as for listing)."""
    terms = text.split()
    if not terms:
        raise UsageError("search for what? give some text (Chinese or English)")
    if len(text) > MAX_QUERY or len(terms) > MAX_TERMS:
        raise UsageError(f"search for at most {MAX_TERMS} words and {MAX_QUERY} characters "
                         f"(this is {len(terms)} and {len(text):,})")
    tz, index = desk.rules.tz, desk.index
    return _listed(index, lambda con: (index.search_in(con, terms, flt, tz, limit), None),
                   present)


def _listed(index, rows, present) -> Listing:
    """The tickets and their total that ``rows(con)`` gives, and the unreadable files, from
    one settled read of the index, with ``present`` applied inside it (see listing)."""

    def read(con):
        tickets, total = rows(con)
        found = Listing(tickets, index.problems_in(con), total=total)
        return found._replace(shown=present(found)) if present else found

    return index.settled(read)
