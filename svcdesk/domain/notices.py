"""Notices: which ticket events tell whom, and what a notice's template is given to say
it (adapters/mail renders it and makes the message)."""

import hashlib
import re
from dataclasses import dataclass
from svcdesk.base import fields as F
from svcdesk.base import model
from svcdesk.domain import sla
from svcdesk.domain.rules import NOTICE_EVENTS

EVENTS = NOTICE_EVENTS  # what rules.yaml may route, and what notify preview/send accept
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to."""

    role: str  # customer, assignee, team_lead, manager, team, or address
    name: str
    email: str


@dataclass(frozen=True)
class Notice:
    """One notice to send: what triggered it and to whom (rendered later)."""

    number: str
    uid: str
    event_id: str
    event: str  # one of EVENTS
    template: str
    recipient: Recipient

    @property
    def key(self) -> str:
        """What makes it one notice: never sent twice."""
        return f"{self.event_id}/{self.template}/{self.recipient.email.casefold()}"

    @property
    def file_stem(self) -> str:
        """A file name for it in the outbox."""
        digest = hashlib.sha1(self.key.encode()).hexdigest()[:12]
        return f"{self.number}-{self.template}-{digest}"


def triggers(event) -> list:
    """The notice events one ticket event triggers (created, assigned, resolved...)."""
    action, changes = event.action, event.changes
    if action == "create":
        return ["created"]
    out = []
    if action == "comment":
        return ["commented"] if event.visibility != "internal" else []
    if action == "remind":
        return ["waiting_reminder"]
    if action == "quote":
        return ["quoted"]
    if action == "sla" and event.rule:
        if event.rule.startswith(("warn:", "update:")):
            return ["sla_warning"]
        if event.rule.startswith("breach:"):
            return ["breached"]
        if event.rule.startswith("escalation:"):
            return ["escalated"]
        return []
    if action == "escalate":
        out.append("escalated")
    elif "assignee" in changes and changes["assignee"][1]:
        out.append("assigned")
    if "status" in changes:
        if action == "resolve":
            out.append("resolved")
        elif action == "close":
            out.append("closed")
            if event.changes.get("csat") is None:
                out.append("survey")
        elif action not in ("assign", "escalate"):
            out.append("status_changed")
    return out


def recipients(roles, fields: dict, rules) -> list:
    """The people ``roles`` (roles or addresses) name for a ticket; those without an
    address are left out."""
    out, seen = [], set()
    team = rules.teams.get(fields.get("team")) or {}

    def agent(key, role):
        found = rules.agents.get(key) if key else None
        return Recipient(role, found.name, found.email) if found else None

    for role in roles:
        if role == "customer":
            customer = fields.get("customer") or {}
            found = Recipient(role, customer.get("name") or customer.get("company") or "",
                              customer["email"]) if customer.get("email") else None
        elif role == "assignee":
            found = agent(fields.get("assignee"), role)
        elif role == "team_lead":
            found = agent(team.get("lead"), role)
        elif role == "manager":
            found = agent(rules.manager, role)
        elif role == "team":
            found = Recipient(role, team.get("label", ""), team["email"]) \
                if team.get("email") else None
        else:
            found = Recipient("address", "", role)
        if found is not None and found.email.casefold() not in seen:
            seen.add(found.email.casefold())
            out.append(found)
    return out


def one_line(text: str) -> str:
    """``text`` with every line break made a space: nothing can start a new header."""
    return _LINE_BREAKS.sub(" ", text or "").strip()


def full_subject(notice: Notice, subject: str) -> str:
    """The subject with the ticket number in it, on one line."""
    tag = f"[{notice.number}]"
    return one_line(subject if tag in subject else f"{tag} {subject}")


def about(rules, ticket) -> dict:
    """What every template about a ticket is given: the ticket (every field the schema knows,
    None when empty, so a template may test any of them while a misspelt name still stops
    it) and its labels."""
    f = ticket.fields
    full: dict = {}
    for name in rules.schema.specs:
        head, _, rest = name.partition(".")
        if rest:
            full.setdefault(head, {})[rest] = None
        else:
            full[name] = None
    for key, value in F.dump(f).items():
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
    }


def reply_context(rules, ticket, agent_key: str) -> dict:
    """What a canned reply (templates/replies) is given: the ticket, as for a notice, and
    the agent answering."""
    agent = rules.agents.get(agent_key)
    return {**about(rules, ticket),
            "agent": {"key": agent_key, "name": agent.name if agent else agent_key,
                      "email": agent.email if agent else None}}


def context(rules, ticket, event, notice: Notice, level, step) -> dict:
    """What a notice's template is given: the ticket (every field the schema knows, None when
    empty, so a template may test any of them while a misspelt name still stops it), its
    labels, its clocks (``level``, as of the event), the event and the recipient. ``step``
    is the ladder step the event took, if any."""
    f = ticket.fields
    rule = event.rule or ""
    target = step.target if step else ("update" if rule.startswith("update:") else
                                       rule.partition(": ")[2] or "response")
    plain = level.plain() if level else {}
    by = rules.agents[event.by].name if event.by in rules.agents else event.by
    return {
        **about(rules, ticket),
        "sla": {"policy": plain.get("policy"), "response": plain.get("response"),
                "resolution": plain.get("resolution"), "progress": plain.get("update")},
        "target": target if target in sla.TARGETS + ("update",) else "response",
        "step": step.name if step else None,
        "event": {"action": event.action, "note": event.note or "", "by": by,
                  "at": event.at, "rule": event.rule or ""},
        "recipient": {"name": notice.recipient.name, "role": notice.recipient.role,
                      "email": notice.recipient.email},
        "missing": _missing(rules, f),
    }


def _missing(rules, fields: dict) -> list:
    """What the ticket's type requires and it still lacks (a request taken in by mail
    without them), each {field, label, label_en}, for the acknowledgement to ask for."""
    kind = rules.types.get(fields.get("type"))
    if kind is None:
        return []
    out = []
    for name in model.missing_required(kind.required, fields):
        spec = rules.schema.specs.get(name)
        out.append({"field": name, "label": spec.label if spec else name,
                    "label_en": (spec.label_en or name) if spec else name})
    return out
