"""Two versions of one ticket made one, the same way in every clone.

A ticket's history is the truth, so a merge is the union of both histories: every event of
either side, each side's order kept and the two interleaved by time, and the snapshot
replayed from the result. A field both sides changed ends with the later change, and both
changes stay in the history. Nothing is invented: the result depends only on the two
versions (and the rules), so two clones that merge the same pair write the same bytes, and
the next sync has nothing left to merge.

- A time rule's step (a warning, a breach, a rung of the ladder, a reminder, a recorded
  notice) is taken once per ticket: when two clones both took one, the earlier is kept.
- A side whose snapshot was edited by hand has the edit recorded as an event with an id made
  from its content, so it survives the merge and comes out alike anywhere.
- Where an event changed a field from another value than the merged history holds there
  (both sides closed, then one reopened), ``conflicts`` says so; `show` prints it.
"""

from typing import NamedTuple

from svcdesk.base import model
from svcdesk.base.errors import MergeError
from svcdesk.base.identity import fixed_ulid
from svcdesk.domain import sla

ONCE = ("warn: ", "breach: ", "escalation: ", "update: ", "remind: ", "automation: ",
        "notice: ")  # the rules of steps a ticket takes once, whichever clone took them


class Conflict(NamedTuple):
    """An event whose change met another value than the one it was made on."""

    event: model.Event
    path: str
    made_on: object  # the value the event changed from, on its side
    found: object  # the value the merged history held there


def merge(rules, ours: model.Ticket, theirs: model.Ticket) -> model.Ticket:
    """One ticket holding both histories (see the module's text); MergeError when they are
    not versions of the same ticket."""
    if ours.fields.get("uid") != theirs.fields.get("uid"):
        raise MergeError(f"{ours.number} and {theirs.number} are two different tickets "
                         f"(uid {ours.fields.get('uid')} and {theirs.fields.get('uid')})")
    events = _once(interleave(recorded(rules.schema, ours).events,
                              recorded(rules.schema, theirs).events))
    return derive(rules, events)


def derive(rules, events) -> model.Ticket:
    """The ticket ``events`` make: the snapshot replayed, its ``sla:`` block as of the last
    event (derived, like created and updated: a merge records no event of its own)."""
    fields = model.replay(events)
    kept = sla.summary(events, fields, rules.service, events[-1].at)
    fields.pop("sla", None)
    if kept:
        fields["sla"] = kept
    return model.Ticket(model.ordered_fields(rules.schema, fields), tuple(events))


def interleave(a, b) -> list:
    """Both event lists as one: shared events once, each side's order kept, and what only
    one side has placed by time (then id), the same whichever side is ``a``."""
    in_a, in_b = {e.id for e in a}, {e.id for e in b}
    out, seen, i, j = [], set(), 0, 0
    while i < len(a) or j < len(b):
        x = a[i] if i < len(a) else None
        y = b[j] if j < len(b) else None
        if x is not None and x.id in seen:
            i += 1
        elif y is not None and y.id in seen:
            j += 1
        elif x is None or y is None:
            take = x or y
            out.append(take)
            seen.add(take.id)
            i, j = (i + 1, j) if take is x else (i, j + 1)
        elif x.id == y.id:
            out.append(x)
            seen.add(x.id)
            i, j = i + 1, j + 1
        else:
            # an event the other side also has waits for it there, unless both wait
            x_waits, y_waits = x.id in in_b, y.id in in_a
            if x_waits != y_waits:
                take = y if x_waits else x
            else:
                take = x if (x.at, x.id) <= (y.at, y.id) else y
            out.append(take)
            seen.add(take.id)
            i, j = (i + 1, j) if take is x else (i, j + 1)
    return out


def conflicts(events) -> list:
    """Changes made on another value than the history holds before them (only a merge of
    two clones' work makes such a history); derived fields left out."""
    out, state = [], {}
    for event in events:
        if event.fields is not None:
            state = model.clone(event.fields)
            continue
        for path, (old, new) in event.changes.items():
            if path.startswith("sla."):
                continue
            found = model.get_path(state, path)
            if found != old and not (isinstance(new, list) and isinstance(found, list)):
                out.append(Conflict(event, path, old, found))  # lists merge (apply_change)
            model.apply_change(state, path, old, new)
    return out


def _once(events: list) -> list:
    """``events`` without a second taking of a once-only step (the earlier stays)."""
    out, taken = [], set()
    for event in events:
        key = event.rule if event.by == sla.SYSTEM and event.rule and \
            event.rule.startswith(ONCE) else None
        if key is not None:
            if key in taken:
                continue
            taken.add(key)
        out.append(event)
    return out


def recorded(schema: model.Schema, ticket: model.Ticket) -> model.Ticket:
    """``ticket`` (or a record beside tickets) with a committed hand edit of its snapshot
    recorded as an event whose id comes from what was edited, so that a merge keeps it and
    every clone makes the same."""
    edits = model.hand_edits(ticket)
    if not edits:
        return ticket
    last = ticket.events[-1]
    seed = repr((ticket.fields.get("uid"), last.id, sorted(edits.items(), key=str)))
    event = model.Event(fixed_ulid(last.at, seed.encode("utf-8")), last.at, "hand-edit",
                        "hand-edit", edits,
                        note="the file was edited by hand; svcdesk recorded the difference")
    return model.append(schema, ticket, event)
