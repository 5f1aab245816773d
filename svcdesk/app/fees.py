"""Fees out of warranty (保外收费): a ticket's quote from the fee schedule and the parts it
used, the customer's approval or refusal, and the amount charged. Each is one event."""

from svcdesk.app import records as known
from svcdesk.app import work
from svcdesk.base import model
from svcdesk.base.errors import ValidationError, WorkflowError
from svcdesk.base.identity import TicketRef
from svcdesk.domain import fees, history
from svcdesk.domain.records import fee_schedule


def quote(desk, ref: TicketRef, given: dict, on_site: bool = False, note: str | None = None,
          covered_too: bool = False) -> model.Ticket:
    """Quote a repair: labour and (``on_site``, or a visit booked) travel from the product's
    fee schedule, else the desk's, the parts the ticket used at their prices; ``given``
    ({labour, travel, parts}: Decimal) wins. A ticket in warranty is repaired free and is
    not quoted unless ``covered_too`` (damage the warranty does not cover)."""
    rules = desk.rules

    def build(ticket, now, actor):
        warranty = ticket.get("product.warranty")
        if warranty in fees.COVERED and not covered_too:
            raise WorkflowError(f"{ticket.number} is in warranty ({warranty}): its repair is "
                                "free; --not-covered quotes damage the warranty does not cover")
        schedule = fee_schedule(rules.products, ticket.get("product.model"), rules.fees)
        visited = on_site or ticket.get("visit.at") is not None  # a visit's travel is owed
        used = fees.parts_used(ticket.events)
        prices = {}
        for part, _ in used:
            fields = known.load(desk, "part", part).fields
            prices[part] = fields.get("price") or fields.get("unit_cost") or fees.ZERO
        values = fees.quote(schedule, fees.parts_amount(used, prices), visited, given)
        updates = {f"fee.{k}": v for k, v in values.items()}
        said = (f"报价 ¥{values['quote']}：人工 ¥{values['labour']}，上门 ¥{values['travel']}，"
                f"备件 ¥{values['parts']}" + (f"。{note}" if note else ""))
        return history.record(rules, ticket, now, actor.key, "quote", updates, note=said,
                              visibility="public")

    return work.update(desk, ref, "quote", build)


def answer(desk, ref: TicketRef, approved: bool, note: str | None = None) -> model.Ticket:
    """Record the customer's answer to the ticket's quote (approved or declined)."""
    rules = desk.rules

    def build(ticket, now, actor):
        if ticket.get("fee.quote") is None:
            raise WorkflowError(f"{ticket.number} has no quote to answer (`svcdesk quote "
                                f"{ticket.number}` makes one)")
        decision = "approved" if approved else "declined"
        if ticket.get("fee.approval") == decision:
            return None
        return history.record(rules, ticket, now, actor.key,
                              "approve" if approved else "decline",
                              {"fee.approval": decision}, note=note,
                              visibility="internal" if note else None)

    return work.update(desk, ref, "approve" if approved else "decline", build)


def charge(desk, ref: TicketRef, amount, note: str | None = None) -> model.Ticket:
    """Record the amount charged for the ticket (a Decimal of yuan; 0 waives the fee)."""
    rules = desk.rules

    def build(ticket, now, actor):
        if ticket.get("fee.quote") is None:
            raise WorkflowError(f"{ticket.number} has no quote; quote it first (`svcdesk "
                                f"quote {ticket.number}`)")
        if ticket.get("fee.approval") != "approved" and rules.stock.approval:
            raise WorkflowError(f"{ticket.number}: the customer has not approved the quote "
                                "(`svcdesk approve` records it)")
        if amount < 0:
            raise ValidationError("fee.charged: an amount charged is not negative")
        return history.record(rules, ticket, now, actor.key, "charge",
                              {"fee.charged": amount}, note=note,
                              visibility="internal" if note else None)

    return work.update(desk, ref, "charge", build)
