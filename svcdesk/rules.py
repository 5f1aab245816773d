"""rules.yaml: one declaration of its schema drives validation, error messages and docs."""

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from svcdesk import model
from svcdesk.errors import RulesError
from svcdesk.fields import TYPES, FieldSpec
from svcdesk.identity import PREFIX_RE

# ---- the schema language ---------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A place in rules.yaml: what it holds and what it is for."""

    doc: str = field(default="", kw_only=True)

    def check(self, value, path):
        """Return ``value`` checked; raise RulesError naming ``path`` when it does not fit."""
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Node):
    """A string, optionally matching ``pattern`` or one of ``choices``."""

    pattern: str | None = None
    choices: tuple = ()

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise RulesError(f"expected text, got {_kind(value)}", path)
        value = str(value)
        if self.choices and value not in self.choices:
            raise RulesError(f"{value!r} is not allowed; use one of: "
                             + ", ".join(self.choices), path)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise RulesError(f"{value!r} does not match {self.pattern}", path)
        return value


@dataclass(frozen=True)
class Whole(Node):
    """A whole number within bounds."""

    minimum: int | None = None
    maximum: int | None = None

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RulesError(f"expected a whole number, got {_kind(value)}", path)
        if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            raise RulesError(f"{value} is out of range {self.minimum}..{self.maximum}", path)
        return value


@dataclass(frozen=True)
class Flag(Node):
    """true or false."""

    def check(self, value, path):
        if not isinstance(value, bool):
            raise RulesError(f"expected true or false, got {_kind(value)}", path)
        return value


@dataclass(frozen=True)
class Seq(Node):
    """A list whose items all fit ``item``."""

    item: Node = field(default_factory=Text)

    def check(self, value, path):
        if not isinstance(value, list):
            raise RulesError(f"expected a list, got {_kind(value)}", path)
        return [self.item.check(v, path + (i,)) for i, v in enumerate(value)]


@dataclass(frozen=True)
class Record(Node):
    """A mapping with fixed keys, some required."""

    keys: dict = field(default_factory=dict)
    required: tuple = ()

    def check(self, value, path):
        if not isinstance(value, dict):
            raise RulesError(f"expected a mapping with keys {', '.join(self.keys)}, "
                             f"got {_kind(value)}", path)
        for key in value:
            if key not in self.keys:
                raise RulesError(f"unknown key {key!r}; allowed here: "
                                 + ", ".join(self.keys), path + (key,))
        for key in self.required:
            if key not in value:
                raise RulesError(f"missing required key {key!r}", path)
        return {k: self.keys[k].check(v, path + (k,)) for k, v in value.items()}


@dataclass(frozen=True)
class Table(Node):
    """A mapping from names the desk chooses (matching ``key``) to entries of one shape."""

    value: Node = field(default_factory=Text)
    key: str = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
    nonempty: bool = True

    def check(self, value, path):
        if not isinstance(value, dict):
            raise RulesError(f"expected a mapping of names to entries, got {_kind(value)}", path)
        if self.nonempty and not value:
            raise RulesError("must name at least one entry", path)
        out = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not re.fullmatch(self.key, name):
                raise RulesError(f"{name!r} is not a valid name (letters, digits, _ . -)",
                                 path + (name,))
            out[name] = self.value.check(entry, path + (name,))
        return out


@dataclass(frozen=True)
class Label(Node):
    """A display name: text, or a mapping with label (Chinese) and label_en."""

    def check(self, value, path):
        if isinstance(value, dict):
            return _LABEL_RECORD.check(value, path)
        return {"label": Text().check(value, path)}


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false",
            type(None): "nothing"}.get(type(value), type(value).__name__)


_LABEL_RECORD = Record({"label": Text(doc="显示名 (Chinese)"),
                        "label_en": Text(doc="English display name")}, required=("label",))
_NAME = r"[a-z][a-z0-9_]*"

# ---- the schema of rules.yaml ---------------------------------------------------------------

