"""rules.yaml compiled: the desk's types, people, policies and rules, checked against the
file's schema (svcdesk.ruleschema) and ready to use."""

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import NamedTuple

from svcdesk.domain import classify as C
from svcdesk.base import fields as F
from svcdesk.base import model
from svcdesk.domain import sla as S
from svcdesk.domain import worktime as W
from svcdesk.domain.assign import DaysOff
from svcdesk.base.errors import RulesError
from svcdesk.base.fields import FieldSpec
from svcdesk.domain import workflow
from svcdesk.domain.workflow import Transition

# ---- compiled rules -----------------------------------------------------------------------


class TicketType(NamedTuple):
    """A ticket type and the fields its work needs."""

    name: str
    label: str
    label_en: str
    required: tuple
    priority: str | None
    team: str | None = None


class Status(NamedTuple):
    """A workflow status."""

    name: str
    label: str
    label_en: str
    open: bool
    clock: str | None = None  # runs, paused or done (None: as its actions make it)


class Agent(NamedTuple):
    """A person who works tickets."""

    key: str
    name: str
    email: str
    team: str
    role: str = "agent"
    skills: tuple = ()
    regions: tuple = ()
    capacity: int | None = None
    off: DaysOff = DaysOff()
    phone: str | None = None  # for notices by SMS


class PriorityPolicy(NamedTuple):
    """impact x urgency -> priority, and how far each customer tier raises it."""

    matrix: dict
    default_impact: str
    default_urgency: str
    raise_by: dict


@dataclass(frozen=True, kw_only=True)
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
    manager: str | None = None
    sync: str = "manual"  # auto: each change pulls before and pushes after
    priority_policy: PriorityPolicy | None = None
    transitions: dict = field(default_factory=dict)  # action -> Transition
    classify: tuple = ()  # classify.Rule, in order
    strategies: tuple = ("skill", "region", "least_loaded", "round_robin")
    auto_assign: bool = True
    service: S.Service = field(default_factory=S.Service)
    notices: "NoticeRules" = None
    mail: dict = field(default_factory=dict)  # the mail: section as written (mail in)
    attachments: dict = field(default_factory=dict)  # the attachments: section as written
    imports: dict = field(default_factory=dict)  # {name: domain.imports.Layout}
    products: dict = field(default_factory=dict)  # {model: domain.records.Product}
    fees: dict = field(default_factory=dict)  # {labour, travel: Decimal}: the desk's schedule
    stock: object = None  # domain.records.Stock
    records: dict = field(default_factory=dict)  # {customer, unit, part: model.Schema}
    words: tuple = ()  # the desk's own words for the segmenter (domain.words)

    def warranty_months_of(self, model_name: str | None) -> int:
        """The warranty of a model: the catalogue's, else the desk's."""
        product = self.products.get(model_name) if model_name else None
        return product.warranty_months if product else self.warranty_months

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

    def role_of(self, key: str) -> str | None:
        """The role of agent ``key`` (None: not an agent)."""
        agent = self.agents.get(key)
        return agent.role if agent else None

    def allows(self, action: str, status: str, by: str = workflow.SYSTEM) -> bool:
        """Whether ``by`` may take ``action`` on a ticket in ``status``."""
        return workflow.refusal(self.transitions, self.statuses, "", status, action,
                                self.role_of(by), by) is None

    def agent_by_email(self, email: str):
        """Return the agent whose email is ``email`` (case-insensitive), or None."""
        folded = email.strip().casefold()
        return next((a for a in self.agents.values() if a.email.casefold() == folded), None)

    def findings(self) -> list:
        """What `rules check` warns about: statuses no transition reaches, rules that can
        never match."""
        out = []
        if self.transitions:
            reached = workflow.reachable(self.transitions, self.initial_status)
            out += [f"statuses.{s}: unreachable (no transition leads to it from "
                    f"{self.initial_status})" for s in self.statuses if s not in reached]
        roles = {a.role for a in self.agents.values()}
        for action, rule in self.transitions.items():
            if rule.roles and not roles & set(rule.roles):
                out.append(f"workflow.transitions.{action}: only a {' or '.join(rule.roles)} "
                           "may take it, and no agent has that role")
        out += C.never_matching(self.classify)
        policies = self.service.policies
        for priority in self.priorities if policies else ():
            if not any((not p.priorities or priority in p.priorities) and not p.tiers
                       and not p.types for p in policies):
                out.append(f"sla.policies: no policy covers every {priority} ticket; "
                           "those it misses get no promised times")
        return out


