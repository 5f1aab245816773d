"""Fees out of warranty (保外收费) and the spare parts a ticket used: what a quote holds, when
work must wait for the customer's approval, and what a ticket's history says it used.

Money is Decimal yuan of whole fen throughout (base.fields.money), never a float.
"""

import re
from decimal import Decimal

from svcdesk.base import model

ZERO = Decimal("0.00")
USE, RETURN = "part-use", "part-return"  # a ticket's events that take or give back parts
_PART_REF = re.compile(r"^part:(?P<part>[^*@\s]+)\*(?P<qty>\d+)@(?P<warehouse>\S+)$")
COVERED = ("in", "extended")  # warranty states in which a repair is free


def part_ref(part: str, qty: int, warehouse: str) -> str:
    """How a ticket's event names the parts it moved: part:P-100*2@main."""
    return f"part:{part}*{qty}@{warehouse}"


def ticket_ref(uid: str) -> str:
    """How a part's event names the ticket it went to: ticket:<uid> (a number may change)."""
    return f"ticket:{uid}"


def parts_used(events) -> dict:
    """{(part, warehouse): units} a ticket's history used and has not given back."""
    out: dict = {}
    for event in events:
        m = _PART_REF.match(event.ref or "") if event.action in (USE, RETURN) else None
        if m:
            key = (m["part"], m["warehouse"])
            out[key] = out.get(key, 0) + (int(m["qty"]) if event.action == USE
                                          else -int(m["qty"]))
    return {k: v for k, v in out.items() if v}


def parts_amount(used: dict, prices: dict) -> Decimal:
    """What the parts ``used`` ({(part, warehouse): units}) come to at ``prices``
    ({part: Decimal})."""
    return sum((prices.get(part, ZERO) * qty for (part, _), qty in used.items()), ZERO)


def quote(schedule: dict, parts: Decimal, on_site: bool, given: dict) -> dict:
    """The ``fee`` values of a quote: labour and travel from ``schedule`` (travel only for
    work on site) unless ``given``, parts at their prices; the total; approval cleared
    (a new quote is approved anew)."""
    labour = given.get("labour", schedule.get("labour", ZERO))
    travel = given.get("travel", schedule.get("travel", ZERO) if on_site else ZERO)
    parts = given.get("parts", parts)
    return {"labour": labour, "travel": travel, "parts": parts,
            "quote": labour + travel + parts, "approval": None}


def waiting_for_approval(fields: dict, required: bool) -> str | None:
    """Why work on a ticket may not start yet (None: it may): with ``required`` (rules.yaml
    fees.approval), an out-of-warranty ticket starts only once its quote is approved."""
    if not required or model.get_path(fields, "product.warranty") in COVERED or \
            model.get_path(fields, "product.warranty") is None:
        return None
    number = fields.get("id")
    fee = fields.get("fee") or {}
    if fee.get("quote") is None:
        return (f"{number} is out of warranty: quote it first (`svcdesk quote {number}`) "
                "and record the customer's approval (`svcdesk approve`)")
    if fee.get("approval") != "approved":
        said = "declined" if fee.get("approval") == "declined" else "not approved yet"
        return (f"{number}: the quote (¥{fee['quote']}) is {said}; `svcdesk approve "
                f"{number}` records the customer's approval (rules.yaml fees.approval)")
    return None
