"""The canonical form of a ticket file, read without libyaml: the fast path of store.load_plain.

svcdesk writes tickets in one narrow form of YAML (block style, two-space indents, a sequence's
dashes level with its key, one scalar a line: plain, quoted, or a literal block ``|`` /
``|-``). Reading that form line by line costs about two thirds of building the same data from
libyaml's events, whose every event and mark is a Python object; on a fresh clone the index
reads every ticket, so that third is seconds.

``read`` returns what ``store.load_plain`` would (dicts, lists, str, None), or None as soon as
a line falls outside the form: a comment, a tab, a flow ``{}`` or ``[]``, an anchor, a tag, a
key written twice, a scalar over several lines, an escape JSON does not share, a character
YAML reads as a line break... A hand edit in any of those is read by libyaml, which also gives
the errors their line and column. A property test holds the two readers to the same result
for text svcdesk writes and for that text damaged at random.
"""

import json
import re

NULLS = frozenset(("", "~", "null", "Null", "NULL"))  # the plain scalars that read as null

# a character YAML does not print or reads as a line break (\x85, \u2028, \u2029), a BOM,
# a tab or a CR: anything but what this reader handles
_OUTSIDE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                      "\U00010000-\U0010ffff]")
# one line: its indent, a sequence's dash, then "key:" with the rest, or an item's scalar
_LINE = re.compile(r"( *)(- )?(?:(\w[\w.\-]*):(?: (.*))?|(.*))\n")
# a double-quoted scalar whose escapes mean the same in JSON (no lone surrogates)
_DOUBLE = re.compile(r'"(?:[^"\\]|\\(?:["\\ntrbf]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4}))*"\Z')
_SINGLE = re.compile(r"'(?:[^']|'')*'\Z")
_MARKS = frozenset(" -?:,[]{}#&*!|>'\"%@`")  # a plain scalar may not start with these


class _Outside(Exception):
    """The text leaves the canonical form: libyaml reads it instead."""


def read(text: str):
    """The data of a one-mapping YAML document in the canonical form, or None when it is not
    in that form (or not a mapping)."""
    if not text.endswith("\n") or " \n" in text or _OUTSIDE.search(text):
        return None
    try:
        return _read(text)
    except _Outside:
        return None


def _read(text: str) -> dict:
    root: dict = {}
    # the open containers, innermost last: [indent, dict or list, key of a mapping waiting
    # for the block under it ("key:" with nothing after)]
    stack = [[0, root, None]]
    top = stack[0]
    lines = None
    skip = 0
    for number, (indent, dash, key, rest, item) in enumerate(_LINE.findall(text)):
        if skip:  # a line of a literal block, already taken
            skip -= 1
            continue
        col = len(indent)
        if dash:  # an item of the sequence at this indent
            while top[0] > col or (top[0] == col and type(top[1]) is dict and top[2] is None):
                stack.pop()
                if not stack:
                    raise _Outside
                top = stack[-1]
            if type(top[1]) is dict:  # the first item: the sequence is the waiting key's
                if top[2] is None:
                    raise _Outside
                items: list = []
                top[1][top[2]] = items
                top[2] = None
                top = [col, items, None]
                stack.append(top)
            elif top[0] != col:
                raise _Outside
            if not key:
                if not item:
                    raise _Outside
                top[1].append(_scalar(item))
                continue
            entry: dict = {}
            top[1].append(entry)
            col += 2
            top = [col, entry, None]
            stack.append(top)
        elif not key:
            raise _Outside
        elif col > top[0]:  # the block under a waiting key
            if top[2] is None:
                raise _Outside
            entry = {}
            top[1][top[2]] = entry
            top[2] = None
            top = [col, entry, None]
            stack.append(top)
        else:
            while top[0] > col or (top[0] == col and type(top[1]) is list):
                stack.pop()
                top = stack[-1]
            if top[0] != col or type(top[1]) is not dict:
                raise _Outside
            top[2] = None
        mapping = top[1]
        if key in mapping or key in NULLS:
            raise _Outside
        if not rest:  # "key:" alone: null, unless a block follows
            mapping[key] = None
            top[2] = key
        elif rest[0] not in _MARKS and ": " not in rest and " #" not in rest \
                and rest[-1] != ":":  # a plain scalar, most lines: _scalar inlined
            mapping[key] = None if rest in NULLS else rest
        elif rest[0] == "|":
            if lines is None:
                lines = text.split("\n")
            mapping[key], skip = _literal(lines, number + 1, col, rest)
        else:
            mapping[key] = _scalar(rest)
    return root


def _scalar(text: str):
    first = text[0]
    if first in _MARKS:
        if first == '"':
            inner = text[1:-1]
            if text[-1] == '"' and len(text) > 1 and "\\" not in inner and '"' not in inner:
                return inner
            if _DOUBLE.match(text):
                return json.loads(text)
            raise _Outside
        if first == "'" and _SINGLE.match(text):
            return text[1:-1].replace("''", "'")
        if text == "{}":  # an empty mapping or sequence, the one flow form a block takes
            return {}
        if text == "[]":
            return []
        raise _Outside
    if ": " in text or " #" in text or text[-1] == ":":
        raise _Outside
    return None if text in NULLS else text


def _literal(lines: list, start: int, indent: int, header: str) -> tuple:
    """(text, lines it took) of a literal block whose lines begin at ``start``."""
    if header != "|" and header != "|-":
        raise _Outside
    end = len(lines) - 1  # the text ends with a newline: the last element is empty
    if start >= end or not lines[start]:
        raise _Outside
    first = lines[start]
    width = len(first) - len(first.lstrip(" "))
    if width <= indent:
        raise _Outside
    pad = " " * width
    body = []
    at = start
    while at < end:
        line = lines[at]
        if line.startswith(pad):
            body.append(line[width:])
        elif line:
            break
        else:
            body.append("")
        at += 1
    while body[-1] == "":  # trailing empty lines are chomped (the first line is not empty)
        body.pop()
    text = "\n".join(body)
    return (text + "\n" if header == "|" else text), at - start
