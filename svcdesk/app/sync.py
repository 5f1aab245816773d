"""A team's desk: each member's clone, set up to merge tickets by their histories, synced
through any git remote, with numbers that another clone took first renumbered.

- `setup` (and `clone`, which runs it after git clone): the ticket merge driver in this
  clone's git config and in the desk's committed .gitattributes, then the index.
- `merge_file`: what git runs to merge two versions of a ticket (domain.merge).
- `sync`: under the desk lock, fetch; renumber the tickets made here whose number the remote
  gave another ticket meanwhile; merge; push; when another clone pushed first, again.
"""

from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.adapters.discovery import find_root
from svcdesk.adapters.records import kind_of as records_kind
from svcdesk.adapters.repo import Git, attributes_added
from svcdesk.app import delivery
from svcdesk.app.desk import SYSTEM, Actor, Desk
from svcdesk.base.errors import (DeskExistsError, MergeError, RemoteError, RulesError,
                                 TicketFileError, UncommittedChangesError, UsageError)
from svcdesk.base.identity import parse_number, renumbering
from svcdesk.domain import history, merge, records

PUSH_ATTEMPTS = 5  # fetch, merge and push again this often while other clones push first


class Synced(NamedTuple):
    """What one sync did (or, with dry_run, would do)."""

    remote: str
    branch: str
    incoming: int  # changes (commits, merges left out) that came in
    outgoing: int  # changes of this clone that went out
    renumbered: list  # [(old number, new number)]
    dry_run: bool = False
    attempts: int = 1


def setup(root: Path, agent: str | None = None, progress=None) -> list:
    """Set up a clone of a desk; what it did, said plainly (nothing when all was in place).
    The index is built last (``progress(total)`` gives a bar for a large desk)."""
    git = Git(root)
    did = []
    had = git.has_merge_driver()
    git.configure()
    if not had:
        did.append("installed the ticket merge driver in this clone's git config")
    attributes = root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    added = attributes_added(text)
    if added is not None:
        desk = Desk(root, agent, "setup")
        actor = _acting(desk)
        with desk.change(actor.key) as change:
            if attributes.exists():  # refuses one with changes not committed
                change.read_committed(".gitattributes")
            change.write(".gitattributes", added.encode("utf-8"))
            change.commit("Merge ticket and record files by their histories",
                          "svcdesk setup: .gitattributes names the merge driver, so every "
                          "clone merges tickets, customers, units and parts event by event.",
                          trailers_for(None, "setup"), actor.identity, desk.now())
        did.append("declared the merge driver in .gitattributes (committed)")
    desk = Desk(root, agent, "setup", progress=progress)
    desk.index.refresh()
    return did


def clone(url: str, folder: Path, agent: str | None = None, progress=None) -> Path:
    """Join a shared desk: git clone ``url`` into ``folder``, then set the clone up."""
    folder = folder.expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise DeskExistsError(f"{folder} exists and is not empty; clone into a new folder")
    Git(folder).clone(url)
    if not (folder / store.RULES).exists():
        raise UsageError(f"{url} is a git repository but not a desk (no {store.RULES}); "
                         f"the clone is in {folder}")
    setup(folder, agent, progress)
    return folder


def merge_file(named: str | None, ours: Path, theirs: Path, relpath: str) -> None:
    """git's merge driver for a ticket file: the merge of ``ours`` and ``theirs`` written to
    ``ours``. git runs it at the top of the desk; the rules are the desk's as committed (the
    same merge may be changing rules.yaml)."""
    root = find_root(named, Path.cwd())
    git = Git(root)
    text = git.read_blob("HEAD", store.RULES)
    if text is None:
        text = (root / store.RULES).read_bytes()
    rules = store.rules_from_text(text.decode("utf-8"), store.RULES)
    kind = records_kind(relpath)
    if kind is not None:  # a customer, unit or part
        schema = rules.records[kind]
        a = store.ticket_from_bytes(schema, ours.read_bytes(), relpath)
        b = store.ticket_from_bytes(schema, theirs.read_bytes(), relpath)
        ours.write_bytes(store.encode_ticket(records.merge(schema, a, b)))
        return
    a = store.ticket_from_bytes(rules.schema, ours.read_bytes(), relpath)
    b = store.ticket_from_bytes(rules.schema, theirs.read_bytes(), relpath)
    ours.write_bytes(store.encode_ticket(merge.merge(rules, a, b)))


