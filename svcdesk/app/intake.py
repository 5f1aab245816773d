"""Intake: a request recorded as a ticket, classified, prioritised and assigned by the rules;
what the rules would do with one; the form a person fills in."""

from datetime import datetime
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import Change, trailers_for
from svcdesk.app import delivery
from svcdesk.base import model
from svcdesk.base.errors import MissingFieldsError, ValidationError
from svcdesk.base.identity import NUMBER_RE, format_number, new_ulid
from svcdesk.domain import assign, classify, history
from svcdesk.domain.records import warranty

read_values = store.read_values  # field values from YAML or JSON text (--from, forms)


class Outcome(NamedTuple):
    """What a command that runs the rules did: the ticket, and the rules' reasoning."""

    ticket: model.Ticket | None
    decision: object = None  # classify.Decision
    choice: object = None  # assign.Choice
    changed: bool = True
    refused: tuple = ()  # files too large to attach, left out: (name, why)


def check_values(desk, given: dict) -> dict:
    """Check values a person gave (flat dotted paths or nested groups); return them nested."""
    try:
        return model.parse_values(desk.rules.schema, given)
    except model.FieldError as exc:
        raise ValidationError(f"field {exc.args[0]}") from None


def missing_fields(desk, values: dict) -> list:
    """Required fields of the values' ticket type that are still empty."""
    kind = values.get("type")
    if kind is None:
        return ["type"]
    return model.missing_required(desk.rules.types[kind].required, values)


def decide(desk, values: dict, kept=None):
    """What the rules make of ``values`` (classification, team, priority); fields in
    ``kept`` (default: every field given) are never changed."""
    if kept is None:
        kept = frozenset(model.flatten(values))
    return classify.decide(desk.rules, values, kept)


def open_load(desk) -> dict:
    """{agent: open tickets assigned to them}."""
    return desk.index.open_load(desk.rules.open_statuses(), desk.rules.agents)


def choose_agent(desk, values: dict, agents=None):
    """Who the assignment strategies pick for a ticket with ``values`` (among ``agents``,
    default all of the desk's)."""
    rules = desk.rules
    return assign.choose(rules.agents if agents is None else agents, rules.strategies, values,
                         open_load(desk), desk.index.last_assignee(values.get("team")),
                         desk.now().date())


def derived(desk, values: dict) -> dict:
    """``values`` with what follows from them filled in, before the rules see them: the
    customer and unit the desk's records recognise (app.records.recognise), the category of
    a model in the catalogue, and the warranty on today's date (so that a rule, a service
    level or an assignment on product.warranty works at intake)."""
    from svcdesk.app import records as known

    rules = desk.rules
    values = known.recognise(desk, values)
    product = rules.products.get(model.get_path(values, "product.model"))
    if product is not None and product.category and values.get("category") is None:
        values["category"] = product.category
    purchased = model.get_path(values, "product.purchased")
    if purchased is not None and model.get_path(values, "product.warranty") is None:
        model.set_path(values, "product.warranty", warranty(
            {"purchased": purchased}, desk.now().date(),
            rules.warranty_months_of(model.get_path(values, "product.model"))))
    return values


def preview(desk, given: dict) -> Outcome:
    """What the rules would do with a request, without recording it."""
    values = derived(desk, check_values(desk, given))
    decision = decide(desk, values)
    choice = None
    if desk.rules.auto_assign and not decision.values.get("assignee"):
        choice = choose_agent(desk, decision.values)
    return Outcome(None, decision, choice)


INCOMPLETE = "incomplete"  # the tag of a ticket taken in without all its type requires


class Request(NamedTuple):
    """A request checked and decided on, ready to be recorded (see prepare)."""

    values: dict  # as given, with what follows from them
    decision: object  # classify.Decision, or None when the rules were not asked
    final: dict  # the values the ticket will have
    missing: list  # required fields still empty (taken anyway, tagged incomplete)
    rule: str | None = None  # recorded on the create event
    files: tuple = ()  # domain.files.File to attach


