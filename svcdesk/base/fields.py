"""Field types: how a value typed by a person or read from a file becomes a checked value."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

TYPES = ("string", "text", "enum", "date", "datetime", "phone", "email", "integer", "list",
         "money")
# The most characters a value may have when a person gives it (a list: each item). A title
# of 100,000 characters is no title, and everything that shows it (tables, subjects, notices)
# would pay for it. Files written before keep what they hold.
MAX_LENGTH = {"string": 200, "enum": 200, "phone": 40, "email": 254, "list": 100,
              "text": 50_000, "money": 20}
MOST_MONEY = Decimal("100000000")  # 1亿元: more than any after-sales fee, less than a typo's

_EMAIL_LOCAL_RE = re.compile(r"[^@\s<>(),;:\"\[\]]+")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PHONE_RE = re.compile(r"^\+?\d{5,20}(?:(?:ext\.?|x|转|#)\d{1,6})?$", re.IGNORECASE)
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_CN_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f]")  # control characters and line breaks
_LIST_SPLIT_RE = re.compile(r"[,，、]")
_MONEY_RE = re.compile(r"^(?:¥|￥|RMB|CNY)?\s*(\d{1,9}(?:\.\d+)?)\s*(?:元)?$", re.IGNORECASE)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class FieldSpec:
    """One ticket field: its dotted name, type, labels and constraints."""

    name: str
    type: str
    label: str
    label_en: str = ""
    choices: dict = field(default_factory=dict)  # enum: key -> label
    editable: bool = True  # False: managed by svcdesk (id, status, history...)
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""
    custom: bool = False

    def describe(self) -> str:
        """A short human description of what the field accepts."""
        if self.type == "enum":
            return "one of " + ", ".join(f"{k} ({v})" if v and v != k else k
                                          for k, v in self.choices.items())
        return {
            "date": "a date, YYYY-MM-DD",
            "datetime": "a time, ISO 8601 (2026-11-22T09:30:00+08:00)",
            "phone": "a phone number (13800000000, 0571-88886666, +86 138 0000 0000)",
            "email": "an email address",
            "integer": "a whole number" + (
                f" from {self.minimum} to {self.maximum}"
                if self.minimum is not None and self.maximum is not None else ""),
            "list": f"a list (comma-separated on the command line; items up to "
                    f"{MAX_LENGTH['list']} characters)",
            "text": f"text (several lines allowed, up to {MAX_LENGTH['text']:,} characters)",
            "money": "an amount in yuan with at most two decimals (120, 86.50, ¥86.5)",
        }.get(self.type, f"a single line of text (up to {MAX_LENGTH['string']} characters)")


def is_email(text: str) -> bool:
    """Whether ``text`` is an address: a local part, then a domain of two or more labels of
    letters, digits and hyphens, not starting with a hyphen; any non-ASCII letter counts
    (IDN domains, 例子.中国). Written out, since a regex with the wide ranges takes ~15 ms to
    compile at start-up."""
    local, at, domain = text.partition("@")
    if not at or not _EMAIL_LOCAL_RE.fullmatch(local) or domain[:1] == "-":
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(
        label and all(c in _ASCII_ALNUM or c == "-" or "\u00a1" <= c <= "\uffff" for c in label)
        for label in labels)


def parse(spec: FieldSpec, raw, tz: tzinfo, strict: bool = True):
    """Return the checked value of ``raw`` for ``spec``; raise ValueError saying what is wrong.

    ``strict`` is for what people type now; files written under older rules are read with
    ``strict=False``, which accepts an enum key the rules no longer list.
    """
    if raw is None:
        return None
    kind = spec.type
    if strict:
        _no_surrogates(raw)
    if type(raw) is str and (kind == "string" or kind == "enum"):  # most values: be quick
        text = raw.strip()
        if not text:
            return None
        if "=?" in text:  # an RFC 2047 encoded word is decoded, then checked as any text
            text = _encoded_words(text)
        if _UNPRINTABLE_RE.search(text):
            _single_line(text)
        if strict:
            _short_enough(text, kind)
        return _enum(spec, text, strict) if kind == "enum" else text
    if strict:
        for item in raw if isinstance(raw, list) else [raw]:
            if isinstance(item, str):
                _short_enough(item.strip(), kind)
    if kind == "list":
        items = raw if isinstance(raw, list) else _LIST_SPLIT_RE.split(str(raw))
        values = [_single_line(str(v).strip()) for v in items]
        return [v for v in values if v] or None
    if isinstance(raw, (list, dict)):
        raise ValueError(f"expected {spec.describe()}, got a {'list' if isinstance(raw, list) else 'mapping'}")
    if isinstance(raw, datetime) and kind == "datetime":
        return raw if raw.tzinfo else raw.replace(tzinfo=tz)
    if isinstance(raw, date) and kind == "date" and not isinstance(raw, datetime):
        return raw
    text = str(raw)
    if kind == "text":
        text = text.replace("\r\n", "\n")
        if _CONTROL_RE.search(text):
            raise ValueError("contains control characters")
        return text if text.strip() else None
    text = text.strip()
    if not text:
        return None
    if kind in ("string", "enum"):
        text = _single_line(text)
        if kind == "enum":
            return _enum(spec, text, strict)
        return text
    if kind == "phone":
        return _phone(text)
    if kind == "email":
        if not is_email(text):
            raise ValueError(f"{text!r} is not an email address")
        return text
    if kind == "date":
        return _date(text)
    if kind == "money":
        return money(text)
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not {spec.describe()}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if kind == "integer":
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if (spec.minimum is not None and number < spec.minimum) or (
                spec.maximum is not None and number > spec.maximum):
            raise ValueError(f"{number} is out of range ({spec.describe()})")
        return number
    raise ValueError(f"unknown field type {kind!r}")


def _no_surrogates(raw) -> None:
    """Refuse text holding a lone surrogate (JSON's "\\ud800", bytes that were no UTF-8): it
    is no character, and no file or terminal could take it."""
    for item in raw if isinstance(raw, list) else (raw,):
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"holds U+{ord(item[exc.start]):04X}, a lone surrogate, "
                                 "which is no character") from None


def dump(value):
    """Return ``value`` as plain text data (str, list, dict) for a ticket file."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)\s+(?==\?)")  # ignored between two encoded words


