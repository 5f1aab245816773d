"""The time rules' steps on a ticket: a warning or breach recorded, a rung of the escalation
ladder climbed (priority raised, the ticket handed up, people told), a resolved ticket
closed, a customer reminded. What is due comes from sla.due_now; this takes one of them."""

from datetime import datetime

from svcdesk.base import model
from svcdesk.domain import history, sla


def take(rules, ticket: model.Ticket, due: sla.Due, now: datetime, someone_else) -> tuple:
    """The ticket with one due time-rule step taken, and what it did. ``someone_else(ticket)``
    is the agent the assignment strategies pick among the others (for a step that reassigns
    to anyone but the assignee)."""
    by = sla.SYSTEM
    if due.kind == "close":
        return history.transition(rules, ticket, now, by, "close", {}, rule=due.key,
                                  note=due.note, visibility="internal"), "closed"
    if due.kind == "remind":
        return history.record(rules, ticket, now, by, "remind", {}, rule=due.key,
                              note=due.note, visibility="public"), "reminded the customer"
    if due.kind != "step":
        return history.record(rules, ticket, now, by, "sla", {}, rule=due.key, note=due.note,
                              visibility="internal"), due.note
    step, updates, did = due.step, {}, []
    if step.raise_priority:
        order = list(rules.priorities)
        current = ticket.get("priority")
        rank = order.index(current) if current in order else len(order) - 1
        raised = order[max(0, rank - step.raise_priority)]
        if raised != current:
            updates["priority"] = raised
            did.append(f"priority {current} → {raised}")
    if step.reassign:
        to = reassignee(rules, ticket, step.reassign, someone_else)
        if to and to != ticket.get("assignee"):
            updates.update(assignee=to, team=rules.agents[to].team)
            did.append(f"reassigned to {to}")
        else:
            did.append(f"nobody to reassign to ({step.reassign})")
    if step.notify:
        did.append("notify " + ", ".join(step.notify))
    action = "escalate" if step.reassign in ("lead", "manager") and "assignee" in updates \
        else "sla"
    note = f"{due.note}\n" + "; ".join(did) if did else due.note
    return history.record(rules, ticket, now, by, action, updates, rule=due.key, note=note,
                          visibility="internal"), "; ".join(did) or "recorded"


def reassignee(rules, ticket: model.Ticket, how: str, someone_else) -> str | None:
    """Who a step's ``reassign`` names: the team's lead, the manager, or anyone else."""
    if how == "lead":
        return rules.teams.get(ticket.get("team"), {}).get("lead")
    if how == "manager":
        return rules.manager
    return someone_else(ticket)


def step_of(rules, event):
    """The ladder's step an event took (None: the event is not a ladder step)."""
    rule = event.rule or ""
    if not rule.startswith("escalation: "):
        return None
    return next((s for s in rules.service.ladder if s.name == rule[len("escalation: "):]),
                None)
