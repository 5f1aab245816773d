"""Canned replies (常用回复): ``templates/replies/NAME.j2`` (``NAME.en.j2`` in English),
rendered with the ticket in the same sandbox as the notices."""

import re
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.base.errors import ValidationError
from svcdesk.domain import notices

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_TEXT = 20_000  # characters: a reply is a message, not a manual


class Reply(NamedTuple):
    """A canned reply as `replies` lists it."""

    name: str
    file: str
    label: str  # what it is for: the template's first line when that is a {# comment #}
    preview: str  # its first line: rendered for a ticket when one is given, else as written


_COMMENT = re.compile(r"\{#-?\s*(.*?)\s*-?#\}", re.S)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def check_name(desk, name: str) -> None:
    """Refuse a reply the desk does not have, naming the ones it has (ValidationError)."""
    names = store.template_files(desk.root, "replies", ".j2")
    if not NAME.fullmatch(name) or name not in names:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValidationError(f"--reply {shown!r}: no such canned reply; the desk has "
                              + (", ".join(n for n in names if not n.endswith(".en"))
                                 or "none (templates/replies/NAME.j2)"))


def render(desk, name: str, ticket, agent: str) -> str:
    """The reply ``name`` for ``ticket``, answered by ``agent``; TemplateError naming the
    file and line when it does not render."""
    from svcdesk.app.delivery import renderer

    text = renderer(desk).text("replies", name, None,
                               notices.reply_context(desk.rules, ticket, agent)).strip()
    if not text:
        raise ValidationError(f"templates/replies/{name}.j2: renders as empty text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"templates/replies/{name}.j2: renders as {len(text):,} "
                              f"characters (at most {MAX_TEXT:,})")
    return text


def with_reply(desk, name: str, ticket, agent: str, extra: str | None) -> str:
    """The rendered reply, then ``extra`` (what the agent adds) after a blank line."""
    text = render(desk, name, ticket, agent)
    return text + "\n\n" + extra.strip() if extra and extra.strip() else text


def listing(desk, ticket=None) -> list:
    """Every canned reply of the desk (its own over the shipped ones), in its language, with
    a preview: rendered for ``ticket`` when given."""
    english = desk.rules.language == "en"
    names = store.template_files(desk.root, "replies", ".j2")
    out = []
    for name in (n for n in names if not n.endswith(".en")):
        file = names[name + ".en"] if english and name + ".en" in names else names[name]
        source = file.read_text(encoding="utf-8", errors="replace")
        label = _COMMENT.match(source.lstrip())
        if ticket is not None:
            text = render(desk, name, ticket, desk.actor().key)
        else:
            text = _TAG.sub("…", _COMMENT.sub("", source))
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        out.append(Reply(name, f"templates/replies/{file.name}",
                         label.group(1) if label else "", first))
    return out