def prepare(desk, given: dict, auto: bool = True, incomplete_ok: bool = False,
            rule: str | None = None, files: tuple = ()) -> Request:
    """Check a request's values and decide what the rules make of it (see create_ticket);
    ValidationError or MissingFieldsError when it cannot become a ticket. No lock, no disk
    but the index."""
    values = derived(desk, check_values(desk, given))
    rules = desk.rules
    decision = decide(desk, values) if auto else None
    final = decision.values if decision else values
    missing = missing_fields(desk, final)
    if missing and incomplete_ok:
        if "type" in missing:
            kind = next((k for k, t in rules.types.items()
                         if not model.missing_required(t.required, final)),
                        next(iter(rules.types)))
            values["type"] = final["type"] = kind
            missing = missing_fields(desk, final)
        if missing:
            values["tags"] = final["tags"] = list(dict.fromkeys(
                (final.get("tags") or []) + [INCOMPLETE]))
    elif missing:
        raise MissingFieldsError(final.get("type", "?"), missing)
    if decision is None:
        kind = rules.types[final["type"]]
        values.setdefault("priority", kind.priority or rules.default_priority)
    return Request(values, decision, final, missing, rule, tuple(files))


def create_ticket(desk, given: dict, auto: bool = True, rule: str | None = None,
                  incomplete_ok: bool = False, files: tuple = ()) -> Outcome:
    """Record a new ticket from values a person gave, then (unless ``auto`` is False)
    classify, prioritise and assign it by the rules: one commit, one event per step.

    ``rule`` is recorded on its create event; ``files`` (domain.files.File) are attached in
    the same commit (app.attachments.add: one past the size limit is left out, named in
    Outcome.refused; one the ticket has already is simply not added again).
    With ``incomplete_ok`` (a request by mail must never be dropped), a request missing what
    its type requires is taken anyway, tagged ``incomplete``; with no type, as the first
    type whose requirements it meets, else the desk's first."""
    request = prepare(desk, given, auto, incomplete_ok, rule, files)
    rules, actor = desk.rules, desk.actor()
    now = desk.now()
    choice = None
    if _assigns(rules, request):
        landed = desk.shortcuts.landed()
        choice = choose_agent(desk, request.final)  # outside the lock: the index may need git
        seen = desk.index.head_seen
    with desk.change(quick=True) as change:
        if choice is not None and (desk.shortcuts.landed() != landed or
                                   seen is not None and seen != change.head):
            # another change landed meanwhile (a second `new` at the same moment, a
            # commit by hand, a pull): the loads it was chosen on are gone, so choose
            # again on the desk as it is now
            desk.index.recheck()
            choice = choose_agent(desk, request.final)
        number = _next_number(desk, change, now)
        ticket, body, refused = _record(desk, change, request, number, choice, now, actor)
        fields = ticket.fields
        kind = rules.types[fields["type"]]
        delivery.queue_notices(desk, ticket, ticket.events)  # before the commit: see there
        change.commit(f"{number}: new {kind.name} ticket: {fields.get('title', '')}",
                      "\n".join(body), trailers_for(number, "create"), actor.identity, now)
    ticket = final_ticket(desk, ticket)
    return Outcome(ticket, request.decision, choice, refused=tuple(refused))


def create_tickets(desk, requests: list, subject: str, body: str = "",
                   notices: bool = True) -> list:
    """Record many prepared requests (see prepare) as new tickets in one commit (see Batch).
    Returns an Outcome for each, in order."""
    if not requests:
        return []
    actor, now = desk.actor(), desk.now()
    with desk.change() as change:
        batch = Batch(desk, change, now, len(requests))
        out = [batch.add(request, actor) for request in requests]
        lines = [f"{o.ticket.number}: {o.ticket.fields.get('title', '')}"[:120] for o in out]
        if notices:  # queued before the commit: see delivery.queue_notices
            for outcome in out:
                delivery.queue_notices(desk, outcome.ticket, outcome.ticket.events,
                                       sync=False)
            delivery.outbox(desk).sync()  # once for the batch
        change.commit(subject, (body.strip() + "\n\n" if body.strip() else "")
                      + "\n".join(lines), trailers_for(None, "import"), actor.identity, now)
    return [o._replace(ticket=final_ticket(desk, o.ticket)) for o in out]