SCHEMA = Record(doc="The desk's configuration.", required=("desk", "types", "priorities",
                                                            "statuses"), keys={
    "desk": Record(doc="Who the desk is.", required=("name", "prefix", "timezone"), keys={
        "name": Text(doc="The desk's name, shown in notices and reports."),
        "prefix": Text(pattern=PREFIX_RE.pattern[1:-1],
                       doc="Ticket number prefix: capital letters and digits, e.g. SD."),
        "timezone": Text(doc="IANA time zone for numbers, dates and business hours."),
        "language": Text(choices=("zh", "en"), doc="Language of what svcdesk shows."),
        "default_priority": Text(doc="Priority when neither the type nor the request sets one."),
        "warranty_months": Whole(minimum=0, maximum=240,
                                 doc="Warranty length, to mark product.warranty in/out."),
    }),
    "fields": Table(nonempty=False, key=rf"{_NAME}(\.{_NAME})?",
                    doc="The desk's own ticket fields, added to the core fields.",
                    value=Record(required=("type", "label"), keys={
                        "type": Text(choices=TYPES, doc="The value type."),
                        "label": Text(doc="显示名"),
                        "label_en": Text(doc="English name"),
                        "choices": Table(value=Label(), doc="For enum: the allowed values."),
                        "min": Whole(doc="For integer: the smallest value."),
                        "max": Whole(doc="For integer: the largest value."),
                        "help": Text(doc="A hint shown in forms."),
                    })),
    "types": Table(doc="Ticket types and what each needs.", value=Record(
        required=("label",), keys={
            "label": Text(doc="显示名"),
            "label_en": Text(doc="English name"),
            "required": Seq(Text(), doc="Fields a ticket of this type must have."),
            "priority": Text(doc="Default priority of this type."),
        })),
    "priorities": Table(doc="Priorities, most urgent first.", value=Label()),
    "statuses": Table(doc="Ticket statuses; the first is where new tickets start.",
                      value=Record(required=("label",), keys={
                          "label": Text(doc="显示名 customers see"),
                          "label_en": Text(doc="English name"),
                          "open": Flag(doc="Whether the ticket still needs work (listed by "
                                           "default, counted in backlog and load)."),
                      })),
    "channels": Table(doc="Where requests arrive from.", value=Label()),
    "tiers": Table(doc="Customer tiers.", value=Label()),
    "outcomes": Table(doc="What the customer expects (repair, refund...).", value=Label()),
    "impacts": Table(doc="How far a problem reaches.", value=Label()),
    "urgencies": Table(doc="How soon it hurts.", value=Label()),
    "teams": Table(doc="Teams that handle tickets.", value=Record(required=("label",), keys={
        "label": Text(doc="显示名"),
        "label_en": Text(doc="English name"),
        "lead": Text(doc="The agent who leads it (first escalation level)."),
        "email": Text(doc="The team's shared mailbox."),
    })),
    "agents": Table(doc="People who work tickets.", value=Record(
        required=("name", "email", "team"), keys={
            "name": Text(doc="Display name."),
            "email": Text(doc="Address; git's user.email is matched to it."),
            "team": Text(doc="The agent's team."),
            "role": Text(choices=("agent", "engineer", "specialist", "lead", "manager"),
                         doc="What the agent does."),
            "skills": Seq(Text(), doc="Types, categories or products the agent handles."),
            "regions": Seq(Text(), doc="Regions the agent covers on site."),
            "capacity": Whole(minimum=0, doc="Most open tickets at once."),
        })),
})


# ---- compiled rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class TicketType:
    """A ticket type and the fields its work needs."""

    name: str
    label: str
    label_en: str
    required: tuple
    priority: str | None


@dataclass(frozen=True)
class Status:
    """A workflow status."""

    name: str
    label: str
    label_en: str
    open: bool


@dataclass(frozen=True)
class Agent:
    """A person who works tickets."""

    key: str
    name: str
    email: str
    team: str
    role: str = "agent"
    skills: tuple = ()
    regions: tuple = ()
    capacity: int | None = None


@dataclass(frozen=True)
class Rules:
    """The validated rules of one desk."""

    name: str
    prefix: str
    tz: ZoneInfo
    language: str
    default_priority: str
    warranty_months: int
    schema: model.Schema
    types: dict
    priorities: dict
    statuses: dict
    vocabularies: dict
    teams: dict
    agents: dict

    @property
    def initial_status(self) -> str:
        """The status new tickets start in."""
        return next(iter(self.statuses))

    def open_statuses(self) -> list:
        """Statuses of tickets that still need work."""
        return [s.name for s in self.statuses.values() if s.open]

    def label(self, vocabulary: str, key) -> str:
        """The display label of ``key`` in ``vocabulary`` in the desk's language."""
        entry = self.vocabularies.get(vocabulary, {}).get(key)
        return entry if entry else str(key)

    def agent_by_email(self, email: str):
        """Return the agent whose email is ``email`` (case-insensitive), or None."""
        folded = email.strip().casefold()
        return next((a for a in self.agents.values() if a.email.casefold() == folded), None)


