"""Links between tickets and merging a duplicate into its original: each is one change
writing both tickets, so a sync carries a link whole or not at all."""

from svcdesk.adapters import store
from svcdesk.app.work import update_together
from svcdesk.base import model
from svcdesk.base.errors import TicketFileError, UsageError, WorkflowError
from svcdesk.base.identity import TicketRef
from svcdesk.domain import history, links


def link(desk, a: TicketRef, b: TicketRef, kind: str, note: str | None = None) -> list:
    """Link ticket ``a`` to ``b`` as ``kind`` ("A is KIND of B"): both tickets record it."""
    if kind not in links.KINDS:
        raise UsageError(f"--as {kind!r}: one of " + ", ".join(links.KINDS))
    mine, theirs = links.KINDS[kind]
    rules = desk.rules
    note = note.strip() if note and note.strip() else None

    def build(tickets, now, actor):
        first, second = _two(tickets)
        links.check(kind, first.fields, second.fields, lambda uid, slot: chain(desk, uid, slot))
        return [history.record(rules, first, now, actor.key, "link",
                               links.added(first.fields, mine, second.fields["uid"]),
                               note=note, visibility="internal", ref=second.fields["uid"]),
                history.record(rules, second, now, actor.key, "link",
                               links.added(second.fields, theirs, first.fields["uid"]),
                               note=note, visibility="internal", ref=first.fields["uid"])]

    return update_together(desk, [a, b], "link", build,
                           f"link as {kind}" + (f": {note.splitlines()[0][:60]}" if note else ""),
                           note or "")


def unlink(desk, a: TicketRef, b: TicketRef) -> list:
    """Take every link between ``a`` and ``b`` away, on both."""
    rules = desk.rules

    def build(tickets, now, actor):
        first, second = _two(tickets)
        if not links.between(first.fields, second.fields["uid"]) and \
                not links.between(second.fields, first.fields["uid"]):
            raise WorkflowError(f"{first.number} and {second.number} are not linked")
        if links.merged_into(first.fields) == second.fields["uid"] and \
                first.fields["status"] not in rules.open_statuses():
            raise WorkflowError(f"{first.number} was merged into {second.number}; reopen it "
                                "before unlinking")
        return [history.record(rules, one, now, actor.key, "unlink",
                               links.removed(one.fields, other.fields["uid"]),
                               visibility="internal", ref=other.fields["uid"])
                if links.between(one.fields, other.fields["uid"]) else None
                for one, other in ((first, second), (second, first))]

    return update_together(desk, [a, b], "unlink", build, "unlink")


def merge(desk, duplicate: TicketRef, original: TicketRef, note: str | None = None) -> list:
    """Merge ``duplicate`` into ``original`` (合并重复工单): the duplicate is closed as one,
    linked to the original; the original gets the duplicate's contact where it has none,
    and a note with who asked and what they said. The customer's replies to the duplicate's
    notices go on to the original (app/mailin)."""
    rules = desk.rules
    note = note.strip() if note and note.strip() else None

    def build(tickets, now, actor):
        dup, orig = _two(tickets)
        if links.merged_into(dup.fields):
            raise WorkflowError(f"{dup.number} is already merged (into "
                                f"{_number(desk, links.merged_into(dup.fields))})")
        target = links.merged_into(orig.fields)
        if target:
            raise WorkflowError(f"{orig.number} was itself merged into "
                                f"{_number(desk, target)}: merge into that one")
        links.check("duplicate", dup.fields, orig.fields,
                    lambda uid, slot: chain(desk, uid, slot))
        closed = next((k for k, s in rules.statuses.items() if not s.open), None)
        if closed is None:
            raise WorkflowError("the desk's statuses have none that is closed (open: false)")
        said = note or f"与 {orig.number} 重复，已合并"
        dup_after = history.record(
            rules, dup, now, actor.key, "merge",
            {**links.added(dup.fields, "duplicate_of", orig.fields["uid"]),
             "status": closed, "resolution": said},
            note=said, visibility="public", ref=orig.fields["uid"])
        contact = _contact(dup.fields, orig.fields)
        orig_after = history.record(
            rules, orig, now, actor.key, "merge",
            {**links.added(orig.fields, "duplicates", dup.fields["uid"]), **contact},
            note=_merged_note(rules, dup, note), visibility="internal",
            ref=dup.fields["uid"])
        return [dup_after, orig_after]

    return update_together(desk, [duplicate, original], "merge", build, "merged duplicate",
                           note or "")


def chain(desk, uid: str, slot: str) -> list:
    """The uids reached from ticket ``uid`` by following ``slot`` (duplicate_of, parent) as
    committed, at most links.MAX_CHAIN of them (a longer chain is reported as a loop)."""
    seen, current = [], uid
    while len(seen) < links.MAX_CHAIN:
        relpath = desk.index.by_uid(current)
        if relpath is None:
            break
        ticket, _ = store.read_ticket(desk.root, desk.rules.schema, relpath)
        upward = links.links_of(ticket.fields).get(slot)
        if not upward:
            break
        looped = upward[0] == uid or upward[0] in seen
        current = upward[0]
        seen.append(current)
        if looped:
            break
    return seen


def shown(desk, ticket) -> list:
    """(slot, number or uid, title, status) of each ticket this one links to, for `show`."""
    out = []
    for slot, uids in links.links_of(ticket.fields).items():
        for uid in uids:
            relpath = desk.index.by_uid(uid)
            if relpath is None:
                out.append((slot, uid, "", None))
                continue
            try:
                other, _ = store.read_ticket(desk.root, desk.rules.schema, relpath)
            except TicketFileError:  # a broken file is shown by its number
                out.append((slot, store.number_of(relpath), "", None))
                continue
            out.append((slot, other.number, other.fields.get("title", ""),
                        other.fields.get("status")))
    return out


def _two(tickets: list) -> tuple:
    first, second = tickets
    if first.fields["uid"] == second.fields["uid"]:
        raise WorkflowError(f"{first.number} cannot be linked to or merged into itself")
    return first, second


def _number(desk, uid: str) -> str:
    relpath = desk.index.by_uid(uid)
    return store.number_of(relpath) if relpath else uid


def _contact(dup: dict, orig: dict) -> dict:
    """The duplicate's customer contact fields the original lacks, when both are the same
    person (another person's contact stays in the merge note only)."""
    theirs, ours = dup.get("customer") or {}, orig.get("customer") or {}
    if theirs.get("name") and ours.get("name") and theirs["name"] != ours["name"]:
        return {}
    return {f"customer.{key}": theirs[key] for key in ("name", "phone", "email", "company")
            if theirs.get(key) and not ours.get(key)}


def _merged_note(rules, dup: model.Ticket, note: str | None) -> str:
    """What the original keeps of the duplicate: a pointer, who asked, what they said."""
    customer = dup.fields.get("customer") or {}
    who = " ".join(str(customer[k]) for k in ("name", "company", "phone", "email")
                   if customer.get(k))
    lines = [f"合并自 {dup.number}「{dup.fields.get('title', '')}」"
             + (f"（{who}）" if who else "")]
    if dup.fields.get("description"):
        lines.append(str(dup.fields["description"]).strip()[:2000])
    if note:
        lines.append(note)
    return "\n".join(lines)
