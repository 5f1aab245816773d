"""What one step does to a ticket: an event applying its changes (the workflow deciding, and
perhaps refusing, the status it leads to), the ``sla:`` block kept in step with it, hand
edits absorbed, and how a commit names it. Rules and values in, the new ticket out."""

from datetime import datetime

from svcdesk.base import model
from svcdesk.base.identity import new_ulid
from svcdesk.domain import sla, workflow


def record(rules, ticket: model.Ticket, now: datetime, by: str, action: str, updates: dict,
           rule: str | None = None, note: str | None = None, visibility: str | None = None,
           moves: bool = False, ref: str | None = None) -> model.Ticket:
    """The ticket with one event applying ``updates``; with ``moves``, the workflow's
    transition table decides (and may refuse) the status it leads to."""
    after = model.with_fields(ticket, **updates)
    if moves:
        after["status"] = workflow.check(rules.transitions, rules.statuses, ticket.number,
                                         ticket.fields["status"], action, after, note,
                                         rules.role_of(by), by)
    new, _ = model.change(rules.schema, ticket, after, new_ulid(now), now, by, action,
                          note=note, rule=rule, visibility=visibility, ref=ref)
    return new


def transition(rules, ticket: model.Ticket, now: datetime, by: str, action: str,
               updates: dict, **event) -> model.Ticket:
    """record() of a workflow action: the transition table decides the status."""
    return record(rules, ticket, now, by, action, updates, moves=True, **event)


def classified(rules, ticket: model.Ticket, now: datetime, by: str, decision,
               changes: dict) -> model.Ticket:
    """The ticket with the rules' classification recorded, naming the rules that fired."""
    return record(rules, ticket, now, by, "classify", changes,
                  rule=", ".join(decision.fired) or "priority", note=decision.record(),
                  visibility="internal")


def assigned(rules, ticket: model.Ticket, now: datetime, by: str, choice) -> model.Ticket:
    """The ticket assigned to the strategies' choice, with their reasoning."""
    return transition(rules, ticket, now, by, "assign",
                      {"assignee": choice.agent, "team": choice.team},
                      rule="assign: " + ", ".join(rules.strategies), note=summary(choice.trail))


def settle(rules, ticket: model.Ticket) -> model.Ticket:
    """The ticket with its ``sla:`` block (policy, targets, due times, met or breached)
    recomputed as of its last event, recorded by that same event."""
    kept = sla.summary(ticket.events, ticket.fields, rules.service, ticket.events[-1].at)
    if kept == ticket.fields.get("sla"):
        return ticket
    return model.amend_last(rules.schema, ticket, "sla", kept)


def absorb_hand_edits(rules, ticket: model.Ticket, now: datetime) -> model.Ticket:
    """Record committed hand edits of the snapshot as an event, so history explains them."""
    edits = model.hand_edits(ticket)
    if not edits:
        return ticket
    event = model.Event(new_ulid(now), now, "hand-edit", "hand-edit", edits,
                        note="the file was edited by hand; svcdesk recorded the difference")
    return model.append(rules.schema, ticket, event)


def hand_set(ticket: model.Ticket) -> frozenset:
    """Fields whose latest value a person chose (at intake, by edit, by hand): the rules
    never override them. An event that names a rule is the rules' doing."""
    last: dict = {}
    for event in ticket.events:
        if event.fields is not None:
            last.update(dict.fromkeys(model.flatten(event.fields), True))
        last.update(dict.fromkeys(event.changes, event.rule is None))
    return frozenset(path for path, by_hand in last.items() if by_hand)


def subject(event: model.Event) -> str:
    """A commit subject that says what the event did: assign to li.qiang (rule: ...)."""
    new = {path: after for path, (_, after) in event.changes.items()}
    internal_note = event.action == "comment" and event.visibility == "internal"
    text = "internal note" if internal_note else event.action
    if event.action in ("assign", "escalate") and new.get("assignee"):
        text += f" to {new['assignee']}"
    elif event.action == "classify":
        said = [f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in new.items()
                if k in ("type", "category", "team", "priority", "tags")]
        text += (": " + ", ".join(said)) if said else ""
    elif event.action == "priority":
        text += f" {new.get('priority')}"
    elif event.action == "resolve" and new.get("resolution"):
        text += f": {new['resolution'].splitlines()[0][:60]}"
    elif event.action == "visit" and new.get("visit.at"):
        at, until = new["visit.at"], new.get("visit.until")
        text += f" {at:%Y-%m-%d %H:%M}" + (f"-{until:%H:%M}" if until else "") + \
            f" by {new.get('visit.engineer')}"
    elif event.action == "close" and new.get("csat"):
        text += f" (CSAT {new['csat']})"
    if event.note and event.action not in ("classify", "assign") and \
            event.action != "resolve":
        text += f": {event.note.splitlines()[0][:60]}"
    if event.rule:
        text += f" (rule: {event.rule})"
    return text


def summary(trail) -> str:
    """The reasoning of a rules step, as recorded on the ticket."""
    return "\n".join(line.strip() for line in trail)
