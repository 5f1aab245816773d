"""Records beside tickets: customers (客户), the units they bought (设备/序列号) and spare
parts (备件). Each is a file of fields with an ``events:`` history, like a ticket: the
snapshot is the replay of its events, and two clones' versions merge by the union of their
histories. A part's stock is the sum of its movements (a ``stock.<warehouse>`` change adds
what it moved to what it finds, see model.COUNTERS), so two clones' uses add up.

Pure: rules and values in, values out. Files, paths and the lookup index are in
adapters/records.py.
"""

from datetime import date
from decimal import Decimal
import re
from typing import NamedTuple

from svcdesk.base import model
from svcdesk.base.fields import FieldSpec

TIERS_DEFAULT = {"normal": "普通客户"}
KINDS_OF_CUSTOMER = {"person": "个人", "organisation": "单位/企业"}


class Kind(NamedTuple):
    """One kind of record: its folder in the desk and how people call it."""

    name: str  # customer, unit, part
    folder: str
    label: str
    label_en: str
    key_label: str  # what its id is called


CUSTOMER = Kind("customer", "customers", "客户", "Customer", "客户编号")
UNIT = Kind("unit", "units", "设备", "Unit", "序列号")
PART = Kind("part", "parts", "备件", "Part", "备件号")
KINDS = {k.name: k for k in (CUSTOMER, UNIT, PART)}

# (name, type, label, English label, editable)
_CUSTOMER_FIELDS = (
    ("id", "string", "客户编号", "Customer", False),
    ("uid", "string", "唯一标识", "UID", False),
    ("kind", "enum", "类别", "Kind", True),
    ("name", "string", "名称", "Name", True),
    ("company", "string", "单位", "Company", True),
    ("contact", "string", "联系人", "Contact person", True),
    ("phones", "list", "电话", "Phones", True),
    ("emails", "list", "邮箱", "Emails", True),
    ("wechat", "string", "微信号", "WeChat ID", True),
    ("address", "string", "地址", "Address", True),
    ("region", "string", "地区", "Region", True),
    ("tier", "enum", "客户等级", "Tier", True),
    ("industry", "string", "所属行业", "Industry", True),
    ("notes", "text", "备注", "Notes", True),
    ("merged_into", "string", "已合并到", "Merged into", False),
    ("created", "datetime", "创建时间", "Created", False),
    ("updated", "datetime", "更新时间", "Updated", False),
)
_UNIT_FIELDS = (
    ("id", "string", "序列号", "Serial", False),
    ("uid", "string", "唯一标识", "UID", False),
    ("model", "string", "产品型号", "Model", True),
    ("customer", "string", "客户编号", "Customer", True),
    ("purchased", "date", "购买日期", "Purchased", True),
    ("order_no", "string", "订单号", "Order number", True),
    ("contract", "string", "合同编号", "Contract", True),
    ("warranty_end", "date", "保修截止", "Warranty ends", True),
    ("extended_until", "date", "延保截止", "Extended warranty until", True),
    ("notes", "text", "备注", "Notes", True),
    ("created", "datetime", "创建时间", "Created", False),
    ("updated", "datetime", "更新时间", "Updated", False),
)
_PART_FIELDS = (
    ("id", "string", "备件号", "Part number", False),
    ("uid", "string", "唯一标识", "UID", False),
    ("name", "string", "名称", "Name", True),
    ("models", "list", "适用型号", "Compatible models", True),
    ("unit_cost", "money", "单位成本", "Unit cost", True),
    ("price", "money", "销售单价", "Price", True),
    ("minimum", "integer", "最低库存", "Minimum stock", True),
    ("notes", "text", "备注", "Notes", True),
    ("created", "datetime", "创建时间", "Created", False),
    ("updated", "datetime", "更新时间", "Updated", False),
)
_FIELDS = {"customer": _CUSTOMER_FIELDS, "unit": _UNIT_FIELDS, "part": _PART_FIELDS}

