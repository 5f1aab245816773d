"""Tickets and their history: the snapshot of fields is always the replay of ``events``."""

from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import NamedTuple

from svcdesk.base import fields as F
from svcdesk.base.fields import FieldSpec

# The core fields in schema order: (name, type, label, English label, vocabulary, editable).
# A vocabulary names the rules.yaml table an enum takes its choices from.
CORE_FIELDS = (
    ("id", "string", "工单号", "Ticket", None, False),
    ("uid", "string", "唯一标识", "UID", None, False),
    ("title", "string", "标题", "Title", None, True),
    ("type", "enum", "工单类型", "Type", "types", True),
    ("category", "string", "问题分类", "Category", None, True),
    ("priority", "enum", "优先级", "Priority", "priorities", True),
    ("status", "enum", "状态", "Status", "statuses", False),
    ("channel", "enum", "受理渠道", "Channel", "channels", True),
    ("customer.id", "string", "客户编号", "Customer number", None, False),
    ("customer.name", "string", "客户姓名", "Customer", None, True),
    ("customer.company", "string", "客户单位", "Company", None, True),
    ("customer.phone", "phone", "联系电话", "Phone", None, True),
    ("customer.email", "email", "电子邮箱", "Email", None, True),
    ("customer.address", "string", "地址", "Address", None, True),
    ("customer.region", "string", "地区", "Region", None, True),
    ("customer.tier", "enum", "客户等级", "Tier", "tiers", True),
    ("product.model", "string", "产品型号", "Model", None, True),
    ("product.serial", "string", "序列号", "Serial number", None, True),
    ("product.purchased", "date", "购买日期", "Purchased", None, True),
    ("product.warranty", "enum", "保修状态", "Warranty", "warranty", True),
    ("product.order_no", "string", "订单号", "Order number", None, True),
    ("product.contract", "string", "合同编号", "Contract number", None, True),
    ("description", "text", "问题描述", "Description", None, True),
    ("impact", "enum", "影响范围", "Impact", "impacts", True),
    ("urgency", "enum", "紧急程度", "Urgency", "urgencies", True),
    ("expected", "enum", "期望处理方式", "Expected outcome", "outcomes", True),
    ("fee.labour", "money", "人工费", "Labour", None, True),
    ("fee.travel", "money", "上门费", "Travel", None, True),
    ("fee.parts", "money", "备件费", "Parts", None, True),
    ("fee.quote", "money", "报价合计", "Quote", None, False),
    ("fee.approval", "enum", "客户确认报价", "Quote approval", "approvals", False),
    ("fee.charged", "money", "实收金额", "Charged", None, False),
    ("assignee", "enum", "处理人", "Assignee", "agents", True),
    ("team", "enum", "处理组", "Team", "teams", True),
    ("tags", "list", "标签", "Tags", None, True),
    ("attachments", "list", "附件", "Attachments", None, False),
    # links to other tickets, by uid (numbers may change at a sync; uids never do), each
    # kept on both tickets by one change (domain/links.py)
    ("links.duplicate_of", "list", "重复于", "Duplicate of", None, False),
    ("links.duplicates", "list", "重复工单", "Duplicates", None, False),
    ("links.related", "list", "相关工单", "Related", None, False),
    ("links.parent", "list", "父工单", "Parent", None, False),
    ("links.children", "list", "子工单", "Children", None, False),
    ("links.caused_by", "list", "起因工单", "Caused by", None, False),
    ("links.causes", "list", "引发工单", "Causes", None, False),
    # the ticket's current on-site visit (its events keep every one: domain/visits.py)
    ("visit.at", "datetime", "预约上门时间", "Visit booked for", None, False),
    ("visit.until", "datetime", "预约时段至", "Visit window until", None, False),
    ("visit.engineer", "enum", "上门工程师", "Visiting engineer", "agents", False),
    ("visit.departed", "datetime", "工程师出发", "Engineer set off", None, False),
    ("visit.arrived", "datetime", "到达现场", "Arrived on site", None, False),
    ("visit.left", "datetime", "离开现场", "Left the site", None, False),
    ("sla.policy", "string", "服务等级", "SLA policy", None, False),
    ("sla.calendar", "string", "工作日历", "Calendar", None, False),
    ("sla.response_minutes", "integer", "响应时限(工作分钟)", "Response target (minutes)", None,
     False),
    ("sla.response_promised_minutes", "integer", "原定响应时限(工作分钟)",
     "Response target missed (minutes)", None, False),
    ("sla.response_due", "datetime", "响应截止", "Response due", None, False),
    ("sla.response_state", "string", "响应结果", "Response", None, False),
    ("sla.resolution_minutes", "integer", "解决时限(工作分钟)", "Resolution target (minutes)",
     None, False),
    ("sla.resolution_promised_minutes", "integer", "原定解决时限(工作分钟)",
     "Resolution target missed (minutes)", None, False),
    ("sla.resolution_due", "datetime", "解决截止", "Resolution due", None, False),
    ("sla.resolution_state", "string", "解决结果", "Resolution", None, False),
    ("sla.update_minutes", "integer", "进展通报间隔(工作分钟)", "Update interval (minutes)", None,
     False),
    ("sla.update_due", "datetime", "下次通报", "Next update due", None, False),
    ("created", "datetime", "创建时间", "Created", None, False),
    ("updated", "datetime", "更新时间", "Updated", None, False),
    ("resolution", "text", "处理结果", "Resolution", None, False),
    ("csat", "integer", "满意度", "CSAT", None, False),
    ("feedback", "text", "客户评价", "Feedback", None, False),
)
GROUPS = ("customer", "product", "links", "sla")
WARRANTY = {"in": "保内", "out": "保外", "extended": "延保", "unknown": "保修未知"}
APPROVALS = {"approved": "已同意", "declined": "已拒绝"}
DERIVED = ("created", "updated")  # recomputed from events, never set by an event
EVENT_KEYS = ("id", "at", "by", "action", "rule", "ref", "changes", "fields", "note",
              "visibility")