def sync(desk: Desk, dry_run: bool = False) -> Synced:
    """Fetch, renumber what another clone numbered first, merge, push (see the module)."""
    remote, branch = _upstream(desk)
    actor = _acting(desk)
    with desk.change(actor.key, shared=False) as change:
        _refuse_uncommitted(desk.git)
        return exchange(desk, change, remote, branch, actor, dry_run=dry_run)


def exchange(desk: Desk, change, remote: str, branch: str, actor, dry_run: bool = False,
             push: bool = True) -> Synced:
    """Within ``change`` (the desk lock held): fetch, renumber, merge and (with ``push``)
    push, again while other clones push first. MergeError puts HEAD back where it was."""
    git, now = desk.git, desk.now()
    start = change.head
    git.wait_idle()  # a fetch or push a killed sync left running
    git.clear_stale_locks(f"refs/remotes/{remote}/{branch}", repository=False)
    renumbered, incoming, outgoing = [], 0, 0
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        theirs = git.fetch(remote, branch)
        head = change.head
        base = git.merge_base(head, theirs) if theirs and head else None
        incoming += git.count(head, theirs) if theirs and head else 0
        outgoing = git.count(theirs, head) if theirs else git.count(None, head)
        clashes = _clashes(desk, git, head, theirs, base)
        if dry_run:
            return Synced(remote, branch, incoming, outgoing,
                          _numbering(desk, git, change, clashes, theirs), True, attempt)
        if clashes:
            renumbered += _renumber(desk, change, clashes, theirs, actor, now)
            outgoing += 1
        if theirs and git.merge_base(change.head, theirs) != theirs:
            before = change.head
            left = change.merge(theirs, f"sync: merge {remote}/{branch}\n\n"
                                f"{trailers_text('sync')}", actor.identity, now)
            if left:
                git.reset_to(start)  # the renumbering undone too
                raise MergeError(_conflict_text(left, remote, branch))
            broken = _rules_broken(git, change.head)
            if broken:  # a desk without working rules cannot run a command to mend them
                git.reset_to(start)
                raise RulesError(f"{remote}/{branch} ({theirs[:10]}) would leave this desk "
                                 f"with {broken}; nothing was merged: mend it in the clone "
                                 "that pushed it, then sync again")
            desk.warnings.extend(_shortages(desk, before, change.head))
        if not push or theirs == change.head or git.push(remote, branch):
            return Synced(remote, branch, incoming, outgoing, renumbered, False, attempt)
    raise RemoteError(f"{remote} refused the push {PUSH_ATTEMPTS} times because other clones "
                      "kept pushing first; your changes are committed here, run `svcdesk "
                      "sync` again")


def _rules_broken(git: Git, commit: str) -> str | None:
    """What is wrong with rules.yaml at ``commit`` (None: it is there and checks)."""
    text = git.read_blob(commit, store.RULES)
    if text is None:
        return "no rules.yaml (it was deleted)"
    try:
        store.rules_from_text(text.decode("utf-8"), store.RULES)
    except UnicodeDecodeError:
        return "a rules.yaml that is not UTF-8"
    except RulesError as exc:
        return f"a rules.yaml that does not check ({exc})"
    return None


def _shortages(desk: Desk, before: str | None, after: str) -> list:
    """What a merge left short: each part it changed whose stock fell below zero there (two
    clones that each used the last unit), said so that a person acts on it."""
    if before is None:
        return []
    out = []
    schema = desk.rules.records["part"]
    for path, _, blob in desk.git.changed_blobs(before, after):
        if records_kind(path) != "part" or blob is None:
            continue
        raw, = desk.git.blobs([blob])
        try:
            part = store.ticket_from_bytes(schema, raw, path)
        except TicketFileError:
            continue
        for warehouse, count in records.stock_of(part.fields).items():
            if count < 0:
                label = desk.rules.stock.warehouses.get(warehouse, warehouse)
                out.append(f"part {part.fields['id']} is short by {-count} at {label} after "
                           "the merge (another clone used the same units); `svcdesk parts "
                           "receive` or `parts adjust` when the stock is counted")
    return out