# A serial or part number names a file: letters, digits and - _ . only, as printed on labels;
# kept in capitals, so that sn-1 and SN-1 are one unit on every file system
_KEY_RE = re.compile(r"^[A-Z0-9][A-Z0-9._\-]{0,63}$")
_CUSTOMER_ID_RE = re.compile(r"^C[0-9A-HJKMNP-TV-Z]{8}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）.]")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EXTENSION = re.compile(r"转|ext|x")


class Product(NamedTuple):
    """A model in the catalogue (rules.yaml products:)."""

    model: str
    label: str
    category: str | None
    warranty_months: int
    fees: dict  # {labour, travel: Decimal}, the desk's schedule with the product's own


class Stock(NamedTuple):
    """How the desk keeps spare parts (rules.yaml warehouses: and parts:)."""

    warehouses: dict  # key -> label, in order
    warehouse: str  # where `parts use` takes from unless told
    backorders: bool = False  # a use past the stock is recorded (below zero), not refused
    approval: bool = False  # fees.approval: an out-of-warranty quote is approved first


FEE_ITEMS = ("labour", "travel")  # what a fee schedule gives; parts come from parts used


class RecordError(ValueError):
    """A record or a value for one is not acceptable: ``what`` names the record, ``field``
    the field at fault."""

    def __init__(self, what: str, field: str | None, message: str):
        self.what, self.field, self.message = what, field, message
        super().__init__(f"{what}: {field}: {message}" if field else f"{what}: {message}")


def schema(kind: str, tz, tiers: dict | None = None, warehouses: dict | None = None,
           ) -> model.Schema:
    """The fields a record of ``kind`` holds: tiers from rules.yaml (customers), one whole
    number per warehouse under ``stock`` (parts)."""
    specs = {}
    for name, type_, label, label_en, editable in _FIELDS[kind]:
        choices = {}
        if name == "kind" and kind == "customer":
            choices = KINDS_OF_CUSTOMER
        elif name == "tier":
            choices = dict(tiers or TIERS_DEFAULT)
        extra = {"minimum": 0, "maximum": 10**6} if name == "minimum" else {}
        specs[name] = FieldSpec(name, type_, label, label_en, choices, editable, **extra)
    groups = ()
    if kind == "part":
        at = list(specs).index("notes")
        items = list(specs.items())
        for key, label in (warehouses or {}).items():
            items.insert(at, (f"stock.{key}", FieldSpec(f"stock.{key}", "integer",
                                                        f"库存·{label}", f"Stock: {key}",
                                                        {}, False)))
            at += 1
        specs = dict(items)
        groups = ("stock",)
    return model.Schema(specs, tz, groups)


def catalogue(section: dict, fees: dict, months: int) -> dict:
    """{model: Product} from rules.yaml's products: and fees: (checked by ruleschema)."""
    base = {item: fees.get(item, Decimal("0.00")) for item in FEE_ITEMS}
    return {name: Product(name, entry.get("label") or name, entry.get("category"),
                          entry.get("warranty_months", months),
                          {**base, **entry.get("fees", {})})
            for name, entry in section.items()}


def fee_schedule(products: dict, model_name: str | None, fees: dict) -> dict:
    """{labour, travel: Decimal}: the product's schedule, else the desk's."""
    product = products.get(model_name) if model_name else None
    if product is not None:
        return dict(product.fees)
    return {item: fees.get(item, Decimal("0.00")) for item in FEE_ITEMS}


# ---- keys ----------------------------------------------------------------------------------

def customer_id(uid: str) -> str:
    """The short, stable number of a customer: C and eight characters of its ULID's random
    part (two clones adding customers at once never meet on one: 32^8 choices)."""
    return "C" + uid[-8:]


