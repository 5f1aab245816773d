"""Links between tickets: a duplicate, a related ticket, a parent and its children, a cause.

``link A B --as KIND`` reads "A is KIND of B". Each link is kept on both tickets, under
``links.*`` as the other's uid, by one change: A gets the first slot, B the second. A
ticket is a duplicate of at most one ticket and has at most one parent, and neither chain
may lead back to where it started.
"""

from svcdesk.base.errors import WorkflowError

# kind -> (slot on A, slot on B)
KINDS = {
    "duplicate": ("duplicate_of", "duplicates"),
    "related": ("related", "related"),
    "parent": ("children", "parent"),
    "caused-by": ("caused_by", "causes"),
}
SLOTS = ("duplicate_of", "duplicates", "related", "parent", "children", "caused_by", "causes")
SINGLE = ("duplicate_of", "parent")  # a ticket has one of these at most
UPWARD = {"duplicate_of": "duplicate", "parent": "parent"}  # chains that must not loop
MAX_CHAIN = 64  # tickets followed along a chain before it is called a loop


def links_of(fields: dict) -> dict:
    """{slot: [uid, ...]} of a ticket's fields, empty slots left out."""
    found = fields.get("links") or {}
    return {slot: list(found[slot]) for slot in SLOTS if found.get(slot)}


def between(fields: dict, uid: str) -> list:
    """The slots of this ticket that hold ``uid``."""
    return [slot for slot, uids in links_of(fields).items() if uid in uids]


def added(fields: dict, slot: str, uid: str) -> dict:
    """{"links.SLOT": new list} putting ``uid`` in ``slot`` (empty when already there)."""
    have = links_of(fields).get(slot, [])
    return {} if uid in have else {f"links.{slot}": have + [uid]}


def removed(fields: dict, uid: str) -> dict:
    """{"links.SLOT": new list or None} taking ``uid`` out of every slot."""
    out = {}
    for slot, uids in links_of(fields).items():
        if uid in uids:
            rest = [u for u in uids if u != uid]
            out[f"links.{slot}"] = rest or None
    return out


def check(kind: str, a: dict, b: dict, chain_of) -> None:
    """Refuse linking ticket fields ``a`` to ``b`` as ``kind`` (WorkflowError) when it would
    link a ticket to itself, give one a second original or parent, or close a loop.
    ``chain_of(uid, slot)`` is the uids reached from ``uid`` by following ``slot``."""
    number_a, number_b = a.get("id"), b.get("id")
    if a.get("uid") == b.get("uid"):
        raise WorkflowError(f"{number_a} cannot be linked to itself")
    mine, theirs = KINDS[kind]
    if between(a, b["uid"]):
        slots = ", ".join(between(a, b["uid"]))
        raise WorkflowError(f"{number_a} is already linked to {number_b} ({slots}); "
                            f"`svcdesk unlink {number_a} {number_b}` first")
    for fields, slot, number in ((a, mine, number_a), (b, theirs, number_b)):
        if slot in SINGLE and links_of(fields).get(slot):
            raise WorkflowError(f"{number} already has a {slot.replace('_', ' ')} link; "
                                "a ticket has one at most")
    upward = {"duplicate": ("duplicate_of", a, b), "parent": ("parent", b, a)}.get(kind)
    if upward:
        slot, lower, upper = upward
        if lower["uid"] in chain_of(upper["uid"], slot):
            raise WorkflowError(f"linking {number_a} to {number_b} as {kind} would make a "
                                f"loop ({upper.get('id')} already leads back to "
                                f"{lower.get('id')})")


def merged_into(fields: dict) -> str | None:
    """The uid of the ticket this one was merged into, if it was."""
    found = links_of(fields).get("duplicate_of")
    return found[0] if found else None