class AutoSync:
    """A change of a desk that syncs by itself (rules.yaml desk.sync: auto): under the desk
    lock, it pulls before the change and pushes after it, so a number it gives is final.
    Offline, the change is made on the clone as it is, and said to be provisional."""

    def __init__(self, desk: Desk, change):
        self.desk, self.change = desk, change
        self.upstream = self.pulled = None

    def __enter__(self):
        change = self.change.__enter__()
        try:
            self.upstream = self.desk.git.upstream()
            if self.upstream is not None:
                self._exchange(push=False)
            self.pulled = change.head
        except BaseException:
            self.change.__exit__(None, None, None)
            raise
        return change

    def __exit__(self, *exc):
        try:
            if exc[0] is None and self.change.head != self.pulled:  # it committed
                self._exchange(push=True)
        finally:
            self.change.__exit__(*exc)
        return False

    def _exchange(self, push: bool) -> None:
        if self.upstream is None:
            return
        try:
            run = exchange(self.desk, self.change, *self.upstream, _acting(self.desk),
                           push=push)
        except RemoteError as exc:
            self.desk.warnings.append(f"offline, so not synced: {exc}")
            self.upstream = None  # offline: the rest of this change stays local
            return
        except MergeError as exc:
            if not push:  # before the change: nothing was made, the command stops
                raise
            # after it: the change is committed here; only the merge waits for a person
            self.desk.warnings.append(f"committed here but not synced: {exc}")
            return
        self.desk.kept.setdefault("renumbered", {}).update(run.renumbered)
        for old, new in run.renumbered:
            self.desk.warnings.append(f"{old} was taken by another clone first: the ticket "
                                      f"is now {new}")


def pull(desk: Desk) -> bool:
    """Bring in what other clones pushed (fetch, renumber, merge; no push), for a desk that
    syncs by itself and was asked for a ticket it does not have; False when offline or
    not shared."""
    upstream = desk.git.upstream()
    if upstream is None:
        return False
    actor = _acting(desk)
    try:
        with desk.change(actor.key, shared=False) as change:
            before = change.head
            exchange(desk, change, *upstream, actor, push=False)
            moved = change.head != before
    except RemoteError:
        return False
    if moved:
        desk.index.recheck()
    return moved


def _upstream(desk: Desk) -> tuple:
    desk.git.head()  # refuses a detached HEAD
    upstream = desk.git.upstream()
    if upstream is None:
        raise UsageError("this desk has no git remote to sync with; add one (git remote add "
                         "origin URL) or join a shared desk with `svcdesk clone URL`")
    return upstream


def trailers_text(action: str) -> str:
    return "".join(f"{k}: {v}\n" for k, v in trailers_for(None, action).items())


def said(run: Synced) -> str:
    """One line of what a sync did: ↓ 3 changes, ↑ 1 change, SD-… renumbered from …"""
    def changes(n: int) -> str:
        return f"{n} change{'' if n == 1 else 's'}"

    parts = [f"↓ {changes(run.incoming)}", f"↑ {changes(run.outgoing)}"]
    verb = "would be renumbered" if run.dry_run else "renumbered"
    parts += [f"{new} {verb} from {old}" for old, new in run.renumbered]
    head = "would sync" if run.dry_run else "synced"
    return f"{head} with {run.remote}/{run.branch}: " + ", ".join(parts)


# ---- numbers -------------------------------------------------------------------------------

def _clashes(desk: Desk, git: Git, head: str | None, theirs: str | None,
             base: str | None) -> list:
    """Ticket files this clone added since it last met the remote whose path the remote
    has for another ticket (another clone gave that number first)."""
    if head is None or theirs is None:
        return []
    out = []
    for relpath in git.added(base, head, store.TICKETS):
        if not store.is_ticket_path(relpath):
            continue
        there = git.read_blob(theirs, relpath)
        if there is not None and _uid(there) != _uid(git.read_blob(head, relpath) or b""):
            out.append(relpath)
    return sorted(out)


def _uid(raw: bytes) -> str | None:
    for line in raw.split(b"\n", 40)[:40]:
        if line.startswith(b"uid:"):
            return line[4:].strip().decode("utf-8", "replace")
    return None


def _numbering(desk: Desk, git: Git, change, clashes: list, theirs: str | None) -> list:
    """[(old, new)]: the numbers the clashing tickets get, the next free of their day in
    HEAD, the remote branch and the folder on disk (identity.renumbering)."""
    olds = [store.number_of(relpath) for relpath in clashes]
    taken = set()
    for folder in {relpath.rsplit("/", 1)[0] for relpath in clashes}:
        for commit in (change.head, theirs):
            taken |= {n[:-5] for n in git.tree_entries(commit, folder) if n.endswith(".yaml")}
    for old in olds:
        prefix, day, _ = parse_number(old)
        taken |= set(store.numbers_of_day(desk.root, prefix, day))
    return renumbering(olds, taken)


