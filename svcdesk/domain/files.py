"""Attachments: what a file attached to a ticket is called and whether it may be stored.

A ticket's ``attachments:`` lists its files as ``<digest>/<name>``: the first 12 hex digits of
the file's SHA-256, then its name made safe. The entry names the file's place in the desk
(adapters.store.attachment_relpath), so two clones attaching different files of one name
never write the same path, and the same file attached twice is recognised by its digest.
"""

import hashlib
import re
import unicodedata
from typing import NamedTuple

DIGEST_LENGTH = 12
MAX_BYTES = 20 * 1024 * 1024  # one file, unless rules.yaml attachments.max_bytes says
MOST_FILES = 100  # files one command or one message may attach
NAME_LENGTH = 100 - DIGEST_LENGTH - 1  # an entry is a list item: at most 100 characters
NAME_BYTES = 200  # and a file name at most 255 bytes on most file systems
# control and reserved characters, and the bidi controls that make invoice\u202efdp.exe
# read as invoiceexe.pdf
_UNSAFE_RE = re.compile('[\x00-\x1f\x7f<>:"|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


class File(NamedTuple):
    """A file given to attach: the name it came with and its bytes."""

    name: str
    data: bytes


class Stored(NamedTuple):
    """A file to be written beside the ticket: its entry and bytes."""

    entry: str
    data: bytes


class Outcome(NamedTuple):
    """What attaching some files does: the ticket's new list, the files to write, and the
    files not stored, [(name, why)] in their order: ``too_large`` of them left out (a loss
    to deal with), the rest ``again`` (attached already: no loss)."""

    entries: list
    stored: list
    refused: list
    too_large: list

    @property
    def again(self) -> list:
        return [item for item in self.refused if item not in self.too_large]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(name: str) -> str:
    """``name`` as a file name that stays in its folder on every system: the last part of a
    path (either slash), no control or reserved characters, no leading dots, not a device
    name of Windows, at most NAME_LENGTH characters and NAME_BYTES bytes of UTF-8, with its
    extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE_RE.sub("_", name).strip().lstrip(".").rstrip(". ")
    if name.split(".", 1)[0].upper() in _RESERVED:
        name = "_" + name
    if len(name) > NAME_LENGTH or len(name.encode("utf-8")) > NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and 0 < len(ext) <= 10 else ""
        stem = (stem if ext else name)[:NAME_LENGTH - len(ext)]
        while len((stem + ext).encode("utf-8")) > NAME_BYTES:
            stem = stem[:-1]
        name = stem.rstrip(". ") + ext
    return name or "attachment"


def entry_of(data: bytes, name: str) -> str:
    return f"{digest(data)[:DIGEST_LENGTH]}/{safe_name(name)}"


def name_of(entry: str) -> str:
    return entry.split("/", 1)[-1]


def digest_of(entry: str) -> str:
    return entry.split("/", 1)[0]


def attach(entries: list, files: list, max_bytes: int = MAX_BYTES) -> Outcome:
    """Add ``files`` to a ticket's ``entries``: each stored once (a file whose content the
    ticket already has is not added again), none larger than ``max_bytes``."""
    entries, stored, refused, too_large = list(entries), [], [], []
    have = {digest_of(entry): entry for entry in entries}
    for file in files:
        if len(file.data) > max_bytes:
            too_large.append((file.name, f"{size_text(len(file.data))}, over the limit of "
                                         f"{size_text(max_bytes)} (attachments.max_bytes)"))
            refused.append(too_large[-1])
            continue
        entry = entry_of(file.data, file.name)
        key = digest_of(entry)
        if key in have:
            refused.append((file.name, f"the same file is attached already, as "
                                       f"{name_of(have[key])}"))
            continue
        have[key] = entry
        entries.append(entry)
        stored.append(Stored(entry, file.data))
    return Outcome(entries, stored, refused, too_large)


def find(entries: list, wanted: str) -> str:
    """The entry ``wanted`` names: its name, its digest (or the start of it, 4 digits or
    more), or the whole entry. LookupError says what the ticket has."""
    wanted = wanted.strip()
    exact = [e for e in entries if wanted in (e, name_of(e))]
    if not exact and len(wanted) >= 4 and re.fullmatch(r"[0-9a-f]+", wanted):
        exact = [e for e in entries if e.startswith(wanted)]
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise LookupError(f"{len(exact)} attachments are called {wanted}: name one by its "
                          "digest (" + ", ".join(digest_of(e) for e in exact) + ")")
    have = ", ".join(name_of(e) for e in entries) or "none"
    raise LookupError(f"no attachment called {wanted}; the ticket has: {have}")


def size_text(size: int) -> str:
    """1.5 MB, 320 KB, 12 B."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"
