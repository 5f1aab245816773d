"""Notices and reports as mail: rendered from Jinja templates in a sandbox, as RFC 5322
messages threaded per ticket.

A template is ``templates/notices/NAME.j2`` (Chinese) or ``NAME.en.j2`` (English): its first
line is the subject, the rest (after a blank line) the body. The desk's own templates win
over the ones svcdesk ships, which stay reachable as ``svcdesk/notices/NAME.j2``.
"""

import hashlib
from datetime import datetime
from functools import cache

from svcdesk.domain.notices import Notice, Recipient, full_subject, one_line


# ---- rendering ----------------------------------------------------------------------------


def render(renderer, template: str, context: dict) -> tuple:
    """(subject, body) of notice ``template``; raise TemplateError naming file and line."""
    text = renderer.text("notices", template, "", context)
    head, _, body = text.lstrip("\n").partition("\n")
    return one_line(head.removeprefix("Subject:").strip()), body.lstrip("\n")


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
