"""Figures computed from a ticket's events: when it was first answered, resolved, closed.

These are per-ticket facts that lists, reports and SLA checks build on; they come from the
``events:`` history only, never from git, so a copied or merged desk gives the same figures.
"""

from datetime import datetime

from svcdesk.base.model import flatten
from svcdesk.domain.sla import SYSTEM, is_response

# What counts as the first customer-facing contact besides a public comment or a notice a
# person sent (rules.yaml sla.first_response): asking the customer for something (wait), or
# giving them a resolution. Internal notes never count.
RESPONSE_ACTIONS = ("wait", "resolve")
PAUSED_STATUSES = ("waiting",)  # the customer has the ball: the clock stops


def ticket_figures(events, now: datetime | None = None, paused_statuses=PAUSED_STATUSES,
                   response_actions=RESPONSE_ACTIONS) -> dict:
    """Return the figures of one ticket's ``events`` (in order).

    Keys: ``first_response_at``, ``resolved_at`` (the last resolution, None once reopened),
    ``closed_at``, ``reopens``, ``escalations``, ``reassignments``, ``paused_seconds``
    (calendar time in a paused status, up to ``now`` when still paused), ``paused_since``
    and ``done`` (the rules of the steps the desk's own time rules took, e.g. breach: response).
    """
    done = []
    first_response = resolved = closed = paused_since = None
    reopens = escalations = reassignments = 0
    paused = 0.0
    status = None
    for index, event in enumerate(events):
        if first_response is None and is_response(event, index, response_actions):
            first_response = event.at
        if event.by == SYSTEM and event.rule:
            done.append(event.rule)
        if event.action == "reopen":
            reopens += 1
        elif event.action == "escalate":
            escalations += 1
        if event.fields is not None:
            status = event.fields.get("status")
            if status in paused_statuses:
                paused_since = event.at
        assignee = event.changes.get("assignee")
        if assignee is not None and assignee[0] and assignee[1] != assignee[0]:
            reassignments += 1
        change = event.changes.get("status")
        if change is None:
            continue
        status = change[1]
        if paused_since is not None and status not in paused_statuses:
            paused += (event.at - paused_since).total_seconds()
            paused_since = None
        elif paused_since is None and status in paused_statuses:
            paused_since = event.at
        if event.action == "resolve":
            resolved = event.at
        elif event.action == "reopen":
            resolved = closed = None
        if event.action == "close":
            closed = event.at
    if paused_since is not None and now is not None:
        paused += max(0.0, (now - paused_since).total_seconds())
    return {"first_response_at": first_response, "resolved_at": resolved, "closed_at": closed,
            "reopens": reopens, "escalations": escalations, "reassignments": reassignments,
            "paused_seconds": int(paused), "paused_since": paused_since, "done": done}


BRIEF_SIZE = 8  # the items of a step of brief()


def brief(events) -> list:
    """The history in brief, for reports as of any moment: [[epoch seconds, action, status it
    led to, assignee it set, rating given, response and resolution SLA state it recorded,
    visiting engineer it booked], ...]."""
    out = []
    for e in events:
        if e.fields is not None:
            plain = flatten(e.fields)
        else:
            plain = {path: new for path, (_, new) in e.changes.items()}
        out.append([int(e.at.timestamp()), e.action, plain.get("status"), plain.get("assignee"),
                    plain.get("csat"), plain.get("sla.response_state"),
                    plain.get("sla.resolution_state"), plain.get("visit.engineer")])
    return out