def check_key(kind: str, text: str) -> str:
    """``text`` as the id of a record of ``kind``; RecordError when it cannot be one."""
    text = (text or "").strip()
    k = KINDS[kind]
    if kind == "customer":
        if not _CUSTOMER_ID_RE.match(text.upper()):
            raise RecordError(f"{k.label_en.lower()} {text!r}", None,
                              "is not a customer number (C and 8 letters or digits)")
        return text.upper()
    if not _KEY_RE.match(text.upper()) or ".." in text or text.endswith("."):
        raise RecordError(f"{k.label_en.lower()} {text!r}", "id",
                          f"a {k.key_label} is 1 to 64 letters, digits and - _ .")
    return text.upper()


def phone_key(text: str) -> str | None:
    """The number a phone is looked up by: separators out, +86/0086 off, so that
    "+86 138-0000-0000" and "13800000000" meet; a landline keeps its area code with its 0
    ("+86 571 8888 6666" is 057188886666). None for what is no number."""
    compact = _EXTENSION.sub("#", _PHONE_SEPARATORS.sub("", text or "").lower())
    main, _, ext = compact.partition("#")
    china = main.startswith(("+86", "0086"))
    if china:
        main = main[3:] if main.startswith("+") else main[4:]
    elif main.startswith("+"):
        return ("+" + main + (f"#{ext}" if ext else "")) if main[1:].isdigit() else None
    if not main.isdigit() or len(main) < 7:
        return None
    if china and not _CN_MOBILE.match(main) and not main.startswith("0"):
        main = "0" + main  # an area code written without its trunk 0 after +86
    return main + (f"#{ext}" if ext else "")


def email_key(text: str) -> str | None:
    """An address as it is looked up by: case folded, spaces off."""
    text = (text or "").strip()
    return text.casefold() if "@" in text else None


def contact_keys(fields: dict) -> list:
    """Every key a customer record is found by: tel:<number> and mail:<address>."""
    keys = [f"tel:{k}" for k in map(phone_key, fields.get("phones") or ()) if k]
    keys += [f"mail:{k}" for k in map(email_key, fields.get("emails") or ()) if k]
    return list(dict.fromkeys(keys))


def request_keys(phone: str | None, email: str | None) -> list:
    """The keys a request's contact details are looked up by (phone first)."""
    keys = []
    if phone and phone_key(phone):
        keys.append(f"tel:{phone_key(phone)}")
    if email and email_key(email):
        keys.append(f"mail:{email_key(email)}")
    return keys


# ---- values --------------------------------------------------------------------------------

def check_values(kind: str, schema_: model.Schema, given: dict, what: str,
                 whole: bool = True) -> dict:
    """``given`` ({field: raw value}) checked for a record of ``kind`` (with ``whole``, as a
    whole record; else as the fields an edit changes, the record checked after); RecordError
    naming ``what`` and the field."""
    try:
        values = model.parse_values(schema_, given)
    except model.FieldError as exc:
        raise RecordError(what, exc.path[0] if exc.path else None, exc.message) from None
    if whole:
        check_record(kind, values, what)
    return values


def check_record(kind: str, values: dict, what: str) -> None:
    """What the field types cannot say: every phone and email a real one, a unit's dates in
    order, stock never below what the desk allows."""
    from svcdesk.base import fields as F

    if kind == "customer":
        if not (values.get("name") or values.get("company")):
            raise RecordError(what, "name", "a customer needs a name or a company")
        for i, phone in enumerate(values.get("phones") or ()):
            try:
                F.parse(FieldSpec("phones", "phone", ""), phone, None)
            except ValueError as exc:
                raise RecordError(what, f"phones[{i}]", str(exc)) from None
        for i, email in enumerate(values.get("emails") or ()):
            if not F.is_email(email):
                raise RecordError(what, f"emails[{i}]", f"{email!r} is not an email address")
        if values.get("customer") is not None:
            raise RecordError(what, "customer", "unknown field")
    if kind == "unit":
        if values.get("customer"):
            try:
                values["customer"] = check_key("customer", values["customer"])
            except RecordError as exc:
                raise RecordError(what, "customer", exc.message) from None
        bought, ends = values.get("purchased"), values.get("warranty_end")
        if bought and ends and ends < bought:
            raise RecordError(what, "warranty_end", f"{ends} is before the purchase ({bought})")
        extended = values.get("extended_until")
        if extended and ends and extended < ends:
            raise RecordError(what, "extended_until",
                              f"{extended} is before the warranty's end ({ends})")