def _encoded_words(text: str) -> str:
    """``text`` with its RFC 2047 encoded words (=?utf-8?b?…?=) decoded: a name that hides
    a line break in one must not reach a mail header as text that a mail program decodes."""
    from email.header import decode_header

    def decoded(match):
        try:
            (data, charset), = decode_header(match.group(0))
            return data.decode(charset or "ascii") if isinstance(data, bytes) else data
        except (ValueError, LookupError, UnicodeError):  # not really one: as typed
            return match.group(0)

    return _ENCODED_WORD.sub(decoded, _BETWEEN_WORDS.sub("", text))


def _short_enough(text: str, kind: str) -> None:
    most = MAX_LENGTH.get(kind)
    if most is not None and len(text) > most:
        raise ValueError(f"is {len(text):,} characters long; at most {most:,} are allowed")


def _single_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError("must be a single line")
    if _CONTROL_RE.search(text):
        raise ValueError("contains control characters")
    return text


def _enum(spec: FieldSpec, text: str, strict: bool) -> str:
    if text in spec.choices:
        return text
    folded = text.casefold()
    for key, label in spec.choices.items():
        if folded == key.casefold() or (label and folded == str(label).casefold()):
            return key
    if not strict:
        return text
    raise ValueError(f"{text!r} is not {spec.describe()}")


def _phone(text: str) -> str:
    compact = _PHONE_SEPARATORS.sub("", text)
    if not _PHONE_RE.match(compact):
        raise ValueError(f"{text!r} is not a phone number")
    digits = re.match(r"\+?(\d+)", compact).group(1)
    if len(digits) < 7:
        raise ValueError(f"{text!r} is too short for a phone number")
    if not compact.startswith("+") and digits.startswith("1") and not _CN_MOBILE_RE.match(digits):
        raise ValueError(f"{text!r} is not a valid mobile number (1[3-9] and 9 more digits)")
    if compact.startswith("+86") and digits[2:].startswith("1") and not _CN_MOBILE_RE.match(digits[2:]):
        raise ValueError(f"{text!r} is not a valid Chinese mobile number")
    return text


def money(text) -> Decimal:
    """An amount in yuan as a Decimal of whole fen: "86.5", "¥86.50", "86.50元"; never a
    float, and never more than two decimals (a third is a mistake, not a rounding)."""
    if isinstance(text, Decimal):
        text = str(text)
    m = _MONEY_RE.match(str(text).strip().replace(",", ""))
    if not m:
        raise ValueError(f"{text!r} is not an amount in yuan (120, 86.50)")
    try:
        amount = Decimal(m[1])
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount in yuan (120, 86.50)") from None
    if amount != amount.quantize(FEN):
        raise ValueError(f"{text!r} has more than two decimals (amounts are kept in fen)")
    if amount > MOST_MONEY:
        raise ValueError(f"{text!r} is more than {MOST_MONEY:,} yuan")
    return amount.quantize(FEN)


def _date(text: str) -> date:
    m = _DATE_RE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date ({exc})") from None