VISIBILITIES = ("public", "internal")
# Paths whose changes are movements, not values: a change adds what it moved (new - old) to
# what it finds, so two clones' movements add up when their histories merge (a part's stock).
COUNTERS = ("stock.",)


class FieldError(ValueError):
    """A value at ``path`` (a tuple of keys and indexes) is not acceptable."""

    def __init__(self, path, message):
        self.path = tuple(path)
        super().__init__(f"{'.'.join(str(p) for p in self.path)}: {message}")
        self.message = message


class Schema(NamedTuple):
    """Every field a ticket of this desk may hold, core fields first, in file order."""

    specs: dict  # dotted name -> FieldSpec, in schema order
    tz: tzinfo
    groups: tuple = GROUPS  # top-level keys that hold nested fields (customer, product...)

    def spec(self, name: str) -> FieldSpec:
        """Return the spec of ``name`` or raise FieldError listing what exists."""
        try:
            return self.specs[name]
        except KeyError:
            raise FieldError((name,), "unknown field; known fields: "
                             + ", ".join(self.specs)) from None

    def top_order(self) -> list:
        """Top-level keys in file order."""
        order = []
        for name in self.specs:
            head = name.split(".", 1)[0]
            if head not in order:
                order.append(head)
        return order


@dataclass(frozen=True)
class Event:
    """One change to a ticket, as appended to its ``events:`` list."""

    id: str
    at: datetime
    by: str
    action: str
    changes: dict = field(default_factory=dict)  # dotted path -> (old, new); None = unset
    fields: dict | None = None  # the initial values, on the create event only
    note: str | None = None
    visibility: str | None = None
    rule: str | None = None
    ref: str | None = None  # what it concerns in another file: part:P-100*2@main, ticket:<uid>


class Ticket(NamedTuple):
    """A ticket: the snapshot ``fields`` (nested dict) and the ``events`` it replays from."""

    fields: dict
    events: tuple

    @property
    def number(self) -> str:
        """The human ticket number, e.g. SD-20261122-0003."""
        return self.fields["id"]

    def get(self, path: str, default=None):
        """Return the value at dotted ``path``."""
        return get_path(self.fields, path, default)