def _renumber(desk: Desk, change, clashes: list, theirs: str, actor, now: datetime) -> list:
    """Give each clashing ticket the next free number of its day, in one commit."""
    rules = desk.rules
    pairs = _numbering(desk, desk.git, change, clashes, theirs)
    for relpath, (old, new) in zip(clashes, pairs):
        ticket = store.ticket_from_bytes(rules.schema, change.read_committed(relpath), relpath)
        ticket = history.settle(rules, history.record(
            rules, ticket, now, actor.key, "renumber", {"id": new}, rule="sync",
            note=f"{old} was given to another ticket first by another clone; this ticket is "
                 f"now {new}", visibility="internal"))
        target = store.ticket_relpath(new)
        if (desk.root / target).exists():
            raise MergeError(f"cannot renumber {old} to {new}: {target} exists and is not "
                             "in git; move it away, then run `svcdesk sync` again")
        change.write(relpath, None)
        change.write(target, store.encode_ticket(ticket))
    numbers = ", ".join(new for _, new in pairs)
    sha = change.commit(f"{numbers}: renumber from " + ", ".join(old for old, _ in pairs),
                  "\n".join(f"{old} → {new}: another clone gave {old} to another ticket first"
                            for old, new in pairs),
                  trailers_for(numbers, "renumber"), actor.identity, now)
    if sha is not None:
        delivery.renumbered(desk, dict(pairs))
    return pairs


def conflicts(ticket) -> list:
    """Changes in the ticket's history made on another value than the merged history
    holds before them (merge.Conflict): two clones changed a field at once."""
    return merge.conflicts(ticket.events)


def provisional(desk: Desk, ticket) -> bool:
    """Whether the ticket's number may still change: the desk is shared (its branch has a
    remote) and the ticket was never pushed (the remote branch, as last fetched, does not
    have it)."""
    final = finality(desk)
    return final is not None and not final(store.ticket_relpath(ticket.number),
                                           ticket.fields.get("uid"))


def finality(desk: Desk):
    """A test ``final(relpath, uid)`` of whether the ticket (of ``uid``) at a path has a
    final number: the remote branch, as last fetched, has it there. Not another clone's
    ticket of the same number, which a fetch brings before the sync that renumbers ours
    (a sync killed between the two, or a `git fetch` by hand). None when the desk is not
    shared (every number is final)."""
    upstream = desk.git.upstream()
    if upstream is None:
        return None
    remote, branch = upstream
    theirs = desk.git.rev(f"refs/remotes/{remote}/{branch}")
    folders: dict = {}

    def final(relpath: str, uid: str | None = None) -> bool:
        if theirs is None:
            return False
        folder, name = relpath.rsplit("/", 1)
        if folder not in folders:
            folders[folder] = desk.git.tree_entries(theirs, folder)
        blob = folders[folder].get(name)
        if blob is None or uid is None:
            return blob is not None
        raw, = desk.git.blobs([blob])
        return _uid(raw) == uid

    return final


# ---- helpers ---------------------------------------------------------------------------------

def _acting(desk: Desk):
    """Who acts: the desk's actor, or svcdesk itself when none can be told (a service clone
    run from cron without SVCDESK_AGENT)."""
    try:
        return desk.actor()
    except UsageError:
        actor = Actor(SYSTEM.name, SYSTEM)
        desk.act_as(actor)
        return actor


def _refuse_uncommitted(git: Git) -> None:
    out = git.run("status", "--porcelain", "-z", "--untracked-files=no")
    files = [entry[3:].decode("utf-8", "replace") for entry in out.split(b"\0") if entry]
    if files:
        shown = ", ".join(files[:3]) + (", …" if len(files) > 3 else "")
        raise UncommittedChangesError(
            f"uncommitted changes in {shown}; commit them (git commit -a) or put them back "
            "(git checkout -- FILE), then run `svcdesk sync` again")


def _conflict_text(files: list, remote: str, branch: str) -> str:
    shown = ", ".join(files[:3]) + (", …" if len(files) > 3 else "")
    return (f"{shown} changed both here and on {remote}/{branch} in ways git cannot join; "
            "nothing was changed here. Merge by hand (git merge "
            f"{remote}/{branch}, edit, git add, git commit), then run `svcdesk sync` again")