def warranty_end(purchased: date, months: int) -> date:
    """The first day out of warranty for a unit bought on ``purchased``."""
    year, month = divmod(purchased.month - 1 + months, 12)
    try:
        return purchased.replace(year=purchased.year + year, month=month + 1)
    except ValueError:  # the 31st in a shorter month: the warranty ends at that month's end
        year2, month2 = divmod(month + 1, 12)
        return purchased.replace(year=purchased.year + year + year2, month=month2 + 1, day=1)


def warranty(unit: dict, on: date, months: int | None = None) -> str:
    """in, extended, out or unknown on ``on`` for a unit's fields: its warranty end (or its
    purchase date and ``months``), then its extended warranty."""
    ends = unit.get("warranty_end")
    if ends is None and unit.get("purchased") is not None and months is not None:
        ends = warranty_end(unit["purchased"], months)
    extended = unit.get("extended_until")
    if ends is not None and on < ends:
        return "in"
    if extended is not None and on <= extended:
        return "extended"
    if ends is None:
        return "unknown"
    return "out"


# ---- history -------------------------------------------------------------------------------

def create(schema_: model.Schema, key: str, uid: str, values: dict, event_id: str, at,
           by: str, rule: str | None = None) -> model.Ticket:
    """A new record holding ``values`` (checked), its create event first."""
    initial = model.clone(values)
    initial["id"], initial["uid"] = key, uid
    initial = model.ordered_fields(schema_, initial)
    event = model.Event(event_id, at, by, "create", fields=initial, rule=rule)
    return model.append(schema_, model.Ticket({}, ()), event)


def stock_of(part: dict) -> dict:
    """{warehouse: units in stock} of a part's fields."""
    return {k: int(v) for k, v in (part.get("stock") or {}).items()}


def move(schema_: model.Schema, part: model.Ticket, warehouse: str, qty: int, event_id: str,
         at, by: str, action: str, note: str | None = None,
         ref: str | None = None) -> model.Ticket:
    """``part`` with ``qty`` units moved into (positive) or out of (negative) ``warehouse``:
    one event, a counter change that a merge adds up (``ref``: the ticket it went to)."""
    path = f"stock.{warehouse}"
    before = int(model.get_path(part.fields, path) or 0)
    after = before + qty
    event = model.Event(event_id, at, by, action, {path: (before, after)}, note=note, ref=ref)
    return model.append(schema_, part, event)


def merge(schema_: model.Schema, ours: model.Ticket, theirs: model.Ticket) -> model.Ticket:
    """One record holding both histories: shared events once, each side's order kept and
    the two interleaved by time. Two clones that each added the record (one serial, one
    part number) keep the earlier addition; the later is kept as an ``add-again`` event
    setting what it said differently, so nothing either clone wrote is lost."""
    from svcdesk.domain.merge import interleave, recorded

    a, b = recorded(schema_, ours), recorded(schema_, theirs)
    if a.fields.get("uid") != b.fields.get("uid"):
        first, second = sorted((a, b), key=lambda r: (r.events[0].at, r.events[0].id))
        again = second.events[0]
        said = {k: v for k, v in model.diff(first.events[0].fields, again.fields).items()
                if k != "uid" and v[1] is not None}  # what it set; what it lacked stays
        b = model.Ticket(second.fields, (first.events[0],) + (
            model.Event(again.id, again.at, again.by, "add-again", said,
                        note="added in another clone too"),) + second.events[1:])
        a = first
    events = interleave(a.events, b.events)
    return model.Ticket(model.ordered_fields(schema_, model.replay(events)), tuple(events))