def build_schema(vocabularies: dict, custom: dict, tz: tzinfo) -> Schema:
    """Combine the core fields with a desk's own; ``vocabularies`` give enum choices."""
    specs = {}
    for name, kind, label, label_en, vocab, editable in CORE_FIELDS:
        choices = {"warranty": WARRANTY, "approvals": APPROVALS}.get(vocab) or \
            dict(vocabularies.get(vocab, {}))
        extra = {"minimum": 1, "maximum": 5} if name == "csat" else {}
        specs[name] = FieldSpec(name, kind, label, label_en, choices, editable, **extra)
    ordered = list(specs.items())
    for spec in custom.values():
        group = spec.name.split(".", 1)[0] if "." in spec.name else None
        members = [i for i, (n, _) in enumerate(ordered) if n.startswith(f"{group}.")]
        if group and members:  # right after the last field of its group
            at = members[-1] + 1
        else:  # with the problem details, before who handles it
            at = next(i for i, (n, _) in enumerate(ordered) if n == "assignee")
        ordered.insert(at, (spec.name, spec))
    groups = tuple(dict.fromkeys(n.split(".", 1)[0] for n, _ in ordered if "." in n))
    return Schema(dict(ordered), tz, groups)


# ---- paths in nested dicts ------------------------------------------------------------

def clone(value):
    """A deep copy of ticket data (dicts, lists and immutable leaves): several times as fast
    as copy.deepcopy, which a long history replays many times per command."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value

def get_path(data: dict, path: str, default=None):
    """Return the value at dotted ``path`` in nested ``data``."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def set_path(data: dict, path: str, value) -> None:
    """Set (or with None, remove) dotted ``path`` in nested ``data``; drop emptied groups."""
    parts = path.split(".")
    if value is None:
        stack, node = [], data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                return
            stack.append((node, part))
            node = node[part]
        node.pop(parts[-1], None)
        for parent, key in reversed(stack):
            if parent[key]:
                break
            del parent[key]
        return
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def flatten(data: dict, prefix: str = "") -> dict:
    """Return {dotted path: leaf value} for nested ``data`` (lists are leaves)."""
    out = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def diff(old: dict, new: dict) -> dict:
    """Return {path: (old, new)} for every leaf that differs, derived fields left out."""
    a, b = flatten(old), flatten(new)
    changes = {}
    for path in list(a) + [p for p in b if p not in a]:
        if path in DERIVED:
            continue
        if a.get(path) != b.get(path):
            changes[path] = (a.get(path), b.get(path))
    return changes


# ---- history ---------------------------------------------------------------------------

def replay(events) -> dict:
    """Return the snapshot that ``events`` produce, in order."""
    state: dict = {}
    for event in events:
        if event.fields is not None:
            state = clone(event.fields)
            state["created"] = event.at
        for path, (old, new) in event.changes.items():
            apply_change(state, path, old, new)
        state["updated"] = event.at
    return state


def apply_change(state: dict, path: str, old, new) -> None:
    """Set ``path`` in ``state`` to ``new``. A list found other than the change's ``old``
    (two clones' histories merged: a tag or an attachment added on each side) takes the
    change's additions and removals instead, so that neither side's items are lost."""
    if path.startswith(COUNTERS):
        moved = int(new or 0) - int(old or 0)
        set_path(state, path, int(get_path(state, path) or 0) + moved)
        return
    found = get_path(state, path) if isinstance(new, list) else None
    if isinstance(found, list) and found != old:
        gone = [item for item in old or () if item not in new]
        kept = [item for item in found if item not in gone]
        new = kept + [item for item in new if item not in kept and item not in (old or ())]
    set_path(state, path, clone(new))