class Batch:
    """New tickets recorded in one change: their numbers taken as one block, each assigned
    as it would be alone, the loads and turns of the batch's earlier tickets counting for
    the later ones."""

    def __init__(self, desk, change: Change, now: datetime, most: int):
        self.desk, self.change, self.now = desk, change, now
        self._numbers = iter(_next_numbers(desk, change, now, most))
        self._loads, self._last = None, {}

    def add(self, request: Request, actor) -> Outcome:
        """Record ``request`` as the batch's next ticket, made by ``actor``; its file is
        queued in the change."""
        desk, rules = self.desk, self.desk.rules
        choice = None
        if _assigns(rules, request):
            if self._loads is None:
                self._loads = open_load(desk)
            team = request.final.get("team")
            if team not in self._last:
                self._last[team] = desk.index.last_assignee(team)
            choice = assign.choose(rules.agents, rules.strategies, request.final, self._loads,
                                   self._last[team], self.now.date())
            if choice.agent:
                self._loads[choice.agent] = self._loads.get(choice.agent, 0) + 1
                self._last[team] = self._last[None] = choice.agent
        number = next(self._numbers)
        ticket, _, refused = _record(desk, self.change, request, number, choice, self.now,
                                     actor)
        return Outcome(ticket, request.decision, choice, refused=tuple(refused))


def final_ticket(desk, ticket):
    """``ticket`` as committed: renumbered when a desk that syncs by itself met its number
    taken by another clone meanwhile."""
    final = desk.kept.get("renumbered", {}).get(ticket.number)
    if final is None:
        return ticket
    return store.read_ticket(desk.root, desk.rules.schema, store.ticket_relpath(final))[0]


def _assigns(rules, request: Request) -> bool:
    return request.decision is not None and rules.auto_assign and \
        not request.final.get("assignee")


def _record(desk, change: Change, request: Request, number: str, choice, now: datetime,
            actor) -> tuple:
    """(ticket, commit body lines, files refused) of one request made ticket ``number``,
    its files queued in ``change``."""
    rules, decision, missing = desk.rules, request.decision, request.missing
    kind = rules.types[request.final["type"]]
    ticket = model.create(rules.schema, request.values, number, new_ulid(now), new_ulid(now),
                          now, actor.key, rules.initial_status, rule=request.rule)
    body = [f"Type: {kind.name} ({kind.label})"]
    if missing:
        body.append("Incomplete: " + ", ".join(missing) + " still to be asked for")
    if decision is not None and decision.changes:
        ticket = history.classified(rules, ticket, now, actor.key, decision, decision.changes)
        body.append("Classified: " + (", ".join(decision.fired) or "no rule matched"))
    assignee = choice.agent if choice else ticket.get("assignee")
    if assignee and "assign" in rules.transitions:
        if choice:
            ticket = history.assigned(rules, ticket, now, actor.key, choice)
        else:  # given at intake, or set by a rule: the status follows
            by_rule = decision is not None and "assignee" in decision.changes
            ticket = history.transition(rules, ticket, now, actor.key, "assign",
                                        {"assignee": assignee},
                                        rule=", ".join(decision.fired) if by_rule else None)
        body.append(f"Assigned: {assignee}" + (" (" + ", ".join(rules.strategies) + ")"
                                                if choice else ""))
    elif choice:
        body.append(f"Queued for team {choice.team}: nobody fits")
    refused = ()
    if request.files:
        from svcdesk.app import attachments

        ticket, writes, attached = attachments.add(rules, ticket, list(request.files), now,
                                                   actor.key, rule=request.rule)
        for path, data in writes.items():
            change.write(path, data)
        refused = attached.too_large
        if attached.stored:
            body.append(f"Attachments: {len(attached.stored)}")
    ticket = history.settle(rules, ticket)
    fields = ticket.fields
    body.insert(1, f"Priority: {fields.get('priority')}")
    if model.get_path(fields, "customer.name"):
        body.append("Customer: " + " / ".join(filter(None, (
            model.get_path(fields, "customer.name"),
            model.get_path(fields, "customer.company")))))
    if fields.get("channel"):
        body.append(f"Channel: {fields['channel']}")
    change.write(store.ticket_relpath(number), store.encode_ticket(ticket))
    return ticket, body, refused


def _next_number(desk, change: Change, now: datetime) -> str:
    """The day's next number: one past the highest in its folder, on disk or at HEAD (a
    file deleted by hand and not yet committed keeps its number)."""
    return _next_numbers(desk, change, now, 1)[0]


