"""Notices: which ticket events tell whom, rendered from Jinja templates in a sandbox, as
RFC 5322 messages threaded per ticket.

A template is ``templates/notices/NAME.j2`` (Chinese) or ``NAME.en.j2`` (English): its first
line is the subject, the rest (after a blank line) the body. The desk's own templates win
over the ones svcdesk ships, which stay reachable as ``svcdesk/notices/NAME.j2``.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

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


# ---- rendering ----------------------------------------------------------------------------


def render(renderer, template: str, context: dict) -> tuple:
    """(subject, body) of notice ``template``; raise TemplateError naming file and line."""
    text = renderer.text("notices", template, "", context)
    head, _, body = text.lstrip("\n").partition("\n")
    return one_line(head.removeprefix("Subject:").strip()), body.lstrip("\n")


def one_line(text: str) -> str:
    """``text`` with every line break made a space: nothing can start a new header."""
    return _LINE_BREAKS.sub(" ", text or "").strip()


# ---- messages -------------------------------------------------------------------------------


def message(notice: Notice, subject: str, body: str, sender: Recipient, domain: str,
            at: datetime) -> bytes:
    """The RFC 5322 message, CRLF line ends: the ticket number in the subject, threaded per
    ticket, non-ASCII headers RFC 2047 encoded, the body UTF-8. (The compat32 generator:
    three times as fast as the modern one, which matters when sla check queues hundreds.)"""
    from email.header import Header
    from email.mime.text import MIMEText
    from email.utils import format_datetime

    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = _address(sender)
    msg["To"] = _address(notice.recipient)
    msg["Subject"] = Header(full_subject(notice, subject), "utf-8")
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{hashlib.sha1(notice.key.encode()).hexdigest()[:20]}." \
                        f"{notice.uid.lower()}@{domain}>"
    thread = f"<{notice.uid.lower()}@{domain}>"
    msg["In-Reply-To"] = thread
    msg["References"] = thread
    msg["X-Svcdesk-Ticket"] = notice.number
    msg["X-Svcdesk-Notice"] = one_line(notice.key)
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes(policy=_wire())


@cache
def _wire():
    """CRLF line ends, as SMTP expects. (The email package is imported only to write a
    message: ~25 ms that a command sending no notice does not pay.)"""
    from email import policy

    return policy.compat32.clone(linesep="\r\n")


def full_subject(notice: Notice, subject: str) -> str:
    """The subject with the ticket number in it, on one line."""
    tag = f"[{notice.number}]"
    return one_line(subject if tag in subject else f"{tag} {subject}")


def _address(person: Recipient) -> str:
    from email.header import Header
    from email.utils import formataddr

    name = one_line(person.name)
    if name and not name.isascii():
        name = Header(name, "utf-8").encode()
    return formataddr((name, wire_address(person.email)))


def wire_address(email: str) -> str:
    """``email`` as it travels: an internationalised domain in IDNA (例子.cn becomes
    xn--fsqu00a.cn); raise ValueError for a non-ASCII local part, which needs SMTPUTF8."""
    local, _, domain = one_line(email).rpartition("@")
    if not local.isascii():
        raise ValueError(f"{email}: a non-ASCII name before the @ needs SMTPUTF8, which "
                         "svcdesk does not send")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{email}: the domain is not a valid internationalised name") \
            from None
    return f"{local}@{domain}"


def report_message(subject: str, text: str, html: str | None, sender_name: str,
                   sender_email: str, to: list, at: datetime) -> bytes:
    """A report as an email: the Markdown as text, the HTML page as its alternative."""
    from email.header import Header
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.utils import format_datetime

    msg = MIMEMultipart("alternative") if html else MIMEText(text, "plain", "utf-8")
    if html:
        msg.attach(MIMEText(text, "plain", "utf-8"))
        msg.attach(MIMEText(html, "html", "utf-8"))
    msg["From"] = _address(Recipient("sender", sender_name, sender_email))
    msg["To"] = ", ".join(_address(Recipient("to", "", a)) for a in to)
    msg["Subject"] = Header(one_line(subject), "utf-8")
    msg["Date"] = format_datetime(at)
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes(policy=_wire())