def ordered_fields(schema: Schema, data: dict) -> dict:
    """Return ``data`` with keys (and group keys) in schema order."""
    out = {}
    for top in schema.top_order():
        if top not in data:
            continue
        value = data[top]
        if top in schema.groups and isinstance(value, dict):
            value = {n.split(".", 1)[1]: value[n.split(".", 1)[1]]
                     for n in schema.specs if n.startswith(top + ".")
                     and n.split(".", 1)[1] in value}
        out[top] = value
    for key in data:  # keys the schema does not know stay (validation reports them)
        if key not in out:
            out[key] = data[key]
    return out


def append(schema: Schema, ticket: Ticket, event: Event) -> Ticket:
    """Return ``ticket`` with ``event`` applied to its snapshot and added to its history."""
    events = ticket.events + (event,)
    return Ticket(ordered_fields(schema, replay(events)), events)


def create(schema: Schema, values: dict, number: str, uid: str, event_id: str,
           at: datetime, by: str, status: str, rule: str | None = None) -> Ticket:
    """Return a new ticket holding ``values`` (a nested dict of checked values)."""
    initial = clone(values)
    initial["id"], initial["uid"], initial["status"] = number, uid, status
    initial = ordered_fields(schema, initial)
    for key in DERIVED:
        initial.pop(key, None)
    event = Event(event_id, at, by, "create", fields=initial, rule=rule)
    return append(schema, Ticket({}, ()), event)


def change(schema: Schema, ticket: Ticket, new_fields: dict, event_id: str, at: datetime,
           by: str, action: str, note: str | None = None, rule: str | None = None,
           visibility: str | None = None, ref: str | None = None) -> tuple[Ticket, Event]:
    """Return the ticket with ``new_fields`` as its snapshot, and the one event recording it."""
    event = Event(event_id, at, by, action, diff(ticket.fields, new_fields), note=note,
                  rule=rule, visibility=visibility, ref=ref)
    return append(schema, ticket, event), event


def amend_last(schema: Schema, ticket: Ticket, path: str, value) -> Ticket:
    """Return ``ticket`` with its last event also setting ``path`` (a top-level key) to
    ``value`` (None: removing it), so one event still records the whole change."""
    last = ticket.events[-1]
    if last.fields is not None:
        initial = clone(last.fields)
        set_path(initial, path, clone(value))
        last = replace(last, fields=ordered_fields(schema, initial))
    else:
        current = ticket.fields.get(path)
        extra = diff({path: current} if current is not None else {},
                     {path: value} if value is not None else {})
        merged = dict(last.changes)
        for key, (old, new) in extra.items():
            merged[key] = (last.changes[key][0] if key in last.changes else old, new)
        last = replace(last, changes={k: v for k, v in merged.items() if v[0] != v[1]})
    events = ticket.events[:-1] + (last,)
    return Ticket(ordered_fields(schema, replay(events)), events)


def hand_edits(ticket: Ticket) -> dict:
    """Return {path: (replayed, on file)} where the snapshot no longer equals the history.
    The ``sla`` block is left out: it is derived from the history and the rules (a merge
    of two clones writes it afresh), and the next change recomputes it anyway."""
    return {path: pair for path, pair in diff(replay(ticket.events), ticket.fields).items()
            if not path.startswith("sla.")}


# ---- plain data (what a ticket file holds) -------------------------------------------------

def to_plain(ticket: Ticket) -> dict:
    """Return the ticket as text-only data in file order, ready for a YAML writer."""
    out = F.dump(ticket.fields)
    out["events"] = [event_to_plain(e) for e in ticket.events]
    return out


def event_to_plain(event: Event) -> dict:
    """Return an event as text-only data."""
    out = {"id": event.id, "at": F.dump(event.at), "by": event.by, "action": event.action}
    if event.rule:
        out["rule"] = event.rule
    if event.ref:
        out["ref"] = event.ref
    if event.changes:
        out["changes"] = {}
        for path, (old, new) in event.changes.items():
            pair = {}
            if old is not None:
                pair["from"] = F.dump(old)
            if new is not None:
                pair["to"] = F.dump(new)
            out["changes"][path] = pair
    if event.fields is not None:
        out["fields"] = F.dump(event.fields)
    if event.note is not None:
        out["note"] = event.note
    if event.visibility:
        out["visibility"] = event.visibility
    return out


