"""The desk: finding it, who is acting, and one method per thing a person does with it."""

import json
import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from svcdesk.domain import assign
from svcdesk.domain import classify
from svcdesk.base import clock
from svcdesk.domain import metrics
from svcdesk.base import model
from svcdesk.base import query
from svcdesk.domain import sla
from svcdesk.adapters import store
from svcdesk.domain import workflow
from svcdesk.adapters.change import Change, holder_text, last_change, trailers_for
from svcdesk.adapters.discovery import git_dir_of
from svcdesk.base.errors import (AmbiguousTicketError, DeskExistsError, MissingFieldsError,
                            TicketFileError, TicketNotFoundError, UncommittedChangesError,
                            UsageError, ValidationError, WorkflowError)
from svcdesk.adapters.repo import Git, Identity
from svcdesk.base.identity import NUMBER_RE, TicketRef, format_number, new_ulid
from svcdesk.adapters.index import Index
from svcdesk.speed.trail import Trail

DEFAULTS = Path(__file__).parents[1] / "defaults"
STATE = "svcdesk"
GITIGNORE = """\
# svcdesk: an interrupted atomic write leaves one of these; svcdesk cleans them up
.*.svcdesk-tmp
"""
LOCK_TIMEOUT = 30.0
SYSTEM = Identity("svcdesk", "svcdesk@localhost")  # the author of the desk's own time rules
MAX_STEPS = 24  # time-rule steps one ticket may take in one run (a guard, never reached)


class Actor(NamedTuple):
    """Who is acting: an agent key (or an email for non-agents) and their git identity."""

    key: str
    identity: Identity


class Outcome(NamedTuple):
    """What a command that runs the rules did: the ticket, and the rules' reasoning."""

    ticket: model.Ticket | None
    decision: object = None  # classify.Decision
    choice: object = None  # assign.Choice
    changed: bool = True


class AgentLoad(NamedTuple):
    """An agent with their open tickets today."""

    agent: object  # rules.Agent
    open: int
    off_today: bool


class Taken(NamedTuple):
    """One step `sla check` took (or, in a dry run, would take) on a ticket."""

    number: str
    due: object  # sla.Due
    did: str  # what it did, said plainly


class CheckRun(NamedTuple):
    """What one `sla check` did: the steps, the commit, and tickets it had to leave."""

    taken: list
    commit: str | None = None
    skipped: tuple | list = ()  # (number, why)


class Delivery(NamedTuple):
    """What one delivery run did: notices sent (and recorded), still queued, failed."""

    sent: list  # outbox entries
    queued: int
    failed: list  # (entry, error): templates that do not render
    error: str | None = None  # why delivery stopped (SMTP down, login refused)
    smtp: str | None = None  # where it delivered to (None: no SMTP configured)
    commit: str | None = None


class Listing(NamedTuple):
    """What `list` shows: ticket snapshots, the files that could not be read, and what the
    command made of them (see Desk.listing)."""

    tickets: list
    problems: list
    shown: object = None
    total: int | None = None  # how many passed the filter, when the limit was reached


