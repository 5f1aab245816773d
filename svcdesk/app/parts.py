"""Spare parts (备件): the catalogue and the stock per warehouse. Stock is the sum of a part's
movements (receive, use, return, adjust), each an event on the part's record; a part used
on a ticket is one commit holding both the ticket's event and the part's."""

from typing import NamedTuple

from svcdesk.adapters import records as files
from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.app import records as known
from svcdesk.app import work
from svcdesk.base import model
from svcdesk.base.errors import ValidationError, WorkflowError
from svcdesk.base.identity import TicketRef, new_ulid
from svcdesk.domain import fees, history, records

MOST = 100_000  # units moved at once: more is a typo, not a delivery


class Level(NamedTuple):
    """A part's stock, as `parts stock` shows it."""

    part: dict  # its fields, as text
    levels: dict  # warehouse -> units (below zero: a backorder, or two clones' last unit)
    total: int
    minimum: int | None

    @property
    def below(self) -> bool:
        """Whether the desk holds fewer than the part's minimum."""
        return self.minimum is not None and self.total < self.minimum

    @property
    def short(self) -> list:
        """Warehouses whose stock is below zero."""
        return [w for w, n in self.levels.items() if n < 0]


def _warehouse(desk, warehouse: str | None) -> str:
    stock = desk.rules.stock
    warehouse = warehouse or stock.warehouse
    if warehouse not in stock.warehouses:
        raise ValidationError(f"warehouse {warehouse!r} is not under warehouses: in rules.yaml "
                              f"({', '.join(stock.warehouses)})")
    return warehouse


def _quantity(qty: int, number: str) -> int:
    if qty <= 0 or qty > MOST:
        raise ValidationError(f"part {number}: qty: {qty} is not a quantity (1 to {MOST:,})")
    return qty


def _moved(desk, part: model.Ticket, warehouse: str, qty: int, action: str,
           note: str | None, ref: str | None = None) -> model.Ticket:
    """``part`` (as on disk, a committed hand edit recorded) with a movement added."""
    from svcdesk.domain.merge import recorded

    schema = desk.rules.records["part"]
    now = desk.now()
    return records.move(schema, recorded(schema, part), warehouse, qty, new_ulid(now), now,
                        desk.actor().key, action, note, ref)


def _change_part(desk, number: str, make, subject) -> model.Ticket:
    """One change of a part's stock: under the desk lock, ``make(part as on disk)`` gives
    the part moved (None: nothing to do); ``subject`` says it in the commit."""
    actor = desk.actor()
    with desk.change() as change:
        part = known.load(desk, "part", number)
        relpath = files.relpath("part", part.fields["id"])
        change.read_committed(relpath)
        moved = make(part)
        if moved is None:
            return part
        change.write(relpath, store.encode_ticket(moved))
        change.commit(f"part {part.fields['id']}: {subject}", moved.events[-1].note or "",
                      trailers_for(None, f"part-{moved.events[-1].action}"),
                      actor.identity, desk.now())
    return moved


def receive(desk, number: str, qty: int, warehouse: str | None = None,
            note: str | None = None) -> model.Ticket:
    """Stock in: ``qty`` units of a part arrive at ``warehouse``."""
    warehouse = _warehouse(desk, warehouse)
    _quantity(qty, number)
    return _change_part(desk, number,
                        lambda part: _moved(desk, part, warehouse, qty, "receive", note),
                        f"receive {qty} at {warehouse}")


def adjust(desk, number: str, count: int, warehouse: str | None, note: str) -> model.Ticket:
    """A stocktake: the part's stock at ``warehouse`` is ``count`` (the difference is one
    movement, so that a merge with another clone's uses still adds up)."""
    warehouse = _warehouse(desk, warehouse)
    if count < 0 or count > MOST:
        raise ValidationError(f"part {number}: count: {count} is not a stock (0 to {MOST:,})")
    if not (note and note.strip()):
        raise ValidationError(f"part {number}: an adjustment needs a reason: -m TEXT")

    def make(part):
        have = records.stock_of(part.fields).get(warehouse, 0)
        return None if count == have else _moved(desk, part, warehouse, count - have,
                                                 "adjust", note)

    return _change_part(desk, number, make, f"adjust {warehouse} to {count}")


def use(desk, ref: TicketRef, number: str, qty: int = 1, warehouse: str | None = None,
        note: str | None = None, back: bool = False) -> tuple:
    """Parts used on a ticket (``back``: given back from it): the part's stock moves and the
    ticket's event records it, one commit. A use past the stock is refused unless the desk
    allows backorders; a return of more than the ticket used is refused."""
    warehouse = _warehouse(desk, warehouse)
    stock = desk.rules.stock
    out: dict = {}

    def build(ticket, now, actor):
        part = known.load(desk, "part", number)
        pn, name = part.fields["id"], part.fields.get("name") or ""
        _quantity(qty, pn)
        fits, product = part.fields.get("models"), ticket.get("product.model")
        if not back and fits and product and product not in fits:
            desk.warnings.append(f"part {pn} is listed for {', '.join(fits)}, not for "
                                 f"{product} ({ticket.number}'s product)")
        status = desk.rules.statuses.get(ticket.fields.get("status"))
        if status is not None and not status.open:
            raise WorkflowError(f"{ticket.number} is {ticket.fields['status']}; parts are "
                                "used on open tickets (reopen it first)")
        if back:
            used = fees.parts_used(ticket.events).get((pn, warehouse), 0)
            if qty > used:
                raise ValidationError(f"part {pn}: qty: {ticket.number} used {used} from "
                                      f"{warehouse}; {qty} cannot be given back")
        else:
            have = records.stock_of(part.fields).get(warehouse, 0)
            if qty > have and not stock.backorders:
                raise ValidationError(
                    f"part {pn}: stock: {stock.warehouses[warehouse]} holds {have}, {qty} "
                    f"needed (`svcdesk parts receive {pn} N` when it arrives; rules.yaml "
                    "parts.backorders allows a backorder)")
        moved = _moved(desk, part, warehouse, qty if back else -qty,
                       "return" if back else "use", note or ticket.number,
                       fees.ticket_ref(ticket.fields["uid"]))
        out["part"] = moved
        out["writes"] = {files.relpath("part", pn): store.encode_ticket(moved)}
        label = stock.warehouses[warehouse]
        said = f"{'退回' if back else '使用'}备件 {pn} {name} ×{qty}（{label}）"
        after = records.stock_of(moved.fields)[warehouse]
        if after < 0:
            said += f"，缺货 {-after}（backorder）"
        if note:
            said += f"：{note}"
        return history.record(desk.rules, ticket, now, actor.key,
                              fees.RETURN if back else fees.USE, {}, note=said,
                              visibility="internal", ref=fees.part_ref(pn, qty, warehouse))

    ticket = work.update(desk, ref, fees.RETURN if back else fees.USE, build, files=out)
    return ticket, out.get("part")


def levels(desk, number: str | None = None) -> list:
    """Every part's stock (or one's), by part number."""
    if number:
        found = [model.to_plain(known.load(desk, "part", number))]
    else:
        found = desk.records.listing("part")
    out = []
    for part in found:
        stock = {w: int((part.get("stock") or {}).get(w, 0)) for w in desk.rules.stock.warehouses}
        stock.update({w: int(n) for w, n in (part.get("stock") or {}).items()})
        minimum = part.get("minimum")
        out.append(Level(part, stock, sum(stock.values()),
                         int(minimum) if minimum is not None else None))
    return out