def _next_numbers(desk, change: Change, now: datetime, count: int) -> list:
    """The day's next ``count`` numbers (see _next_number)."""
    day = now.date()
    prefix = desk.rules.prefix
    stem = f"{prefix}-{day:%Y%m%d}-"
    names = store.numbers_of_day(desk.root, prefix, day)
    folder = f"{store.TICKETS}/{day:%Y}/{day:%m}"
    names += [n[:-5] for n in change.head_names(folder)
              if n.startswith(stem) and n.endswith(".yaml")]
    names += [n[:-5] for n in _remote_names(desk, folder)
              if n.startswith(stem) and n.endswith(".yaml")]
    taken = [int(m["seq"]) for n in names if (m := NUMBER_RE.match(n))]
    first = max(taken, default=0) + 1
    return [format_number(prefix, day, seq) for seq in range(first, first + count)]


def _remote_names(desk, folder: str) -> list:
    """The ticket files of ``folder`` on a shared desk's remote branch as last fetched: a
    number another clone has pushed is not given here again (sync would renumber it)."""
    upstream = desk.git.upstream()
    if upstream is None:
        return []
    theirs = desk.git.rev(f"refs/remotes/{upstream[0]}/{upstream[1]}")
    return list(desk.git.tree_entries(theirs, folder)) if theirs else []


def form_text(desk, values: dict, kind: str | None, number: str | None = None) -> str:
    """A YAML form of the editable fields, with comments saying what each takes."""
    schema = desk.rules.schema
    editable = {k: v for k, v in model.flatten(values).items()
                if k in schema.specs and schema.specs[k].editable}
    required = desk.rules.types[kind].required if kind in desk.rules.types else ()
    for name in required:
        editable.setdefault(name, None)
    nested: dict = {}
    for name in schema.specs:
        if name in editable:
            model.set_path(nested, name, editable[name] if editable[name] is not None else "")
    lines = [f"# {number or 'New ticket'} — edit the values, save and close the editor.",
             "# Empty the file to cancel. Required for this type: "
             + (", ".join(required) or "nothing"),
             "# Other fields you may add: " + ", ".join(
                 n for n, s in schema.specs.items() if s.editable and n not in editable),
             ""]
    return "\n".join(lines) + store.dump_yaml(model.F.dump(nested))


# ---- ticket templates (模板库) --------------------------------------------------------------

def presets(desk) -> list:
    """The desk's ticket templates in its language (its own over the shipped ones): each
    checked, so a broken one is named here rather than when someone picks it."""
    english = desk.rules.language == "en"
    names = store.template_files(desk.root, "tickets", ".yaml")
    chosen = [n for n in names if not n.endswith(".en")]
    return [preset(desk, n + ".en" if english and n + ".en" in names else n) for n in chosen]


def preset(desk, name: str):
    """The ticket template ``name`` (NAME.en in English when the desk speaks it), checked;
    ValidationError naming the file and line of what is wrong."""
    from svcdesk.domain.presets import NAME, PresetError, compile_preset

    names = [name + ".en", name] if desk.rules.language == "en" and \
        not name.endswith(".en") else [name]
    found = None
    if NAME.fullmatch(name):
        found = next(filter(None, (store.template_text(desk.root, "tickets", n, ".yaml")
                                   for n in names)), None)
    if found is None:
        known = [n for n in store.template_files(desk.root, "tickets", ".yaml")
                 if not n.endswith(".en")]  # an English one is its Chinese one's translation
        raise ValidationError(f"--template {name!r}: no such ticket template; the desk has "
                              + (", ".join(known) or "none (templates/tickets/*.yaml)"))
    shown, text = found
    data = store.read_yaml_file(text, shown)
    try:
        return compile_preset(name.removesuffix(".en"), data, desk.rules)
    except PresetError as exc:
        line = store.line_of(text, exc.path)
        raise ValidationError(f"{shown}{':' + str(line) if line else ''}: {exc.message}") \
            from None


def answered(preset, answers: dict) -> str:
    """The template's description skeleton with each question's answer after it."""
    from svcdesk.domain.presets import answered as filled

    return filled(preset.description, answers)
