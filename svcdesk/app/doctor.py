"""`svcdesk doctor`: a desk checked the way a careful admin would, each problem said with
where it is and what would fix it; `--fix` does the fixes that lose nothing (an interrupted
change finished, hand edits recorded, the index rebuilt, the merge driver set up, broken
outbox files moved aside). What only a person can decide (two tickets with one number, a
link to a ticket that is gone, a secret in the history) is said, not done."""

import json
import re
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.app.desk import SYSTEM
from svcdesk.base import model
from svcdesk.base.errors import SvcdeskError, TicketFileError
from svcdesk.domain import history, links

# what a secret committed to the desk looks like (a webhook's key, a password in an address,
# Aliyun's AccessKey, a private key)
SECRETS = (  # each a pattern both git grep -E and Python's re read alike
    (r"access_token=[A-Za-z0-9_-]{16,}", "a robot's access_token"),
    (r"webhook/send\?key=[A-Za-z0-9-]{16,}", "a 企业微信 robot's key"),
    (r"bot/v2/hook/[A-Za-z0-9-]{16,}", "a 飞书 robot's address"),
    (r"SEC[0-9a-f]{40,}", "a 钉钉 signing secret"),
    (r"smtps?://[^ :/@]+:[^ @/]+@", "a password in an SMTP address"),
    (r"LTAI[0-9A-Za-z]{12,}", "an Aliyun AccessKeyId"),
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----", "a private key"),
)
OUTBOX_STALL_DAYS = 1  # a notice pending this long means delivery has stopped


class Finding(NamedTuple):
    """One problem: which check, where, what is wrong, and the fix (None: a person's)."""

    check: str
    where: str
    problem: str
    fix: str | None = None
    fixed: bool = False




def examine(desk, fix: bool = False) -> list:
    """Every finding, fixes done where ``fix`` and the fix loses nothing."""
    out: list = []
    out += _merge_driver(desk, fix)  # first: no change is taken in a clone without it
    out += _interrupted(desk, fix)
    tickets: dict = {}  # relpath -> model.Ticket, as _files read them, for the checks after
    out += _files(desk, tickets)
    out += _numbers(tickets)
    out += _links(tickets)
    out += _hand_edits(desk, tickets, fix)
    out += _index(desk, fix)
    out += _outbox(desk, fix)
    out += _secrets(desk)
    return out


# ---- the checks ------------------------------------------------------------------------------

def _interrupted(desk, fix: bool) -> list:
    """A change or a sync's merge a killed process left half done (the next change finishes
    it), and git's lock files such a process left."""
    state = desk.state
    left = [p for p in (state.journal, state.merging) if p.exists()]
    locks = desk.git.lock_files()
    if not left and not locks:
        return []
    said = ", ".join(p.name for p in left + locks)
    fixed = False
    if fix:
        with desk.change("svcdesk"):  # taking one finishes what was left, clears the locks
            pass
        fixed = not any(p.exists() for p in left + locks)
    return [Finding("interrupted", said, "a change was cut short (a killed process); its "
                    "files or git's locks are left", "finish it, as the next change would",
                    fixed)]


def _files(desk, tickets: dict) -> list:
    """Every ticket file parses (its YAML, its fields, its history); a file under tickets/
    that is no ticket's name is never read; records and articles parse."""
    out = []
    schema = desk.rules.schema
    named = set(store.ticket_files(desk.root))
    for relpath in sorted(named):
        try:
            raw = (desk.root / relpath).read_bytes()
            tickets[relpath] = store.ticket_from_bytes(schema, raw, relpath)
        except TicketFileError as exc:
            where = f"{relpath}:{exc.line}" if exc.line else relpath
            out.append(Finding("files", where, exc.message, None))
        except OSError as exc:
            out.append(Finding("files", relpath, exc.strerror or str(exc), None))
    folder = desk.root / store.TICKETS
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            relpath = path.relative_to(desk.root).as_posix()
            if path.is_file() and relpath not in named and path.suffix == ".yaml":
                out.append(Finding("files", relpath, "not where a ticket is kept "
                                   "(tickets/YYYY/MM/NUMBER.yaml): svcdesk never reads it"))
    from svcdesk.app import knowledge

    try:
        knowledge.articles(desk)
    except SvcdeskError as exc:
        out.append(Finding("files", "kb/", str(exc)))
    return out