def compile_rules(data) -> Rules:
    """Validate rules.yaml's data and return Rules; raise RulesError naming the key."""
    if data is None:
        raise RulesError("rules.yaml is empty", ())
    from svcdesk.domain.ruleschema import SCHEMA

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
    statuses = {k: Status(k, v["label"], v.get("label_en", k), v.get("open", True),
                          v.get("clock")) for k, v in checked["statuses"].items()}
    teams = checked.get("teams", {})
    agents = {}
    for k, v in checked.get("agents", {}).items():
        try:
            off = DaysOff.parse(v.get("days_off", ()))
        except ValueError as exc:
            raise RulesError(str(exc), ("agents", k, "days_off")) from None
        agents[k] = Agent(k, v["name"], v["email"], v["team"], v.get("role", "agent"),
                          tuple(v.get("skills", ())), tuple(v.get("regions", ())),
                          v.get("capacity"), off, v.get("phone"))
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
    manager = desk.get("manager")
    if manager is not None and manager not in agents:
        raise RulesError(f"{manager!r} is not an agent", ("desk", "manager"))
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
        if entry.get("team") is not None and entry["team"] not in teams:
            raise RulesError(f"{entry['team']!r} is not a team under teams:",
                             ("types", key, "team"))
        types[key] = TicketType(key, entry["label"], entry.get("label_en", key),
                                tuple(entry.get("required", ())), entry.get("priority"),
                                entry.get("team"))
    assign = checked.get("assign", {})
    transitions = _transitions(checked.get("workflow"), statuses, schema)
    vocabularies["actions"] = {a: zh_en[0 if zh else 1]
                               for a, zh_en in workflow.LABELS.items()}
    vocabularies["actions"].update({a: (t.label if zh else t.label_en or t.label) or a
                                    for a, t in transitions.items()})
    notices = _notices(checked.get("notices", {}), desk["name"], transitions)
    return Rules(
        name=desk["name"], prefix=desk["prefix"], tz=tz, language=desk.get("language", "zh"),
        default_priority=default_priority, warranty_months=desk.get("warranty_months", 12),
        schema=schema, types=types, priorities=priorities, statuses=statuses,
        vocabularies=vocabularies, teams=teams, agents=agents, manager=manager,
        sync=desk.get("sync", "manual"),
        priority_policy=_priority_policy(checked.get("priority"), vocabularies, priorities),
        transitions=transitions,
        classify=_classify_rules(checked.get("classify", []), schema),
        strategies=tuple(assign.get("strategies", Rules.strategies)),
        auto_assign=assign.get("auto", True),
        service=_service(checked, tz, vocabularies, statuses, transitions),
        notices=notices,
        mail=checked.get("mail", {}), attachments=checked.get("attachments", {}),
        imports=_imports(checked.get("imports", {}), schema),
        words=tuple(checked.get("words", ())),
        **_records(checked, tz, vocabularies, desk.get("warranty_months", 12)))


def _records(checked: dict, tz, vocabularies: dict, months: int) -> dict:
    """What the records beside tickets need: the catalogue, fees, warehouses, schemas."""
    from svcdesk.domain import records

    fees = checked.get("fees", {})
    warehouses = checked.get("warehouses") or {"main": {"label": "总仓", "label_en": "Main"}}
    warehouses = {k: v.get("label") for k, v in warehouses.items()}
    parts = checked.get("parts", {})
    warehouse = parts.get("warehouse", next(iter(warehouses)))
    if warehouse not in warehouses:
        raise RulesError(f"{warehouse!r} is not a warehouse under warehouses: ("
                         + ", ".join(warehouses) + ")", ("parts", "warehouse"))
    tiers = vocabularies.get("tiers") or records.TIERS_DEFAULT
    return {
        "products": records.catalogue(checked.get("products", {}), fees, months),
        "fees": records.fee_schedule({}, None, fees),
        "stock": records.Stock(warehouses, warehouse, parts.get("backorders", False),
                               fees.get("approval", False)),
        "records": {kind: records.schema(kind, tz, tiers, warehouses)
                    for kind in records.KINDS},
    }


