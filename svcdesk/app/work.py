"""Working a ticket: classify and assign again, the workflow's actions, priority by hand,
escalation, comments and edits. Each is one change: load, absorb hand edits, apply, write,
commit, queue the notices it triggers."""

from svcdesk.adapters import store
from svcdesk.adapters.records import kind_of
from svcdesk.adapters.change import trailers_for
from svcdesk.app import delivery, intake, replies
from svcdesk.base import model
from svcdesk.base.errors import (MissingFieldsError, UsageError, ValidationError,
                                 WorkflowError)
from svcdesk.base.identity import TicketRef, new_ulid
from svcdesk.domain import history


def update(desk, ref: TicketRef, action: str, build, subject=None, note_body: str = "",
           files: dict | None = None):
    """Load, absorb hand edits, apply ``build(ticket, now, actor)``, write, commit.

    The commit subject is ``subject``, or (when None) said from the last event;
    ``note_body`` may be a callable, asked once ``build`` has run. ``files``:
    a mapping in which ``build`` may leave more files to commit (``"writes"``: {relpath:
    bytes}), such as attachments or the record of a part it used; those of them that exist
    must be as HEAD has them (a hand edit not committed is refused, nothing written)."""
    return update_together(desk, [ref], action,
                           lambda tickets, now, actor: [build(tickets[0], now, actor)],
                           subject, note_body, files)[0]


def update_together(desk, refs: list, action: str, build, subject=None, note_body="",
                    files: dict | None = None) -> list:
    """update() of several tickets in one change and one commit (a link is written on both
    of its tickets): ``build(tickets, now, actor)`` returns them changed, in order, None for
    one it leaves as it is. Returns the tickets as they then are."""
    actor = desk.actor()
    now = desk.now()
    relpaths = [desk.locate(ref) for ref in refs]
    rules = desk.rules
    with desk.change(quick=True) as change:
        tickets = []
        for relpath in relpaths:
            raw = change.read_committed(relpath)
            desk.index.known_problem(relpath)
            ticket = store.ticket_from_bytes(rules.schema, raw, relpath)
            tickets.append(history.absorb_hand_edits(rules, ticket, now))
        befores = [len(t.events) for t in tickets]
        results = build(tickets, now, actor)
        if all(r is None for r in results):
            return tickets
        changed = [i for i, r in enumerate(results) if r is not None]
        results = [t if r is None else history.settle(rules, r)
                   for t, r in zip(tickets, results)]
        body = note_body() if callable(note_body) else note_body
        for i in changed:
            change.write(relpaths[i], store.encode_ticket(results[i]))
        for path, data in (files or {}).get("writes", {}).items():
            if kind_of(path) and (desk.root / path).exists():
                change.read_committed(path)
            change.write(path, data)
        first = results[changed[0]]
        numbers = ", ".join(results[i].number for i in changed)
        for i in changed:  # queued before the commit: see delivery.queue_notices
            delivery.queue_notices(desk, results[i], results[i].events[befores[i]:])
        change.commit(f"{numbers}: {subject or history.subject(first.events[-1])}",
                      body, trailers_for(first.number, action), actor.identity, now)
    return results


def classify_ticket(desk, ref: TicketRef) -> intake.Outcome:
    """Run the rules again on a ticket: fields a person set stay as they are; an
    unassigned ticket is then assigned."""
    rules, outcome = desk.rules, {}

    def build(ticket, now, actor):
        before = len(ticket.events)
        decision = outcome["decision"] = intake.decide(desk, ticket.fields,
                                                       kept=history.hand_set(ticket))
        changes = {k: v for k, v in decision.changes.items() if ticket.get(k) != v}
        if changes:
            ticket = history.classified(rules, ticket, now, actor.key, decision, changes)
        route = rules.transitions.get("assign")
        if rules.auto_assign and not ticket.get("assignee") and route is not None \
                and ticket.fields["status"] in route.sources:
            choice = outcome["choice"] = intake.choose_agent(desk, ticket.fields)
            if choice.agent:
                ticket = history.assigned(rules, ticket, now, actor.key, choice)
        outcome["changed"] = len(ticket.events) > before
        return ticket if outcome["changed"] else None

    ticket = update(desk, ref, "classify", build)
    return intake.Outcome(ticket, outcome.get("decision"), outcome.get("choice"),
                          outcome["changed"])