def _numbers(tickets: dict) -> list:
    """Each number names one ticket, in the file of its name; each uid is one ticket's."""
    out, numbers, uids = [], {}, {}
    for relpath, ticket in tickets.items():
        number = ticket.fields.get("id")
        if number and not relpath.endswith(f"/{number}.yaml"):
            out.append(Finding("numbers", relpath, f"holds ticket {number}, whose file this "
                               "is not (git mv it to its number's name)"))
        if number in numbers:
            out.append(Finding("numbers", relpath, f"{number} is also {numbers[number]}"))
        numbers.setdefault(number, relpath)
        uid = ticket.fields.get("uid")
        if uid in uids:
            out.append(Finding("numbers", relpath, f"has the uid of {uids[uid]} (a copied "
                               "file?): two tickets must never share one"))
        uids.setdefault(uid, relpath)
    return out


def _links(tickets: dict) -> list:
    """Every link names a ticket that exists, and that ticket links back."""
    out = []
    by_uid = {t.fields.get("uid"): (p, t) for p, t in tickets.items()}
    reverse = {}
    for first, second in links.KINDS.values():
        reverse[first], reverse[second] = second, first
    for relpath, ticket in tickets.items():
        uid = ticket.fields.get("uid")
        for slot, targets in links.links_of(ticket.fields).items():
            for target in targets:
                if target not in by_uid:
                    out.append(Finding("links", relpath, f"links.{slot} names {target}, no "
                                       "ticket of this desk (`svcdesk unlink` it)"))
                    continue
                other_path, other = by_uid[target]
                if uid not in links.links_of(other.fields).get(reverse[slot], []):
                    out.append(Finding("links", relpath, f"links.{slot} names "
                                       f"{other.number}, which does not link back (links."
                                       f"{reverse[slot]} in {other_path})"))
    return out


def _hand_edits(desk, tickets: dict, fix: bool) -> list:
    """A ticket's snapshot is the replay of its history: a hand edit committed without an
    event is recorded as one (the next change of the ticket would)."""
    out = []
    edited = [(p, t) for p, t in tickets.items() if model.hand_edits(t)]
    if not edited:
        return out
    fixed = set()
    if fix:
        now = desk.now()
        with desk.change("svcdesk") as change:
            for relpath, ticket in edited:
                try:
                    raw = change.read_committed(relpath)
                except SvcdeskError:
                    continue  # an uncommitted edit: the person's, not the doctor's
                current = store.ticket_from_bytes(desk.rules.schema, raw, relpath)
                recorded = history.absorb_hand_edits(desk.rules, current, now)
                change.write(relpath, store.encode_ticket(history.settle(desk.rules,
                                                                         recorded)))
                fixed.add(relpath)
            if fixed:
                change.commit(f"doctor: hand edits of {len(fixed)} ticket(s) recorded",
                              "\n".join(sorted(fixed)), trailers_for(None, "doctor"),
                              SYSTEM, now)
    for relpath, ticket in edited:
        paths = ", ".join(model.hand_edits(ticket))
        out.append(Finding("history", relpath, f"its snapshot differs from its history "
                           f"({paths}): a hand edit no event records",
                           "record the edit as a hand-edit event", relpath in fixed))
    return out


def _merge_driver(desk, fix: bool) -> list:
    """The ticket merge driver is in this clone's git config and the desk's .gitattributes:
    without it, two clones' changes to one ticket meet as a conflict."""
    from svcdesk.adapters.repo import attributes_added

    attributes = desk.root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    missing = []
    if not desk.git.has_merge_driver():
        missing.append("git config")
    if attributes_added(text) is not None:
        missing.append(".gitattributes")
    if not missing:
        return []
    fixed = False
    if fix:
        from svcdesk.app import sync

        sync.setup(desk.root)
        fixed = desk.git.has_merge_driver()
    return [Finding("merge driver", " and ".join(missing), "the ticket merge driver is not "
                    "set up, so two clones' changes to one ticket would conflict",
                    "run svcdesk setup", fixed)]


