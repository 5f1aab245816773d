"""Customers and the units they bought: add, edit, show, list, merge; and what a request's
phone, email or serial says about who calls and what they bought (``recognise``), which
intake puts on the ticket before the rules see it. Each change is one commit."""

from typing import NamedTuple

from svcdesk.adapters import records as files
from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.base import model
from svcdesk.base.errors import TicketNotFoundError, ValidationError
from svcdesk.base.identity import new_ulid
from svcdesk.domain import records
from svcdesk.domain.merge import recorded

# what a customer record gives a ticket that does not say it itself: record field -> ticket
INHERITED = {"name": "customer.name", "company": "customer.company",
             "address": "customer.address", "region": "customer.region",
             "tier": "customer.tier", "industry": "customer.industry"}
# what a unit gives a ticket naming its serial
FROM_UNIT = {"model": "product.model", "purchased": "product.purchased",
             "order_no": "product.order_no", "contract": "product.contract"}


class RecordNotFoundError(TicketNotFoundError):
    """No record has the key given."""


def _what(kind: str, key: str) -> str:
    return f"{records.KINDS[kind].label_en.lower()} {key}"


def _invalid(exc: records.RecordError) -> ValidationError:
    return ValidationError(str(exc))


# ---- reading ---------------------------------------------------------------------------------

def load(desk, kind: str, key: str) -> model.Ticket:
    """The record ``key`` of ``kind`` as on disk; RecordNotFoundError when there is none,
    TicketFileError naming file, line and field when its file cannot be read."""
    try:
        key = records.check_key(kind, key)
    except records.RecordError as exc:
        raise _invalid(exc) from None
    relpath = files.relpath(kind, key)
    try:
        raw = (desk.root / relpath).read_bytes()
    except FileNotFoundError:
        raise RecordNotFoundError(f"no {_what(kind, key)} (`svcdesk {kind} list` lists "
                                  "them)") from None
    return files.decode(desk.rules.records[kind], raw, relpath)


def recognise(desk, values: dict) -> dict:
    """``values`` (a request's, checked) with what the desk's records know put in where the
    request is silent: the unit its serial names (model, purchase, order, contract), the
    customer its phone or email finds (or the unit's owner): number, name, company,
    address, region, tier, industry, and a phone or email it lacks. ValidationError when the
    serial is another customer's unit than the one the contact details find."""
    serial = model.get_path(values, "product.serial")
    keys = records.request_keys(model.get_path(values, "customer.phone"),
                                model.get_path(values, "customer.email"))
    if not (serial or keys) or not _has_records(desk):
        return values
    index = desk.records
    unit = None
    if serial:
        try:
            unit = index.doc("unit", records.check_key("unit", serial))
        except records.RecordError:
            unit = None
    found = index.customer_by_contact(keys)
    owner = (unit or {}).get("customer")
    if len(found) > 1 and owner in found:
        found = [owner]
    if len(found) == 1 and owner and index.doc("customer", owner) and found[0] != owner:
        raise ValidationError(f"product.serial: {serial} is the unit of customer {owner}, "
                              f"not of {found[0]} whose contact details the request gives; "
                              "correct the serial, or move the unit (`svcdesk unit edit "
                              f"{serial} --set customer={found[0]}`)")
    customer_id = found[0] if len(found) == 1 else owner if not found else None
    if len(found) > 1:
        desk.warnings.append(f"the request's contact details are those of {len(found)} "
                             f"customers ({', '.join(found[:5])}): the ticket is not linked "
                             "to one; `svcdesk customer merge` if they are one person")
    schema = desk.rules.schema
    if unit:
        unit = _typed(desk, "unit", unit)
        model.set_path(values, "product.serial", unit["id"])  # as the unit is filed
        for field, path in FROM_UNIT.items():
            if unit.get(field) is not None and model.get_path(values, path) is None:
                model.set_path(values, path, unit[field])
    customer = index.doc("customer", customer_id) if customer_id else None
    if customer:
        model.set_path(values, "customer.id", customer_id)
        for field, path in INHERITED.items():
            if customer.get(field) and path in schema.specs and \
                    model.get_path(values, path) is None:
                model.set_path(values, path, customer[field])
        if not model.get_path(values, "customer.phone") and customer.get("phones"):
            model.set_path(values, "customer.phone", customer["phones"][0])
        if not model.get_path(values, "customer.email") and customer.get("emails"):
            model.set_path(values, "customer.email", customer["emails"][0])
    if unit and model.get_path(values, "product.warranty") is None:
        state = records.warranty(unit, desk.now().date(),
                                 desk.rules.warranty_months_of(unit.get("model")))
        model.set_path(values, "product.warranty", state)
    return values


