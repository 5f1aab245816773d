"""Ticket identity: the immutable ULID (`uid`) and the human number SD-YYYYMMDD-NNNN."""

import base64
import hashlib
import os
import re
from datetime import date, datetime
from typing import NamedTuple

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())
_last = [0, 0]  # (milliseconds, randomness) of the last ULID this process made

NUMBER_RE = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]{0,9})-(?P<date>\d{8})-(?P<seq>\d{4,6})$")
_REF_RE = re.compile(
    r"^(?:(?P<prefix>[A-Za-z][A-Za-z0-9]{0,9})-)?(?P<date>\d{1,8})-(?P<seq>\d{1,6})$"
)
PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")


def fixed_ulid(moment: datetime, seed: bytes) -> str:
    """A ULID for ``moment`` whose random part comes from ``seed``: the same inputs give the
    same id in every clone (for what a merge records, which must come out alike anywhere)."""
    rand = int.from_bytes(hashlib.sha256(seed).digest()[:10], "big")
    return _ulid_text((int(moment.timestamp() * 1000) << 80) | rand)


def new_ulid(moment: datetime) -> str:
    """Return a ULID for ``moment``; ULIDs made in one process strictly increase."""
    ms = int(moment.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    if ms <= _last[0]:
        # Same (or a pinned) millisecond: keep order by counting up from the last one.
        ms, rand = _last[0], _last[1] + 1
    _last[0], _last[1] = ms, rand
    return _ulid_text((ms << 80) | (rand & ((1 << 80) - 1)))


def _ulid_text(value: int) -> str:
    # 26 base-32 digits of the 130-bit number: pad to 160 bits and let base64 do the work
    digits = base64.b32encode((value << 30).to_bytes(20, "big"))[:26]
    return digits.translate(_FROM_RFC4648).decode()


def format_number(prefix: str, day: date, seq: int) -> str:
    """Return the ticket number for the ``seq``-th ticket of ``day``."""
    return f"{prefix}-{day:%Y%m%d}-{seq:04d}"


def renumbering(clashing: list, taken) -> list:
    """[(old, new)]: each of the ``clashing`` numbers (in order) given the next number of its
    day and prefix past every one ``taken`` (the numbers either side holds) and every one
    given before it, so that none is given twice or given back."""
    highest: dict = {}
    for number in taken:
        m = NUMBER_RE.match(number)
        if m:
            key = (m["prefix"], m["date"])
            highest[key] = max(highest.get(key, 0), int(m["seq"]))
    out = []
    for old in clashing:
        prefix, day, seq = parse_number(old)
        key = (prefix, f"{day:%Y%m%d}")
        highest[key] = max(highest.get(key, 0), seq) + 1
        out.append((old, format_number(prefix, day, highest[key])))
    return out


class TicketRef(NamedTuple):
    """What a user typed to name a ticket: a full number or a unique suffix of one."""

    prefix: str | None
    date_suffix: str
    seq: int

    @property
    def is_full(self) -> bool:
        """True when the date is complete, so the file can be found without a search."""
        return len(self.date_suffix) == 8

    def matches(self, number: str) -> bool:
        """True when ``number`` (a well-formed ticket number) is named by this reference."""
        m = NUMBER_RE.match(number)
        if not m:
            return False
        if self.prefix is not None and m["prefix"] != self.prefix:
            return False
        return m["date"].endswith(self.date_suffix) and int(m["seq"]) == self.seq

    def __str__(self):
        head = f"{self.prefix}-" if self.prefix else ""
        return f"{head}{self.date_suffix}-{self.seq:04d}"


def parse_ref(text: str) -> TicketRef:
    """Parse a ticket reference, case-insensitively; raise ValueError when malformed."""
    m = _REF_RE.match(text.strip()) if text else None
    if not m:
        raise ValueError(
            f"{text!r} is not a ticket ID (expected PREFIX-YYYYMMDD-NNNN, "
            "or a unique end of one such as 20261122-3)"
        )
    prefix = m["prefix"].upper() if m["prefix"] else None
    if len(m["date"]) == 8:
        try:
            datetime.strptime(m["date"], "%Y%m%d")
        except ValueError:
            raise ValueError(f"{text!r} names no real date ({m['date']})") from None
    return TicketRef(prefix, m["date"], int(m["seq"]))


def parse_number(number: str) -> tuple[str, date, int]:
    """Split a well-formed ticket number into prefix, day and sequence."""
    m = NUMBER_RE.match(number)
    if not m:
        raise ValueError(f"{number!r} is not a ticket number")
    return m["prefix"], datetime.strptime(m["date"], "%Y%m%d").date(), int(m["seq"])