def for_json(schema: Schema, plain: dict) -> dict:
    """``plain`` (a ticket or its snapshot as text-only data, from to_plain or the index)
    with the schema's whole numbers as JSON numbers, in the snapshot, the creating event's
    fields and each change: what every ``--format json`` prints of a ticket."""
    whole = {name for name, spec in schema.specs.items() if spec.type == "integer"}

    def number(value):
        return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value

    def fields(data: dict) -> dict:
        out = dict(data)
        for name in whole:
            head, _, tail = name.partition(".")
            if not tail and head in out:
                out[head] = number(out[head])
            elif tail and isinstance(out.get(head), dict) and tail in out[head]:
                out[head] = {**out[head], tail: number(out[head][tail])}
        return out

    out = fields(plain)
    if isinstance(plain.get("events"), list):
        out["events"] = [_event_for_json(e, whole, number, fields) for e in plain["events"]]
    return out


def _event_for_json(event: dict, whole: set, number, fields) -> dict:
    out = dict(event)
    if isinstance(event.get("fields"), dict):
        out["fields"] = fields(event["fields"])
    if isinstance(event.get("changes"), dict):
        out["changes"] = {path: ({k: number(v) for k, v in pair.items()} if path in whole
                                 else pair) for path, pair in event["changes"].items()}
    return out


def from_plain(schema: Schema, data) -> Ticket:
    """Type a ticket file's data by the schema; raise FieldError naming the bad key."""
    if not isinstance(data, dict):
        raise FieldError((), "a ticket file must hold one mapping of fields")
    raw_events = data.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise FieldError(("events",), "the history is missing (every ticket has events:)")
    snapshot = typed_fields(schema, {k: v for k, v in data.items() if k != "events"},
                            strict=False)
    events = tuple(_event_from_plain(schema, e, ("events", i)) for i, e in enumerate(raw_events))
    if events[0].action != "create" or events[0].fields is None:
        raise FieldError(("events", 0), "the first event must be the create event with fields")
    return Ticket(snapshot, events)


def salvage(schema: Schema, data) -> tuple:
    """(ticket, events kept, events in the file) from a file whose history is partly broken:
    the events that can be read, the snapshot replayed from them. Raise FieldError when not
    even the create event can be read."""
    raw_events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(raw_events, list) or not raw_events:
        raise FieldError(("events",), "the history is missing")
    events = []
    for i, raw in enumerate(raw_events):
        try:
            events.append(_event_from_plain(schema, raw, ("events", i)))
        except (FieldError, ValueError):
            continue
    if not events or events[0].action != "create" or events[0].fields is None:
        raise FieldError(("events", 0), "the create event cannot be read")
    events.sort(key=lambda e: e.at)
    return (Ticket(ordered_fields(schema, replay(events)), tuple(events)), len(events),
            len(raw_events))


def typed_fields(schema: Schema, data: dict, strict: bool = True, base=()) -> dict:
    """Type nested ``data`` field by field; raise FieldError at the first bad key."""
    out = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise FieldError(base + (key,), "field names must be text")
        if key in schema.groups:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise FieldError(base + (key,), "must be a mapping of "
                                 + ", ".join(n for n in schema.specs if n.startswith(key + ".")))
            group = {}
            for sub, subvalue in value.items():
                checked = _typed_value(schema, f"{key}.{sub}", subvalue, strict, base + (key, sub))
                if checked is not None:
                    group[sub] = checked
            if group:
                out[key] = group
            continue
        checked = _typed_value(schema, key, value, strict, base + (key,))
        if checked is not None:
            out[key] = checked
    return out


def _typed_value(schema: Schema, name: str, value, strict: bool, path):
    spec = schema.specs.get(name)
    if spec is None:
        raise FieldError(path, "unknown field (not a core field nor declared under "
                               "fields: in rules.yaml)")
    try:
        return F.parse(spec, value, schema.tz, strict=strict) if strict else \
            _as_read(spec, value, schema.tz)
    except ValueError as exc:
        raise FieldError(path, str(exc)) from None