def _has_records(desk) -> bool:
    """Whether the desk keeps customers or units at all (a look at two folders, so that a
    desk without them pays nothing)."""
    return (desk.root / "customers").is_dir() or (desk.root / "units").is_dir()


def _typed(desk, kind: str, doc: dict) -> dict:
    """A record's fields from the index (text) typed by its schema again."""
    return model.typed_fields(desk.rules.records[kind], doc, strict=False)


# ---- changing --------------------------------------------------------------------------------

def _save(desk, change, kind: str, record: model.Ticket, new: bool = False) -> None:
    relpath = files.relpath(kind, record.fields["id"])
    if new:
        folder, name = relpath.rsplit("/", 1)
        if (desk.root / relpath).exists() or name in change.head_names(folder):
            raise ValidationError(f"{_what(kind, record.fields['id'])} exists already "
                                  f"({relpath}); `svcdesk {kind} edit` changes it")
    change.write(relpath, store.encode_ticket(record))


def _current(desk, change, kind: str, key: str) -> model.Ticket:
    """The record as committed, its committed hand edits recorded as an event."""
    record = load(desk, kind, key)
    change.read_committed(files.relpath(kind, record.fields["id"]))
    return recorded(desk.rules.records[kind], record)


def add(desk, kind: str, given: dict, key: str | None = None) -> model.Ticket:
    """A new customer (its number made here) or unit (``key``: its serial): one commit."""
    rules, actor, now = desk.rules, desk.actor(), desk.now()
    schema = rules.records[kind]
    uid = new_ulid(now)
    try:
        key = records.customer_id(uid) if kind == "customer" else records.check_key(kind, key)
        values = records.check_values(kind, schema, given, _what(kind, key))
    except records.RecordError as exc:
        raise _invalid(exc) from None
    if kind == "unit":
        _check_unit(desk, values, key)
    if kind == "part":
        _check_part(desk, values, key)
    if kind == "customer":
        _say_shared(desk, values, key)
    with desk.change() as change:
        record = records.create(schema, key, uid, values, new_ulid(now), now, actor.key)
        _save(desk, change, kind, record, new=True)
        change.commit(f"{kind} {key}: add {record.fields.get('name') or ''}".rstrip(), "",
                      trailers_for(None, f"{kind}-add"), actor.identity, now)
    return record


def _check_unit(desk, values: dict, key: str) -> None:
    owner = values.get("customer")
    if owner and not (desk.root / files.relpath("customer", owner)).exists():
        raise ValidationError(f"unit {key}: customer: no customer {owner}")
    if values.get("purchased") and not values.get("warranty_end"):
        values["warranty_end"] = records.warranty_end(
            values["purchased"], desk.rules.warranty_months_of(values.get("model")))


def _say_shared(desk, values: dict, key: str) -> None:
    """Warn when a new customer's phone or email is already another's (a switchboard may be
    shared; a person recorded twice is merged with `customer merge`)."""
    if not _has_records(desk):
        return
    for contact in records.contact_keys(values):
        others = [c for c in desk.records.customer_by_contact([contact]) if c != key]
        if others:
            desk.warnings.append(f"customer {key}: {contact.split(':', 1)[1]} is also "
                                 f"customer {others[0]}'s; a request from it is linked to "
                                 "neither until one is merged (`svcdesk customer merge`)")