def assign_ticket(desk, ref: TicketRef, agent: str | None = None,
                  note: str | None = None) -> intake.Outcome:
    """Assign by hand to ``agent`` (always allowed), or by the strategies; when nobody
    fits, the ticket stays in its team's queue."""
    rules = desk.rules
    if agent is not None and agent not in rules.agents:
        found = rules.agent_by_email(agent)
        if found is None:
            raise UsageError(f"unknown agent {agent!r} (agents: {', '.join(rules.agents)})")
        agent = found.key
    outcome = {}

    def build(ticket, now, actor):
        if agent is not None:
            updates = {"assignee": agent, "team": rules.agents[agent].team}
            if ticket.get("assignee") == agent:
                raise WorkflowError(f"{ticket.number} is already assigned to {agent}")
            return history.transition(rules, ticket, now, actor.key, "assign", updates,
                                      note=note)
        choice = outcome["choice"] = intake.choose_agent(desk, ticket.fields)
        if choice.agent is None or choice.agent == ticket.get("assignee"):
            outcome["changed"] = False
            return None
        return history.assigned(rules, ticket, now, actor.key, choice)

    ticket = update(desk, ref, "assign", build, note_body=note or "")
    return intake.Outcome(ticket, None, outcome.get("choice"), outcome.get("changed", True))


def set_priority(desk, ref: TicketRef, priority: str, note: str) -> model.Ticket:
    """Override the priority by hand, saying why."""
    rules = desk.rules
    if priority not in rules.priorities:
        raise ValidationError(f"priority {priority!r} is not one of "
                              + ", ".join(rules.priorities))
    if not (note and note.strip()):
        raise ValidationError("say why the priority changes: -m TEXT")

    def build(ticket, now, actor):
        if ticket.fields["status"] not in rules.open_statuses():
            raise WorkflowError(f"{ticket.number} is {ticket.fields['status']}; its "
                                "priority no longer matters (reopen it first)")
        if ticket.get("priority") == priority:
            raise WorkflowError(f"{ticket.number} is already {priority}")
        return history.record(rules, ticket, now, actor.key, "priority",
                              {"priority": priority}, note=note.strip(),
                              visibility="internal")

    return update(desk, ref, "priority", build, note_body=note.strip())


def move(desk, ref: TicketRef, action: str, note: str | None = None,
         updates: dict | None = None, public: bool = True,
         resolution_reply: tuple | None = None) -> model.Ticket:
    """Take a workflow action (start, wait, resume, resolve, close, reopen) as the
    transition table in rules.yaml allows it; anything else is refused, unchanged.
    ``resolution_reply`` (name, text after it): the resolution is that canned reply."""
    note = note.strip() if note and note.strip() else None
    rules = desk.rules
    if resolution_reply:
        replies.check_name(desk, resolution_reply[0])

    def build(ticket, now, actor):
        if action in ("start", "resolve"):  # work on it starts (or is done) now
            from svcdesk.domain.fees import waiting_for_approval

            why = waiting_for_approval(ticket.fields, rules.stock.approval)
            if why:
                raise WorkflowError(why)
        changes = dict(updates or {})
        if resolution_reply:
            changes["resolution"] = replies.with_reply(desk, resolution_reply[0], ticket,
                                                       actor.key, resolution_reply[1])
        if action == "start" and not ticket.get("assignee"):
            agent = rules.agents.get(actor.key)
            if agent is not None:  # taking it from the queue
                changes.update(assignee=agent.key, team=agent.team)
        return history.transition(rules, ticket, now, actor.key, action, changes, note=note,
                                  visibility=("public" if public else "internal")
                                  if note else None)

    return update(desk, ref, action, build, note_body=note or "")


def act(desk, ref: TicketRef, action: str, note: str | None = None,
        values: dict | None = None, public: bool = True) -> model.Ticket:
    """Take an action the desk declared in its workflow (a review, a wait for parts...),
    with the fields ``values`` ({dotted path: text}) it sets."""
    from svcdesk.domain import workflow

    rules = desk.rules
    if action in workflow.BUILT_IN:
        raise UsageError(f"{action} has its own command: svcdesk {action} ID")
    if action not in rules.transitions:
        own = [a for a in rules.transitions if a not in workflow.BUILT_IN]
        raise UsageError(f"{action!r} is not an action of the desk's workflow"
                         + (f" (its own: {', '.join(own)})" if own else
                            " (rules.yaml declares none besides svcdesk's own)"))
    updates = {}
    if values:
        given = intake.check_values(desk, values)
        updates = {path: model.get_path(given, path) for path in values}
    return move(desk, ref, action, note, updates, public)


def declared_action(desk, name: str):
    """The workflow's declaration of a desk's own action ``name`` (None: no such action,
    or one of svcdesk's own, which have their commands)."""
    from svcdesk.domain import workflow

    rule = desk.rules.transitions.get(name)
    return None if rule is None or name in workflow.BUILT_IN else rule