# Values read from files, typed once: a desk's statuses, teams, agents, regions and models
# repeat from ticket to ticket, and a ticket's create event repeats its snapshot. Keyed by the
# spec's identity (the entry keeps the spec, so the id is not reused) and the text; only
# values that cannot change (no lists) and do not depend on the time zone (no datetimes).
_READ: dict = {}
_READ_MOST = 65_536  # entries before the memo starts again: bounded whatever the desk


def _as_read(spec: FieldSpec, raw, tz: tzinfo):
    """F.parse(spec, raw, tz, strict=False), remembered for text that repeats."""
    if type(raw) is not str or spec.type == "list" or spec.type == "datetime":
        return F.parse(spec, raw, tz, strict=False)
    key = (id(spec), raw)
    known = _READ.get(key)
    if known is not None and known[0] is spec:
        return known[1]
    value = F.parse(spec, raw, tz, strict=False)
    if len(_READ) >= _READ_MOST:
        _READ.clear()
    _READ[key] = (spec, value)
    return value


def _event_from_plain(schema: Schema, data, path) -> Event:
    if not isinstance(data, dict):
        raise FieldError(path, "an event must be a mapping")
    for key in data:
        if key not in EVENT_KEYS:
            raise FieldError(path + (key,), "unknown event key; events hold "
                             + ", ".join(EVENT_KEYS))
    for key in ("id", "at", "by", "action"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise FieldError(path + (key,), "every event needs this (as text)")
    try:
        at = datetime.fromisoformat(data["at"])
    except ValueError:
        raise FieldError(path + ("at",), f"{data['at']!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=schema.tz)
    changes = {}
    for name, pair in (data.get("changes") or {}).items():
        if not isinstance(pair, dict) or set(pair) - {"from", "to"}:
            raise FieldError(path + ("changes", name), "a change holds from: and/or to:")
        spec = schema.specs.get(name)
        try:
            changes[name] = ((_as_read(spec, pair.get("from"), schema.tz),
                              _as_read(spec, pair.get("to"), schema.tz)) if spec else
                             (pair.get("from"), pair.get("to")))
        except ValueError as exc:
            raise FieldError(path + ("changes", name), str(exc)) from None
    initial = data.get("fields")
    if initial is not None:
        if not isinstance(initial, dict):
            raise FieldError(path + ("fields",), "must be a mapping of fields")
        initial = typed_fields(schema, initial, strict=False, base=path + ("fields",))
    visibility = data.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise FieldError(path + ("visibility",), "must be public or internal")
    return Event(data["id"], at, data["by"], data["action"], changes, initial,
                 data.get("note"), visibility, data.get("rule"), data.get("ref"))


def with_fields(ticket: Ticket, **updates) -> dict:
    """Return a copy of the ticket's snapshot with top-level ``updates`` applied."""
    data = clone(ticket.fields)
    for key, value in updates.items():
        set_path(data, key, value)
    return data



# ---- intake: values a person gives ------------------------------------------------------------

def parse_values(schema: Schema, given: dict, editable_only: bool = True) -> dict:
    """Check ``given`` ({dotted path or nested group: raw value}) and return nested values."""
    flat = {}
    for key, value in given.items():
        if isinstance(value, dict) and key in schema.groups:
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        else:
            flat[key] = value
    out: dict = {}
    for path, raw in flat.items():
        spec = schema.specs.get(path)
        if spec is None:
            raise FieldError((path,), _unknown_hint(schema, path))
        if editable_only and not spec.editable:
            raise FieldError((path,), "is kept by svcdesk and cannot be set by hand")
        try:
            value = F.parse(spec, raw, schema.tz)
        except ValueError as exc:
            raise FieldError((path,), str(exc)) from None
        set_path(out, path, value)
    return out


def _unknown_hint(schema: Schema, path: str) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(path, list(schema.specs), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown field ({hint}`svcdesk fields` lists them all)"


def missing_required(required, values: dict) -> list:
    """The names in ``required`` that ``values`` (nested) leaves empty."""
    return [name for name in required if get_path(values, name) in (None, "", [])]