class Desk:
    """One desk: its rules, its tickets and its git repository."""

    def __init__(self, root: Path, agent: str | None = None, command: str = "",
                 git_dir: Path | None = None, progress=None, probe=None):
        self.root = root
        self.git = Git(root, git_dir or git_dir_of(root))
        self.state_dir = self.git.git_dir / STATE
        self.rules = store.read_rules(root, self.state_dir / "rules.pickle")
        self._agent = agent or os.environ.get("SVCDESK_AGENT") or None
        self._command = command
        self._actor: Actor | None = None
        self._progress = progress
        self._index: Index | None = None
        self._probe = probe
        self.warnings: list = []  # said after the command (see all_warnings)
        self._failures: dict = {}  # (template, error) -> numbers of the notices it stopped
        self._notice_renderer = self._notice_outbox = None  # made on first use
        self._levels: dict = {}  # (number, events, at) -> sla.Level, for a ticket's notices

    @property
    def index(self) -> Index:
        """The ticket index (brought up to date by each of its reads)."""
        if self._index is None:
            self._index = Index(self.root, self.git, self.state_dir, self.rules.schema,
                                self._progress, self._probe,
                                self.rules.service.response_actions)
        return self._index

    def now(self) -> datetime:
        """Now, in the desk's time zone (SVCDESK_NOW when set)."""
        return clock.now(self.rules.tz)

    # ---- who is acting ---------------------------------------------------------------------

    def actor(self) -> Actor:
        """The acting agent: --as, SVCDESK_AGENT, or git's user.email matched to an agent."""
        if self._actor is None:
            self._actor = self._resolve_actor()
        return self._actor

    def _resolve_actor(self) -> Actor:
        agents = self.rules.agents
        if self._agent:
            agent = agents.get(self._agent) or self.rules.agent_by_email(self._agent)
            if agent is None:
                raise UsageError(f"unknown agent {self._agent!r} (agents in rules.yaml: "
                                 + ", ".join(agents) + ")")
            return Actor(agent.key, Identity(agent.name, agent.email))
        user = self.git.user()
        email = user.get("email", "")
        if not email:
            raise UsageError("who is acting? pass --as AGENT or set SVCDESK_AGENT "
                             f"(agents: {', '.join(agents)}), or set git's user.email")
        agent = self.rules.agent_by_email(email)
        if agent is not None:
            return Actor(agent.key, Identity(agent.name, agent.email))
        return Actor(email, Identity(user.get("name") or email, email))

    def _change(self, who: str | None = None, quick: bool = False) -> Change:
        timeout = float(os.environ.get("SVCDESK_LOCK_TIMEOUT") or LOCK_TIMEOUT)
        holder = holder_text(self._command or "command", who or self.actor().key, self.now())
        return Change(self.root, self.git, self.state_dir, holder, timeout, quick)

    # ---- finding tickets ---------------------------------------------------------------------

    def locate(self, ref: TicketRef) -> str:
        """The relative path of the one ticket ``ref`` names (a full number needs no index)."""
        if ref.is_full:
            found = store.candidates(self.root, ref)
        else:
            found = self.index.find(ref)
        if not found:
            raise TicketNotFoundError(f"no ticket {ref}")
        if len(found) > 1:
            names = ", ".join(p.rsplit("/", 1)[1][:-5] for p in found[:5])
            raise AmbiguousTicketError(f"{ref} matches {len(found)} tickets ({names}"
                                       f"{', …' if len(found) > 5 else ''}); give more of it")
        return found[0]

    def load(self, ref: TicketRef) -> model.Ticket:
        """The ticket ``ref`` names."""
        ticket, _ = store.read_ticket(self.root, self.rules.schema, self.locate(ref))
        return ticket

    def read_file(self, ref: TicketRef) -> bytes:
        """The ticket file's bytes, as on disk."""
        return (self.root / self.locate(ref)).read_bytes()

    def listing(self, flt: query.Filter, sort: str = "created", reverse: bool = True,
                limit: int | None = None, present=None, brief: bool = False) -> Listing:
        """Tickets passing ``flt``, sorted; unreadable files are reported, not dropped.

        ``present(listing)``, if given, makes what the command prints (the table, the JSON)
        while git checks that the index is current; it lands in ``Listing.shown``. With
        ``brief``, each ticket has only the fields of the list table."""
        tz, priorities = self.rules.tz, list(self.rules.priorities)

        def rows(con):
            found = self.index.listing_in(con, flt, tz, sort, reverse, limit, priorities,
                                          brief)
            cut = limit is not None and len(found) == limit
            return found, self.index.count_in(con, flt, tz) if cut else None

        return self._listed(rows, present)

    def search(self, text: str, flt: query.Filter, limit: int = 20, present=None) -> Listing:
        """Tickets whose title, text, comments, customer or product hold every word of
        ``text``, best first (``present`` as for listing)."""
        terms = text.split()
        if not terms:
            raise UsageError("search for what? give some text (Chinese or English)")
        tz = self.rules.tz
        return self._listed(lambda con: (self.index.search_in(con, terms, flt, tz, limit),
                                         None), present)

    def _listed(self, rows, present) -> Listing:
        """The tickets and their total that ``rows(con)`` gives, and the unreadable files,
        from one settled read of the index, with ``present`` applied inside it (see
        listing)."""

        def read(con):
            tickets, total = rows(con)
            found = Listing(tickets, self.index.problems_in(con), total=total)
            return found._replace(shown=present(found)) if present else found

        return self.index.settled(read)

    def index_status(self):
        """What the index holds, brought up to date."""
        return self.index.status()

    def rebuild_index(self) -> int:
        """Build the index again from every ticket file; return how many tickets it holds.
        The trail of commits is thrown away too (the next log reads the history again)."""
        self.trail().discard()
        return self.index.rebuild()

    def trail(self) -> Trail:
        """Which commits touched each ticket file (see svcdesk.trail)."""
        return Trail(self.git, self.state_dir, self._progress)

    def open_load(self) -> dict:
        """{agent: open tickets assigned to them}."""
        return self.index.open_load(self.rules.open_statuses(), self.rules.agents)

    def log(self, ref: TicketRef) -> list:
        """The git audit trail of one ticket, newest first."""
        relpath = self.locate(ref)
        head, _ = self.git.head()
        commits = self.trail().commits(relpath, head)
        if commits is not None:
            return self.git.describe(commits)
        self._refresh_commit_graph(head)
        return self.git.log(relpath)

    def _refresh_commit_graph(self, head: str | None) -> None:
        """Keep changed-path Bloom filters near HEAD so `git log -- FILE` stays fast."""
        mark = self.state_dir / "commit-graph-head"
        if head is None:
            return
        try:
            last = mark.read_text().strip() or None
        except FileNotFoundError:
            last = None
        if last == head or (last and self.git.commits_since(last, head) < 64):
            return
        self.git.write_commit_graph()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        store.write_atomic(mark, head.encode())

    # ---- intake --------------------------------------------------------------------------------

    def check_values(self, given: dict) -> dict:
        """Check values a person gave (flat dotted paths or nested groups); return them nested."""
        try:
            return model.parse_values(self.rules.schema, given)
        except model.FieldError as exc:
            raise ValidationError(f"field {exc.args[0]}") from None

    def missing_fields(self, values: dict) -> list:
        """Required fields of the values' ticket type that are still empty."""
        kind = values.get("type")
        if kind is None:
            return ["type"]
        return model.missing_required(self.rules.types[kind].required, values)

    def create_ticket(self, given: dict, auto: bool = True) -> "Outcome":
        """Record a new ticket from values a person gave, then (unless ``auto`` is False)
        classify, prioritise and assign it by the rules: one commit, one event per step."""
        values = self.check_values(given)
        rules, actor = self.rules, self.actor()
        now = self.now()
        decision = self.decide(values) if auto else None
        final = decision.values if decision else values
        missing = self.missing_fields(final)
        if missing:
            raise MissingFieldsError(final.get("type", "?"), missing)
        kind = rules.types[final["type"]]
        if decision is None:
            values.setdefault("priority", kind.priority or rules.default_priority)
        purchased = model.get_path(values, "product.purchased")
        if purchased is not None and model.get_path(values, "product.warranty") is None:
            model.set_path(values, "product.warranty",
                           model.warranty_state(purchased, rules.warranty_months, now.date()))
        choice = None
        if decision is not None and rules.auto_assign and not final.get("assignee"):
            landed = last_change(self.state_dir)
            choice = self.choose_agent(final)  # outside the lock: the index may need git
            seen = self.index.head_seen
        with self._change(quick=True) as change:
            if choice is not None and (last_change(self.state_dir) != landed or
                                       seen is not None and seen != change.head):
                # another change landed meanwhile (a second `new` at the same moment, a
                # commit by hand, a pull): the loads it was chosen on are gone, so choose
                # again on the desk as it is now
                self.index.recheck()
                choice = self.choose_agent(final)
            number = self._next_number(change, now)
            ticket = model.create(rules.schema, values, number, new_ulid(now), new_ulid(now),
                                  now, actor.key, rules.initial_status)
            body = [f"Type: {kind.name} ({kind.label})"]
            if decision is not None and decision.changes:
                ticket = self._classified(ticket, now, actor.key, decision, decision.changes)
                body.append("Classified: " + (", ".join(decision.fired) or "no rule matched"))
            assignee = choice.agent if choice else ticket.get("assignee")
            if assignee and "assign" in rules.transitions:
                if choice:
                    ticket = self._assigned(ticket, now, actor.key, choice)
                else:  # given at intake, or set by a rule: the status follows
                    by_rule = decision is not None and "assignee" in decision.changes
                    ticket = self._transition(ticket, now, actor.key, "assign",
                                              {"assignee": assignee},
                                              rule=", ".join(decision.fired) if by_rule else None)
                body.append(f"Assigned: {assignee}" + (" (" + ", ".join(rules.strategies)
                                                        + ")" if choice else ""))
            elif choice:
                body.append(f"Queued for team {choice.team}: nobody fits")
            ticket = self._settle(ticket)
            fields = ticket.fields
            body.insert(1, f"Priority: {fields.get('priority')}")
            if model.get_path(fields, "customer.name"):
                body.append("Customer: " + " / ".join(filter(None, (
                    model.get_path(fields, "customer.name"),
                    model.get_path(fields, "customer.company")))))
            if fields.get("channel"):
                body.append(f"Channel: {fields['channel']}")
            change.write(store.ticket_relpath(number), store.encode_ticket(ticket))
            change.commit(f"{number}: new {kind.name} ticket: {fields.get('title', '')}",
                          "\n".join(body), trailers_for(number, "create"), actor.identity, now)
        self._queue_notices(ticket, ticket.events)
        return Outcome(ticket, decision, choice)

    # ---- the rules at work ---------------------------------------------------------------------

    def decide(self, values: dict, kept=None):
        """What the rules make of ``values`` (classification, team, priority); fields in
        ``kept`` (default: every field given) are never changed."""
        if kept is None:
            kept = frozenset(model.flatten(values))
        return classify.decide(self.rules, values, kept)

    def choose_agent(self, values: dict):
        """Who the assignment strategies pick for a ticket with ``values``."""
        team = values.get("team")
        return assign.choose(self.rules.agents, self.rules.strategies, values, self.open_load(),
                             self.index.last_assignee(team), self.now().date())

    def preview(self, given: dict) -> "Outcome":
        """What the rules would do with a request, without recording it."""
        values = self.check_values(given)
        decision = self.decide(values)
        choice = None
        if self.rules.auto_assign and not decision.values.get("assignee"):
            choice = self.choose_agent(decision.values)
        return Outcome(None, decision, choice)

    def classify_ticket(self, ref: TicketRef) -> "Outcome":
        """Run the rules again on a ticket: fields a person set stay as they are; an
        unassigned ticket is then assigned."""
        outcome = {}

        def build(ticket, now, actor):
            before = len(ticket.events)
            decision = outcome["decision"] = self.decide(ticket.fields, kept=_hand_set(ticket))
            changes = {k: v for k, v in decision.changes.items() if ticket.get(k) != v}
            if changes:
                ticket = self._classified(ticket, now, actor.key, decision, changes)
            route = self.rules.transitions.get("assign")
            if self.rules.auto_assign and not ticket.get("assignee") and route is not None \
                    and ticket.fields["status"] in route.sources:
                choice = outcome["choice"] = self.choose_agent(ticket.fields)
                if choice.agent:
                    ticket = self._assigned(ticket, now, actor.key, choice)
            outcome["changed"] = len(ticket.events) > before
            return ticket if outcome["changed"] else None

        ticket = self._update(ref, "classify", build)
        return Outcome(ticket, outcome.get("decision"), outcome.get("choice"),
                       outcome["changed"])

    def assign_ticket(self, ref: TicketRef, agent: str | None = None,
                      note: str | None = None) -> "Outcome":
        """Assign by hand to ``agent`` (always allowed), or by the strategies; when nobody
        fits, the ticket stays in its team's queue."""
        rules = self.rules
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
                return self._transition(ticket, now, actor.key, "assign", updates, note=note)
            choice = outcome["choice"] = self.choose_agent(ticket.fields)
            if choice.agent is None or choice.agent == ticket.get("assignee"):
                outcome["changed"] = False
                return None
            return self._assigned(ticket, now, actor.key, choice)

        ticket = self._update(ref, "assign", build, note_body=note or "")
        return Outcome(ticket, None, outcome.get("choice"), outcome.get("changed", True))

    def set_priority(self, ref: TicketRef, priority: str, note: str) -> model.Ticket:
        """Override the priority by hand, saying why."""
        if priority not in self.rules.priorities:
            raise ValidationError(f"priority {priority!r} is not one of "
                                  + ", ".join(self.rules.priorities))
        if not (note and note.strip()):
            raise ValidationError("say why the priority changes: -m TEXT")

        def build(ticket, now, actor):
            if ticket.fields["status"] not in self.rules.open_statuses():
                raise WorkflowError(f"{ticket.number} is {ticket.fields['status']}; its "
                                    "priority no longer matters (reopen it first)")
            if ticket.get("priority") == priority:
                raise WorkflowError(f"{ticket.number} is already {priority}")
            return self._record(ticket, now, actor.key, "priority", {"priority": priority},
                                note=note.strip(), visibility="internal")

        return self._update(ref, "priority", build, note_body=note.strip())

    def move(self, ref: TicketRef, action: str, note: str | None = None,
             updates: dict | None = None, public: bool = True) -> model.Ticket:
        """Take a workflow action (start, wait, resume, resolve, close, reopen) as the
        transition table in rules.yaml allows it; anything else is refused, unchanged."""
        note = note.strip() if note and note.strip() else None

        def build(ticket, now, actor):
            changes = dict(updates or {})
            if action == "start" and not ticket.get("assignee"):
                agent = self.rules.agents.get(actor.key)
                if agent is not None:  # taking it from the queue
                    changes.update(assignee=agent.key, team=agent.team)
            return self._transition(ticket, now, actor.key, action, changes, note=note,
                                    visibility=("public" if public else "internal")
                                    if note else None)

        return self._update(ref, action, build, note_body=note or "")

    def escalate(self, ref: TicketRef, note: str) -> model.Ticket:
        """Hand the ticket up one level: its team's lead, then the desk's manager."""
        rules = self.rules

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
            return self._transition(ticket, now, actor.key, "escalate",
                                    {"assignee": levels[done]}, note=note,
                                    visibility="internal")

        return self._update(ref, "escalate", build, note_body=note or "")

    def _record(self, ticket: model.Ticket, now: datetime, by: str, action: str, updates: dict,
                rule: str | None = None, note: str | None = None,
                visibility: str | None = None, moves: bool = False) -> model.Ticket:
        """The ticket with one event applying ``updates``; with ``moves``, the workflow's
        transition table decides (and may refuse) the status it leads to."""
        after = model.with_fields(ticket, **updates)
        if moves:
            after["status"] = workflow.check(self.rules.transitions, self.rules.statuses,
                                             ticket.number, ticket.fields["status"], action,
                                             after, note)
        new, _ = model.change(self.rules.schema, ticket, after, new_ulid(now), now, by, action,
                              note=note, rule=rule, visibility=visibility)
        return new

    def _transition(self, ticket: model.Ticket, now: datetime, by: str, action: str,
                    updates: dict, **event) -> model.Ticket:
        return self._record(ticket, now, by, action, updates, moves=True, **event)

    def _classified(self, ticket: model.Ticket, now: datetime, by: str, decision,
                    changes: dict) -> model.Ticket:
        """The ticket with the rules' classification recorded, naming the rules that fired."""
        return self._record(ticket, now, by, "classify", changes,
                            rule=", ".join(decision.fired) or "priority",
                            note=decision.record(), visibility="internal")

    def _assigned(self, ticket: model.Ticket, now: datetime, by: str, choice) -> model.Ticket:
        """The ticket assigned to the strategies' choice, with their reasoning."""
        return self._transition(ticket, now, by, "assign",
                                {"assignee": choice.agent, "team": choice.team},
                                rule="assign: " + ", ".join(self.rules.strategies),
                                note=_summary(choice.trail))

    def agents(self) -> list:
        """Each agent with their open load, capacity, skills and whether they are off today."""
        load, today = self.open_load(), self.now().date()
        return [AgentLoad(a, load.get(a.key, 0), a.off.covers(today))
                for a in self.rules.agents.values()]

    def _next_number(self, change: Change, now: datetime) -> str:
        """The day's next number: one past the highest in its folder, on disk or at HEAD (a
        file deleted by hand and not yet committed keeps its number)."""
        day = now.date()
        prefix = self.rules.prefix
        stem = f"{prefix}-{day:%Y%m%d}-"
        names = store.numbers_of_day(self.root, prefix, day)
        names += [n[:-5] for n in change.head_names(f"{store.TICKETS}/{day:%Y}/{day:%m}")
                  if n.startswith(stem) and n.endswith(".yaml")]
        taken = [int(m["seq"]) for n in names if (m := NUMBER_RE.match(n))]
        return format_number(prefix, day, max(taken, default=0) + 1)

    # ---- changes to a ticket ---------------------------------------------------------------------

    def _update(self, ref: TicketRef, action: str, build, subject=None, note_body: str = ""):
        """Load, absorb hand edits, apply ``build(ticket, now, actor)``, write, commit.

        The commit subject is ``subject``, or (when None) said from the last event."""
        actor = self.actor()
        now = self.now()
        relpath = self.locate(ref)
        with self._change(quick=True) as change:
            raw = change.read_committed(relpath)
            ticket = store.ticket_from_bytes(self.rules.schema, raw, relpath)
            ticket = self._absorb_hand_edits(ticket, now)
            before = len(ticket.events)
            result = build(ticket, now, actor)
            if result is None:
                return ticket
            result = self._settle(result)
            change.write(relpath, store.encode_ticket(result))
            change.commit(f"{result.number}: {subject or _subject(result.events[-1])}", note_body,
                          trailers_for(result.number, action), actor.identity, now)
        self._queue_notices(result, result.events[before:])
        return result

    def _settle(self, ticket: model.Ticket) -> model.Ticket:
        """The ticket with its ``sla:`` block (policy, targets, due times, met or breached)
        recomputed as of its last event, recorded by that same event."""
        service = self.rules.service
        summary = sla.summary(ticket.events, ticket.fields, service, ticket.events[-1].at)
        if summary == ticket.fields.get("sla"):
            return ticket
        return model.amend_last(self.rules.schema, ticket, "sla", summary)

    # ---- the clocks and the time rules ---------------------------------------------------------

    def calendar_warnings(self) -> list:
        """Years a calendar counted in this command without official holiday data."""
        out = []
        for calendar in self.rules.service.calendars.values():
            for year in sorted(calendar.uncovered):
                out.append(f"calendar {calendar.name} ({calendar.base_name}) has no official "
                           f"holiday data for {year}; it counted plain weekdays. List {year}'s "
                           f"holidays and make-up days under calendars.{calendar.name} in "
                           "rules.yaml")
        return out

    def service_level(self, ticket: model.Ticket):
        """The ticket's policy and clocks as of now (None: no policy applies to it)."""
        return sla.level(ticket.events, ticket.fields, self.rules.service, self.now())

    def sla_check(self, dry_run: bool = False) -> CheckRun:
        """Take every time-rule step that is due (warnings, breaches, the escalation ladder,
        progress updates, closing and reminders), each once per ticket, in one commit."""
        service, now, tz = self.rules.service, self.now(), self.rules.tz
        statuses = sorted(set(service.counting) | set(service.paused) | set(service.resolved))
        planned = []
        for row in self.index.service_rows(statuses):
            facts = sla.Facts(
                row["id"], row["path"], json.loads(row["doc"]), row["first_response"] is not None,
                _moment(row["resolved"], tz), _moment(row["paused_since"], tz),
                frozenset(row["sla_done"].split("\x1f")) if row["sla_done"] else frozenset())
            dues = sla.due_now(facts, service, now)
            if dues:
                planned.append((facts, dues))
        if dry_run:
            return CheckRun([Taken(f.number, d, d.note) for f, dues in planned for d in dues])
        if not planned:
            return CheckRun([])
        taken, skipped, touched, changed = [], [], [], []
        with self._change(sla.SYSTEM) as change:
            for facts, _ in planned:
                try:
                    raw = change.read_committed(facts.relpath)
                    ticket = store.ticket_from_bytes(self.rules.schema, raw, facts.relpath)
                except (UncommittedChangesError, TicketFileError) as exc:
                    skipped.append((facts.number, str(exc)))
                    continue
                ticket = self._absorb_hand_edits(ticket, now)
                before, keys = len(ticket.events), set()
                for _ in range(MAX_STEPS):
                    dues = [d for d in sla.due_now(self._facts(ticket, facts.relpath),
                                                   service, now) if d.key not in keys]
                    if not dues:
                        break
                    due = dues[0]
                    keys.add(due.key)
                    try:
                        ticket, did = self._take(ticket, due, now)
                    except WorkflowError as exc:
                        skipped.append((ticket.number, str(exc)))
                        continue
                    ticket = self._settle(ticket)
                    taken.append(Taken(ticket.number, due, did))
                if len(ticket.events) > before:
                    change.write(facts.relpath, store.encode_ticket(ticket))
                    touched.append(ticket.number)
                    changed.append((ticket, ticket.events[before:]))
            if not taken:
                return CheckRun([], None, skipped)
            body = "\n".join(f"{t.number}: {t.due.key}: {t.did}" for t in taken)
            sha = change.commit(f"sla check: {len(taken)} step(s) on {len(touched)} ticket(s)",
                                body, trailers_for(", ".join(touched), "sla-check"), SYSTEM,
                                now)
        for ticket, events in changed:
            self._queue_notices(ticket, events, sync=False)
        self._outbox().sync()
        return CheckRun(taken, sha, skipped)

    def _facts(self, ticket: model.Ticket, relpath: str):
        figures = metrics.ticket_figures(ticket.events,
                                         response_actions=self.rules.service.response_actions)
        return sla.Facts(ticket.number, relpath, ticket.fields,
                         figures["first_response_at"] is not None, figures["resolved_at"],
                         figures["paused_since"], frozenset(figures["done"]))

    def _take(self, ticket: model.Ticket, due, now: datetime) -> tuple:
        """The ticket with one due time-rule step taken, and what it did."""
        by, rules = sla.SYSTEM, self.rules
        if due.kind == "close":
            return self._transition(ticket, now, by, "close", {}, rule=due.key, note=due.note,
                                    visibility="internal"), "closed"
        if due.kind == "remind":
            return self._record(ticket, now, by, "remind", {}, rule=due.key, note=due.note,
                                visibility="public"), "reminded the customer"
        if due.kind != "step":
            return self._record(ticket, now, by, "sla", {}, rule=due.key, note=due.note,
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
            to = self._reassignee(ticket, step.reassign)
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
        return self._record(ticket, now, by, action, updates, rule=due.key, note=note,
                            visibility="internal"), "; ".join(did) or "recorded"

    def _reassignee(self, ticket: model.Ticket, how: str) -> str | None:
        rules = self.rules
        if how == "lead":
            return rules.teams.get(ticket.get("team"), {}).get("lead")
        if how == "manager":
            return rules.manager
        others = {k: a for k, a in rules.agents.items() if k != ticket.get("assignee")}
        choice = assign.choose(others, rules.strategies, ticket.fields, self.open_load(),
                               self.index.last_assignee(ticket.get("team")), self.now().date())
        return choice.agent

    # ---- reports -------------------------------------------------------------------------------

    def review(self, period, team: str | None = None, kind: str | None = None,
               customer: str | None = None, product: str | None = None) -> dict:
        """The service review of ``period`` (report.Period): every figure, the previous
        period's headline and the change, for the tickets the filters keep."""
        from svcdesk.domain import report

        rules, tz = self.rules, self.rules.tz
        rows = self.index.report_rows(period.previous().start, period.end)
        salvaged, warnings = self._salvaged(tz)
        stories = []
        for story in [report.Story.from_row(row, tz) for row in rows] + salvaged:
            f = story.fields
            if (team and f.get("team") != team) or (kind and f.get("type") != kind):
                continue
            people = " ".join(str(v) for v in (f.get("customer") or {}).values()).casefold()
            things = " ".join(str(v) for v in (f.get("product") or {}).values()).casefold()
            if (customer and customer.casefold() not in people) or (
                    product and product.casefold() not in things):
                continue
            stories.append(story)
        vocabulary = {"agent": "agents", "team": "teams", "type": "types",
                      "channel": "channels"}

        def labels(key, name):
            if name is None:
                return "—"
            table = vocabulary.get(key)
            return rules.label(table, name) if table else name

        filters = {k: v for k, v in (("team", team), ("type", kind), ("customer", customer),
                                     ("product", product)) if v}
        data = report.review(stories, period, rules, labels, filters)
        data["warnings"] = warnings
        return data

    def _salvaged(self, tz) -> tuple:
        """Stories of the ticket files the index could not read, counted as far as their
        history can be read, and a warning naming each."""
        from svcdesk.domain import report

        stories, warnings = [], []
        for problem in self.index.problems():
            try:
                raw = (self.root / problem.file).read_bytes()
                ticket, kept, total = store.salvage_ticket(self.rules.schema, raw,
                                                           problem.file)
            except (OSError, TicketFileError):
                warnings.append(f"{problem} (not counted)")
                continue
            figures = metrics.ticket_figures(
                ticket.events, response_actions=self.rules.service.response_actions)
            stories.append(report.Story.from_ticket(ticket, figures["first_response_at"], tz))
            warnings.append(f"{problem} (counted from the {kept} of its {total} events that "
                            "can be read)")
        return stories, warnings

    def render_report(self, data: dict, fmt: str) -> str:
        """The review as Markdown or HTML from templates/reports/: monthly.md.j2 for a
        month when the desk has one, else weekly.md.j2 (which says what period it covers)."""
        from svcdesk.base.errors import TemplateError

        own = {"week": "weekly", "month": "monthly", "range": "range"}[data["period"]["kind"]]
        context = {"r": data, "charts": self._charts(data) if fmt == "html" else {}}
        renderer = self._renderer()
        try:
            return renderer.text("reports", own, fmt, context)
        except TemplateError as exc:
            if own == "weekly" or "no such template" not in str(exc):
                raise
        return renderer.text("reports", "weekly", fmt, context)

    def commit_report(self, data: dict, fmt: str, text: str) -> tuple:
        """Commit a report under reports/ (one commit; none when the file is unchanged);
        return (its path, the commit or None)."""
        name = {"week": "weekly", "month": "monthly", "range": "range"}[data["period"]["kind"]]
        label = data["period"]["label"].replace("..", "_")
        relpath = f"reports/{name}-{label}.{fmt}"
        try:
            actor = self.actor()
        except UsageError:  # cron without an agent: the desk itself
            actor = Actor(sla.SYSTEM, SYSTEM)
        now = self.now()
        with self._change(actor.key) as change:
            path = self.root / relpath
            if path.exists() and path.read_bytes() == text.encode("utf-8") and \
                    relpath.rsplit("/", 1)[1] in change.head_names("reports"):
                return relpath, None
            change.write(relpath, text.encode("utf-8"))
            sha = change.commit(f"report: {name} {data['period']['label']}",
                                f"{data['desk']}, {data['period']['start']} to "
                                f"{data['period']['end']}", trailers_for(None, "report"),
                                actor.identity, now)
        return relpath, sha

    def mail_report(self, data: dict, to: list, text: str, html: str | None) -> str:
        """Send a report by SMTP (the notices' delivery) to ``to`` (default: the manager);
        without SMTP it waits in the outbox as an .eml. Return where it went."""
        from svcdesk.domain import notices
        from svcdesk.base.errors import DeliveryError

        rules = self.rules
        manager = rules.agents.get(rules.manager) if rules.manager else None
        if not to or "manager" in to:
            if manager is None:
                raise UsageError("mail the report to whom? give --mail ADDRESS (or set "
                                 "desk.manager in rules.yaml)")
            to = [a for a in to if a != "manager"] + [manager.email]
        n = rules.notices
        subject = f"{data['desk']} {data['period']['label']}"
        data_bytes = notices.report_message(subject, text, html, n.sender_name, n.sender_email,
                                            to, self.now())
        smtp = self.smtp()
        if smtp is None:
            folder = self._outbox().path
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"report-{data['period']['label'].replace('..', '_')}.eml"
            store.write_atomic(path, data_bytes)
            return f"kept in {path} (no SMTP: set notices.smtp or SVCDESK_SMTP_URL)"
        sent, error = smtp.send([(None, data_bytes, notices.wire_address(n.sender_email),
                                  [notices.wire_address(a) for a in to])])
        if error:
            raise DeliveryError(f"{error}; the report was not mailed")
        return f"mailed to {', '.join(to)} via {smtp.describe()}"

    def _charts(self, data: dict) -> dict:
        """The HTML report's inline SVG charts, labelled in the desk's language."""
        from svcdesk.domain import charts

        zh = self.rules.language == "zh"
        created, resolved = ("新建", "解决") if zh else ("created", "resolved")
        days = data["per_day"]
        labels = [d["day"][5:] for d in days]
        first, fix = data["first_response"]["working"], data["resolution"]["working"]
        return {
            "volume": charts.columns("每日工单量" if zh else "Tickets per day", labels,
                                     {created: [d["created"] for d in days],
                                      resolved: [d["resolved"] for d in days]}),
            "times": charts.columns(
                "时效分布（工作时间）" if zh else "How long (working time)", list(fix["buckets"]),
                {("首次响应" if zh else "first response"): list(first["buckets"].values()),
                 ("解决" if zh else "resolution"): list(fix["buckets"].values())}),
            "sla": charts.shares("各组解决按时率" if zh else "Resolved within SLA by team",
                                 [(t["name"], t["sla_met_pct"]) for t in data["by_team"]]),
            "backlog": charts.columns("积压账龄" if zh else "Backlog age",
                                      list(data["backlog"]["ages"]),
                                      {("积压" if zh else "open"):
                                       list(data["backlog"]["ages"].values())}),
        }

    # ---- notices -------------------------------------------------------------------------------

    def notices_for(self, ticket: model.Ticket, events, names=None) -> list:
        """The notices ``events`` of ``ticket`` send (or, with ``names``, those notice events
        would send for its latest event)."""
        from svcdesk.domain import notices

        rules, out = self.rules, []
        routes = rules.notices.routes if rules.notices else {}
        for event in events:
            triggered = names if names is not None else notices.triggers(event)
            for name in triggered:
                step = self._step_of(event)
                for template, roles in routes.get(name, ()):
                    if name == "escalated" and step is not None and step.notify:
                        roles = step.notify
                    for person in notices.recipients(roles, ticket.fields, rules):
                        out.append(notices.Notice(ticket.number, ticket.fields["uid"], event.id,
                                                  name, template, person))
        return out

    def _step_of(self, event):
        rule = event.rule or ""
        if not rule.startswith("escalation: "):
            return None
        return next((s for s in self.rules.service.ladder
                     if s.name == rule[len("escalation: "):]), None)

    def _notice_context(self, ticket: model.Ticket, event: model.Event, notice) -> dict:
        rules, f = self.rules, ticket.fields
        at = max(event.at, ticket.events[-1].at)
        key = (ticket.number, len(ticket.events), at)
        if key not in self._levels:  # one ticket's notices share its clocks
            self._levels[key] = sla.level(ticket.events, f, rules.service, at)
        level = self._levels[key]
        step = self._step_of(event)
        rule = event.rule or ""
        target = step.target if step else ("update" if rule.startswith("update:") else
                                           rule.partition(": ")[2] or "response")
        plain = level.plain() if level else {}
        by = rules.agents[event.by].name if event.by in rules.agents else event.by
        # every field the schema knows is defined (None when empty), so a template may test
        # any of them while a misspelt name still stops it
        full: dict = {}
        for name in rules.schema.specs:
            head, _, rest = name.partition(".")
            if rest:
                full.setdefault(head, {})[rest] = None
            else:
                full[name] = None
        for key, value in model.F.dump(f).items():
            if isinstance(value, dict) and isinstance(full.get(key), dict):
                full[key].update(value)
            else:
                full[key] = value
        return {
            "desk": {"name": rules.name}, "number": ticket.number, "title": f.get("title", ""),
            "ticket": full, "status": rules.label("statuses", f.get("status")),
            "priority": f"{f.get('priority')} {rules.label('priorities', f.get('priority'))}",
            "type": rules.label("types", f.get("type")),
            "assignee": rules.label("agents", f["assignee"]) if f.get("assignee") else "",
            "team": rules.label("teams", f["team"]) if f.get("team") else "",
            "customer": full["customer"], "product": full["product"],
            "sla": {"policy": plain.get("policy"), "response": plain.get("response"),
                    "resolution": plain.get("resolution"), "progress": plain.get("update")},
            "target": target if target in sla.TARGETS + ("update",) else "response",
            "step": step.name if step else None,
            "event": {"action": event.action, "note": event.note or "", "by": by,
                      "at": event.at, "rule": event.rule or ""},
            "recipient": {"name": notice.recipient.name, "role": notice.recipient.role,
                          "email": notice.recipient.email},
        }

    def _renderer(self):
        """The notice renderer, one per command (templates compile once)."""
        if self._notice_renderer is None:
            from svcdesk.adapters.templating import Renderer
            from svcdesk.domain.worktime import duration_text

            self._notice_renderer = Renderer(self.root / "templates", DEFAULTS / "templates",
                                             self.rules.language, self.rules.tz, duration_text,
                                             self.state_dir / "templates")
        return self._notice_renderer

    def _render(self, renderer, notice, ticket: model.Ticket, event: model.Event) -> tuple:
        """(message bytes, subject) of a notice; raise TemplateError naming file and line."""
        from svcdesk.domain import notices

        subject, body = notices.render(renderer, notice.template,
                                       self._notice_context(ticket, event, notice))
        n = self.rules.notices
        sender = notices.Recipient("sender", n.sender_name, n.sender_email)
        domain = n.sender_email.rpartition("@")[2] or "svcdesk.localhost"
        data = notices.message(notice, subject, body, sender, domain, event.at)
        return data, notices.full_subject(notice, subject)

    def _outbox(self):
        if self._notice_outbox is None:
            from svcdesk.adapters.outbox import Outbox

            self._notice_outbox = Outbox(self.state_dir)
        return self._notice_outbox

    def _queue_notices(self, ticket: model.Ticket, events, by: str = sla.SYSTEM,
                       names=None, sync: bool = True) -> list:
        """Render the notices of ``events`` into the outbox; a template that fails is kept as
        a failed notice (retried by `notify send`) and said as a warning. The change that
        triggered them has landed either way."""
        from svcdesk.base.errors import TemplateError

        todo = self.notices_for(ticket, events, names)
        if not todo:
            return []
        outbox, renderer = self._outbox(), self._renderer()
        by_id = {e.id: e for e in ticket.events}
        for notice in todo:
            meta = {"key": notice.key, "number": notice.number,
                    "relpath": store.ticket_relpath(notice.number), "event_id": notice.event_id,
                    "event": notice.event, "template": notice.template, "by": by,
                    "to": {"role": notice.recipient.role, "name": notice.recipient.name,
                           "email": notice.recipient.email}}
            event = by_id.get(notice.event_id, ticket.events[-1])
            try:
                data, subject = self._render(renderer, notice, ticket, event)
            except (TemplateError, ValueError) as exc:
                self._failed_notice(notice, str(exc))
                outbox.put(notice.file_stem, {**meta, "state": "failed", "error": str(exc)},
                           None)
                continue
            outbox.put(notice.file_stem, {**meta, "state": "pending", "subject": subject},
                       data)
        if sync:
            outbox.sync()
        return todo

    def _failed_notice(self, notice, error: str) -> None:
        self._failures.setdefault((notice.template, error), []).append(notice.number)

    def all_warnings(self) -> list:
        """What the command leaves to attend to: notices a template stopped (one line per
        distinct error, not per ticket) and years counted without holiday data."""
        out = list(self.warnings)
        for (template, error), numbers in self._failures.items():
            out.append(f"notice {template} not sent for {len(numbers)} ticket(s) ("
                       + ", ".join(numbers[:3]) + (", …" if len(numbers) > 3 else "")
                       + f"): {error} (fix it; `svcdesk notify send` retries)")
        return out + self.calendar_warnings()

    def preview_notice(self, ref: TicketRef, name: str) -> list:
        """[(notice, message bytes)] of what notice event ``name`` would send now."""
        ticket = self.load(ref)
        found = self._hand_notices(ticket, ticket.events[-1], name)
        renderer = self._renderer()
        return [(n, self._render(renderer, n, ticket, ticket.events[-1])[0]) for n in found]

    def send_notice(self, ref: TicketRef, name: str) -> Delivery:
        """Send notice event ``name`` for a ticket by hand (it counts as a contact with the
        customer once delivered), then deliver the outbox."""
        ticket = self.load(ref)
        now, actor = self.now(), self.actor()
        event = model.Event(new_ulid(now), now, actor.key, "notice")
        self._hand_notices(ticket, event, name)
        self._queue_notices(model.Ticket(ticket.fields, ticket.events + (event,)), [event],
                            by=actor.key, names=[name])
        return self.deliver()

    def _hand_notices(self, ticket: model.Ticket, event: model.Event, name: str) -> list:
        from svcdesk.domain import notices

        if name not in notices.EVENTS:
            raise UsageError(f"{name!r} is not a notice event; events: "
                             + ", ".join(notices.EVENTS))
        found = self.notices_for(ticket, [event], names=[name])
        if not found:
            raise UsageError(f"notice event {name} sends nothing for {ticket.number} (no "
                             "route under notices.events, or no address for its recipients)")
        return found

    def outbox(self) -> list:
        """The notices waiting in the outbox."""
        return self._outbox().entries()

    def smtp(self):
        """Where notices go: SVCDESK_SMTP_URL, else notices.smtp in rules.yaml (None: the
        outbox keeps them)."""
        from svcdesk.adapters.outbox import Smtp

        url = os.environ.get("SVCDESK_SMTP_URL")
        if url:
            return Smtp.from_url(url, "SVCDESK_SMTP_URL")
        configured = self.rules.notices.smtp if self.rules.notices else None
        return Smtp.from_url(configured, "rules.yaml: notices.smtp") if configured else None

    def deliver(self) -> Delivery:
        """Re-render failed notices, deliver pending ones by SMTP (when configured) and record
        each delivery on its ticket, in one commit. Under the desk lock, so two runs at once
        never send a notice twice; one already recorded on its ticket is dropped unsent."""
        from svcdesk.domain import notices

        outbox, smtp, now = self._outbox(), self.smtp(), self.now()
        if not outbox.entries():  # the usual cron run: nothing to lock the desk for
            return Delivery([], 0, [], None, smtp.describe() if smtp else None)
        # under the lock, the outbox is read again: another run may have sent some
        failed, tickets = [], {}
        with self._change(sla.SYSTEM) as change:
            def ticket_of(entry):
                relpath = entry.meta["relpath"]
                if relpath not in tickets:
                    raw = change.read_committed(relpath)
                    tickets[relpath] = store.ticket_from_bytes(self.rules.schema, raw, relpath)
                return tickets[relpath]

            ready = []
            for entry in outbox.entries():
                try:
                    ticket = ticket_of(entry)
                except (UncommittedChangesError, TicketFileError, OSError) as exc:
                    failed.append((entry, str(exc)))
                    continue
                if any(e.rule == f"notice: {entry.meta['key']}" for e in ticket.events):
                    outbox.remove(entry)  # delivered and recorded before: never twice
                    continue
                if entry.state == "failed":
                    entry = self._rerender(outbox, entry, ticket, self._renderer(), failed)
                    if entry is None:
                        continue
                ready.append(entry)
            sent_now, error = [], None
            pending = [e for e in ready if e.state == "pending"]
            if smtp is not None and pending:
                sender = self.rules.notices.sender_email
                sent_now, error = smtp.send([
                    (e, e.message_bytes(), notices.wire_address(sender),
                     [notices.wire_address(e.meta["to"]["email"])])
                    for e in pending if e.message_bytes() is not None])
                sent_now = [outbox.mark(e, state="sent", sent=now.isoformat())
                            for e in sent_now]
            done = [e for e in ready if e.state == "sent"] + sent_now
            sha = self._record_deliveries(change, done, ticket_of, now) if done else None
        for entry in done:
            outbox.remove(entry)
        return Delivery(done, len(pending) - len(sent_now), failed, error,
                        smtp.describe() if smtp else None, sha)

    def _rerender(self, outbox, entry, ticket, renderer, failed):
        from svcdesk.domain import notices
        from svcdesk.base.errors import TemplateError

        meta = entry.meta
        event = next((e for e in ticket.events if e.id == meta["event_id"]), None)
        if event is None:  # a hand-sent notice: its event is made when it is recorded
            event = model.Event(meta["event_id"], ticket.events[-1].at, meta["by"], "notice")
            ticket = model.Ticket(ticket.fields, ticket.events + (event,))
        to = meta["to"]
        notice = notices.Notice(meta["number"], ticket.fields["uid"], meta["event_id"],
                                meta["event"], meta["template"],
                                notices.Recipient(to["role"], to["name"], to["email"]))
        try:
            data, subject = self._render(renderer, notice, ticket, event)
        except (TemplateError, ValueError) as exc:
            outbox.mark(entry, error=str(exc))
            failed.append((entry, str(exc)))
            return None
        return outbox.put(entry.stem, {**meta, "state": "pending", "subject": subject,
                                       "error": None}, data)

    def _record_deliveries(self, change, done: list, ticket_of, now: datetime) -> str | None:
        """One notice event per delivery on its ticket, all in one commit."""
        touched = {}
        for entry in done:
            meta = entry.meta
            ticket = touched.get(meta["relpath"]) or ticket_of(entry)
            to = meta["to"]
            event = model.Event(
                meta["event_id"] if meta["by"] != sla.SYSTEM else new_ulid(now), now,
                meta["by"], "notice", rule=f"notice: {meta['key']}",
                note=f"{meta['template']} → {to['name']} <{to['email']}>: "
                     f"{meta.get('subject', '')}".strip(),
                visibility="public" if to["role"] == "customer" else "internal")
            touched[meta["relpath"]] = self._settle(model.append(self.rules.schema, ticket,
                                                                 event))
        for relpath, ticket in touched.items():
            change.write(relpath, store.encode_ticket(ticket))
        numbers = ", ".join(t.number for t in touched.values())
        body = "\n".join(f"{e.meta['number']}: {e.meta['template']} to {e.meta['to']['email']}"
                         for e in done)
        return change.commit(f"notify: {len(done)} notice(s) delivered", body,
                             trailers_for(numbers, "notify"), SYSTEM, now)

    def _absorb_hand_edits(self, ticket: model.Ticket, now: datetime) -> model.Ticket:
        """Record committed hand edits of the snapshot as an event, so history explains them."""
        edits = model.hand_edits(ticket)
        if not edits:
            return ticket
        event = model.Event(new_ulid(now), now, "hand-edit", "hand-edit", edits,
                            note="the file was edited by hand; svcdesk recorded the difference")
        return model.append(self.rules.schema, ticket, event)

    def comment(self, ref: TicketRef, text: str, internal: bool = False) -> model.Ticket:
        """Add a progress note (public by default: the customer may be told)."""
        if not text or not text.strip():
            raise ValidationError("a comment needs text (-m TEXT)")
        visibility = "internal" if internal else "public"

        def build(ticket, now, actor):
            event = model.Event(new_ulid(now), now, actor.key, "comment", note=text.strip(),
                                visibility=visibility)
            return model.append(self.rules.schema, ticket, event)

        first_line = text.strip().splitlines()[0]
        kind = "internal note" if internal else "comment"
        return self._update(ref, "comment", build, f"{kind}: {first_line[:60]}", text.strip())

    def edit_form(self, ref: TicketRef) -> tuple:
        """(form text, file bytes it was made from) for editing a ticket by hand."""
        ticket, raw = store.read_ticket(self.root, self.rules.schema, self.locate(ref))
        return self.form_text(ticket.fields, ticket.fields.get("type"), ticket.number), raw

    def form_text(self, values: dict, kind: str | None, number: str | None = None) -> str:
        """A YAML form of the editable fields, with comments saying what each takes."""
        schema = self.rules.schema
        editable = {k: v for k, v in model.flatten(values).items()
                    if k in schema.specs and schema.specs[k].editable}
        required = self.rules.types[kind].required if kind in self.rules.types else ()
        for name in required:
            editable.setdefault(name, None)
        nested: dict = {}
        for name in schema.specs:
            if name in editable:
                model.set_path(nested, name, editable[name] if editable[name] is not None
                               else "")
        lines = [f"# {number or 'New ticket'} — edit the values, save and close the editor.",
                 "# Empty the file to cancel. Required for this type: "
                 + (", ".join(required) or "nothing"),
                 "# Other fields you may add: " + ", ".join(
                     n for n, s in schema.specs.items() if s.editable and n not in editable),
                 ""]
        return "\n".join(lines) + store.dump_yaml(model.F.dump(nested))

    def apply_edit(self, ref: TicketRef, text: str, original: bytes) -> model.Ticket | None:
        """Apply an edited form; refuse it, changing nothing, when anything is wrong."""
        given = store.read_values(text, "the edited ticket")
        relpath = self.locate(ref)

        def build(ticket, now, actor):
            if (self.root / relpath).read_bytes() != original:
                raise ValidationError(f"{ticket.number} changed while you were editing it; "
                                      "run `svcdesk edit` again")
            values = self.check_values(given)
            missing = self.missing_fields(values)
            if missing:
                raise MissingFieldsError(values.get("type", "?"), missing)
            managed = {n: ticket.get(n) for n, s in self.rules.schema.specs.items()
                       if not s.editable and ticket.get(n) is not None}
            for name, value in managed.items():
                model.set_path(values, name, value)
            if not model.diff(ticket.fields, values):
                return None
            new, _ = model.change(self.rules.schema, ticket, values, new_ulid(now), now,
                                  actor.key, "edit")
            return new

        return self._update(ref, "edit", build, f"edited by {self.actor().key}")

    # ---- making a desk -------------------------------------------------------------------------

    @staticmethod
    def init(folder: Path, sample: bool = False, agent: str | None = None) -> "Desk":
        """Make ``folder`` a desk: rules.yaml, templates/, tickets/, .gitignore, first commit."""
        folder = folder.expanduser().resolve()
        if (folder / store.RULES).exists():
            raise DeskExistsError(f"{folder} is already a desk (it has {store.RULES}); "
                                  "nothing was changed")
        if folder.exists() and not folder.is_dir():
            raise DeskExistsError(f"{folder} exists and is not a folder")
        if (folder / "templates").exists() or (folder / store.TICKETS).exists():
            raise DeskExistsError(f"{folder} already has templates/ or tickets/; "
                                  "init will not overwrite them")
        folder.mkdir(parents=True, exist_ok=True)
        git = Git(folder)
        git.init()
        files = {store.RULES: (DEFAULTS / "rules.yaml").read_bytes(),
                 f"{store.TICKETS}/.gitkeep": b""}
        templates = DEFAULTS / "templates"
        for path in sorted(templates.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files["templates/" + path.relative_to(templates).as_posix()] = path.read_bytes()
        gitignore = folder / ".gitignore"
        existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
        if ".svcdesk-tmp" not in existing:
            files[".gitignore"] = (existing + ("\n" if existing and not
                                               existing.endswith("\n") else "") +
                                   GITIGNORE).encode()
        desk = Desk.__new__(Desk)
        desk.root, desk.git = folder, git
        desk.state_dir = git.git_dir / STATE
        desk.rules = store.rules_from_text(files[store.RULES].decode("utf-8"),
                                           str(DEFAULTS / "rules.yaml"))
        desk._agent, desk._command, desk._actor = agent, "init", None
        try:
            actor = desk.actor()
        except UsageError:
            actor = Actor("svcdesk", Identity("svcdesk", "svcdesk@localhost"))
        desk._actor = actor
        now = desk.now()
        with desk._change() as change:
            for path, data in files.items():
                change.write(path, data)
            change.commit(f"Make the desk {desk.rules.name}",
                          "rules.yaml, templates/ and tickets/ from the svcdesk defaults.",
                          trailers_for(None, "init"), actor.identity, now)
        desk = Desk(folder, agent, "init")
        desk._actor = actor
        if sample:
            fill_sample(desk)
        return desk


def _moment(stamp, tz) -> datetime | None:
    return datetime.fromtimestamp(stamp, tz) if stamp is not None else None


def _hand_set(ticket: model.Ticket) -> frozenset:
    """Fields whose latest value a person chose (at intake, by edit, by hand): the rules
    never override them. An event that names a rule is the rules' doing."""
    last: dict = {}
    for event in ticket.events:
        if event.fields is not None:
            last.update(dict.fromkeys(model.flatten(event.fields), True))
        last.update(dict.fromkeys(event.changes, event.rule is None))
    return frozenset(path for path, by_hand in last.items() if by_hand)


def _subject(event: model.Event) -> str:
    """A commit subject that says what the event did: assign to li.qiang (rule: ...)."""
    new = {path: after for path, (_, after) in event.changes.items()}
    text = event.action
    if event.action in ("assign", "escalate") and new.get("assignee"):
        text += f" to {new['assignee']}"
    elif event.action == "classify":
        text += ": " + ", ".join(f"{k} {v}" for k, v in new.items()
                                 if k in ("type", "category", "team", "priority"))
    elif event.action == "priority":
        text += f" {new.get('priority')}"
    elif event.action == "resolve" and new.get("resolution"):
        text += f": {new['resolution'].splitlines()[0][:60]}"
    elif event.action == "close" and new.get("csat"):
        text += f" (CSAT {new['csat']})"
    if event.note and event.action not in ("classify", "assign") and \
            event.action != "resolve":
        text += f": {event.note.splitlines()[0][:60]}"
    if event.rule:
        text += f" (rule: {event.rule})"
    return text


def _summary(trail) -> str:
    """The reasoning of a rules step, as recorded on the ticket."""
    return "\n".join(line.strip() for line in trail)


def fill_sample(desk: "Desk", count: int = 40) -> int:
    """Add ``count`` sample tickets with histories, one commit per event."""
    from svcdesk.domain import sample

    rules, now = desk.rules, desk.now()
    timeline, settled = [], {}
    for ticket, event in sample.tickets(rules, now, count):
        # each state as svcdesk would have kept it: the sla: block in step with the history
        events = settled.get(ticket.number, ()) + (event,)
        ticket = desk._settle(model.Ticket(model.ordered_fields(
            rules.schema, model.replay(events)), events))
        settled[ticket.number] = ticket.events
        timeline.append((ticket, ticket.events[-1]))
    commits = []
    for ticket, event in timeline:
        agent = rules.agents.get(event.by)
        who = Identity(agent.name, agent.email) if agent else desk.actor().identity
        subject = f"{ticket.number}: {event.action}"
        if event.action == "create":
            subject += f" {ticket.fields['type']} ticket: {ticket.fields.get('title', '')}"
        elif event.note:
            subject += ": " + event.note.splitlines()[0]
        commits.append(({store.ticket_relpath(ticket.number): store.encode_ticket(ticket)},
                         subject + "\n\n" + "".join(
                             f"{k}: {v}\n" for k, v in
                             trailers_for(ticket.number, event.action).items()),
                         who, event.at))
    with desk._change() as change:
        change.import_commits(commits)
    return len({t.number for t, _ in timeline})