def rate(desk, ref: TicketRef, csat: int, feedback: str | None = None) -> model.Ticket:
    """Record the customer's rating (1-5) of a closed ticket: the answer to the survey its
    closing sent; a second one replaces the first, both kept in the history."""
    rules = desk.rules
    feedback = feedback.strip() if feedback and feedback.strip() else None

    def build(ticket, now, actor):
        if ticket.fields["status"] in rules.open_statuses():
            raise WorkflowError(f"{ticket.number} is {ticket.fields['status']}; a rating is "
                                "given once it is closed (close --csat N when closing)")
        updates = {"csat": csat, "feedback": feedback}
        if all(ticket.get(k) == v for k, v in updates.items()):
            raise WorkflowError(f"{ticket.number} is already rated {csat}")
        return history.record(rules, ticket, now, actor.key, "rate", updates,
                              visibility="public")

    return update(desk, ref, "rate", build, f"rated {csat}" + (
        f": {feedback.splitlines()[0][:60]}" if feedback else ""), feedback or "")


def escalate(desk, ref: TicketRef, note: str) -> model.Ticket:
    """Hand the ticket up one level: its team's lead, then the desk's manager."""
    rules = desk.rules

    def build(ticket, now, actor):
        done = sum(1 for e in ticket.events if e.action == "escalate")
        lead = rules.teams.get(ticket.get("team"), {}).get("lead")
        levels = [p for p in (lead, rules.manager) if p]
        current = ticket.get("assignee")
        if current in levels:  # already with a level: go above it
            done = max(done, levels.index(current) + 1)
        if done >= len(levels):
            raise WorkflowError(f"{ticket.number} is already at the top escalation level "
                                + (f"({levels[-1]})" if levels else
                                   "(set teams.*.lead and desk.manager in rules.yaml)"))
        return history.transition(rules, ticket, now, actor.key, "escalate",
                                  {"assignee": levels[done]}, note=note,
                                  visibility="internal")

    return update(desk, ref, "escalate", build, note_body=note or "")


def comment(desk, ref: TicketRef, text: str | None, internal: bool = False,
            reply: str | None = None) -> model.Ticket:
    """Add a progress note (public by default: the customer may be told); with ``reply``,
    the canned reply of that name (templates/replies) rendered with the ticket, ``text``
    added after it."""
    if not reply and not (text and text.strip()):
        raise ValidationError("a comment needs text (-m TEXT) or a canned reply (--reply NAME)")
    if reply:
        replies.check_name(desk, reply)
    visibility = "internal" if internal else "public"
    said = {}

    def build(ticket, now, actor):
        said["note"] = replies.with_reply(desk, reply, ticket, actor.key, text) if reply \
            else text.strip()
        event = model.Event(new_ulid(now), now, actor.key, "comment", note=said["note"],
                            visibility=visibility)
        return model.append(desk.rules.schema, ticket, event)

    return update(desk, ref, "comment", build, note_body=lambda: said["note"])


RECOGNISED_BY = ("product.serial", "customer.phone", "customer.email")


def edit_form(desk, ref: TicketRef) -> tuple:
    """(form text, file bytes it was made from) for editing a ticket by hand."""
    relpath = desk.locate(ref)
    desk.index.known_problem(relpath)
    ticket, raw = store.read_ticket(desk.root, desk.rules.schema, relpath)
    return intake.form_text(desk, ticket.fields, ticket.fields.get("type"), ticket.number), raw


def apply_edit(desk, ref: TicketRef, text: str, original: bytes) -> model.Ticket | None:
    """Apply an edited form; refuse it, changing nothing, when anything is wrong."""
    given = store.read_values(text, "the edited ticket")
    relpath = desk.locate(ref)
    schema = desk.rules.schema

    def build(ticket, now, actor):
        if (desk.root / relpath).read_bytes() != original:
            raise ValidationError(f"{ticket.number} changed while you were editing it; "
                                  "run `svcdesk edit` again")
        values = intake.check_values(desk, given)
        if any(model.get_path(values, p) != ticket.get(p) for p in RECOGNISED_BY):
            from svcdesk.app.records import recognise  # a serial or a phone given only now

            values = recognise(desk, values)
        missing = intake.missing_fields(desk, values)
        if missing:
            raise MissingFieldsError(values.get("type", "?"), missing)
        managed = {n: ticket.get(n) for n, s in schema.specs.items()
                   if not s.editable and ticket.get(n) is not None}
        for name, value in managed.items():
            model.set_path(values, name, value)
        if not model.diff(ticket.fields, values):
            return None
        new, _ = model.change(schema, ticket, values, new_ulid(now), now, actor.key, "edit")
        return new

    return update(desk, ref, "edit", build, f"edited by {desk.actor().key}")
