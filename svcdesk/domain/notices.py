"""Notices: which ticket events tell whom, and what a notice's template is given to say
it (adapters/mail renders it and makes the message)."""

import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from svcdesk.base import fields as F
from svcdesk.base import model
from svcdesk.domain import sla, workflow
from svcdesk.domain.rules import NOTICE_EVENTS, NOTIFY_ROLES

EVENTS = NOTICE_EVENTS  # what rules.yaml may route, and what notify preview/send accept
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


class Route(NamedTuple):
    """One line of notices.events: a template, to whom, and how people are told."""

    template: str
    to: tuple  # roles, email addresses, group channels
    via: tuple = ("email",)  # email and/or sms channels


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to, and how: an email address, a phone by an SMS channel, or a
    group channel itself (its name is its address)."""

    role: str  # customer, assignee, team_lead, manager, team, address, or channel
    name: str
    address: str
    channel: str = "email"

    @property
    def email(self) -> str | None:
        return self.address if self.channel == "email" else None


@dataclass(frozen=True)
class Notice:
    """One notice to send: what triggered it and to whom (rendered later)."""

    number: str
    uid: str
    event_id: str
    event: str  # one of EVENTS, or one an action declares
    template: str
    recipient: Recipient

    @property
    def key(self) -> str:
        """What makes it one notice: never sent twice."""
        to = self.recipient
        where = to.address.casefold() if to.channel == "email" else \
            f"{to.channel}:{to.address.casefold()}"
        return f"{self.event_id}/{self.template}/{where}"

    @property
    def file_stem(self) -> str:
        """A file name for it in the outbox."""
        digest = hashlib.sha1(self.key.encode()).hexdigest()[:12]
        return f"{self.number}-{self.template}-{digest}"


def triggers(event, transitions: dict | None = None) -> list:
    """The notice events one ticket event triggers (created, assigned, resolved...): a
    workflow action queues those its declaration lists."""
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
    if action == "progress":  # the customer asked where the ticket stands
        return ["progress"]
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
    rule = (transitions or {}).get(action)
    if rule is not None:
        if "status" in changes or rule.notices is not None:
            out += [n for n in rule.queues() if n not in out and not (
                n == "survey" and changes.get("csat") is not None)]
    elif action in workflow.DEFAULT_NOTICES:  # a visit's step the workflow does not declare
        out += list(workflow.DEFAULT_NOTICES[action])
    elif "status" in changes:
        out.append("status_changed")
    return out


def recipients(route: Route, fields: dict, rules) -> list:
    """The notices' recipients ``route`` names for a ticket, one per way each is told;
    people without the address a way needs (an email, a mobile) are left out."""
    out, seen = [], set()
    team = rules.teams.get(fields.get("team")) or {}
    channels = rules.notices.channels if rules.notices else {}

    def person(role):
        if role == "customer":
            c = fields.get("customer") or {}
            return c.get("name") or c.get("company") or "", c.get("email"), c.get("phone")
        if role == "team":
            return team.get("label", ""), team.get("email"), None
        key = {"assignee": fields.get("assignee"), "team_lead": team.get("lead"),
               "manager": rules.manager}.get(role)
        found = rules.agents.get(key) if key else None
        return (found.name, found.email, found.phone) if found else ("", None, None)

    def add(found):
        key = (found.channel, found.address.casefold())
        if key not in seen:
            seen.add(key)
            out.append(found)

    for who in route.to:
        if who in channels:
            add(Recipient("channel", who, who, who))
        elif who not in NOTIFY_ROLES:
            add(Recipient("address", "", who))
        else:
            name, email, phone = person(who)
            for way in route.via:
                if way == "email" and email:
                    add(Recipient(who, name, email))
                elif way != "email" and phone:
                    add(Recipient(who, name, phone, way))
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
        "status_key": f.get("status"),
        "priority": f"{f.get('priority')} {rules.label('priorities', f.get('priority'))}",
        "type": rules.label("types", f.get("type")),
        "assignee": rules.label("agents", f["assignee"]) if f.get("assignee") else "",
        "engineer": rules.label("agents", full["visit"]["engineer"])
        if full["visit"]["engineer"] else "",
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
        "notice": notice.event,
        "action": rules.label("actions", event.action),
        "recipient": {"name": notice.recipient.name, "role": notice.recipient.role,
                      "email": notice.recipient.email, "channel": notice.recipient.channel},
        "missing": _missing(rules, f),
        "public": public_history(rules, ticket.events),
    }


SHOWN_MOST = 10  # steps of a ticket's history a progress reply lists


def public_history(rules, events) -> list:
    """What a customer may see of a ticket's history, newest last: each change of status
    (with its note only when that was public), public comments and the visit's steps; never
    an internal note, a classification or who was chosen and why."""
    out = []
    for e in events:
        note = e.note if e.visibility == "public" and e.action != "progress" else ""
        if "status" in e.changes:
            said = rules.label("statuses", e.changes["status"][1])
        elif e.action == "comment" and e.visibility == "public":
            said = ""
        elif e.action in ("visit", "depart", "arrive", "leave"):
            said = rules.label("actions", e.action)
        elif e.action == "create":
            said = rules.label("statuses", (e.fields or {}).get("status"))
        else:
            continue
        out.append({"at": e.at, "what": said, "note": note or ""})
    return out[-SHOWN_MOST:]


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