def _index(desk, fix: bool) -> list:
    """The index holds every ticket file the desk has (a read brings it up to date; one that
    then disagrees is rebuilt)."""
    files = sum(1 for _ in store.ticket_files(desk.root))
    try:
        status = desk.index.status()
    except SvcdeskError as exc:
        status, why = None, str(exc)
    if status is not None and status.tickets + status.problems == files:
        return []
    if status is not None:
        why = (f"it holds {status.tickets + status.problems:,} of the desk's {files:,} "
               "ticket files")
    fixed = False
    if fix:
        from svcdesk.app import admin

        fixed = admin.rebuild_index(desk) + desk.index.status().problems == files
    return [Finding("index", str(desk.state.index.name), why, "rebuild it", fixed)]


def _outbox(desk, fix: bool) -> list:
    """Every notice in the outbox can be read, has its message, belongs to a ticket of the
    desk and a channel it still declares; none waits past a day."""
    folder = desk.state.outbox
    if not folder.is_dir():
        return []
    out, broken = [], []
    channels = desk.rules.notices.channels if desk.rules.notices else {}
    now = desk.now()
    stems = set()
    for meta_path in sorted(folder.glob("*.json")):
        stems.add(meta_path.stem)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            to, relpath = meta["to"], meta["relpath"]
        except (OSError, ValueError, KeyError, TypeError):
            broken.append((meta_path, "cannot be read (half written by a killed process?)"))
            continue
        channel = to.get("channel", "email")
        if channel != "email" and channel not in channels:
            out.append(Finding("outbox", meta_path.name, f"goes by channel {channel}, which "
                               "rules.yaml no longer declares: declare it, or remove the "
                               "notice by hand"))
        if not (desk.root / relpath).exists():
            broken.append((meta_path, f"its ticket {meta.get('number')} is not in the desk"))
            continue
        message = meta_path.with_suffix(".eml" if channel == "email" else ".msg")
        if meta.get("state", "pending") == "pending" and not message.exists():
            broken.append((meta_path, "pending, but its rendered message is missing"))
        elif meta.get("state") == "failed":
            out.append(Finding("outbox", meta_path.name, f"failed: {meta.get('error')}",
                               "fix what the error names; notify send renders it again"))
        elif meta.get("attempts") and meta.get("error"):
            out.append(Finding("outbox", meta_path.name, f"{meta['attempts']} attempt(s) "
                               f"failed: {meta['error']}"))
        try:
            age = now.timestamp() - meta_path.stat().st_mtime
        except OSError:
            age = 0
        if age > OUTBOX_STALL_DAYS * 86400 and meta.get("state", "pending") == "pending":
            out.append(Finding("outbox", meta_path.name, f"waiting {age / 86400:.0f} days: is "
                               "`svcdesk notify send` run by cron?"))
    for message in sorted([*folder.glob("*.eml"), *folder.glob("*.msg")]):
        if message.stem not in stems:
            broken.append((message, "a message with no notice file"))
    for path, why in broken:
        fixed = False
        if fix:
            aside = folder.parent / "outbox-aside"
            aside.mkdir(parents=True, exist_ok=True)
            for part in (path, path.with_suffix(".eml"), path.with_suffix(".msg")) \
                    if path.suffix == ".json" else (path,):
                if part.exists():
                    part.replace(aside / part.name)
            fixed = True
        out.append(Finding("outbox", path.name, why,
                           "move it aside to .git/svcdesk/outbox-aside (kept, never sent)",
                           fixed))
    return out


def _secrets(desk) -> list:
    """No secret is committed: a robot's key, a password, an access key. (Found, it is in
    the history of every clone: rotate it; removing it now does not unpublish it.)"""
    patterns = [arg for p, _ in SECRETS for arg in ("-e", p)]
    found = desk.git.run("grep", "-I", "-n", "-E", *patterns, "HEAD", "--",
                         ":(exclude)tickets/", check=False)
    out = []
    for line in found.decode("utf-8", "replace").splitlines()[:50]:
        _, _, rest = line.partition(":")  # HEAD:path:line:text
        path, _, rest = rest.partition(":")
        number, _, text = rest.partition(":")
        what = next((said for p, said in SECRETS if re.search(p, text)), "a secret")
        out.append(Finding("secrets", f"{path}:{number}", f"{what} is committed: rotate it "
                           "(every clone has it in its history) and keep it in an "
                           "environment variable (docs/channels.md)"))
    return out


def summary(findings: list) -> tuple:
    """(problems left, fixed, of which a fix exists)."""
    left = [f for f in findings if not f.fixed]
    return len(left), sum(f.fixed for f in findings), sum(1 for f in left if f.fix)