def compile_rules(data) -> Rules:
    """Validate rules.yaml's data and return Rules; raise RulesError naming the key."""
    if data is None:
        raise RulesError("rules.yaml is empty", ())
    checked = SCHEMA.check(data, ())
    desk = checked["desk"]
    try:
        tz = ZoneInfo(desk["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"unknown time zone {desk['timezone']!r} (e.g. Asia/Shanghai)",
                         ("desk", "timezone")) from None
    zh = desk.get("language", "zh") == "zh"

    def labels(table):
        return {k: (v.get("label") if zh else v.get("label_en") or v.get("label"))
                for k, v in table.items()}

    priorities = checked["priorities"]
    statuses = {k: Status(k, v["label"], v.get("label_en", k), v.get("open", True))
                for k, v in checked["statuses"].items()}
    teams = checked.get("teams", {})
    agents = {k: Agent(k, v["name"], v["email"], v["team"], v.get("role", "agent"),
                       tuple(v.get("skills", ())), tuple(v.get("regions", ())),
                       v.get("capacity")) for k, v in checked.get("agents", {}).items()}
    vocabularies = {
        "types": labels(checked["types"]),
        "priorities": labels(priorities),
        "statuses": labels(checked["statuses"]),
        "teams": labels(teams),
        "agents": {k: a.name for k, a in agents.items()},
    }
    for name in ("channels", "tiers", "outcomes", "impacts", "urgencies"):
        vocabularies[name] = labels(checked.get(name, {}))
    vocabularies["warranty"] = model.WARRANTY

    _check_people(teams, agents)
    default_priority = desk.get("default_priority", list(priorities)[len(priorities) // 2])
    if default_priority not in priorities:
        raise RulesError(f"{default_priority!r} is not one of the priorities: "
                         + ", ".join(priorities), ("desk", "default_priority"))
    custom = _custom_fields(checked.get("fields", {}))
    schema = model.build_schema(vocabularies, custom, tz)
    types = {}
    for key, entry in checked["types"].items():
        for i, name in enumerate(entry.get("required", [])):
            if name not in schema.specs:
                raise RulesError(f"{name!r} is not a field (core or under fields:)",
                                 ("types", key, "required", i))
        if entry.get("priority") is not None and entry["priority"] not in priorities:
            raise RulesError(f"{entry['priority']!r} is not one of the priorities: "
                             + ", ".join(priorities), ("types", key, "priority"))
        types[key] = TicketType(key, entry["label"], entry.get("label_en", key),
                                tuple(entry.get("required", ())), entry.get("priority"))
    return Rules(desk["name"], desk["prefix"], tz, desk.get("language", "zh"), default_priority,
                 desk.get("warranty_months", 12), schema, types, priorities, statuses,
                 vocabularies, teams, agents)


def _check_people(teams: dict, agents: dict) -> None:
    emails = {}
    for key, agent in agents.items():
        if agent.team not in teams:
            raise RulesError(f"team {agent.team!r} is not under teams:", ("agents", key, "team"))
        folded = agent.email.casefold()
        if folded in emails:
            raise RulesError(f"email {agent.email!r} is also agent {emails[folded]!r}'s",
                             ("agents", key, "email"))
        emails[folded] = key
    for key, team in teams.items():
        if not any(a.team == key for a in agents.values()):
            raise RulesError("the team has no agents (give an agent team: " + key + ")",
                             ("teams", key))
        if team.get("lead") is not None and team["lead"] not in agents:
            raise RulesError(f"{team['lead']!r} is not an agent", ("teams", key, "lead"))


def _custom_fields(declared: dict) -> dict:
    core = {name for name, *_ in model.CORE_FIELDS}
    out = {}
    for name, entry in declared.items():
        path = ("fields", name)
        head = name.split(".", 1)[0]
        if name in core or name in model.GROUPS or ("." in name and head in core):
            raise RulesError("this is a core field; pick another name", path)
        if "." not in name and any(n.startswith(name + ".") for n in declared):
            raise RulesError(f"{name!r} is a group of fields ({name}.…), not a field", path)
        if entry["type"] == "enum" and not entry.get("choices"):
            raise RulesError("an enum field needs choices:", path)
        if entry["type"] != "enum" and "choices" in entry:
            raise RulesError("only enum fields take choices:", path + ("choices",))
        choices = {k: v["label"] for k, v in entry.get("choices", {}).items()}
        out[name] = FieldSpec(name, entry["type"], entry["label"], entry.get("label_en", name),
                              choices, True, entry.get("min"), entry.get("max"),
                              entry.get("help", ""), custom=True)
    return out