def _check_part(desk, values: dict, key: str) -> None:
    if values.get("minimum") is not None and values["minimum"] < 0:
        raise ValidationError(f"part {key}: minimum: must not be negative")


def edit(desk, kind: str, key: str, given: dict, note: str | None = None) -> model.Ticket:
    """Set fields of a record (None or "" unsets one): one event, one commit."""
    rules, actor, now = desk.rules, desk.actor(), desk.now()
    schema = rules.records[kind]
    with desk.change() as change:
        record = _current(desk, change, kind, key)
        key = record.fields["id"]
        try:
            given_values = records.check_values(kind, schema, {k: v for k, v in given.items()
                                                               if v not in (None, "")},
                                                _what(kind, key), whole=False)
        except records.RecordError as exc:
            raise _invalid(exc) from None
        after = model.clone(record.fields)
        for path in given:
            model.set_path(after, path, model.get_path(given_values, path))
        try:
            records.check_record(kind, after, _what(kind, key))
        except records.RecordError as exc:
            raise _invalid(exc) from None
        if kind == "unit":
            _check_unit(desk, {k: v for k, v in after.items() if k == "customer"}, key)
        updated, event = model.change(schema, record, after, new_ulid(now), now, actor.key,
                                      "edit", note=note)
        if not event.changes:
            return record
        _save(desk, change, kind, updated)
        change.commit(f"{kind} {key}: edit {', '.join(event.changes)}", note or "",
                      trailers_for(None, f"{kind}-edit"), actor.identity, now)
    return updated


def merge_customers(desk, gone: str, into: str) -> tuple:
    """Two records of one customer made one: ``into`` gains what ``gone`` knew (phones,
    emails and what it lacked), ``gone`` points to it, and its tickets and units follow.
    One commit. Returns (the kept record, tickets moved, units moved)."""
    rules, actor, now = desk.rules, desk.actor(), desk.now()
    schema = rules.records["customer"]
    with desk.change() as change:
        a = _current(desk, change, "customer", gone)
        b = _current(desk, change, "customer", into)
        if a.fields["id"] == b.fields["id"]:
            raise ValidationError(f"customer {a.fields['id']}: cannot be merged into itself")
        if a.fields.get("merged_into"):
            raise ValidationError(f"customer {a.fields['id']}: merged_into: already merged "
                                  f"into {a.fields['merged_into']}")
        if b.fields.get("merged_into"):
            raise ValidationError(f"customer {b.fields['id']}: merged_into: merged into "
                                  f"{b.fields['merged_into']}; merge into that one")
        gone, into = a.fields["id"], b.fields["id"]
        kept = model.clone(b.fields)
        for field in ("phones", "emails"):
            joined = list(dict.fromkeys((kept.get(field) or []) + (a.fields.get(field) or [])))
            if joined:
                kept[field] = joined
        for field, spec in schema.specs.items():
            if spec.editable and kept.get(field) is None and a.fields.get(field) is not None:
                kept[field] = a.fields[field]
        b2, _ = model.change(schema, b, kept, new_ulid(now), now, actor.key, "merge",
                             note=f"merged {gone} into this record")
        a2, _ = model.change(schema, a, {**model.clone(a.fields), "merged_into": into},
                             new_ulid(now), now, actor.key, "merge",
                             note=f"merged into {into}")
        _save(desk, change, "customer", a2)
        _save(desk, change, "customer", b2)
        moved = _move_tickets(desk, change, gone, into, now, actor)
        units = _move_units(desk, change, gone, into, now, actor)
        change.commit(f"customer {gone}: merge into {into}",
                      f"{moved} ticket(s) and {units} unit(s) follow.",
                      trailers_for(None, "customer-merge"), actor.identity, now)
    return b2, moved, units


