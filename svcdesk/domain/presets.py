"""Ticket templates (模板库): preset fields for a common kind of request, a description
skeleton with the questions to ask, and the fields the form should ask for.

A template is ``templates/tickets/NAME.yaml`` (``NAME.en.yaml`` in English)::

    label: 打印机卡纸
    fields: {type: fault, category: printer, tags: [卡纸]}
    title: 打印机卡纸
    description: |
      卡纸位置（进纸口/机内/出纸口）：
      纸张规格和克重：
    ask: [product.model, product.serial]
"""

import re
from dataclasses import dataclass

from svcdesk.base import model

KEYS = ("label", "label_en", "fields", "title", "description", "ask")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}(\.en)?")
# a line of the skeleton that asks something: it ends with a colon or a question mark
_QUESTION = re.compile(r"[:：?？]\s*$")


class PresetError(ValueError):
    """What is wrong with a template, and where: ``path`` of keys inside the file."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path, self.message = path, message


@dataclass(frozen=True)
class Preset:
    """A checked ticket template."""

    name: str
    label: str
    label_en: str
    fields: dict  # flat, as written; checked by the schema (type, category, tags...)
    title: str | None
    description: str | None
    ask: tuple  # fields the form asks for, besides the type's required ones

    def given(self) -> dict:
        """The template's values as a request gives them, flat: what options then override."""
        out = dict(self.fields)
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        return out

    def questions(self) -> list:
        """The lines of the description skeleton that ask something, in order."""
        return [line.strip() for line in (self.description or "").splitlines()
                if _QUESTION.search(line)]

    def label_in(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label


def compile_preset(name: str, data, rules) -> Preset:
    """The template ``name`` from its parsed file ``data``, checked against the desk's
    schema and ticket types; PresetError naming the key that is wrong."""
    if not NAME.fullmatch(name):
        raise PresetError((), f"{name!r} is not a template name (lower-case letters, digits, "
                              "- and _)")
    if not isinstance(data, dict):
        raise PresetError((), "expected a mapping (label:, fields:, description:...)")
    for key in data:
        if key not in KEYS:
            raise PresetError((key,), f"unknown key {key!r}; a template has " + ", ".join(KEYS))
    label = _text(data, "label", required=True)
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise PresetError(("fields",), "expected a mapping of field -> value")
    try:
        values = model.parse_values(rules.schema, fields)
    except model.FieldError as exc:
        path = ".".join(map(str, exc.path))  # as written (product.model:) or nested
        inside = (path,) if path in fields else path.split(".", 1)
        raise PresetError(("fields", *inside), f"field {path}: {exc.message}") from None
    kind = values.get("type")
    if kind is not None and kind not in rules.types:
        raise PresetError(("fields", "type"), f"type {kind!r} is not one of the desk's types: "
                          + ", ".join(rules.types))
    ask = data.get("ask") or []
    if not isinstance(ask, list):
        raise PresetError(("ask",), "expected a list of fields")
    for i, field in enumerate(ask):
        spec = rules.schema.specs.get(field) if isinstance(field, str) else None
        if spec is None or not spec.editable:
            raise PresetError(("ask", i), f"{field!r} is not a field a person fills in")
    return Preset(name, label, _text(data, "label_en") or label, dict(_flat(fields)),
                  _text(data, "title"), _text(data, "description", multiline=True),
                  tuple(ask))


def answered(skeleton: str, answers: dict) -> str:
    """The skeleton with each question's answer written after it (unanswered ones kept, so
    the engineer sees what is still to ask)."""
    lines = []
    for line in skeleton.splitlines():
        answer = answers.get(line.strip())
        lines.append(f"{line.rstrip()} {answer}" if answer else line.rstrip())
    return "\n".join(lines).strip("\n") + "\n"


def _text(data: dict, key: str, required: bool = False, multiline: bool = False):
    value = data.get(key)
    if value is None:
        if required:
            raise PresetError((), f"{key}: is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise PresetError((key,), "expected text")
    if not multiline and "\n" in value.strip():
        raise PresetError((key,), "expected one line")
    return value.strip() if not multiline else value.rstrip() + "\n"


def _flat(values: dict, prefix: str = ""):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value
