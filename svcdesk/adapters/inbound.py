"""Mail coming in: one RFC 5322 message read into what the desk needs of it.

Messages reach an after-sales mailbox from every kind of client, so the reading is lenient
where mail is: bytes valid as UTF-8 are UTF-8 whatever the label; a label of GB2312 on GBK
text is read as GB18030, their superset; no label or a wrong one, as GB18030 when the bytes
are valid in it, else as charset-normalizer guesses from them; raw 8-bit headers alike;
RFC 2047 encoded words split across a subject; HTML-only bodies (html2text). What cannot be
read at all raises MessageError, and the caller keeps the message whole.
"""

import email
import email.utils
import hashlib
import re
from datetime import datetime
from email.header import Header, decode_header
from email.message import Message
from typing import NamedTuple

from svcdesk.adapters.encodings import decode_bytes

MAX_BYTES = 25 * 1024 * 1024  # a message larger than this is kept aside, not read
MAX_TEXT = 50_000  # characters of body text a ticket takes (the rest is cut, and said so)
_ID = re.compile(r"<([^<>\s]+)>")


class MessageError(ValueError):
    """A message that cannot be read as mail."""


class Inbound(NamedTuple):
    """What a message says, for the desk."""

    key: str  # its Message-ID without brackets, or sha256:<digest of the bytes>
    subject: str
    sender_name: str
    sender_email: str
    date: datetime | None
    replies_to: tuple  # the ids of In-Reply-To and References, nearest first
    text: str  # the body as readable text (HTML turned into text)
    machine: str | None  # why it is a machine's mail (auto-reply, bounce, list), or None
    ours: bool  # one of the desk's own notices coming back
    attachments: tuple  # (file name, bytes) of the attached files
    raw: bytes


def parse(raw: bytes) -> Inbound:
    """Read one message; MessageError when it is not mail at all or too large."""
    if len(raw) > MAX_BYTES:
        raise MessageError(f"{len(raw):,} bytes, over the {MAX_BYTES:,} a message may have")
    if not raw.strip():
        raise MessageError("an empty message")
    try:
        msg = email.message_from_bytes(raw)
    except Exception as exc:  # the parser is lenient; this is the rare hard failure
        raise MessageError(f"not a mail message ({type(exc).__name__})") from None
    sender = header_text(msg.get("From", ""))
    name, address = email.utils.parseaddr(sender)
    if "@" not in address:
        sender_reply = header_text(msg.get("Reply-To", "") or msg.get("Sender", ""))
        name2, address = email.utils.parseaddr(sender_reply)
        name = name or name2
    if "@" not in address:
        raise MessageError(f"no sender address in From: {sender[:80]!r}")
    message_id = _ids(msg.get("Message-ID", ""))
    key = message_id[0] if message_id else \
        "sha256:" + hashlib.sha256(raw).hexdigest()
    replies = _ids(msg.get("In-Reply-To", "")) + list(reversed(_ids(msg.get("References", ""))))
    text, files = _body(msg)
    return Inbound(key, header_text(msg.get("Subject", "")).strip(), name.strip(),
                   address.strip().lower(), _date(msg.get("Date")),
                   tuple(dict.fromkeys(replies)), text, machine_reason(msg, address),
                   msg.get("X-Svcdesk-Notice") is not None, tuple(files), raw)


def header_text(value) -> str:
    """A header's text: RFC 2047 words decoded (adjacent ones joined), raw 8-bit bytes read
    as UTF-8 or GB18030, line breaks folded to spaces."""
    if value is None:
        return ""
    if not isinstance(value, (str, Header)):
        value = str(value)
    try:  # a Header (raw 8-bit bytes in the header) decodes to its bytes, 'unknown-8bit'
        parts = decode_header(value)
    except Exception:
        parts = [(str(value), None)]
    out = []
    for part, charset in parts:
        if isinstance(part, str):
            out.append(_unescape(part))
        else:
            out.append(decode_bytes(part, charset))
    return re.sub(r"\s*[\r\n]+\s*", " ", "".join(out))


def machine_reason(msg: Message, address: str) -> str | None:
    """Why a message is a machine's, not a person's: an auto-reply or out-of-office, a
    bounce, mailing-list traffic; None for a person's mail."""
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponse"):
        if msg.get(name) is not None:
            return f"{name} (an auto-reply)"
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return "mailing-list traffic (List-Id)"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    local = address.split("@", 1)[0].lower()
    if local in ("mailer-daemon", "postmaster"):
        return f"a bounce (from {local})"
    subject = header_text(msg.get("Subject", "")).lower()
    if subject.startswith(("auto:", "自动回复", "automatic reply", "out of office")):
        return f"an auto-reply (subject {subject[:40]!r})"
    return None


def _body(msg: Message) -> tuple:
    """(readable text, [(file name, bytes)]): the first text/plain part, else the first
    text/html part turned into text; parts with a file name are attachments."""
    plain = html = None
    files = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = (part.get("Content-Disposition") or "").lower()
        if filename or disposition.startswith("attachment"):
            data = part.get_payload(decode=True) or b""
            files.append((header_text(filename or "attachment"), data))
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        data = part.get_payload(decode=True)
        if data is None:
            continue
        text = decode_bytes(data, part.get_content_charset())
        if kind == "text/plain" and plain is None:
            plain = text
        elif kind == "text/html" and html is None:
            html = text
    if plain is None and html is not None:
        import html2text  # only for mail that has no plain text

        reader = html2text.HTML2Text()
        reader.body_width = 0
        reader.ignore_images = True
        reader.ignore_emphasis = True
        plain = reader.handle(html)
    text = (plain or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "".join(c for c in text if c in "\n\t" or ord(c) >= 32)  # no control characters
    return text, files


def _ids(value) -> list:
    return [m.lower() for m in _ID.findall(header_text(value))]


def _date(value):
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _unescape(text: str) -> str:
    """A header the parser kept as text with raw 8-bit bytes escaped in it."""
    if not any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        return text
    return decode_bytes(text.encode("ascii", "surrogateescape"), None)