def _move_tickets(desk, change, gone: str, into: str, now, actor) -> int:
    from svcdesk.domain import history

    rules = desk.rules
    moved = 0
    for relpath in desk.index.related("customer_id", gone):
        raw = change.read_committed(relpath)
        ticket = store.ticket_from_bytes(rules.schema, raw, relpath)
        ticket = history.absorb_hand_edits(rules, ticket, now)
        ticket = history.record(rules, ticket, now, actor.key, "edit",
                                {"customer.id": into}, note=f"customer {gone} merged into "
                                f"{into}", visibility="internal")
        change.write(relpath, store.encode_ticket(history.settle(rules, ticket)))
        moved += 1
    return moved


def _move_units(desk, change, gone: str, into: str, now, actor) -> int:
    schema = desk.rules.records["unit"]
    moved = 0
    for doc in desk.records.owned_by("unit", gone):
        unit = _current(desk, change, "unit", doc["id"])
        updated, _ = model.change(schema, unit, {**model.clone(unit.fields), "customer": into},
                                  new_ulid(now), now, actor.key, "edit",
                                  note=f"customer {gone} merged into {into}")
        _save(desk, change, "unit", updated)
        moved += 1
    return moved


# ---- views -----------------------------------------------------------------------------------

class CustomerView(NamedTuple):
    """What `customer show` says of a customer."""

    record: model.Ticket
    tickets: list  # plain ticket dicts, open first, newest first within each
    units: list  # plain unit dicts
    csat: float | None  # the mean rating of its rated tickets
    rated: int
    met: int  # tickets whose resolution promise was kept
    breached: int  # ... and broken


class UnitView(NamedTuple):
    """What `unit show` says of a unit: it, its warranty today, its owner, its repairs."""

    record: model.Ticket
    warranty: str
    owner: dict | None
    tickets: list  # plain ticket dicts, newest first


def show_customer(desk, key: str) -> CustomerView:
    """The customer ``key`` (a merged one's record points where it went), its tickets,
    units, ratings and service levels."""
    record = load(desk, "customer", key)
    key = record.fields["id"]
    open_ = set(desk.rules.open_statuses())
    desk.index.as_committed()  # the team's tickets, as the record lookups are
    tickets = desk.index.related_docs("customer_id", key)
    tickets.sort(key=lambda t: (t.get("status") not in open_, -_when(t)))
    rated = [int(t["csat"]) for t in tickets if t.get("csat")]
    states = [(t.get("sla") or {}).get("resolution_state") for t in tickets]
    return CustomerView(record, tickets, desk.records.owned_by("unit", key),
                        sum(rated) / len(rated) if rated else None, len(rated),
                        sum(1 for s in states if s == "met"),
                        sum(1 for s in states if s == "breached"))


def _when(ticket: dict) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(ticket.get("created") or "").timestamp()
    except ValueError:
        return 0.0


def show_unit(desk, serial: str) -> UnitView:
    """The unit ``serial``, its warranty today, its owner and its repair history."""
    record = load(desk, "unit", serial)
    f = record.fields
    state = records.warranty(f, desk.now().date(), desk.rules.warranty_months_of(f.get("model")))
    owner = desk.records.doc("customer", f["customer"]) if f.get("customer") else None
    desk.index.as_committed()  # the team's tickets, as the record lookups are
    tickets = desk.index.related_docs("serial", f["id"])
    tickets.sort(key=lambda t: -_when(t))
    return UnitView(record, state, owner, tickets)


def listing(desk, kind: str, text: str | None = None, owner: str | None = None,
            limit: int | None = None) -> list:
    """Records of ``kind`` as plain dicts (those holding ``text``; a customer's units)."""
    if owner:
        return desk.records.owned_by(kind, records.check_key("customer", owner))
    return desk.records.listing(kind, text, limit)


def plain(record: model.Ticket) -> dict:
    """A record as text-only data, fields then events (what --format json prints)."""
    return model.to_plain(record)


def file_text(record: model.Ticket) -> str:
    """A record as its file holds it."""
    return store.encode_ticket(record).decode("utf-8")


def problems(desk, kind: str) -> list:
    """The committed record files of ``kind`` that cannot be read: what each error says
    (file, line, field)."""
    folder = records.KINDS[kind].folder + "/"
    return [message for path, message in desk.records.problems() if path.startswith(folder)]