def _imports(section: dict, schema) -> dict:
    """The export layouts, every field they name known to the schema."""
    if not section:
        return {}
    from svcdesk.domain.imports import layouts

    for name, entry in section.items():
        for part in ("columns", "values", "set"):
            for path in entry.get(part, {}):
                spec = schema.specs.get(path)
                if spec is None or not spec.editable:
                    raise RulesError(f"{path!r} is not a field a row can set; "
                                     "`svcdesk fields` lists them", ("imports", name, part,
                                                                      path))
        given = [("set", path, value) for path, value in entry.get("set", {}).items()]
        given += [("values", path, value) for path, table in entry.get("values", {}).items()
                  for value in table.values()]
        for part, path, value in given:
            try:
                model.parse_values(schema, {path: value})
            except model.FieldError as exc:
                raise RulesError(exc.message, ("imports", name, part, path)) from None
    return layouts(section)


def _service(checked: dict, tz, vocabularies: dict, statuses: dict,
             transitions: dict) -> S.Service:
    calendars = {}
    for name, entry in checked.get("calendars", {}).items():
        where = ("calendars", name)
        zone = tz
        if "timezone" in entry:
            try:
                zone = ZoneInfo(entry["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise RulesError(f"unknown time zone {entry['timezone']!r}",
                                 where + ("timezone",)) from None
        try:
            week = W.parse_week(entry["hours"])
        except ValueError as exc:
            raise RulesError(str(exc), where + ("hours",)) from None
        if not any(week):
            raise RulesError("no working hours on any day", where + ("hours",))
        days = {}
        for key in ("holidays", "workdays"):
            try:
                days[key] = W.parse_days(entry.get(key, ()))
            except ValueError as exc:
                raise RulesError(str(exc), where + (key,)) from None
        calendars[name] = W.Calendar(name, zone, week, entry.get("base"), days["holidays"],
                                     days["workdays"], entry.get("label", name))
    section = checked.get("sla", {"policies": []})
    default = section.get("calendar", next(iter(calendars), None))
    if default is not None and default not in calendars:
        raise RulesError(f"{default!r} is not a calendar under calendars:", ("sla", "calendar"))
    desk_calendar = calendars[default] if default else W.always(tz)
    for i, status in enumerate(section.get("pause", ())):
        if status not in statuses:
            raise RulesError(f"{status!r} is not a status", ("sla", "pause", i))
    for i, action in enumerate(section.get("first_response", ())):
        if action not in transitions:
            raise RulesError(f"{action!r} is not an action of the workflow ("
                             + ", ".join(transitions) + ")", ("sla", "first_response", i))
    policies = []
    for i, entry in enumerate(section["policies"]):
        where = ("sla", "policies", i)
        name = entry.get("calendar", default)
        if name is None or name not in calendars:
            raise RulesError(f"{name!r} is not a calendar under calendars:",
                             where + ("calendar",))
        calendar = calendars[name]
        conditions = {}
        for key, table in (("priority", "priorities"), ("tier", "tiers"), ("type", "types"),
                           ("region", None), ("warranty", "warranties")):
            values = entry.get(key, [])
            values = [str(v) for v in (values if isinstance(values, list) else [values])]
            known = model.WARRANTY if key == "warranty" else vocabularies.get(table)
            for value in values if known is not None else ():
                if value not in known:
                    raise RulesError(f"{value!r} is not one of the {table}: "
                                     + ", ".join(known), where + (key,))
            conditions[key] = tuple(values)
        targets = {}
        for key in ("response", "resolution", "update"):
            if key in entry:
                try:
                    targets[key] = calendar.to_minutes(*W.parse_duration(entry[key]))
                except ValueError as exc:
                    raise RulesError(str(exc), where + (key,)) from None
        policies.append(S.Policy(entry["name"], calendar, targets.get("response"),
                                 targets.get("resolution"), targets.get("update"),
                                 conditions["priority"], conditions["tier"],
                                 conditions["type"], conditions["region"],
                                 conditions["warranty"]))
    ladder = tuple(S.Step(e["name"], e["target"], e["at"], tuple(e.get("notify", ())),
                          e.get("raise_priority", 0), e.get("reassign"))
                   for e in checked.get("escalation", ()))
    for i, step in enumerate(ladder):
        for j, who in enumerate(step.notify):
            if who not in NOTIFY_ROLES and not _EMAIL.fullmatch(who):
                raise RulesError(f"{who!r} is not one of {', '.join(NOTIFY_ROLES)} nor an "
                                 "email address", ("escalation", i, "notify", j))
    waiting = tuple(section.get("pause", S.Service.waiting))
    paused = waiting + tuple(s for s, v in statuses.items()
                             if v.clock == "paused" and s not in waiting)
    done = {t.target for a, t in transitions.items() if a == "resolve"} - {None}
    done = (done - {s for s, v in statuses.items() if v.clock in ("runs", "paused")}) | {
        s for s, v in statuses.items() if v.clock == "done"}
    closed = {t.target for a, t in transitions.items() if a == "close"}
    counting = tuple(s for s, v in statuses.items() if v.open and s not in paused
                     and s not in done | closed)
    resolved = tuple(s for s in statuses if s in done)
    close = transitions.get("close")
    closable = tuple(s for s in resolved if close and s in close.sources)
    return S.Service(calendars, desk_calendar, tuple(policies),
                     section.get("warn_at", 80),
                     tuple(section.get("first_response", S.Service.response_actions)),
                     paused, counting, resolved, ladder, _automation(checked), waiting,
                     closable)


NOTIFY_ROLES = ("assignee", "team_lead", "manager", "customer", "team")
NOTICE_EVENTS = ("created", "assigned", "status_changed", "commented", "waiting_reminder",
                 "sla_warning", "breached", "escalated", "resolved", "closed", "survey",
                 "quoted", "visit_booked", "departed", "arrived", "progress")
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


class NoticeRules(NamedTuple):
    """The notices section: the sender, SMTP, the channels besides email, and event ->
    (notices.Route, ...)."""

    sender_name: str
    sender_email: str
    smtp: str | None
    routes: dict
    channels: dict = {}  # name -> channels.Channel


def _notices(entry: dict, desk_name: str, transitions: dict) -> NoticeRules:
    from svcdesk.domain import channels as CH
    from svcdesk.domain.notices import Route

    sender = entry.get("sender", {})
    email = sender.get("email", "svcdesk@localhost")
    if "email" in sender and not _EMAIL.fullmatch(email):
        raise RulesError(f"{email!r} is not an email address", ("notices", "sender", "email"))
    if entry.get("smtp") and ":" in (entry["smtp"].split("//", 1)[-1].split("@")[0]) \
            and "@" in entry["smtp"]:
        raise RulesError("put the SMTP password in SVCDESK_SMTP_PASSWORD, never in rules.yaml",
                         ("notices", "smtp"))
    channels = {}
    for name, spec in entry.get("channels", {}).items():
        try:
            channels[name] = CH.compile_channel(name, spec)
        except CH.ChannelSpecError as exc:
            raise RulesError(str(exc), ("notices", "channels", name) + exc.key) from None
    declared = {n for t in transitions.values() for n in t.queues()}
    routes = {}
    for event, items in entry.get("events", {}).items():
        if event not in NOTICE_EVENTS and event not in declared:
            raise RulesError(f"{event!r} is not a notice event; events: "
                             + ", ".join(NOTICE_EVENTS) + ", or one a workflow action lists "
                             "under notices:", ("notices", "events", event))
        for i, item in enumerate(items):
            where = ("notices", "events", event, i)
            for j, who in enumerate(item["to"]):
                if who not in NOTIFY_ROLES and not _EMAIL.fullmatch(who) and (
                        who not in channels or not channels[who].group):
                    raise RulesError(f"{who!r} is not one of {', '.join(NOTIFY_ROLES)}, an "
                                     "email address, nor a group channel under "
                                     "notices.channels", where + ("to", j))
            for j, way in enumerate(item.get("via", ())):
                if way != "email" and (way not in channels or channels[way].group):
                    raise RulesError(f"{way!r} is neither email nor an sms channel under "
                                     "notices.channels", where + ("via", j))
        routes[event] = tuple(Route(item["template"], tuple(item["to"]),
                                    tuple(item.get("via", ("email",))))
                              for item in items)
    return NoticeRules(sender.get("name", desk_name), email, entry.get("smtp"), routes,
                       channels)


def _automation(checked: dict) -> S.Automation:
    entry = checked.get("automation", {})
    out = {}
    for key in ("close_resolved_after", "remind_waiting_after"):
        if key in entry:
            try:
                out[key] = W.parse_duration(entry[key])
            except ValueError as exc:
                raise RulesError(str(exc), ("automation", key)) from None
    return S.Automation(**out)


def _priority_policy(entry, vocabularies: dict, priorities: dict):
    if entry is None:
        return None
    impacts, urgencies = vocabularies["impacts"], vocabularies["urgencies"]
    matrix = entry["matrix"]
    for impact in impacts:
        if impact not in matrix:
            raise RulesError(f"the matrix has no row for impact {impact!r}",
                             ("priority", "matrix"))
    for impact, row in matrix.items():
        if impact not in impacts:
            raise RulesError(f"{impact!r} is not an impact under impacts: ("
                             + ", ".join(impacts) + ")", ("priority", "matrix", impact))
        for urgency in urgencies:
            if urgency not in row:
                raise RulesError(f"no priority for urgency {urgency!r}",
                                 ("priority", "matrix", impact))
        for urgency, priority in row.items():
            where = ("priority", "matrix", impact, urgency)
            if urgency not in urgencies:
                raise RulesError(f"{urgency!r} is not an urgency under urgencies: ("
                                 + ", ".join(urgencies) + ")", where)
            if priority not in priorities:
                raise RulesError(f"{priority!r} is not one of the priorities: "
                                 + ", ".join(priorities), where)
    defaults = {}
    for key, table, fallback in (("default_impact", impacts, list(impacts)[:1]),
                                 ("default_urgency", urgencies, list(urgencies)[1:2])):
        value = entry.get(key, fallback[0] if fallback else None)
        if value not in table:
            raise RulesError(f"{value!r} is not one of: " + ", ".join(table),
                             ("priority", key))
        defaults[key] = value
    for tier in entry.get("raise", {}):
        if tier not in vocabularies["tiers"]:
            raise RulesError(f"{tier!r} is not a tier under tiers: ("
                             + ", ".join(vocabularies["tiers"]) + ")", ("priority", "raise", tier))
    return PriorityPolicy(matrix, defaults["default_impact"], defaults["default_urgency"],
                          dict(entry.get("raise", {})))


def _transitions(entry, statuses: dict, schema: model.Schema) -> dict:
    """The workflow's actions (svcdesk's own declaration when rules.yaml has none), checked
    as a graph: every status they name exists, every role is one agents may have, and no
    status a ticket can reach leaves it unable ever to close."""
    if entry is None:
        missing = [s for s in workflow.default_statuses() if s not in statuses]
        if missing:
            raise RulesError("rules.yaml declares no workflow:, and svcdesk's own needs the "
                             f"statuses {', '.join(missing)}: add them, or declare a "
                             "workflow (docs/rules.md)", ("statuses",))
        entry = workflow.DEFAULT
    out = {}
    for action, rule in entry["transitions"].items():
        path = ("workflow", "transitions", action)
        for i, status in enumerate(rule["from"]):
            if status not in statuses:
                raise RulesError(f"{status!r} is not a status under statuses: ("
                                 + ", ".join(statuses) + ")", path + ("from", i))
        target = rule.get("to")
        if target is not None and target not in statuses:
            raise RulesError(f"a transition to {target!r}, which is not a status under "
                             "statuses: (" + ", ".join(statuses) + ")", path + ("to",))
        for i, need in enumerate(rule.get("requires", [])):
            if need != "note" and need not in schema.specs:
                raise RulesError(f"{need!r} is neither note nor a field", path + ("requires", i))
        notices = rule.get("notices")
        own = workflow.LABELS.get(action, ("", ""))  # svcdesk's names for its own
        out[action] = Transition(action, tuple(rule["from"]), target,
                                 tuple(rule.get("requires", ())), rule.get("label", own[0]),
                                 rule.get("label_en", own[1]),
                                 tuple(rule.get("by", ())),
                                 None if notices is None else tuple(notices))
    closed = [s for s, v in statuses.items() if not v.open]
    if not closed:
        raise RulesError("no status has open: false, so no ticket can ever be closed",
                         ("statuses",))
    first = next(iter(statuses))
    for status in workflow.dead_ends(out, statuses, first):
        raise RulesError(f"a ticket that reaches {status} can never be closed: no action "
                         f"leads from it to {' or '.join(closed)}", ("statuses", status))
    return out


def _classify_rules(entries: list, schema: model.Schema) -> tuple:
    positions = {}
    for i, entry in enumerate(entries):
        if entry["name"] in positions:
            raise RulesError(f"a second rule named {entry['name']!r} (the first is number "
                             f"{positions[entry['name']] + 1})", ("classify", i, "name"))
        positions[entry["name"]] = i
    out = []
    for i, entry in enumerate(entries):
        path = ("classify", i)
        when = entry.get("when", {})
        regex = when.get("regex")
        tests = tuple(_field_test(schema, name, allowed, path + ("when", "fields", name))
                      for name, allowed in when.get("fields", {}).items())
        sets = {}
        for name, value in entry.get("set", {}).items():
            spec = _rule_field(schema, name, path + ("set", name))
            try:
                sets[name] = F.parse(spec, value, schema.tz)
            except ValueError as exc:
                raise RulesError(str(exc), path + ("set", name)) from None
        then = entry.get("continue", False)
        if then is True:
            then = i + 1
        elif then is False:
            then = None
        else:
            if then not in positions:
                raise RulesError(f"continue: {then!r} names no rule", path + ("continue",))
            target = positions[then]
            if target <= i:
                loop = " -> ".join(e["name"] for e in entries[target:i + 1]) + " -> " + then
                raise RulesError(f"continue: {then!r} goes back to an earlier rule, a cycle "
                                 f"({loop}); continue only forward", path + ("continue",))
            then = target
        out.append(C.Rule(
            entry["name"], i, C.Words.of(when.get("keywords", ())),
            C.Words.of(when.get("all_keywords", ())), C.Words.of(when.get("not_keywords", ())),
            C.compile_regex(regex, path + ("when", "regex")) if regex is not None else None,
            when.get("in", "text"), tests, sets, tuple(entry.get("tags", ())), then))
    return tuple(out)


def _rule_field(schema: model.Schema, name: str, path) -> FieldSpec:
    spec = schema.specs.get(name)
    if spec is None:
        raise RulesError(f"{name!r} is not a field (core or under fields:)", path)
    if not spec.editable:
        raise RulesError(f"{name!r} is kept by svcdesk; a rule cannot set it", path)
    return spec


def _field_test(schema: model.Schema, name: str, allowed, path) -> C.FieldTest:
    spec = schema.specs.get(name)
    if spec is None:
        raise RulesError(f"{name!r} is not a field (core or under fields:)", path)
    values, globs = [], []
    for item in allowed if isinstance(allowed, list) else [allowed]:
        if isinstance(item, str) and "*" in item and spec.type in ("string", "text", "list"):
            globs.append(item.casefold())
            continue
        try:
            values.append(None if item is None else F.parse(
                spec if spec.type != "list" else FieldSpec(name, "string", ""), item,
                schema.tz))
        except ValueError as exc:
            raise RulesError(str(exc), path) from None
    return C.FieldTest(name, tuple(values), tuple(globs))


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
